//! The WebGPU decoder. Everything is built at load: weights repacked and uploaded (large
//! tensors split into parts under the binding limit), activation buffers, the f16 KV cache
//! (one K and one V buffer per layer), every pipeline, uniform and bind group. A token is then
//! only a few uniform bytes plus one compute pass: no `create_*` call in the token loop.
//!
//! Decoding one token uses fused kernels (5 dispatches per layer). Several tokens at once
//! (prompt prefill, teacher-forced scoring) go through a block path that decodes each weight
//! once per 8 tokens (matmul.wgsl, qkv_block.wgsl: 8 dispatches per layer per block of up to 64 tokens).
//! Each step's position and slots live in a 256-byte slot of the step uniform buffer,
//! selected per dispatch with a dynamic offset, so one submit can carry many steps. Greedy generation keeps the loop on the GPU: the top-k kernel writes the
//! argmax into the token buffer slot the next step embeds from, and token ids come back in
//! batches through a ring of two readback buffers, so the CPU never waits on every token.

use super::kernels::*;
use super::model::{LlamaConfig, TensorView, WeightSource};
use super::pack::{self, pack_rows, split_rows, words_per_row};
use super::pipelines::{STEP_STRIDE, StepUniform, grid, step_layout};
use super::readback::map_read;
use crate::device::Gpu;
use wgpu::util::DeviceExt;

/// Steps one submit can carry (slots in the step uniform buffer).
const MAX_STEPS: usize = 64;
/// Most tokens one prefill block holds (rows of the activation buffers; fewer when a row
/// set would exceed the binding limit).
const MAX_BLOCK: usize = 64;
/// Dispatches per layer of a prefill block.
const BLOCK_DISPATCHES_PER_LAYER: usize = 8;
/// Greedy generation reads token ids back this many at a time.
const READBACK_BATCH: usize = 8;
/// Dispatches per transformer layer (qkv_rope, attention, attn_out, ffn_gate_up, ffn_down).
const DISPATCHES_PER_LAYER: usize = 5;

/// Load-time choices.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// KV cache positions; `None` = min(trained context, 2048).
    pub max_ctx: Option<usize>,
    /// Candidates the GPU top-k keeps per scored position.
    pub top_k: usize,
    /// Largest single binding (also capped by the adapter's limit). WebGPU guarantees
    /// 128 MiB; tensors beyond it are split by rows.
    pub max_binding_bytes: u64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self { max_ctx: None, top_k: 40, max_binding_bytes: 128 << 20 }
    }
}

/// Device work per token: the fixed per-token cost the design keeps small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DispatchCounts {
    /// Compute dispatches per transformer layer.
    pub per_layer: usize,
    /// Dispatches of one decode step that ends in logits + top-k (embedding parts, layers,
    /// head parts, top-k).
    pub per_token: usize,
    /// Dispatches per layer of a prefill block (up to 64 tokens).
    pub per_layer_prefill: usize,
    /// Queue submits since load (warm-up excluded).
    pub submits: u64,
    /// Token steps run since load (warm-up excluded).
    pub tokens: u64,
}

/// A pipeline (specialised for the weight types it reads) with its bind group.
type Bound = (wgpu::ComputePipeline, wgpu::BindGroup);

struct LayerBinds {
    qkv: Bound,
    attention: Bound,
    attn_out: Bound,
    gate_up: Bound,
    down: Bound,
    block: BlockBinds,
}

/// A matmul.wgsl dispatch and its output row count.
type Matmul = (Bound, u32);

/// The prefill-block path of one layer.
struct BlockBinds {
    attn_norm: Bound,
    qkv: Bound,
    merge: Bound,
    attn_out: Matmul,
    ffn_norm: Bound,
    gate_up: Matmul,
    down: Matmul,
}

/// One step of a submit.
#[derive(Clone, Copy)]
enum Work {
    /// One token through the fused decode kernels; `true` = with output head and top-k.
    Token(StepUniform, bool),
    /// A block of tokens; `true` = output head and top-k for every token of the block.
    Block(StepUniform, bool),
    /// Output head and top-k for the last token of the block just run (its row in x is the
    /// uniform's x_row).
    HeadOfLast(StepUniform),
}

impl Work {
    fn uniform(&self) -> &StepUniform {
        match self {
            Work::Token(s, _) | Work::Block(s, _) | Work::HeadOfLast(s) => s,
        }
    }
}

/// What a batch of steps returns.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    Nothing,
    LastLogits,
    AllLogits,
    LastTop,
    AllTop,
}

/// A llama-family model resident on a WebGPU device.
pub struct WgpuEngine {
    gpu: Gpu,
    cfg: LlamaConfig,
    max_ctx: usize,
    top_k: usize,
    layers: Vec<LayerBinds>,
    embed_parts: Vec<Bound>,
    head_parts: Vec<(Bound, u32)>,
    topk: Bound,
    out_norm_rows: Bound,
    head_matmuls: Vec<Matmul>,
    block: usize,
    step_buf: wgpu::Buffer,
    step_bind: wgpu::BindGroup,
    tokens: wgpu::Buffer,
    logits: wgpu::Buffer,
    logits_rows: usize,
    top: wgpu::Buffer,
    logits_readback: wgpu::Buffer,
    top_readback: wgpu::Buffer,
    token_readback: [wgpu::Buffer; 2],
    max_groups: u32,
    pos: usize,
    submits: u64,
    steps: u64,
}

fn tensor<'a>(w: &'a dyn WeightSource, name: &str) -> Result<TensorView<'a>, String> {
    w.tensor(name).ok_or_else(|| format!("the model has no tensor `{name}`"))
}

fn matrix<'a>(w: &'a dyn WeightSource, name: &str, k: usize, rows: usize) -> Result<TensorView<'a>, String> {
    let t = tensor(w, name)?;
    if t.ne != [k as u64, rows as u64] {
        return Err(format!("`{name}` has shape {:?}, expected [{k}, {rows}]", t.ne));
    }
    Ok(t)
}

