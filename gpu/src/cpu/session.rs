//! One conversation's state on the CPU: KV cache, scratch buffers and the forward pass.
//!
//! Tokens go through the layers in batches (prefill, scoring): each weight block is decoded once
//! per batch rather than once per token. Decode is the batch of one.

use std::sync::Arc;

use super::kv_cache::KvCache;
use super::model::{CpuError, CpuModel, MatRef};
use super::ops::{add_in_place, attend_head, rmsnorm, rope_in_place, swiglu_in_place, RopeAngles};
use super::pool::{share, ThreadPool};
use crate::quant::{self, ActFormat, OutPtr, QMatrix, QuantizedActs, WeightFormat};

/// Tokens per forward batch: bounds scratch memory; larger batches gain little more reuse.
const MAX_BATCH: usize = 32;

#[derive(Clone, Copy, Debug)]
pub struct SessionOptions {
    /// Most positions the KV cache holds (capped at the model's training context).
    pub max_ctx: usize,
    /// Threads for the mat-muls and attention (1 = the caller's thread only).
    pub n_threads: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self { max_ctx: 4096, n_threads: 1 }
    }
}

/// Activation vectors prepared once per weight format and shared by every matrix reading them.
#[derive(Debug)]
struct SharedActs {
    slots: [QuantizedActs; 3],
    ready: [bool; 3],
}

impl SharedActs {
    fn new() -> Self {
        let empty = QuantizedActs::empty;
        Self { slots: [empty(ActFormat::Q8), empty(ActFormat::F16), empty(ActFormat::F32)], ready: [false; 3] }
    }

    fn slot(format: ActFormat) -> usize {
        match format {
            ActFormat::Q8 => 0,
            ActFormat::F16 => 1,
            ActFormat::F32 => 2,
        }
    }

    fn invalidate(&mut self) {
        self.ready = [false; 3];
    }

    fn prepare(&mut self, format: WeightFormat, x: &[f32], cols: usize) -> Result<(), CpuError> {
        let f = ActFormat::for_weights(format);
        let i = Self::slot(f);
        if !self.ready[i] {
            self.slots[i]
                .quantize(f, x, cols)
                .map_err(|error| CpuError::Quant { tensor: "activations".into(), error })?;
            self.ready[i] = true;
        }
        Ok(())
    }

    fn get(&self, format: WeightFormat) -> &QuantizedActs {
        &self.slots[Self::slot(ActFormat::for_weights(format))]
    }
}

#[derive(Debug, Default)]
struct Scratch {
    x: Vec<f32>,
    xn: Vec<f32>,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    attn: Vec<f32>,
    proj: Vec<f32>,
    gate: Vec<f32>,
    up: Vec<f32>,
    angles: Vec<RopeAngles>,
    /// Attention scores, one buffer per thread.
    scores: Vec<Vec<f32>>,
}

fn sized(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    v.resize(n, 0.0);
    &mut v[..n]
}

/// A model plus one KV cache: feed tokens, get logits.
pub struct Session {
    model: Arc<CpuModel>,
    cache: KvCache,
    pool: ThreadPool,
    acts: SharedActs,
    s: Scratch,
    logits: Vec<f32>,
}

impl Session {
    pub fn new(model: Arc<CpuModel>, opts: SessionOptions) -> Self {
        let c = model.config();
        let max_ctx = opts.max_ctx.clamp(1, c.n_ctx_train);
        let cache = KvCache::new(c.n_layer, c.n_head_kv, c.head_dim, max_ctx);
        let pool = ThreadPool::new(opts.n_threads);
        let scores = vec![Vec::new(); pool.n_threads()];
        Self { model, cache, pool, acts: SharedActs::new(), s: Scratch { scores, ..Scratch::default() }, logits: Vec::new() }
    }

    pub fn model(&self) -> &Arc<CpuModel> {
        &self.model
    }

    /// Positions in the KV cache (tokens fed so far).
    pub fn position(&self) -> usize {
        self.cache.len()
    }

    pub fn max_ctx(&self) -> usize {
        self.cache.max_ctx()
    }

    pub fn n_threads(&self) -> usize {
        self.pool.n_threads()
    }

    /// Forgets every position.
    pub fn reset(&mut self) {
        self.cache.clear();
    }

    /// Keeps the first `n` positions (e.g. to reuse a shared prompt prefix).
    pub fn truncate(&mut self, n: usize) {
        self.cache.truncate(n);
    }

    /// Bytes of the KV cache and scratch buffers now allocated.
    pub fn state_bytes(&self) -> usize {
        let s = &self.s;
        let scratch: usize = [&s.x, &s.xn, &s.q, &s.k, &s.v, &s.attn, &s.proj, &s.gate, &s.up, &self.logits]
            .iter()
            .map(|v| v.capacity() * 4)
            .sum();
        self.cache.allocated_bytes() + scratch
    }

