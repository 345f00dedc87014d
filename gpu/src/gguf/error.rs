//! Why a GGUF file could not be read or does not fit what the caller asked for.

use std::fmt;

use super::dtype::GgmlType;

/// Every failure of the GGUF reader; the `Display` text is meant for end users.
#[derive(Clone, Debug, PartialEq)]
pub enum GgufError {
    /// The input ends before `needed` bytes (counted from the file start) were available.
    /// When parsing a header prefix, fetching `needed` bytes and retrying can succeed.
    Truncated {
        what: &'static str,
        needed: u64,
        available: u64,
    },
    /// The first four bytes are not `GGUF`.
    BadMagic([u8; 4]),
    /// Version 1 (32-bit counts), a future version, or 0.
    UnsupportedVersion(u32),
    /// The version field looks byte-swapped: a big-endian file.
    BigEndian,
    /// A count or length that cannot fit in the remaining bytes (or exceeds a hard cap).
    TooLarge {
        what: String,
        value: u64,
        limit: u64,
    },
    /// A structural problem at a byte offset (bad type id, bad UTF-8 key, ...).
    Invalid { offset: u64, reason: String },
    /// A tensor whose description is inconsistent (dims, type, size, offset).
    BadTensor { name: String, reason: String },
    /// A metadata key the caller needs is absent.
    MissingKey(String),
    /// A metadata key holds a value of another type.
    WrongType {
        key: String,
        expected: &'static str,
        found: String,
    },
    /// A metadata value is present but unusable (zero heads, bad alignment, ...).
    BadValue { key: String, reason: String },
    /// A tensor the caller needs is absent.
    MissingTensor(String),
    /// A tensor exists but has another shape than required.
    WrongShape {
        name: String,
        expected: Vec<u64>,
        found: Vec<u64>,
    },
    /// A tensor's element type is not one the caller accepts.
    UnsupportedType {
        name: String,
        dtype: GgmlType,
        accepted: Vec<GgmlType>,
    },
    /// The model's architecture is not one the engine implements.
    UnsupportedArchitecture(String),
    /// Reading the file failed.
    Io(String),
}

impl fmt::Display for GgufError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GgufError::Truncated {
                what,
                needed,
                available,
            } => write!(
                f,
                "GGUF truncated: {what} needs {needed} bytes but only {available} are present"
            ),
            GgufError::BadMagic(m) => write!(
                f,
                "not a GGUF file: magic bytes are {m:02x?}, expected \"GGUF\""
            ),
            GgufError::UnsupportedVersion(v) => {
                write!(
                    f,
                    "unsupported GGUF version {v} (versions 2 and 3 are supported)"
                )
            }
            GgufError::BigEndian => write!(f, "big-endian GGUF files are not supported"),
            GgufError::TooLarge { what, value, limit } => {
                write!(f, "GGUF {what} is {value}, more than the limit of {limit}")
            }
            GgufError::Invalid { offset, reason } => {
                write!(f, "invalid GGUF at byte {offset}: {reason}")
            }
            GgufError::BadTensor { name, reason } => write!(f, "GGUF tensor '{name}': {reason}"),
            GgufError::MissingKey(k) => write!(f, "GGUF metadata key '{k}' is missing"),
            GgufError::WrongType {
                key,
                expected,
                found,
            } => {
                write!(
                    f,
                    "GGUF metadata key '{key}' should be {expected} but is {found}"
                )
            }
            GgufError::BadValue { key, reason } => write!(f, "GGUF metadata key '{key}': {reason}"),
            GgufError::MissingTensor(n) => write!(f, "GGUF tensor '{n}' is missing"),
            GgufError::WrongShape {
                name,
                expected,
                found,
            } => {
                write!(
                    f,
                    "GGUF tensor '{name}' has shape {found:?}, expected {expected:?}"
                )
            }
            GgufError::UnsupportedType {
                name,
                dtype,
                accepted,
            } => {
                let names: Vec<&str> = accepted.iter().map(|t| t.name()).collect();
                write!(
                    f,
                    "GGUF tensor '{name}' has type {dtype}, which is not supported here (supported: {})",
                    names.join(", ")
                )
            }
            GgufError::UnsupportedArchitecture(a) => write!(
                f,
                "model architecture '{a}' is not supported (supported: llama, qwen2 and their finetunes)"
            ),
            GgufError::Io(e) => write!(f, "cannot read GGUF file: {e}"),
        }
    }
}

impl std::error::Error for GgufError {}

/// Result alias for the GGUF reader.
pub type Result<T> = std::result::Result<T, GgufError>;