fn packed(t: &TensorView, name: &str) -> Result<Vec<u32>, String> {
    pack_rows(t.ggml_type, t.ne[0] as usize, t.ne[1] as usize, t.data).map_err(|e| format!("`{name}`: {e}"))
}

/// A norm or bias vector as f32 (stored as F32, or F16 in some files).
fn vector(w: &dyn WeightSource, name: &str, len: usize) -> Result<Vec<f32>, String> {
    let t = tensor(w, name)?;
    if t.ne[0] as usize != len || t.ne[1] > 1 {
        return Err(format!("`{name}` has shape {:?}, expected [{len}]", t.ne));
    }
    match (t.ggml_type, t.data.len()) {
        (pack::TYPE_F32, n) if n == len * 4 => {
            Ok(t.data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        }
        (pack::TYPE_F16, n) if n == len * 2 => {
            Ok(t.data.chunks_exact(2).map(|b| crate::quant::f16_bits_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect())
        }
        _ => Err(format!("`{name}` must be F32 or F16 with {len} values")),
    }
}

fn validate(cfg: &LlamaConfig, max_ctx: usize, top_k: usize, limits: &wgpu::Limits) -> Result<(), String> {
    let c = cfg;
    let positive = [c.dim, c.n_layers, c.n_head, c.n_kv_head, c.head_dim, c.n_ff, c.vocab];
    if positive.contains(&0) {
        return Err(format!("model dimensions must be positive: {cfg:?}"));
    }
    if !c.dim.is_multiple_of(32) || !c.n_ff.is_multiple_of(32) || !(c.n_head * c.head_dim).is_multiple_of(32) {
        return Err(format!("dims must be multiples of 32 (dim {}, ffn {}, heads·head_dim {})", c.dim, c.n_ff, c.n_head * c.head_dim));
    }
    if !c.head_dim.is_multiple_of(4) || c.head_dim > MAX_HEAD_DIM {
        return Err(format!("head_dim {} must be a multiple of 4 and ≤ {MAX_HEAD_DIM}", c.head_dim));
    }
    if !c.n_head.is_multiple_of(c.n_kv_head) || c.n_head * MAX_CHUNKS > MAX_MERGE {
        return Err(format!("{} heads over {} KV heads is not supported", c.n_head, c.n_kv_head));
    }
    if c.n_rot == 0 || !c.n_rot.is_multiple_of(4) || c.n_rot > c.head_dim || (c.rope_neox && c.n_rot != c.head_dim) {
        return Err(format!("rotary dims {} (head_dim {}, neox {}) not supported", c.n_rot, c.head_dim, c.rope_neox));
    }
    let max_k = c.dim.max(c.n_ff).max(c.n_head * c.head_dim);
    let shared = max_k * 4 + 256 + MAX_MERGE * 4;
    if shared > limits.max_compute_workgroup_storage_size as usize {
        return Err(format!(
            "activations of {max_k} floats do not fit the adapter's {} bytes of workgroup memory",
            limits.max_compute_workgroup_storage_size
        ));
    }
    if max_ctx == 0 || top_k == 0 || top_k > c.vocab.min(256) {
        return Err(format!("max_ctx {max_ctx} and top_k {top_k} must be ≥ 1 (top_k ≤ 256 and ≤ vocab)"));
    }
    Ok(())
}

/// (cos, sin) of every rotation angle, [pos][n_rot/2]: θ = pos · scale · base^(−2i/n_rot)
/// ÷ factor_i, in f64.
fn rope_table(c: &LlamaConfig, max_ctx: usize, factors: Option<&[f32]>) -> Vec<[f32; 2]> {
    let half = c.n_rot / 2;
    let freqs: Vec<f64> = (0..half)
        .map(|i| {
            let factor = factors.map_or(1.0, |f| f[i] as f64);
            (c.rope_base as f64).powf(-2.0 * i as f64 / c.n_rot as f64) * c.rope_freq_scale as f64 / factor
        })
        .collect();
    (0..max_ctx)
        .flat_map(|pos| {
            freqs.iter().map(move |f| {
                let (s, co) = (pos as f64 * f).sin_cos();
                [co as f32, s as f32]
            })
        })
        .collect()
}

struct Builder<'a> {
    device: &'a wgpu::Device,
    limit: u64,
}

impl Builder<'_> {
    fn storage(&self, label: &str, bytes: &[u8]) -> Result<wgpu::Buffer, String> {
        if bytes.len() as u64 > self.limit {
            return Err(format!("`{label}` needs {} bytes, over the binding limit of {}", bytes.len(), self.limit));
        }
        let mut contents = bytes.to_vec();
        contents.resize(bytes.len().max(16).next_multiple_of(4), 0);
        Ok(self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: &contents,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
        }))
    }

    fn zeroed(&self, label: &str, size: u64) -> Result<wgpu::Buffer, String> {
        if size > self.limit {
            return Err(format!("`{label}` needs {size} bytes, over the binding limit of {}", self.limit));
        }
        Ok(self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(16).next_multiple_of(4),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        }))
    }

    fn uniform<T: bytemuck::Pod>(&self, label: &str, params: &T) -> wgpu::Buffer {
        self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::bytes_of(params),
            usage: wgpu::BufferUsages::UNIFORM,
        })
    }

    fn readback(&self, label: &str, size: u64) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(16).next_multiple_of(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }

    /// A row-major matrix split into parts that each fit one binding: (buffer, first row, rows).
    fn parts(&self, name: &str, t: &TensorView) -> Result<Vec<(wgpu::Buffer, usize, usize)>, String> {
        let (k, rows) = (t.ne[0] as usize, t.ne[1] as usize);
        let row_bytes = pack::gguf_row_bytes(t.ggml_type, k).map_err(|e| format!("`{name}`: {e}"))?;
        let row_words = words_per_row(t.ggml_type, k);
        split_rows(rows, row_words, self.limit)?
            .into_iter()
            .map(|(lo, n)| {
                let bytes = t.data.get(lo * row_bytes..(lo + n) * row_bytes).ok_or_else(|| format!("`{name}` is truncated"))?;
                let words = pack_rows(t.ggml_type, k, n, bytes).map_err(|e| format!("`{name}`: {e}"))?;
                Ok((self.storage(name, bytemuck::cast_slice(&words))?, lo, n))
            })
            .collect()
    }
}

