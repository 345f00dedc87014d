//! Tensor descriptions from the GGUF header: name, ggml shape, element type and where the
//! bytes lie, validated so that every size and offset computed from them is in range.

use super::cursor::Cursor;
use super::dtype::GgmlType;
use super::error::{GgufError, Result};

/// ggml's limit on tensor dimensions.
pub const MAX_DIMS: usize = 4;

/// One tensor as described in the header. Shapes are in ggml order: `dims()[0]` is the
/// contiguous row length (the input dimension of a weight matrix), `dims()[1]` the row count.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    pub dtype: GgmlType,
    dims: [u64; MAX_DIMS],
    n_dims: usize,
    /// Offset of the first byte from the start of the data section.
    pub offset: u64,
    /// Size of the tensor's data in bytes.
    pub n_bytes: u64,
}

impl TensorInfo {
    /// Builds and validates a description (used by the reader and by [`super::GgufBuilder`]).
    pub fn new(name: String, dtype: GgmlType, dims: &[u64], offset: u64) -> Result<Self> {
        let bad = |reason: String| GgufError::BadTensor {
            name: name.clone(),
            reason,
        };
        if dims.len() > MAX_DIMS {
            return Err(bad(format!(
                "{} dimensions, at most {MAX_DIMS} allowed",
                dims.len()
            )));
        }
        let mut n_elements: u64 = 1;
        for &d in dims {
            if d > i64::MAX as u64 {
                return Err(bad(format!("dimension {d} is negative or too large")));
            }
            n_elements = n_elements
                .checked_mul(d)
                .filter(|&n| n <= i64::MAX as u64)
                .ok_or_else(|| bad(format!("shape {dims:?} overflows the element count")))?;
        }
        let row = dims.first().copied().unwrap_or(1);
        if row % dtype.block_len() != 0 {
            return Err(bad(format!(
                "row length {row} is not a multiple of the {dtype} block size {}",
                dtype.block_len()
            )));
        }
        let n_bytes = dtype.bytes_for(n_elements).ok_or_else(|| {
            bad(format!(
                "shape {dims:?} of type {dtype} overflows the byte size"
            ))
        })?;
        let mut padded = [1u64; MAX_DIMS];
        padded[..dims.len()].copy_from_slice(dims);
        Ok(Self {
            name,
            dtype,
            dims: padded,
            n_dims: dims.len(),
            offset,
            n_bytes,
        })
    }

    /// The shape as stored (ggml order, `n_dims` entries).
    pub fn dims(&self) -> &[u64] {
        &self.dims[..self.n_dims]
    }

    pub fn n_elements(&self) -> u64 {
        self.dims.iter().product()
    }

    /// Elements per row (`dims[0]`).
    pub fn row_len(&self) -> u64 {
        self.dims[0]
    }

    /// Rows: the product of all dimensions after the first.
    pub fn n_rows(&self) -> u64 {
        self.dims[1..].iter().product()
    }

    /// Bytes per row.
    pub fn row_bytes(&self) -> u64 {
        self.row_len() / self.dtype.block_len() * self.dtype.block_bytes()
    }

    /// Reads one tensor info record (name, n_dims, dims, type, offset).
    pub(crate) fn read(cur: &mut Cursor<'_>) -> Result<Self> {
        let at = cur.pos() as u64;
        let name = cur.string("tensor name")?;
        let n_dims = cur.u32("tensor dimension count")? as usize;
        if n_dims > MAX_DIMS {
            return Err(GgufError::BadTensor {
                name,
                reason: format!("{n_dims} dimensions, at most {MAX_DIMS} allowed"),
            });
        }
        let mut dims = [0u64; MAX_DIMS];
        for d in dims.iter_mut().take(n_dims) {
            let v = cur.i64("tensor dimension")?;
            if v < 0 {
                return Err(GgufError::BadTensor {
                    name,
                    reason: format!("negative dimension {v}"),
                });
            }
            *d = v as u64;
        }
        let type_id = cur.u32("tensor type")?;
        let dtype = GgmlType::from_id(type_id).ok_or_else(|| GgufError::BadTensor {
            name: name.clone(),
            reason: format!("unknown ggml type id {type_id} (header byte {at})"),
        })?;
        let offset = cur.u64("tensor offset")?;
        TensorInfo::new(name, dtype, &dims[..n_dims], offset)
    }
}
