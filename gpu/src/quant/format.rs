//! The weight formats the engine reads, their ggml type ids and block geometry.

use std::fmt;

/// A tensor storage format from GGUF that the engine can compute with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WeightFormat {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q8_0,
}

impl WeightFormat {
    /// Maps a ggml type id (`enum ggml_type`) to a supported format.
    pub fn from_ggml_type(id: u32) -> Result<Self, QuantError> {
        match id {
            0 => Ok(Self::F32),
            1 => Ok(Self::F16),
            2 => Ok(Self::Q4_0),
            3 => Ok(Self::Q4_1),
            8 => Ok(Self::Q8_0),
            other => Err(QuantError::UnsupportedType(other)),
        }
    }

    pub fn ggml_type(self) -> u32 {
        match self {
            Self::F32 => 0,
            Self::F16 => 1,
            Self::Q4_0 => 2,
            Self::Q4_1 => 3,
            Self::Q8_0 => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::F16 => "F16",
            Self::Q4_0 => "Q4_0",
            Self::Q4_1 => "Q4_1",
            Self::Q8_0 => "Q8_0",
        }
    }

    /// Elements per block (1 for the float formats).
    pub fn block_elems(self) -> usize {
        match self {
            Self::F32 | Self::F16 => 1,
            Self::Q4_0 | Self::Q4_1 | Self::Q8_0 => 32,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 => 2,
            Self::Q4_0 => 18,
            Self::Q4_1 => 20,
            Self::Q8_0 => 34,
        }
    }

    /// Bytes of one row of `cols` elements; errors if `cols` is not a whole number of blocks.
    pub fn row_bytes(self, cols: usize) -> Result<usize, QuantError> {
        if !cols.is_multiple_of(self.block_elems()) {
            return Err(QuantError::RowNotBlockAligned { format: self, cols });
        }
        (cols / self.block_elems())
            .checked_mul(self.block_bytes())
            .ok_or(QuantError::TooLarge)
    }
}

impl fmt::Display for WeightFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a matrix or vector cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuantError {
    UnsupportedType(u32),
    RowNotBlockAligned { format: WeightFormat, cols: usize },
    SizeMismatch { expected: usize, actual: usize },
    TooLarge,
    /// A row of a type rewritten at load ([`super::Transcoded`]) that is not whole blocks.
    TranscodeShape { from: &'static str, cols: usize },
}

impl fmt::Display for QuantError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedType(id) => write!(
                f,
                "ggml tensor type {id} is not supported (supported: F32, F16, Q4_0, Q4_1, Q8_0, and \
                 Q4_K, Q5_K, Q6_K, Q5_0, Q5_1 rewritten at load)"
            ),
            Self::RowNotBlockAligned { format, cols } => {
                write!(f, "a {format} row of {cols} elements is not a whole number of blocks")
            }
            Self::SizeMismatch { expected, actual } => {
                write!(f, "tensor data is {actual} bytes, its shape needs {expected}")
            }
            Self::TooLarge => f.write_str("tensor size overflows (or a block scale exceeds f16)"),
            Self::TranscodeShape { from, cols } => {
                write!(f, "a {from} row of {cols} elements is not a whole number of blocks")
            }
        }
    }
}

impl std::error::Error for QuantError {}