impl WgpuEngine {
    /// Uploads the model and builds every pipeline, buffer and bind group, then runs one
    /// warm-up token so the driver compiles the pipelines before the first real one.
    pub async fn load(gpu: &Gpu, cfg: &LlamaConfig, weights: &dyn WeightSource, opts: &EngineOptions) -> Result<Self, String> {
        let max_ctx = opts.max_ctx.unwrap_or(cfg.context_len.clamp(1, 2048));
        validate(cfg, max_ctx, opts.top_k, &gpu.limits)?;
        let device = &gpu.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let oom_scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let built = Self::build(gpu, cfg, weights, opts, max_ctx);
        let oom = oom_scope.pop().await;
        let invalid = scope.pop().await;
        let mut engine = built?;
        if let Some(e) = oom.or(invalid) {
            return Err(format!("the WebGPU device rejected the model setup: {e}"));
        }
        engine.warm_up().await?;
        Ok(engine)
    }

    fn build(gpu: &Gpu, cfg: &LlamaConfig, weights: &dyn WeightSource, opts: &EngineOptions, max_ctx: usize) -> Result<Self, String> {
        let device = &gpu.device;
        let limit = opts
            .max_binding_bytes
            .min(gpu.limits.max_storage_buffer_binding_size)
            .min(gpu.limits.max_buffer_size);
        let b = Builder { device, limit };
        let c = cfg;
        let (n_q, n_kv) = (c.n_head * c.head_dim, c.n_kv_head * c.head_dim);
        let max_k = c.dim.max(c.n_ff).max(n_q);
        let layout = step_layout(device);
        let kernels = Kernels::new(device, &layout, max_k);

        // Activations and state.
        // Activations, one row per token of a block (decode uses row 0).
        let per_token = [c.dim, n_q, c.n_ff, c.n_head * MAX_CHUNKS * (c.head_dim + 2)];
        let widest = (per_token.iter().max().copied().unwrap_or(1) * 4) as u64;
        let block_tokens = MAX_BLOCK.min((limit / widest) as usize);
        if block_tokens == 0 {
            return Err(format!("one token's activations ({widest} bytes) exceed the binding limit of {limit}"));
        }
        let block = block_tokens;
        let x = b.zeroed("x", (block * c.dim * 4) as u64)?;
        let xn = b.zeroed("xn", (block * c.dim * 4) as u64)?;
        let q = b.zeroed("q", (block * n_q * 4) as u64)?;
        let attn = b.zeroed("attn", (block * n_q * 4) as u64)?;
        let partials = b.zeroed("partials", (block * c.n_head * MAX_CHUNKS * (c.head_dim + 2) * 4) as u64)?;
        let h = b.zeroed("h", (block * c.n_ff * 4) as u64)?;
        let no_bias = b.zeroed("no-bias", 16)?;
        let matmul = |types: [u32; 3], params: MatmulParams, act: &wgpu::Buffer, w: &wgpu::Buffer, bias: &wgpu::Buffer, out: &wgpu::Buffer| -> Matmul {
            let p = b.uniform("matmul", &params);
            ((kernels.matmul.pipeline(device, &types), kernels.matmul.bind(device, &[&p, act, w, bias, out])), params.n_rows)
        };
        let rms_rows = |g: &wgpu::Buffer, out: &wgpu::Buffer| -> Bound {
            let p = b.uniform("rmsnorm_rows", &RmsRowsParams { k: c.dim as u32, eps: c.norm_eps, _pad: [0; 2] });
            (kernels.rmsnorm_rows.pipeline(device, &[]), kernels.rmsnorm_rows.bind(device, &[&p, &x, g, out]))
        };
        // Slot p holds the token at position p; slot max_ctx + 1 is scratch.
        let tokens = b.zeroed("tokens", ((max_ctx + 2) * 4) as u64)?;
        let logits_rows = MAX_STEPS.min((limit / (c.vocab as u64 * 4)) as usize).max(1);
        let logits = b.zeroed("logits", (logits_rows * c.vocab * 4) as u64)?;
        let top = b.zeroed("top", (logits_rows * opts.top_k * 8) as u64)?;
        let step_buf = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("steps"),
            size: MAX_STEPS as u64 * STEP_STRIDE,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let step_bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("step"),
            layout: &layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &step_buf,
                    offset: 0,
                    size: wgpu::BufferSize::new(std::mem::size_of::<StepUniform>() as u64),
                }),
            }],
        });

        // Embedding (and the tied output head).
        let embd = tensor(weights, "token_embd.weight")?;
        if embd.ne != [c.dim as u64, c.vocab as u64] {
            return Err(format!("`token_embd.weight` has shape {:?}, expected [{}, {}]", embd.ne, c.dim, c.vocab));
        }
        let embd_parts = b.parts("token_embd.weight", &embd)?;
        let embed_parts = embd_parts
            .iter()
            .map(|(buf, lo, n)| {
                let p = b.uniform(
                    "embed",
                    &EmbedParams { dim: c.dim as u32, row_lo: *lo as u32, n_rows: *n as u32, _pad: 0 },
                );
                (kernels.embed.pipeline(device, &[embd.ggml_type]), kernels.embed.bind(device, &[&p, &tokens, buf, &x]))
            })
            .collect();
        let (head_t, head_buffers) = match weights.tensor("output.weight") {
            Some(t) => {
                let t = matrix(weights, "output.weight", c.dim, c.vocab).map(|_| t)?;
                (t, b.parts("output.weight", &t)?)
            }
            None => (embd, embd_parts),
        };
        let output_norm = b.storage("output_norm", bytemuck::cast_slice(&vector(weights, "output_norm.weight", c.dim)?))?;
        let head_parts = head_buffers
            .iter()
            .map(|(buf, lo, n)| {
                let p = b.uniform(
                    "lm_head",
                    &HeadParams {
                        k: c.dim as u32,
                        n_rows: *n as u32,
                        row_lo: *lo as u32,
                        vocab: c.vocab as u32,
                        _pad_type: 0,
                        eps: c.norm_eps,
                        _pad: [0; 2],
                    },
                );
                let pipeline = kernels.lm_head.pipeline(device, &[head_t.ggml_type]);
                ((pipeline, kernels.lm_head.bind(device, &[&p, &x, &output_norm, buf, &logits])), n.div_ceil(HEAD_ROWS) as u32)
            })
            .collect();
        let head_matmuls: Vec<Matmul> = head_buffers
            .iter()
            .map(|(buf, lo, n)| {
                let params = MatmulParams {
                    k: c.dim as u32,
                    n_rows: *n as u32,
                    w_base: 0,
                    w_base2: 0,
                    in_stride: c.dim as u32,
                    out_stride: c.vocab as u32,
                    out_offset: *lo as u32,
                    has_bias: 0,
                };
                let t = head_t.ggml_type;
                matmul([t, t, MODE_STORE], params, &xn, buf, &no_bias, &logits)
            })
            .collect();
        let out_norm_rows = rms_rows(&output_norm, &xn);
        let topk_params = b.uniform("topk", &TopkParams { vocab: c.vocab as u32, k: opts.top_k as u32, _pad: [0; 2] });
        let topk = (kernels.topk.pipeline(device, &[]), kernels.topk.bind(device, &[&topk_params, &logits, &top, &tokens]));

        // Layers.
        // Rotary frequencies (× the linear position scale, ÷ Llama 3.1's per-pair factors).
        let factors = match weights.tensor("rope_freqs.weight") {
            Some(_) => Some(vector(weights, "rope_freqs.weight", c.n_rot / 2)?),
            None => None,
        };
        let rope_table = b.storage("rope_table", bytemuck::cast_slice(&rope_table(c, max_ctx, factors.as_deref())))?;
        let attention_params = b.uniform(
            "attention",
            &AttentionParams {
                n_head: c.n_head as u32,
                n_kv_head: c.n_kv_head as u32,
                head_dim: c.head_dim as u32,
                max_ctx: max_ctx as u32,
                max_chunks: MAX_CHUNKS as u32,
                scale: 1.0 / (c.head_dim as f32).sqrt(),
                _pad: [0; 2],
            },
        );
        let cache_bytes = (c.n_kv_head * max_ctx * c.head_dim * 2) as u64;
        let mut layers = Vec::with_capacity(c.n_layers);
        for l in 0..c.n_layers {
            let name = |s: &str| format!("blk.{l}.{s}");
            let wq = matrix(weights, &name("attn_q.weight"), c.dim, n_q)?;
            let wk = matrix(weights, &name("attn_k.weight"), c.dim, n_kv)?;
            let wv = matrix(weights, &name("attn_v.weight"), c.dim, n_kv)?;
            let mut qkv_words = packed(&wq, &name("attn_q.weight"))?;
            let k_base = qkv_words.len();
            qkv_words.extend(packed(&wk, &name("attn_k.weight"))?);
            let v_base = qkv_words.len();
            qkv_words.extend(packed(&wv, &name("attn_v.weight"))?);
            let w_qkv = b.storage(&name("attn_qkv"), bytemuck::cast_slice(&qkv_words))?;
            let has_bias = weights.tensor(&name("attn_q.bias")).is_some();
            let bias = if has_bias {
                let mut v = vector(weights, &name("attn_q.bias"), n_q)?;
                v.extend(vector(weights, &name("attn_k.bias"), n_kv)?);
                v.extend(vector(weights, &name("attn_v.bias"), n_kv)?);
                v
            } else {
                vec![0.0; 4]
            };
            let bias = b.storage(&name("attn_bias"), bytemuck::cast_slice(&bias))?;
            let attn_norm = b.storage(&name("attn_norm"), bytemuck::cast_slice(&vector(weights, &name("attn_norm.weight"), c.dim)?))?;
            let k_cache = b.zeroed(&name("k_cache"), cache_bytes)?;
            let v_cache = b.zeroed(&name("v_cache"), cache_bytes)?;
            let qkv_params = b.uniform(
                "qkv_rope",
                &QkvParams {
                    k: c.dim as u32,
                    n_q: n_q as u32,
                    n_kv: n_kv as u32,
                    head_dim: c.head_dim as u32,
                    neox: c.rope_neox as u32,
                    _pad0: [0; 3],
                    q_base: 0,
                    k_base: k_base as u32,
                    v_base: v_base as u32,
                    has_bias: has_bias as u32,
                    n_rot: c.n_rot as u32,
                    max_ctx: max_ctx as u32,
                    eps: c.norm_eps,
                    _pad: 0,
                },
            );

            let wo = matrix(weights, &name("attn_output.weight"), n_q, c.dim)?;
            let w_o = b.storage(&name("attn_output"), bytemuck::cast_slice(&packed(&wo, &name("attn_output.weight"))?))?;
            let out_params = b.uniform(
                "attn_out",
                &AttnOutParams {
                    n_head: c.n_head as u32,
                    head_dim: c.head_dim as u32,
                    max_chunks: MAX_CHUNKS as u32,
                    n_out: c.dim as u32,
                    _pad: [0; 4],
                },
            );

            let wg = matrix(weights, &name("ffn_gate.weight"), c.dim, c.n_ff)?;
            let wu = matrix(weights, &name("ffn_up.weight"), c.dim, c.n_ff)?;
            let mut gu_words = packed(&wg, &name("ffn_gate.weight"))?;
            let u_base = gu_words.len();
            gu_words.extend(packed(&wu, &name("ffn_up.weight"))?);
            let w_gu = b.storage(&name("ffn_gate_up"), bytemuck::cast_slice(&gu_words))?;
            let ffn_norm = b.storage(&name("ffn_norm"), bytemuck::cast_slice(&vector(weights, &name("ffn_norm.weight"), c.dim)?))?;
            let gu_params = b.uniform(
                "ffn_gate_up",
                &GateUpParams {
                    k: c.dim as u32,
                    n_ff: c.n_ff as u32,
                    g_base: 0,
                    u_base: u_base as u32,
                    eps: c.norm_eps,
                    _pad: [0; 3],
                },
            );
            let wd = matrix(weights, &name("ffn_down.weight"), c.n_ff, c.dim)?;
            let w_d = b.storage(&name("ffn_down"), bytemuck::cast_slice(&packed(&wd, &name("ffn_down.weight"))?))?;
            let down_params =
                b.uniform("ffn_down", &DownParams { k: c.n_ff as u32, n_out: c.dim as u32, _pad: [0; 2] });

            let (qkv_w, o_w, gu_w, down_w) = (&w_qkv, &w_o, &w_gu, &w_d);
            let qkv_block_params = b.uniform(
                "qkv_block",
                &QkvBlockParams {
                    k: c.dim as u32,
                    n_q: n_q as u32,
                    n_kv: n_kv as u32,
                    head_dim: c.head_dim as u32,
                    neox: c.rope_neox as u32,
                    n_rot: c.n_rot as u32,
                    max_ctx: max_ctx as u32,
                    has_bias: has_bias as u32,
                    q_base: 0,
                    k_base: k_base as u32,
                    v_base: v_base as u32,
                    _pad: 0,
                },
            );
            let merge_params = b.uniform(
                "merge",
                &MergeParams { n_head: c.n_head as u32, head_dim: c.head_dim as u32, max_chunks: MAX_CHUNKS as u32, _pad: 0 },
            );
            let plain = |k: usize, rows: usize, w_base2: usize, out_stride: usize| MatmulParams {
                k: k as u32,
                n_rows: rows as u32,
                w_base: 0,
                w_base2: w_base2 as u32,
                in_stride: k as u32,
                out_stride: out_stride as u32,
                out_offset: 0,
                has_bias: 0,
            };
            let block = BlockBinds {
                attn_norm: rms_rows(&attn_norm, &xn),
                qkv: (
                    kernels.qkv_block.pipeline(device, &[wq.ggml_type, wk.ggml_type, wv.ggml_type]),
                    kernels.qkv_block.bind(device, &[&qkv_block_params, &xn, qkv_w, &bias, &q, &k_cache, &v_cache, &rope_table]),
                ),
                merge: (kernels.merge.pipeline(device, &[]), kernels.merge.bind(device, &[&merge_params, &partials, &attn])),
                attn_out: matmul([wo.ggml_type, wo.ggml_type, MODE_ADD], plain(n_q, c.dim, 0, c.dim), &attn, o_w, &no_bias, &x),
                ffn_norm: rms_rows(&ffn_norm, &xn),
                gate_up: matmul(
                    [wg.ggml_type, wu.ggml_type, MODE_GATE_UP],
                    plain(c.dim, c.n_ff, u_base, c.n_ff),
                    &xn,
                    gu_w,
                    &no_bias,
                    &h,
                ),
                down: matmul([wd.ggml_type, wd.ggml_type, MODE_ADD], plain(c.n_ff, c.dim, 0, c.dim), &h, down_w, &no_bias, &x),
            };
            let ks = &kernels;
            layers.push(LayerBinds {
                qkv: (
                    ks.qkv_rope.pipeline(device, &[wq.ggml_type, wk.ggml_type, wv.ggml_type]),
                    ks.qkv_rope.bind(device, &[&qkv_params, &x, &attn_norm, &w_qkv, &bias, &q, &k_cache, &v_cache, &rope_table]),
                ),
                attention: (
                    ks.attention.pipeline(device, &[]),
                    ks.attention.bind(device, &[&attention_params, &q, &k_cache, &v_cache, &partials]),
                ),
                attn_out: (
                    ks.attn_out.pipeline(device, &[wo.ggml_type]),
                    ks.attn_out.bind(device, &[&out_params, &partials, &w_o, &x]),
                ),
                gate_up: (
                    ks.ffn_gate_up.pipeline(device, &[wg.ggml_type, wu.ggml_type]),
                    ks.ffn_gate_up.bind(device, &[&gu_params, &x, &ffn_norm, &w_gu, &h]),
                ),
                down: (ks.ffn_down.pipeline(device, &[wd.ggml_type]), ks.ffn_down.bind(device, &[&down_params, &h, &w_d, &x])),
                block,
            });
        }

        let token_readback = [
            b.readback("tokens-readback-0", ((READBACK_BATCH + 1) * 4) as u64),
            b.readback("tokens-readback-1", ((READBACK_BATCH + 1) * 4) as u64),
        ];
        Ok(Self {
            gpu: Gpu {
                adapter_info: gpu.adapter_info.clone(),
                limits: gpu.limits.clone(),
                device: gpu.device.clone(),
                queue: gpu.queue.clone(),
            },
            cfg: cfg.clone(),
            max_ctx,
            top_k: opts.top_k,
            layers,
            embed_parts,
            head_parts,
            topk,
            out_norm_rows,
            head_matmuls,
            block,
            step_buf,
            step_bind,
            logits_readback: b.readback("logits-readback", logits.size()),
            top_readback: b.readback("top-readback", top.size()),
            tokens,
            logits,
            logits_rows,
            top,
            token_readback,
            max_groups: gpu.limits.max_compute_workgroups_per_dimension,
            pos: 0,
            submits: 0,
            steps: 0,
        })
    }

    async fn warm_up(&mut self) -> Result<(), String> {
        self.run(&[0], Want::LastTop).await?;
        self.reset();
        self.submits = 0;
        self.steps = 0;
        Ok(())
    }

    /// The model's hyperparameters.
    pub fn config(&self) -> &LlamaConfig {
        &self.cfg
    }

    /// KV cache capacity in positions.
    pub fn max_ctx(&self) -> usize {
        self.max_ctx
    }

    /// Tokens currently in the KV cache.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Forgets the sequence (the cache is overwritten as new tokens arrive).
    pub fn reset(&mut self) {
        self.pos = 0;
    }

    /// Keeps the first `n` positions (e.g. to reuse a shared prompt prefix).
    pub fn truncate(&mut self, n: usize) {
        self.pos = self.pos.min(n);
    }

    /// The adapter this engine runs on, for logs and reports.
    pub fn adapter(&self) -> String {
        self.gpu.describe()
    }

    pub fn counts(&self) -> DispatchCounts {
        DispatchCounts {
            per_layer: DISPATCHES_PER_LAYER,
            per_token: self.embed_parts.len() + DISPATCHES_PER_LAYER * self.layers.len() + self.head_parts.len() + 1,
            per_layer_prefill: BLOCK_DISPATCHES_PER_LAYER,
            submits: self.submits,
            tokens: self.steps,
        }
    }

    /// The uniform of a step of `n_tokens` tokens starting at `pos`. `feeds_next` lets its
    /// argmax become the next step's input (greedy generation); otherwise it goes to a
    /// scratch slot so that teacher-forced tokens already in the buffer are not overwritten.
    fn step(&self, pos: usize, n_tokens: usize, feeds_next: bool, top_k: usize) -> StepUniform {
        let (n_chunks, chunk_len) = chunking(pos + n_tokens);
        StepUniform {
            pos: pos as u32,
            token_slot: pos as u32,
            out_slot: if feeds_next { (pos + n_tokens) as u32 } else { self.max_ctx as u32 + 1 },
            logits_row: 0,
            seq_len: pos as u32 + 1,
            n_chunks,
            chunk_len,
            top_k: top_k as u32,
            n_tokens: n_tokens as u32,
            x_row: 0,
            _pad: [0; 2],
        }
    }

    /// Records one step into its own compute pass (`slot` = its uniform slot).
    fn encode(&self, encoder: &mut wgpu::CommandEncoder, work: &Work, slot: usize) {
        let c = &self.cfg;
        let g = |rows: usize, per_group: usize| grid(rows.div_ceil(per_group) as u32, self.max_groups);
        let offset = [(slot as u64 * STEP_STRIDE) as u32];
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("step"), timestamp_writes: None });
        let mut dispatch = |(pipeline, bind): &Bound, groups: (u32, u32), z: u32| {
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, bind, &[]);
            pass.set_bind_group(1, &self.step_bind, &offset);
            pass.dispatch_workgroups(groups.0, groups.1, z);
        };
        let embed_groups = ((c.dim / 8).div_ceil(64) as u32, 1);
        match *work {
            Work::Token(s, head) => {
                for part in &self.embed_parts {
                    dispatch(part, embed_groups, 1);
                }
                for layer in &self.layers {
                    dispatch(&layer.qkv, g((c.n_head + 2 * c.n_kv_head) * c.head_dim, QKV_ROWS), 1);
                    dispatch(&layer.attention, (c.n_head as u32, s.n_chunks), 1);
                    dispatch(&layer.attn_out, g(c.dim, ATTN_OUT_ROWS), 1);
                    dispatch(&layer.gate_up, g(c.n_ff, GATE_UP_ROWS), 1);
                    dispatch(&layer.down, g(c.dim, DOWN_ROWS), 1);
                }
                if head {
                    for (part, groups) in &self.head_parts {
                        dispatch(part, grid(*groups, self.max_groups), 1);
                    }
                    dispatch(&self.topk, (1, 1), 1);
                }
            }
            Work::Block(s, head) => {
                let n = s.n_tokens;
                for part in &self.embed_parts {
                    dispatch(part, embed_groups, n);
                }
                for layer in &self.layers {
                    let b = &layer.block;
                    dispatch(&b.attn_norm, (n, 1), 1);
                    dispatch(&b.qkv, g(c.n_head * c.head_dim + 2 * c.n_kv_head * c.head_dim, QKV_ROWS), 1);
                    dispatch(&layer.attention, (c.n_head as u32, s.n_chunks), n);
                    dispatch(&b.merge, (c.n_head as u32, n), 1);
                    dispatch(&b.attn_out.0, g(c.dim, MATMUL_ROWS), 1);
                    dispatch(&b.ffn_norm, (n, 1), 1);
                    dispatch(&b.gate_up.0, g(c.n_ff, MATMUL_ROWS), 1);
                    dispatch(&b.down.0, g(c.dim, MATMUL_ROWS), 1);
                }
                if head {
                    dispatch(&self.out_norm_rows, (n, 1), 1);
                    for (mm, rows) in &self.head_matmuls {
                        dispatch(mm, g(*rows as usize, MATMUL_ROWS), 1);
                    }
                    dispatch(&self.topk, (1, 1), n);
                }
            }
            Work::HeadOfLast(..) => {
                for (part, groups) in &self.head_parts {
                    dispatch(part, grid(*groups, self.max_groups), 1);
                }
                dispatch(&self.topk, (1, 1), 1);
            }
        }
    }

    /// Writes the step uniforms, records `works` plus the readback copy, and submits once.
    fn submit(&mut self, works: &[Work], copy: CopyOut) -> wgpu::SubmissionIndex {
        let mut bytes = vec![0u8; works.len() * STEP_STRIDE as usize];
        for (i, w) in works.iter().enumerate() {
            let at = i * STEP_STRIDE as usize;
            bytes[at..at + std::mem::size_of::<StepUniform>()].copy_from_slice(bytemuck::bytes_of(w.uniform()));
        }
        self.gpu.queue.write_buffer(&self.step_buf, 0, &bytes);
        let mut encoder = self.gpu.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("tokens") });
        for (i, w) in works.iter().enumerate() {
            self.encode(&mut encoder, w, i);
        }
        match copy {
            CopyOut::None => {}
            CopyOut::Logits(size) => encoder.copy_buffer_to_buffer(&self.logits, 0, &self.logits_readback, 0, size),
            CopyOut::Top(size) => encoder.copy_buffer_to_buffer(&self.top, 0, &self.top_readback, 0, size),
            CopyOut::Tokens { first_slot, count, ring } => encoder.copy_buffer_to_buffer(
                &self.tokens,
                (first_slot * 4) as u64,
                &self.token_readback[ring],
                0,
                (count * 4) as u64,
            ),
        }
        self.submits += 1;
        self.steps += works.iter().map(|w| if let Work::HeadOfLast(_) = w { 0 } else { w.uniform().n_tokens as u64 }).sum::<u64>();
        self.gpu.queue.submit([encoder.finish()])
    }

    fn check_tokens(&self, tokens: &[u32], extra: usize) -> Result<(), String> {
        if let Some(t) = tokens.iter().find(|t| **t as usize >= self.cfg.vocab) {
            return Err(format!("token id {t} is outside the vocabulary of {}", self.cfg.vocab));
        }
        if self.pos + tokens.len() + extra > self.max_ctx {
            return Err(format!(
                "{} more tokens at position {} exceed the context of {} positions",
                tokens.len() + extra,
                self.pos,
                self.max_ctx
            ));
        }
        Ok(())
    }

    /// Runs `tokens` from the current position; returns logits rows or top-k lists per `want`.
    /// One token takes the fused decode path; more go through prefill blocks, one block per
    /// submit.
    async fn run(&mut self, tokens: &[u32], want: Want) -> Result<Vec<Output>, String> {
        self.check_tokens(tokens, 0)?;
        self.gpu.queue.write_buffer(&self.tokens, (self.pos * 4) as u64, bytemuck::cast_slice(tokens));
        let all = matches!(want, Want::AllLogits | Want::AllTop);
        let wants_logits = matches!(want, Want::AllLogits | Want::LastLogits);
        // Logits are read back whole, so top-k then only needs the argmax.
        let top_k = if wants_logits { 1 } else { self.top_k };
        let per_block = if all { self.block.min(self.logits_rows) } else { self.block };
        let mut out = Vec::new();
        let mut done = 0;
        while done < tokens.len() {
            let n = per_block.min(tokens.len() - done);
            let final_block = done + n == tokens.len();
            let step = self.step(self.pos, n, false, top_k);
            let mut works = Vec::with_capacity(2);
            let rows = match want {
                Want::Nothing => 0,
                Want::AllLogits | Want::AllTop => n,
                Want::LastLogits | Want::LastTop => usize::from(final_block),
            };
            if n == 1 {
                works.push(Work::Token(step, rows > 0));
            } else {
                works.push(Work::Block(step, all));
                if rows > 0 && !all {
                    works.push(Work::HeadOfLast(StepUniform { n_tokens: 1, x_row: n as u32 - 1, ..step }));
                }
            }
            let logits_bytes = (rows * self.cfg.vocab * 4) as u64;
            let top_bytes = (rows * self.top_k * 8) as u64;
            let copy = match (rows, wants_logits) {
                (0, _) => CopyOut::None,
                (_, true) => CopyOut::Logits(logits_bytes),
                (_, false) => CopyOut::Top(top_bytes),
            };
            let index = self.submit(&works, copy);
            self.pos += n;
            done += n;
            if rows == 0 {
                continue;
            }
            if wants_logits {
                let bytes = map_read(&self.gpu.device, &self.logits_readback, logits_bytes, index).await?;
                let floats: &[f32] = bytemuck::cast_slice(&bytes);
                out.extend(floats.chunks_exact(self.cfg.vocab).map(|r| Output::Logits(r.to_vec())));
            } else {
                let bytes = map_read(&self.gpu.device, &self.top_readback, top_bytes, index).await?;
                let words: &[u32] = bytemuck::cast_slice(&bytes);
                out.extend(words.chunks_exact(self.top_k * 2).map(|r| {
                    Output::Top(r.chunks_exact(2).take(top_k).map(|p| (p[1], f32::from_bits(p[0]))).collect())
                }));
            }
        }
        Ok(out)
    }
}

