//! Loading a model onto the device: validation, weight repacking and upload, and building
//! every buffer, pipeline and bind group the token loop will use.

use super::*;
use crate::wgpu_engine::pack::{self, pack_rows, split_rows, words_per_row};
use wgpu::util::DeviceExt;

fn tensor<'a>(w: &'a dyn WeightSource, name: &str) -> Result<TensorView<'a>, String> {
    w.tensor(name).ok_or_else(|| format!("the model has no tensor `{name}`"))
}

fn matrix<'a>(w: &'a dyn WeightSource, name: &str, k: usize, rows: usize) -> Result<TensorView<'a>, String> {
    shaped(tensor(w, name)?, name, k, rows)
}

fn shaped<'a>(t: TensorView<'a>, name: &str, k: usize, rows: usize) -> Result<TensorView<'a>, String> {
    if t.ne != [k as u64, rows as u64] {
        return Err(format!("`{name}` has shape {:?}, expected [{k}, {rows}]", t.ne));
    }
    Ok(t)
}

fn packed(t: &TensorView, name: &str) -> Result<Vec<u32>, String> {
    pack_rows(t.ggml_type, t.ne[0] as usize, t.ne[1] as usize, &t.data).map_err(|e| format!("`{name}`: {e}"))
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
    /// Every buffer made through the builder, for [`WgpuEngine::memory`].
    memory: std::cell::Cell<GpuMemory>,
}

impl Builder<'_> {
    fn count(&self, kind: MemoryKind, buffer: wgpu::Buffer) -> wgpu::Buffer {
        let mut m = self.memory.get();
        m.add(kind, buffer.size());
        self.memory.set(m);
        buffer
    }

    /// Uploaded data: weights, norms, biases, tables.
    fn storage(&self, label: &str, bytes: &[u8]) -> Result<wgpu::Buffer, String> {
        if bytes.len() as u64 > self.limit {
            return Err(format!("`{label}` needs {} bytes, over the binding limit of {}", bytes.len(), self.limit));
        }
        let mut contents = bytes.to_vec();
        contents.resize(bytes.len().max(16).next_multiple_of(4), 0);
        let buffer = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: &contents,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
        });
        Ok(self.count(MemoryKind::Weights, buffer))
    }

    fn kv_cache(&self, label: &str, size: u64) -> Result<wgpu::Buffer, String> {
        self.zeroed_as(MemoryKind::KvCache, label, size)
    }

    /// Activations and other state the kernels write.
    fn zeroed(&self, label: &str, size: u64) -> Result<wgpu::Buffer, String> {
        self.zeroed_as(MemoryKind::Working, label, size)
    }

    fn zeroed_as(&self, kind: MemoryKind, label: &str, size: u64) -> Result<wgpu::Buffer, String> {
        if size > self.limit {
            return Err(format!("`{label}` needs {size} bytes, over the binding limit of {}", self.limit));
        }
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(16).next_multiple_of(4),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        Ok(self.count(kind, buffer))
    }

    fn uniform<T: bytemuck::Pod>(&self, label: &str, params: &T) -> wgpu::Buffer {
        let buffer = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::bytes_of(params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        self.count(MemoryKind::Working, buffer)
    }

    fn readback(&self, label: &str, size: u64) -> wgpu::Buffer {
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: size.max(16).next_multiple_of(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        self.count(MemoryKind::Working, buffer)
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
        let b = Builder { device, limit, memory: Default::default() };
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
        let (step_buf, step_bind) = step_slots(device, &layout, MAX_STEPS as u64);
        let step_buf = b.count(MemoryKind::Working, step_buf);

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
        // Asked once: a K-quant output matrix is rewritten on every ask.
        let (head_type, head_buffers) = match weights.tensor("output.weight") {
            Some(t) => {
                let t = shaped(t, "output.weight", c.dim, c.vocab)?;
                (t.ggml_type, b.parts("output.weight", &t)?)
            }
            None => (embd.ggml_type, embd_parts),
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
                let pipeline = kernels.lm_head.pipeline(device, &[head_type]);
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
                let t = head_type;
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
            let k_cache = b.kv_cache(&name("k_cache"), cache_bytes)?;
            let v_cache = b.kv_cache(&name("v_cache"), cache_bytes)?;
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
        let logits_readback = b.readback("logits-readback", logits.size());
        let top_readback = b.readback("top-readback", top.size());
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
            logits_readback,
            top_readback,
            tokens,
            logits,
            logits_rows,
            top,
            token_readback,
            max_groups: gpu.limits.max_compute_workgroups_per_dimension,
            pos: 0,
            submits: 0,
            steps: 0,
            memory: b.memory.get(),
        })
    }

    async fn warm_up(&mut self) -> Result<(), String> {
        self.run(&[0], Want::LastTop).await?;
        self.reset();
        self.submits = 0;
        self.steps = 0;
        Ok(())
    }
}