    /// Feeds `tokens` and returns the logits after the last one.
    pub fn prefill(&mut self, tokens: &[u32]) -> Result<&[f32], CpuError> {
        if tokens.is_empty() {
            return Err(CpuError::Input("no tokens to feed".into()));
        }
        self.check(tokens)?;
        let n_vocab = self.model.config().n_vocab;
        for (i, chunk) in tokens.chunks(MAX_BATCH).enumerate() {
            let last = (i + 1) * MAX_BATCH >= tokens.len();
            self.forward(chunk, if last { Logits::Last } else { Logits::None })?;
        }
        Ok(&self.logits[..n_vocab])
    }

    /// Feeds one token and returns the next-token logits.
    pub fn decode(&mut self, token: u32) -> Result<&[f32], CpuError> {
        self.prefill(&[token])
    }

    /// Feeds `tokens` without computing logits (e.g. a prompt prefix).
    pub fn feed(&mut self, tokens: &[u32]) -> Result<(), CpuError> {
        self.check(tokens)?;
        for chunk in tokens.chunks(MAX_BATCH) {
            self.forward(chunk, Logits::None)?;
        }
        Ok(())
    }

    /// Feeds `tokens` and returns the logits after every one of them (teacher forcing), as
    /// `tokens.len() × n_vocab` row-major values.
    pub fn logits_all(&mut self, tokens: &[u32]) -> Result<Vec<f32>, CpuError> {
        self.check(tokens)?;
        let mut all = Vec::with_capacity(tokens.len() * self.model.config().n_vocab);
        for chunk in tokens.chunks(MAX_BATCH) {
            self.forward(chunk, Logits::All)?;
            all.extend_from_slice(&self.logits);
        }
        Ok(all)
    }

    fn check(&self, tokens: &[u32]) -> Result<(), CpuError> {
        let n_vocab = self.model.config().n_vocab;
        if let Some(bad) = tokens.iter().find(|&&t| t as usize >= n_vocab) {
            return Err(CpuError::Input(format!("token id {bad} is outside the vocabulary of {n_vocab}")));
        }
        if self.cache.len() + tokens.len() > self.cache.max_ctx() {
            return Err(CpuError::Input(format!(
                "context full: {} + {} tokens exceed the {} positions of this session",
                self.cache.len(),
                tokens.len(),
                self.cache.max_ctx()
            )));
        }
        Ok(())
    }