/// What a submit copies out for reading back.
enum CopyOut {
    None,
    Logits(u64),
    Top(u64),
    Tokens { first_slot: usize, count: usize, ring: usize },
}

enum Output {
    Logits(Vec<f32>),
    Top(Vec<(u32, f32)>),
}
fn into_logits(out: Vec<Output>) -> Vec<Vec<f32>> {
    out.into_iter().filter_map(|o| if let Output::Logits(l) = o { Some(l) } else { None }).collect()
}

fn into_top(out: Vec<Output>) -> Vec<Vec<(u32, f32)>> {
    out.into_iter().filter_map(|o| if let Output::Top(t) = o { Some(t) } else { None }).collect()
}

/// The public engine API; every method is async so it runs unchanged in the browser.
impl WgpuEngine {
    /// Feeds `tokens` after the current position; returns the logits that follow the last one.
    pub async fn prefill(&mut self, tokens: &[u32]) -> Result<Vec<f32>, String> {
        if tokens.is_empty() {
            return Err("prefill needs at least one token".into());
        }
        Ok(into_logits(self.run(tokens, Want::LastLogits).await?).pop().unwrap_or_default())
    }

    /// Feeds `tokens` without reading anything back (the KV cache fills; nothing waits).
    pub async fn feed(&mut self, tokens: &[u32]) -> Result<(), String> {
        self.run(tokens, Want::Nothing).await.map(|_| ())
    }

