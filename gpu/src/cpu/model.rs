//! A llama-family model's weights for the CPU path: matrices stay in the GGUF bytes in their file
//! format (views, no copies); only the small F32 vectors (norms, biases, RoPE factors) are copied.
//!
//! Files with K-quant / 5-bit matrices are the exception: those are rewritten at load
//! ([`crate::quant::Transcoded`]), and then every matrix moves into one new buffer and the file's
//! bytes are dropped, so memory holds each weight once (not the file plus the rewrites).

use std::fmt;
use std::ops::Range;

use crate::gguf::{layer_tensor, Gguf, GgufError, GgufFile, ModelConfig};
use crate::quant::{self, QMatrix, QuantError, Transcoded, WeightFormat};

/// Largest attention head the CPU path handles (llama-family models use 64 or 128).
pub const MAX_HEAD_DIM: usize = 256;

/// Why the CPU engine cannot load a model or run a request.
#[derive(Clone, Debug, PartialEq)]
pub enum CpuError {
    Gguf(GgufError),
    Quant { tensor: String, error: QuantError },
    /// A request the model cannot serve (token id out of range, context full, ...).
    Input(String),
}

impl fmt::Display for CpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gguf(e) => write!(f, "{e}"),
            Self::Quant { tensor, error } => write!(f, "tensor {tensor}: {error}"),
            Self::Input(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CpuError {}

impl From<GgufError> for CpuError {
    fn from(e: GgufError) -> Self {
        Self::Gguf(e)
    }
}

/// Where a weight matrix lives: `bytes` index the file, or the gathered buffer once
/// `gathered` (see [`CpuModel::gathered`]).
#[derive(Clone, Debug)]
pub(crate) struct MatRef {
    /// The format the kernels read (the rewrite's target for a K-quant / 5-bit matrix).
    pub format: WeightFormat,
    pub rows: usize,
    pub cols: usize,
    /// The file's type when it is rewritten at load.
    pub rewrite: Option<Transcoded>,
    pub gathered: bool,
    pub bytes: Range<usize>,
}

#[derive(Clone, Debug)]
pub(crate) struct Layer {
    pub attn_norm: Vec<f32>,
    pub wq: MatRef,
    pub wk: MatRef,
    pub wv: MatRef,
    pub wo: MatRef,
    pub bias_q: Option<Vec<f32>>,
    pub bias_k: Option<Vec<f32>>,
    pub bias_v: Option<Vec<f32>>,
    pub ffn_norm: Vec<f32>,
    pub w_gate: MatRef,
    pub w_up: MatRef,
    pub w_down: MatRef,
}

/// Weights of one model, shared by any number of [`super::Session`]s (each with its own KV cache).
#[derive(Debug)]
pub struct CpuModel {
    gguf: Gguf,
    /// The whole file, when every matrix is read in place; empty once [`Self::gathered`] holds them.
    file_bytes: Vec<u8>,
    /// All matrices, when some had a type the kernels do not read and were rewritten at load.
    gathered: Vec<u8>,
    config: ModelConfig,
    pub(crate) token_embd: MatRef,
    pub(crate) output: MatRef,
    pub(crate) output_norm: Vec<f32>,
    pub(crate) rope_freqs: Option<Vec<f32>>,
    pub(crate) layers: Vec<Layer>,
}

impl CpuModel {
    /// Reads a GGUF file from disk and prepares it (native).
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self, CpuError> {
        Self::from_gguf(GgufFile::open(path)?)
    }

    /// Takes a parsed file whose bytes are all in memory. Checks every tensor's format and size.
    pub fn from_gguf(file: GgufFile<Vec<u8>>) -> Result<Self, CpuError> {
        let config = ModelConfig::from_gguf(&file)?;
        if config.head_dim > MAX_HEAD_DIM {
            return Err(CpuError::Input(format!(
                "head dimension {} is larger than the {MAX_HEAD_DIM} the CPU path supports",
                config.head_dim
            )));
        }
        let token_embd = matrix(&file, "token_embd.weight")?;
        let output = if config.tied_output { token_embd.clone() } else { matrix(&file, "output.weight")? };
        let output_norm = vector(&file, "output_norm.weight")?;
        let rope_freqs = if config.has_rope_freqs { Some(vector(&file, "rope_freqs.weight")?) } else { None };
        let mut layers = Vec::with_capacity(config.n_layer);
        for l in 0..config.n_layer {
            let name = |s: &str| layer_tensor(l, s);
            let bias = |s: &str| -> Result<Option<Vec<f32>>, CpuError> {
                if config.has_qkv_bias { Ok(Some(vector(&file, &name(s))?)) } else { Ok(None) }
            };
            layers.push(Layer {
                attn_norm: vector(&file, &name("attn_norm.weight"))?,
                wq: matrix(&file, &name("attn_q.weight"))?,
                wk: matrix(&file, &name("attn_k.weight"))?,
                wv: matrix(&file, &name("attn_v.weight"))?,
                wo: matrix(&file, &name("attn_output.weight"))?,
                bias_q: bias("attn_q.bias")?,
                bias_k: bias("attn_k.bias")?,
                bias_v: bias("attn_v.bias")?,
                ffn_norm: vector(&file, &name("ffn_norm.weight"))?,
                w_gate: matrix(&file, &name("ffn_gate.weight"))?,
                w_up: matrix(&file, &name("ffn_up.weight"))?,
                w_down: matrix(&file, &name("ffn_down.weight"))?,
            });
        }
        let (gguf, file_bytes) = file.into_parts();
        let mut model = Self { gguf, file_bytes: Vec::new(), gathered: Vec::new(), config, token_embd, output, output_norm, rope_freqs, layers };
        if model.matrices_mut().any(|m| m.rewrite.is_some()) {
            // `file_bytes` is dropped on return: only the gathered copy stays.
            model.gather_matrices(&file_bytes)?;
        } else {
            model.file_bytes = file_bytes;
        }
        Ok(model)
    }

    /// Rewrites the K-quant / 5-bit matrices and copies the others into one new buffer
    /// (huge-page backed like the file), so the file's bytes can go: memory then holds each
    /// weight once, and the load peaks at file + buffer. A tied output shares the embedding's copy.
    fn gather_matrices(&mut self, file: &[u8]) -> Result<(), CpuError> {
        let size = |m: &MatRef| m.format.row_bytes(m.cols).map(|r| r * m.rows);
        let mut total = 0usize;
        for m in self.matrices_mut() {
            total += size(m).map_err(|error| CpuError::Quant { tensor: "a matrix".into(), error })?.next_multiple_of(64);
        }
        let mut all = Vec::with_capacity(total);
        crate::gguf::advise_huge_pages(&mut all);
        let mut moved: Vec<(usize, Range<usize>)> = Vec::new();
        for m in self.matrices_mut() {
            if let Some((_, to)) = moved.iter().find(|(from, _)| *from == m.bytes.start) {
                m.bytes = to.clone();
            } else {
                all.resize(all.len().next_multiple_of(64), 0);
                let start = all.len();
                let source = &file[m.bytes.clone()];
                match m.rewrite {
                    // Shapes were checked against the file at load; a failure here is a bad block size.
                    Some(t) => all.extend(t.transcode(m.cols, source).map_err(|error| CpuError::Quant { tensor: t.name().into(), error })?),
                    None => all.extend_from_slice(source),
                }
                moved.push((m.bytes.start, start..all.len()));
                m.bytes = start..all.len();
            }
            m.gathered = true;
        }
        self.gathered = all;
        Ok(())
    }

    fn matrices_mut(&mut self) -> impl Iterator<Item = &mut MatRef> {
        let head = [&mut self.token_embd, &mut self.output];
        let layers = self.layers.iter_mut().flat_map(|l| {
            [&mut l.wq, &mut l.wk, &mut l.wv, &mut l.wo, &mut l.w_gate, &mut l.w_up, &mut l.w_down]
        });
        head.into_iter().chain(layers)
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The GGUF header (metadata for the tokenizer, tensor infos).
    pub fn gguf(&self) -> &Gguf {
        &self.gguf
    }

    /// Bytes of the model held in memory: the whole file, or the gathered matrices when some
    /// were rewritten at load.
    pub fn weight_bytes(&self) -> usize {
        self.file_bytes.len() + self.gathered.len()
    }

    /// Whether some matrices had K-quant / 5-bit types and were rewritten at load.
    pub fn rewrote_matrices(&self) -> bool {
        !self.gathered.is_empty()
    }

    pub(crate) fn mat(&self, m: &MatRef) -> QMatrix<'_> {
        let store = if m.gathered { &self.gathered } else { &self.file_bytes };
        QMatrix::new(m.format, m.rows, m.cols, &store[m.bytes.clone()]).expect("matrix shape was checked at load")
    }
}

/// Locates one matrix in the file and checks its type and size against its shape, so later
/// views (and the rewrite of a K-quant / 5-bit matrix) cannot fail.
fn matrix(file: &GgufFile<Vec<u8>>, name: &str) -> Result<MatRef, CpuError> {
    let info = file.tensor(name).ok_or_else(|| GgufError::MissingTensor(name.to_owned()))?;
    let quant_err = |error| CpuError::Quant { tensor: name.to_owned(), error };
    let (format, rewrite) = quant::compute_format(info.dtype.id()).map_err(quant_err)?;
    let dims = info.dims();
    if dims.len() != 2 {
        return Err(CpuError::Input(format!("tensor {name} has {} dimensions, a matrix needs 2", dims.len())));
    }
    let to_usize = |v: u64| usize::try_from(v).map_err(|_| quant_err(QuantError::TooLarge));
    let (cols, rows) = (to_usize(dims[0])?, to_usize(dims[1])?);
    let data = file.data_of(info)?;
    match rewrite {
        Some(t) => t.check_size(rows, cols, data.len()).map_err(quant_err)?,
        None => drop(QMatrix::new(format, rows, cols, data).map_err(quant_err)?),
    }
    let start = data.as_ptr() as usize - file.bytes().as_ptr() as usize;
    Ok(MatRef { format, rows, cols, rewrite, gathered: false, bytes: start..start + data.len() })
}

fn vector(file: &GgufFile<Vec<u8>>, name: &str) -> Result<Vec<f32>, CpuError> {
    let info = file.tensor(name).ok_or_else(|| GgufError::MissingTensor(name.to_owned()))?;
    if info.dtype.id() != WeightFormat::F32.ggml_type() {
        return Err(CpuError::Input(format!("tensor {name} is {}, expected F32", info.dtype.name())));
    }
    Ok(file.data_of(info)?.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}
