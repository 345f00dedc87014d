//! Loading the engine straight from a parsed GGUF file: the reader's [`ModelConfig`] becomes
//! a [`LlamaConfig`], and the file itself is the [`WeightSource`] (zero-copy tensor bytes).

use std::borrow::Cow;

use super::model::{LlamaConfig, TensorView, WeightSource};
use super::{EngineOptions, WgpuEngine};
use crate::device::Gpu;
use crate::gguf::{GgufFile, ModelConfig, RopeStyle};

impl From<&ModelConfig> for LlamaConfig {
    fn from(c: &ModelConfig) -> Self {
        Self {
            dim: c.n_embd,
            n_layers: c.n_layer,
            n_head: c.n_head,
            n_kv_head: c.n_head_kv,
            head_dim: c.head_dim,
            n_ff: c.n_ff,
            vocab: c.n_vocab,
            norm_eps: c.rms_eps,
            rope_base: c.rope_theta,
            rope_freq_scale: c.rope_freq_scale,
            n_rot: c.head_dim,
            rope_neox: c.rope_style == RopeStyle::Halves,
            context_len: c.n_ctx_train,
        }
    }
}

/// Tensors come straight from the file's bytes, except K-quant / 5-bit ones, which are
/// rewritten into a type the kernels read ([`crate::quant::Transcoded`]) when asked for.
impl<B: AsRef<[u8]>> WeightSource for GgufFile<B> {
    fn tensor(&self, name: &str) -> Option<TensorView<'_>> {
        let info = self.gguf().tensor(name)?;
        let dims = info.dims();
        if dims.len() > 2 {
            return None;
        }
        let ne = [dims.first().copied().unwrap_or(1), dims.get(1).copied().unwrap_or(1)];
        let data = self.data_of(info).ok()?;
        let cols = usize::try_from(ne[0]).ok()?;
        match crate::quant::transcode(info.dtype.id(), cols, data) {
            Ok(Some((format, bytes))) => {
                Some(TensorView { ggml_type: format.ggml_type(), ne, data: Cow::Owned(bytes) })
            }
            // Types the kernels read, and ones nothing reads (the loader names those).
            _ => Some(TensorView { ggml_type: info.dtype.id(), ne, data: Cow::Borrowed(data) }),
        }
    }
}

impl WgpuEngine {
    /// Reads the config from the file's metadata and loads its weights.
    pub async fn load_gguf<B: AsRef<[u8]>>(gpu: &Gpu, file: &GgufFile<B>, opts: &EngineOptions) -> Result<Self, String> {
        let config = ModelConfig::from_gguf(file.gguf()).map_err(|e| e.to_string())?;
        Self::load(gpu, &LlamaConfig::from(&config), file, opts).await
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_gguf_blocking<B: AsRef<[u8]>>(gpu: &Gpu, file: &GgufFile<B>, opts: &EngineOptions) -> Result<Self, String> {
        pollster::block_on(Self::load_gguf(gpu, file, opts))
    }
}
