//! The WebGPU decoder. Everything is built at load (`load.rs`): weights repacked and
//! uploaded (large tensors split into parts under the binding limit), activation buffers, the
//! f16 KV cache (one K and one V buffer per layer), every pipeline, uniform and bind group. A
//! token is then only a few uniform bytes plus one compute pass: no `create_*` call in the
//! token loop.
//!
//! Decoding one token uses fused kernels (5 dispatches per layer). Several tokens at once
//! (prompt prefill, teacher-forced scoring) go through a block path that decodes each weight
//! once per 8 tokens (matmul.wgsl, qkv_block.wgsl: 8 dispatches per layer per block of up to
//! 64 tokens). Each step's position and slots live in a 256-byte slot of the step uniform
//! buffer, selected per dispatch with a dynamic offset, so one submit can carry many steps.
//! This file records and submits steps; `api.rs` is the public surface.

mod api;
mod load;

use super::kernels::*;
use super::model::{LlamaConfig, TensorView, WeightSource};
use super::pipelines::{STEP_STRIDE, StepUniform, grid, step_layout, step_slots};
use super::readback::map_read;
use crate::device::Gpu;

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

/// Device memory the engine allocated at load, by what it holds. Nothing is allocated after load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuMemory {
    /// Weights, norms, biases and the rotary table, as uploaded (repacked blocks).
    pub weights: u64,
    /// Keys and values for `max_ctx` positions in every layer.
    pub kv_cache: u64,
    /// Activations, logits, top-k, token slots, uniforms and readback buffers.
    pub working: u64,
    /// The largest single buffer: every binding must stay under the adapter's limit (and the
    /// engine's own 128 MiB cap, so mobile browsers can run it).
    pub largest_buffer: u64,
    pub buffers: usize,
}

impl GpuMemory {
    pub fn total(&self) -> u64 {
        self.weights + self.kv_cache + self.working
    }

    fn add(&mut self, kind: MemoryKind, size: u64) {
        match kind {
            MemoryKind::Weights => self.weights += size,
            MemoryKind::KvCache => self.kv_cache += size,
            MemoryKind::Working => self.working += size,
        }
        self.largest_buffer = self.largest_buffer.max(size);
        self.buffers += 1;
    }
}

#[derive(Clone, Copy)]
enum MemoryKind {
    Weights,
    KvCache,
    Working,
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
    memory: GpuMemory,
}

impl WgpuEngine {
    /// The model's hyperparameters.
    pub fn config(&self) -> &LlamaConfig {
        &self.cfg
    }

    /// Device memory allocated at load.
    pub fn memory(&self) -> GpuMemory {
        self.memory
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
