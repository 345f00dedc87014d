//! What the WebGPU engine needs from a model: llama-family hyperparameters and named weight
//! tensors in GGUF naming (`blk.N.attn_q.weight`, ...). Kept as a small trait so the engine
//! can load from the GGUF reader or from tensors made in tests.

use std::borrow::Cow;

/// Hyperparameters of a llama-family decoder (llama, smollm, qwen2, mistral...).
#[derive(Clone, Debug, PartialEq)]
pub struct LlamaConfig {
    pub dim: usize,
    pub n_layers: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub n_ff: usize,
    pub vocab: usize,
    pub norm_eps: f32,
    pub rope_base: f32,
    /// Position multiplier (linear RoPE scaling; 1.0 when unscaled).
    pub rope_freq_scale: f32,
    /// Rotary dims per head (`rope.dimension_count`, usually head_dim).
    pub n_rot: usize,
    /// GPT-NeoX-style rotation of (i, i + n_rot/2) pairs (qwen2) instead of adjacent pairs.
    pub rope_neox: bool,
    /// Trained context length (`context_length`).
    pub context_len: usize,
}

/// One weight tensor: ggml type id, ggml dims (`ne[0]` is the row width) and its bytes —
/// borrowed from the file, or owned when the source rewrote a type the kernels do not read.
#[derive(Clone, Debug)]
pub struct TensorView<'a> {
    pub ggml_type: u32,
    pub ne: [u64; 2],
    pub data: Cow<'a, [u8]>,
}

/// Where the engine gets its weights from. Besides the usual tensors, an optional
/// `rope_freqs.weight` ([n_rot/2] F32, Llama 3.1) divides the rotary frequencies.
pub trait WeightSource {
    fn tensor(&self, name: &str) -> Option<TensorView<'_>>;
}
