//! Llama-family hyperparameters read from GGUF metadata, checked against the tensors the
//! forward pass will use (names, shapes, element types), so engines can trust them.

use super::dtype::GgmlType;
use super::error::{GgufError, Result};
use super::header::Gguf;

/// How rotary position embedding pairs dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RopeStyle {
    /// Adjacent pairs (2i, 2i+1): llama.cpp `LLAMA_ROPE_TYPE_NORM`, used by `llama` GGUFs whose
    /// q/k weights the converter already permuted.
    Interleaved,
    /// Halves (i, i + d/2): llama.cpp `LLAMA_ROPE_TYPE_NEOX`, used by `qwen2`.
    Halves,
}

/// What a llama-family forward pass needs to know about a model.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// `general.architecture` (`llama` or `qwen2`).
    pub architecture: String,
    pub n_layer: usize,
    /// Hidden size.
    pub n_embd: usize,
    /// Query heads.
    pub n_head: usize,
    /// Key/value heads (grouped-query attention when fewer than `n_head`).
    pub n_head_kv: usize,
    /// Dimension of one attention head (keys, queries and values alike).
    pub head_dim: usize,
    /// Hidden size of the feed-forward block.
    pub n_ff: usize,
    pub n_vocab: usize,
    /// Context length the model was trained for.
    pub n_ctx_train: usize,
    pub rope_theta: f32,
    /// Position multiplier from linear RoPE scaling (1.0 when unscaled).
    pub rope_freq_scale: f32,
    pub rope_style: RopeStyle,
    /// `rope_freqs.weight` is present (Llama 3.1+ frequency factors, `[head_dim / 2]` F32).
    pub has_rope_freqs: bool,
    pub rms_eps: f32,
    /// No `output.weight`: the output projection reuses `token_embd.weight`.
    pub tied_output: bool,
    /// q/k/v projections carry biases (`attn_q.bias`, ...), as in Qwen2.
    pub has_qkv_bias: bool,
}

/// Name of a per-layer tensor, e.g. `layer_tensor(3, "attn_q.weight")` = `blk.3.attn_q.weight`.
pub fn layer_tensor(layer: usize, suffix: &str) -> String {
    format!("blk.{layer}.{suffix}")
}

/// Norms, biases and RoPE factors must be F32; matrices may be any supported weight type.
const F32_ONLY: [GgmlType; 1] = [GgmlType::F32];

impl ModelConfig {
    /// Reads the hyperparameters and checks every tensor the forward pass uses.
    pub fn from_gguf(gguf: &Gguf) -> Result<Self> {
        let meta = &gguf.metadata;
        let arch = gguf.architecture()?.to_owned();
        let rope_style = match arch.as_str() {
            "llama" => RopeStyle::Interleaved,
            "qwen2" => RopeStyle::Halves,
            _ => return Err(GgufError::UnsupportedArchitecture(arch)),
        };
        let key = |k: &str| format!("{arch}.{k}");
        let positive = |k: &str| -> Result<usize> {
            let key = key(k);
            let v = meta.get_usize(&key)?;
            if v == 0 {
                return Err(GgufError::BadValue {
                    key,
                    reason: "must be positive".into(),
                });
            }
            Ok(v)
        };

        let n_layer = positive("block_count")?;
        let n_embd = positive("embedding_length")?;
        let n_head = positive("attention.head_count")?;
        let n_ff = positive("feed_forward_length")?;
        let n_ctx_train = positive("context_length")?;
        let n_head_kv = match meta.get_usize_opt(&key("attention.head_count_kv"))? {
            None => n_head,
            Some(v) if v > 0 && n_head % v == 0 => v,
            Some(v) => {
                return Err(GgufError::BadValue {
                    key: key("attention.head_count_kv"),
                    reason: format!("{v} does not divide the {n_head} query heads"),
                });
            }
        };
        let head_dim = match meta.get_usize_opt(&key("attention.key_length"))? {
            Some(v) => v,
            None if n_embd % n_head == 0 => n_embd / n_head,
            None => {
                return Err(GgufError::BadValue {
                    key: key("embedding_length"),
                    reason: format!("{n_embd} is not a multiple of the {n_head} heads"),
                });
            }
        };
        if let Some(v) = meta.get_usize_opt(&key("attention.value_length"))?
            && v != head_dim
        {
            return Err(GgufError::BadValue {
                key: key("attention.value_length"),
                reason: format!(
                    "{v} differs from the key length {head_dim}, which is not supported"
                ),
            });
        }
        if head_dim == 0 || head_dim % 2 != 0 {
            return Err(GgufError::BadValue {
                key: key("attention.key_length"),
                reason: format!("head dimension {head_dim} must be even and positive"),
            });
        }
        if let Some(rot) = meta.get_usize_opt(&key("rope.dimension_count"))?
            && rot != head_dim
        {
            return Err(GgufError::BadValue {
                key: key("rope.dimension_count"),
                reason: format!(
                    "partial rotary embeddings ({rot} of {head_dim}) are not supported"
                ),
            });
        }
        let rope_theta = meta
            .get_f32_opt(&key("rope.freq_base"))?
            .unwrap_or(10_000.0);
        let rope_freq_scale = match meta.get_str_opt(&key("rope.scaling.type"))? {
            None | Some("none") => 1.0,
            Some("linear") => {
                let factor = meta.get_f32(&key("rope.scaling.factor"))?;
                if !(factor > 0.0 && factor.is_finite()) {
                    return Err(GgufError::BadValue {
                        key: key("rope.scaling.factor"),
                        reason: format!("{factor} must be positive"),
                    });
                }
                1.0 / factor
            }
            Some(other) => {
                return Err(GgufError::BadValue {
                    key: key("rope.scaling.type"),
                    reason: format!("RoPE scaling '{other}' is not supported"),
                });
            }
        };
        let rms_eps = meta.get_f32(&key("attention.layer_norm_rms_epsilon"))?;
        if !(rms_eps > 0.0 && rms_eps.is_finite() && rope_theta > 0.0 && rope_theta.is_finite()) {
            return Err(GgufError::BadValue {
                key: key("rope.freq_base"),
                reason: format!("rope theta {rope_theta} and rms eps {rms_eps} must be positive"),
            });
        }

        let embd = gguf
            .tensor("token_embd.weight")
            .ok_or_else(|| GgufError::MissingTensor("token_embd.weight".into()))?;
        let n_vocab = match meta.get_usize_opt(&key("vocab_size"))? {
            Some(v) => v,
            None => usize::try_from(embd.dims().get(1).copied().unwrap_or(0)).unwrap_or(0),
        };
        let tied_output = gguf.tensor("output.weight").is_none();
        let has_rope_freqs = gguf.tensor("rope_freqs.weight").is_some();
        let has_qkv_bias = gguf.tensor(&layer_tensor(0, "attn_q.bias")).is_some();
        let config = ModelConfig {
            architecture: arch,
            n_layer,
            n_embd,
            n_head,
            n_head_kv,
            head_dim,
            n_ff,
            n_vocab,
            n_ctx_train,
            rope_theta,
            rope_freq_scale,
            rope_style,
            has_rope_freqs,
            rms_eps,
            tied_output,
            has_qkv_bias,
        };
        config.check_tensors(gguf)?;
        Ok(config)
    }

