//! GGUF model files: header, metadata, tensor infos and zero-copy tensor data, plus the
//! llama-family [`ModelConfig`] the engines build from them.
//!
//! Works on a byte slice (the browser's fetched `ArrayBuffer`) or a file read natively.
//! Malformed input yields a [`GgufError`], never a panic: every count read from the file is
//! checked against the bytes that remain before anything is allocated.
//!
//! ```no_run
//! use council_gpu::gguf::{GgufFile, ModelConfig};
//! let file = GgufFile::open("model.gguf")?;
//! let config = ModelConfig::from_gguf(&file)?;
//! let embd: &[u8] = file.tensor_data("token_embd.weight")?;
//! # Ok::<(), council_gpu::gguf::GgufError>(())
//! ```

mod config;
mod cursor;
mod dtype;
mod error;
mod file;
mod header;
mod tensor;
mod value;
mod writer;

pub use config::{ModelConfig, RopeStyle, layer_tensor};
pub use dtype::GgmlType;
pub use error::{GgufError, Result};
pub use file::{GgufFile, read_header};
pub(crate) use file::advise_huge_pages;
pub use header::{DEFAULT_ALIGNMENT, Gguf};
pub use tensor::{MAX_DIMS, TensorInfo};
pub use value::{Array, MAX_ARRAY_DEPTH, Metadata, Value, ValueType};
pub use writer::GgufBuilder;

/// Largest header (metadata and tensor infos) read: real ones are under 16 MiB even with
/// 256k-token vocabularies. Checked before the bytes are read, so a header that claims
/// a gigabyte of metadata is refused without reading or allocating it.
pub const MAX_HEADER_BYTES: u64 = 64 << 20;
/// Most metadata keys (real files have 20-60).
pub const MAX_METADATA_KEYS: u64 = 1 << 16;
/// Most tensors (real files have hundreds to a few thousand).
pub const MAX_TENSORS: u64 = 1 << 16;
/// Most array elements in one header, all arrays together: a 256k vocabulary with its
/// merges and types is under a million. Each element costs ~100 bytes in memory once the
/// tokenizer is built, so this also bounds a tokenizer to ~200 MiB.
pub const MAX_ARRAY_ELEMENTS: u64 = 1 << 21;

#[cfg(test)]
mod tests;