    /// Feeds one token; returns the next-token logits.
    pub async fn decode(&mut self, token: u32) -> Result<Vec<f32>, String> {
        self.prefill(&[token]).await
    }

    /// Feeds one token; returns the top-k (id, logit) pairs, best first, computed on the GPU
    /// (a few hundred bytes read back instead of the whole vocabulary).
    pub async fn decode_top_k(&mut self, token: u32) -> Result<Vec<(u32, f32)>, String> {
        Ok(into_top(self.run(&[token], Want::LastTop).await?).pop().unwrap_or_default())
    }

    /// Feeds `tokens` after the current position and returns the logits after every one of
    /// them, `tokens.len() × vocab` row-major (the CPU `Session::logits_all` contract).
    pub async fn logits_all(&mut self, tokens: &[u32]) -> Result<Vec<f32>, String> {
        Ok(into_logits(self.run(tokens, Want::AllLogits).await?).concat())
    }

    /// Teacher-forced scoring from an empty cache: the next-token logits after each prefix
    /// `tokens[..=i]`, one row per token.
    pub async fn logits_for(&mut self, tokens: &[u32]) -> Result<Vec<Vec<f32>>, String> {
        self.reset();
        Ok(into_logits(self.run(tokens, Want::AllLogits).await?))
    }