    /// Width of the concatenated query heads.
    pub fn q_dim(&self) -> usize {
        self.n_head * self.head_dim
    }

    /// Width of the concatenated key (or value) heads.
    pub fn kv_dim(&self) -> usize {
        self.n_head_kv * self.head_dim
    }

    /// Name of the output projection (`token_embd.weight` when tied).
    pub fn output_tensor(&self) -> &'static str {
        if self.tied_output {
            "token_embd.weight"
        } else {
            "output.weight"
        }
    }

    fn check_tensors(&self, gguf: &Gguf) -> Result<()> {
        let w = &GgmlType::SUPPORTED_WEIGHTS;
        let (e, v, ff) = (self.n_embd as u64, self.n_vocab as u64, self.n_ff as u64);
        let (q, kv) = (self.q_dim() as u64, self.kv_dim() as u64);
        gguf.require_tensor("token_embd.weight", w, &[e, v])?;
        gguf.require_tensor("output_norm.weight", &F32_ONLY, &[e])?;
        if !self.tied_output {
            gguf.require_tensor("output.weight", w, &[e, v])?;
        }
        if self.has_rope_freqs {
            gguf.require_tensor("rope_freqs.weight", &F32_ONLY, &[self.head_dim as u64 / 2])?;
        }
        for layer in 0..self.n_layer {
            let t = |s: &str| layer_tensor(layer, s);
            gguf.require_tensor(&t("attn_norm.weight"), &F32_ONLY, &[e])?;
            gguf.require_tensor(&t("attn_q.weight"), w, &[e, q])?;
            gguf.require_tensor(&t("attn_k.weight"), w, &[e, kv])?;
            gguf.require_tensor(&t("attn_v.weight"), w, &[e, kv])?;
            gguf.require_tensor(&t("attn_output.weight"), w, &[q, e])?;
            gguf.require_tensor(&t("ffn_norm.weight"), &F32_ONLY, &[e])?;
            gguf.require_tensor(&t("ffn_gate.weight"), w, &[e, ff])?;
            gguf.require_tensor(&t("ffn_up.weight"), w, &[e, ff])?;
            gguf.require_tensor(&t("ffn_down.weight"), w, &[ff, e])?;
            if self.has_qkv_bias {
                gguf.require_tensor(&t("attn_q.bias"), &F32_ONLY, &[q])?;
                gguf.require_tensor(&t("attn_k.bias"), &F32_ONLY, &[kv])?;
                gguf.require_tensor(&t("attn_v.bias"), &F32_ONLY, &[kv])?;
            }
        }
        Ok(())
    }
}
