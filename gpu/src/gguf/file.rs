//! A parsed GGUF header kept together with the file's bytes, for zero-copy tensor access.

use std::ops::Deref;

use super::error::{GgufError, Result};
use super::header::Gguf;
use super::tensor::TensorInfo;

/// A whole GGUF file in memory: `B` is any owner of the bytes (`Vec<u8>` natively, a slice
/// or `Vec<u8>` from a fetched `ArrayBuffer` in the browser). Derefs to [`Gguf`].
#[derive(Clone, Debug)]
pub struct GgufFile<B: AsRef<[u8]> = Vec<u8>> {
    gguf: Gguf,
    bytes: B,
}

impl<B: AsRef<[u8]>> GgufFile<B> {
    /// Parses `bytes` (the complete file) and keeps them.
    pub fn from_bytes(bytes: B) -> Result<Self> {
        let gguf = Gguf::parse(bytes.as_ref())?;
        Ok(Self { gguf, bytes })
    }

    pub fn gguf(&self) -> &Gguf {
        &self.gguf
    }

    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }

    /// The parsed header and the bytes, apart.
    pub fn into_parts(self) -> (Gguf, B) {
        (self.gguf, self.bytes)
    }

    /// The data of the named tensor, borrowed from the file.
    pub fn tensor_data(&self, name: &str) -> Result<&[u8]> {
        let info = self
            .gguf
            .tensor(name)
            .ok_or_else(|| GgufError::MissingTensor(name.to_owned()))?;
        self.gguf.tensor_data(self.bytes.as_ref(), info)
    }

    /// The data of a tensor described by this file's header.
    pub fn data_of(&self, info: &TensorInfo) -> Result<&[u8]> {
        self.gguf.tensor_data(self.bytes.as_ref(), info)
    }
}

impl GgufFile<Vec<u8>> {
    /// Reads and parses a file from disk (the whole file is read into memory).
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let io = |e: std::io::Error| GgufError::Io(format!("{}: {e}", path.display()));
        let file = std::fs::File::open(path).map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        // A device or pipe has no size to trust (/dev/zero never ends): only regular files.
        if !meta.is_file() {
            return Err(GgufError::Io(format!("{}: not a regular file", path.display())));
        }
        let len = usize::try_from(meta.len()).map_err(|_| GgufError::Io(format!("{}: too large for this machine", path.display())))?;
        // The header says how much of the file it needs: check that before reading it all.
        let header = read_header(path)?;
        if header.file_size() > meta.len() {
            return Err(GgufError::Truncated { what: "tensor data", needed: header.file_size(), available: meta.len() });
        }
        let mut bytes = Vec::new();
        bytes.try_reserve_exact(len).map_err(|_| GgufError::Io(format!("{}: not enough memory for {len} bytes", path.display())))?;
        advise_huge_pages(&mut bytes);
        std::io::Read::read_to_end(&mut std::io::Read::take(file, meta.len()), &mut bytes).map_err(io)?;
        Self::from_bytes(bytes)
    }
}

/// Asks Linux to back the weights with 2 MiB pages before they are read in. Decode streams
/// every weight once per token; with 4 KiB pages that is a TLB miss every 4 KiB.
#[cfg(target_os = "linux")]
pub(crate) fn advise_huge_pages(buf: &mut Vec<u8>) {
    const HUGE: usize = 2 << 20;
    let start = buf.as_mut_ptr() as usize;
    let aligned = start.next_multiple_of(HUGE);
    let end = start + buf.capacity();
    if end > aligned + HUGE {
        let len = (end - aligned) / HUGE * HUGE;
        // SAFETY: the range lies inside the vector's allocation; madvise only changes how the
        // kernel backs it, and a failure (THP disabled) leaves ordinary pages.
        unsafe { libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn advise_huge_pages(_: &mut Vec<u8>) {}

/// Reads only as much of a file as its header needs (metadata and tensor infos, not the
/// weights): enough for the tokenizer or [`super::ModelConfig`] without loading the model.
pub fn read_header(path: impl AsRef<std::path::Path>) -> Result<Gguf> {
    use std::io::Read;
    let path = path.as_ref();
    let io = |e: std::io::Error| GgufError::Io(format!("{}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(GgufError::Io(format!("{}: not a regular file", path.display())));
    }
    // Never read past the header cap, however long the file.
    let file_len = meta.len().min(super::MAX_HEADER_BYTES);
    let mut reader = std::io::BufReader::new(file);
    let mut prefix = Vec::new();
    let mut want: u64 = 4 << 20;
    loop {
        let target = want.min(file_len);
        let missing = target.saturating_sub(prefix.len() as u64);
        (&mut reader)
            .take(missing)
            .read_to_end(&mut prefix)
            .map_err(io)?;
        match Gguf::parse_header(&prefix) {
            Err(GgufError::Truncated { needed, .. })
                if needed <= file_len && needed > prefix.len() as u64 =>
            {
                // Grow geometrically so many small string fields do not mean many reads.
                want = needed.max(want.saturating_mul(2));
            }
            other => return other,
        }
    }
}

impl<B: AsRef<[u8]>> Deref for GgufFile<B> {
    type Target = Gguf;
    fn deref(&self) -> &Gguf {
        &self.gguf
    }
}