    /// Like [`Self::logits_for`] but returns only the GPU top-k per position.
    pub async fn top_k_for(&mut self, tokens: &[u32]) -> Result<Vec<Vec<(u32, f32)>>, String> {
        self.reset();
        Ok(into_top(self.run(tokens, Want::AllTop).await?))
    }

    /// How many candidates the top-k methods return.
    pub fn top_k(&self) -> usize {
        self.top_k
    }

    /// Greedy generation kept on the GPU: feeds `prompt` after the current position, then
    /// produces up to `max_new` tokens, each step embedding the previous step's argmax
    /// straight from GPU memory. Token ids are read back READBACK_BATCH at a time, one batch
    /// behind the GPU, so a stop token is noticed a little late and the extra steps are
    /// discarded. Returns the new tokens (ending with the stop token if one came); the last
    /// returned token is not yet in the cache.
    pub async fn generate_greedy(&mut self, prompt: &[u32], max_new: usize, stop: &[u32]) -> Result<Vec<u32>, String> {
        if prompt.is_empty() {
            return Err("generation needs at least one prompt token".into());
        }
        self.check_tokens(prompt, max_new.saturating_sub(1))?;
        let (head, last) = prompt.split_at(prompt.len() - 1);
        self.run(head, Want::Nothing).await?;
        if max_new == 0 {
            self.run(last, Want::Nothing).await?;
            return Ok(Vec::new());
        }
        self.gpu.queue.write_buffer(&self.tokens, (self.pos * 4) as u64, bytemuck::cast_slice(last));
        let first = self.pos; // step i runs at position first + i and writes slot first + i + 1
        let mut generated: Vec<u32> = Vec::with_capacity(max_new);
        let mut pending: Option<(usize, usize, wgpu::SubmissionIndex)> = None; // (ring, count, submit)
        let mut ring = 0;
        let mut batch_start = 0;
        let mut stopped = false;
        for i in 0..max_new {
            let step = self.step(first + i, 1, true, 1);
            let batch_end = (i + 1) % READBACK_BATCH == 0 || i + 1 == max_new;
            let copy = if batch_end {
                CopyOut::Tokens { first_slot: first + batch_start + 1, count: i + 1 - batch_start, ring }
            } else {
                CopyOut::None
            };
            let index = self.submit(&[Work::Token(step, true)], copy);
            if batch_end {
                if let Some(done) = pending.take() {
                    stopped = self.collect_tokens(done, stop, &mut generated).await?;
                }
                pending = Some((ring, i + 1 - batch_start, index));
                ring ^= 1;
                batch_start = i + 1;
                if stopped {
                    break;
                }
            }
        }
        if let Some(done) = pending.take() {
            if !stopped {
                self.collect_tokens(done, stop, &mut generated).await?;
            } else {
                // Drain the in-flight mapping so the buffer can be reused.
                let (ring, count, index) = done;
                map_read(&self.gpu.device, &self.token_readback[ring], (count * 4) as u64, index).await?;
            }
        }
        if let Some(at) = generated.iter().position(|t| stop.contains(t)) {
            generated.truncate(at + 1);
        }
        generated.truncate(max_new);
        self.pos = first + generated.len();
        Ok(generated)
    }

