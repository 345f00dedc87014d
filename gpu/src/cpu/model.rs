//! A llama-family model's weights for the CPU path: matrices stay in the GGUF bytes in their file
//! format (views, no copies); only the small F32 vectors (norms, biases, RoPE factors) are copied.

use std::fmt;
use std::ops::Range;

use crate::gguf::{layer_tensor, GgufError, GgufFile, ModelConfig};
use crate::quant::{QMatrix, QuantError, WeightFormat};

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

/// Where a weight matrix lives in the file.
#[derive(Clone, Debug)]
pub(crate) struct MatRef {
    pub format: WeightFormat,
    pub rows: usize,
    pub cols: usize,
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
    file: GgufFile<Vec<u8>>,
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
        let output = matrix(&file, config.output_tensor())?;
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
        Ok(Self { file, config, token_embd, output, output_norm, rope_freqs, layers })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The GGUF file (metadata for the tokenizer, tensor infos).
    pub fn file(&self) -> &GgufFile<Vec<u8>> {
        &self.file
    }

    /// Bytes of the model held in memory (the whole file; matrices are not copied).
    pub fn weight_bytes(&self) -> usize {
        self.file.bytes().len()
    }

    pub(crate) fn mat(&self, m: &MatRef) -> QMatrix<'_> {
        QMatrix::new(m.format, m.rows, m.cols, &self.file.bytes()[m.bytes.clone()])
            .expect("matrix shape was checked at load")
    }
}

fn matrix(file: &GgufFile<Vec<u8>>, name: &str) -> Result<MatRef, CpuError> {
    let info = file.tensor(name).ok_or_else(|| GgufError::MissingTensor(name.to_owned()))?;
    let quant_err = |error| CpuError::Quant { tensor: name.to_owned(), error };
    let format = WeightFormat::from_ggml_type(info.dtype.id()).map_err(quant_err)?;
    let dims = info.dims();
    if dims.len() != 2 {
        return Err(CpuError::Input(format!("tensor {name} has {} dimensions, a matrix needs 2", dims.len())));
    }
    let to_usize = |v: u64| usize::try_from(v).map_err(|_| quant_err(QuantError::TooLarge));
    let (cols, rows) = (to_usize(dims[0])?, to_usize(dims[1])?);
    let data = file.data_of(info)?;
    // Validates the byte size against the shape once, so later views cannot fail.
    QMatrix::new(format, rows, cols, data).map_err(quant_err)?;
    let start = data.as_ptr() as usize - file.bytes().as_ptr() as usize;
    Ok(MatRef { format, rows, cols, bytes: start..start + data.len() })
}

fn vector(file: &GgufFile<Vec<u8>>, name: &str) -> Result<Vec<f32>, CpuError> {
    let info = file.tensor(name).ok_or_else(|| GgufError::MissingTensor(name.to_owned()))?;
    if info.dtype.id() != WeightFormat::F32.ggml_type() {
        return Err(CpuError::Input(format!("tensor {name} is {}, expected F32", info.dtype.name())));
    }
    Ok(file.data_of(info)?.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}