    /// Runs one batch through every layer, appending to the KV cache.
    fn forward(&mut self, tokens: &[u32], want: Logits) -> Result<(), CpuError> {
        let model = Arc::clone(&self.model);
        let c = model.config();
        let (t, d, hd) = (tokens.len(), c.n_embd, c.head_dim);
        let (qd, kvd, ff) = (c.q_dim(), c.kv_dim(), c.n_ff);
        let p0 = self.cache.len();
        let s = &mut self.s;

        let embd = model.mat(&model.token_embd);
        let x = sized(&mut s.x, t * d);
        for (row, &tok) in x.chunks_exact_mut(d).zip(tokens) {
            embd.dequantize_row(tok as usize, row).map_err(|error| CpuError::Quant { tensor: "token_embd.weight".into(), error })?;
        }
        s.angles.resize_with(t, RopeAngles::default);
        for (i, a) in s.angles.iter_mut().enumerate() {
            a.compute(p0 + i, hd, c.rope_theta, c.rope_freq_scale, model.rope_freqs.as_deref());
        }
        let scale = 1.0 / (hd as f32).sqrt();
        let group = c.n_head / c.n_head_kv;

        for (l, layer) in model.layers.iter().enumerate() {
            // Attention block.
            let xn = sized(&mut s.xn, t * d);
            for (o, xi) in xn.chunks_exact_mut(d).zip(s.x.chunks_exact(d)) {
                rmsnorm(xi, &layer.attn_norm, c.rms_eps, o);
            }
            self.acts.invalidate();
            let q = sized(&mut s.q, t * qd);
            let k = sized(&mut s.k, t * kvd);
            let v = sized(&mut s.v, t * kvd);
            for (w, out, bias) in [(&layer.wq, q, &layer.bias_q), (&layer.wk, k, &layer.bias_k), (&layer.wv, v, &layer.bias_v)] {
                project(&self.pool, &mut self.acts, &model, w, xn, d, out)?;
                if let Some(b) = bias {
                    for row in out.chunks_exact_mut(b.len()) {
                        add_in_place(row, b);
                    }
                }
            }
            for i in 0..t {
                rope_in_place(&mut s.q[i * qd..(i + 1) * qd], hd, &s.angles[i], c.rope_style);
                rope_in_place(&mut s.k[i * kvd..(i + 1) * kvd], hd, &s.angles[i], c.rope_style);
                self.cache.store(l, p0 + i, &s.k[i * kvd..(i + 1) * kvd], &s.v[i * kvd..(i + 1) * kvd]);
            }
            let attn = sized(&mut s.attn, t * qd);
            {
                let cache = &self.cache;
                let q = &s.q;
                let out = OutPtr(attn.as_mut_ptr());
                let scores = OutScores(s.scores.as_mut_ptr());
                let n_jobs = t * c.n_head;
                let parts = self.pool.n_threads();
                self.pool.run(&|idx| {
                    // Whole-struct captures keep the pointer wrappers' Sync.
                    let (scores, out) = (&scores, &out);
                    // SAFETY: each thread uses its own scores buffer and writes only the heads of
                    // its share of (token, head) jobs, which are disjoint.
                    let scores = unsafe { &mut *scores.0.add(idx) };
                    for job in share(n_jobs, parts, idx, 1) {
                        let (i, h) = (job / c.n_head, job % c.n_head);
                        let kvh = h / group;
                        let n = p0 + i + 1;
                        let out = unsafe { std::slice::from_raw_parts_mut(out.0.add(i * qd + h * hd), hd) };
                        attend_head(
                            &q[i * qd + h * hd..i * qd + (h + 1) * hd],
                            cache.keys(l, kvh, n),
                            cache.values(l, kvh, n),
                            n,
                            scale,
                            scores,
                            out,
                        );
                    }
                });
            }
            self.acts.invalidate();
            let proj = sized(&mut s.proj, t * d);
            project(&self.pool, &mut self.acts, &model, &layer.wo, attn, qd, proj)?;
            add_in_place(&mut s.x, proj);

            // Feed-forward block.
            let xn = sized(&mut s.xn, t * d);
            for (o, xi) in xn.chunks_exact_mut(d).zip(s.x.chunks_exact(d)) {
                rmsnorm(xi, &layer.ffn_norm, c.rms_eps, o);
            }
            self.acts.invalidate();
            let gate = sized(&mut s.gate, t * ff);
            let up = sized(&mut s.up, t * ff);
            project(&self.pool, &mut self.acts, &model, &layer.w_gate, xn, d, gate)?;
            project(&self.pool, &mut self.acts, &model, &layer.w_up, xn, d, up)?;
            swiglu_in_place(gate, up);
            self.acts.invalidate();
            let proj = sized(&mut s.proj, t * d);
            project(&self.pool, &mut self.acts, &model, &layer.w_down, gate, ff, proj)?;
            add_in_place(&mut s.x, proj);
        }
        self.cache.set_len(p0 + t);

        let rows: &[f32] = match want {
            Logits::None => return Ok(()),
            Logits::Last => &s.x[(t - 1) * d..],
            Logits::All => &s.x[..],
        };
        let n = rows.len() / d;
        let xn = sized(&mut s.xn, n * d);
        for (o, xi) in xn.chunks_exact_mut(d).zip(rows.chunks_exact(d)) {
            rmsnorm(xi, &model.output_norm, c.rms_eps, o);
        }
        self.acts.invalidate();
        let logits = sized(&mut self.logits, n * c.n_vocab);
        project(&self.pool, &mut self.acts, &model, &model.output, xn, d, logits)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Logits {
    None,
    Last,
    All,
}

#[derive(Clone, Copy)]
struct OutScores(*mut Vec<f32>);
// SAFETY: every thread dereferences a different element.
unsafe impl Send for OutScores {}
unsafe impl Sync for OutScores {}

/// `out = w · x` for every row of `x` (`cols` wide), split across the pool's threads.
fn project(pool: &ThreadPool, acts: &mut SharedActs, model: &CpuModel, w: &MatRef, x: &[f32], cols: usize, out: &mut [f32]) -> Result<(), CpuError> {
    acts.prepare(w.format, x, cols)?;
    let acts = acts.get(w.format);
    let m: QMatrix = model.mat(w);
    if pool.n_threads() == 1 || m.rows < 64 {
        return quant::matmul(&m, acts, out).map_err(|error| CpuError::Quant { tensor: "matmul".into(), error });
    }
    if out.len() != acts.n * m.rows || acts.cols != m.cols {
        return Err(CpuError::Input(format!("matmul output of {} for {}x{} rows", out.len(), acts.n, m.rows)));
    }
    let ptr = OutPtr(out.as_mut_ptr());
    let parts = pool.n_threads();
    pool.run(&|idx| {
        let ptr = &ptr;
        // SAFETY: shapes were checked above, and the shares are disjoint row ranges.
        unsafe { quant::matmul_rows(&m, acts, share(m.rows, parts, idx, 4), *ptr) };
    });
    Ok(())
}