    /// Reads one batch of generated ids; true when it holds a stop token.
    async fn collect_tokens(
        &self,
        (ring, count, index): (usize, usize, wgpu::SubmissionIndex),
        stop: &[u32],
        generated: &mut Vec<u32>,
    ) -> Result<bool, String> {
        let bytes = map_read(&self.gpu.device, &self.token_readback[ring], (count * 4) as u64, index).await?;
        let ids: &[u32] = bytemuck::cast_slice(&bytes);
        generated.extend_from_slice(ids);
        Ok(ids.iter().any(|t| stop.contains(t)))
    }
}

/// Blocking wrappers for native callers (CLI, tests, benchmarks).
#[cfg(not(target_arch = "wasm32"))]
impl WgpuEngine {
    pub fn load_blocking(gpu: &Gpu, cfg: &LlamaConfig, weights: &dyn WeightSource, opts: &EngineOptions) -> Result<Self, String> {
        pollster::block_on(Self::load(gpu, cfg, weights, opts))
    }
    pub fn prefill_blocking(&mut self, tokens: &[u32]) -> Result<Vec<f32>, String> {
        pollster::block_on(self.prefill(tokens))
    }
    pub fn decode_blocking(&mut self, token: u32) -> Result<Vec<f32>, String> {
        pollster::block_on(self.decode(token))
    }
    pub fn logits_for_blocking(&mut self, tokens: &[u32]) -> Result<Vec<Vec<f32>>, String> {
        pollster::block_on(self.logits_for(tokens))
    }
    pub fn logits_all_blocking(&mut self, tokens: &[u32]) -> Result<Vec<f32>, String> {
        pollster::block_on(self.logits_all(tokens))
    }
    pub fn feed_blocking(&mut self, tokens: &[u32]) -> Result<(), String> {
        pollster::block_on(self.feed(tokens))
    }
    pub fn decode_top_k_blocking(&mut self, token: u32) -> Result<Vec<(u32, f32)>, String> {
        pollster::block_on(self.decode_top_k(token))
    }
    pub fn top_k_for_blocking(&mut self, tokens: &[u32]) -> Result<Vec<Vec<(u32, f32)>>, String> {
        pollster::block_on(self.top_k_for(tokens))
    }
    pub fn generate_greedy_blocking(&mut self, prompt: &[u32], max_new: usize, stop: &[u32]) -> Result<Vec<u32>, String> {
        pollster::block_on(self.generate_greedy(prompt, max_new, stop))
    }
}
