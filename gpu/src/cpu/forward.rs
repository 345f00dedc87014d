//! The forward pass over many sequences at once: a [`Runner`] feeds each [`Step`]'s tokens to
//! its own [`Sequence`] (own KV cache, own position) and streams every weight matrix once per
//! chunk of rows for all of them, so N agents decoding together read the weights once, not N
//! times (decode is bound by reading the weights).
//!
//! Rows are independent outside attention: the quantized mat-muls give each row the same bits
//! whatever the other rows are (each output's sum runs over the blocks in the same order in every
//! tile shape), and attention reads only the row's own sequence. So a sequence's logits do not
//! depend on what it was batched with — tested against single-sequence runs.
//!
//! One step may hold several tokens of a sequence (prefill, or a speculative verifier scoring k
//! drafted tokens with [`Want::All`] and rolling back with [`Sequence::truncate`]).

use std::sync::Arc;

use super::kv_cache::{KvCache, KvPage};
use super::model::{CpuError, CpuModel, MatRef};
use super::ops::{add_in_place, attend_pages, rmsnorm, rope_in_place, swiglu_in_place, RopeAngles};
use super::pool::{share, ThreadPool};
use crate::quant::{self, ActFormat, OutPtr, QMatrix, QuantizedActs, WeightFormat};

/// Rows per pass through the layers: bounds scratch memory; more rows gain little more reuse.
pub const MAX_ROWS: usize = 32;

/// One conversation's state: its KV cache and the token ids it holds.
#[derive(Clone, Debug)]
pub struct Sequence {
    cache: KvCache,
    tokens: Vec<u32>,
}

impl Sequence {
    /// An empty sequence of at most `max_ctx` positions (capped at the model's training context).
    pub fn new(model: &CpuModel, max_ctx: usize) -> Self {
        let c = model.config();
        let max_ctx = max_ctx.clamp(1, c.n_ctx_train);
        Self { cache: KvCache::new(c.n_layer, c.n_head_kv, c.head_dim, max_ctx), tokens: Vec::new() }
    }

    /// Positions in the KV cache (tokens fed so far).
    pub fn position(&self) -> usize {
        self.cache.len()
    }

    /// The tokens whose keys and values the cache holds.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    pub fn max_ctx(&self) -> usize {
        self.cache.max_ctx()
    }

    /// Keeps the first `n` positions (rolls back rejected draft tokens, or reuses a prefix).
    pub fn truncate(&mut self, n: usize) {
        self.cache.truncate(n);
        self.tokens.truncate(self.cache.len());
    }

    pub fn reset(&mut self) {
        self.truncate(0);
    }

    /// Bytes of the KV pages this sequence holds (pages shared with others included).
    pub fn state_bytes(&self) -> usize {
        self.cache.allocated_bytes()
    }

    pub(crate) fn page_bytes(&self) -> usize {
        self.cache.page_bytes()
    }

    /// The pages holding this sequence's first `n` positions, for a prefix cache.
    pub(crate) fn shared_pages(&self, n: usize) -> Vec<Arc<KvPage>> {
        self.cache.shared_pages(n)
    }

    /// Starts this empty sequence from `tokens` whose keys and values are in `pages`.
    pub(crate) fn adopt(&mut self, tokens: &[u32], pages: Vec<Arc<KvPage>>) {
        debug_assert!(self.tokens.is_empty() && tokens.len() <= self.max_ctx());
        self.cache.adopt(pages, tokens.len());
        self.tokens.extend_from_slice(tokens);
    }
}

/// Which logits a step wants back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// None (feeding a prompt prefix).
    Nothing,
    /// After the step's last token (prefill, decode).
    Last,
    /// After every token of the step (teacher forcing; verifying drafted tokens).
    All,
}

/// Tokens to feed one sequence in a batched forward pass.
pub struct Step<'a> {
    pub seq: &'a mut Sequence,
    pub tokens: &'a [u32],
    pub want: Want,
}

impl Step<'_> {
    fn logit_rows(&self) -> usize {
        match self.want {
            Want::Nothing => 0,
            Want::Last => 1,
            Want::All => self.tokens.len(),
        }
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

/// One token of one step in a pass through the layers.
#[derive(Clone, Copy, Debug)]
struct Row {
    step: usize,
    pos: usize,
    token: u32,
    logits: bool,
}

/// The model with a thread pool and scratch buffers: runs forward passes for any sequences.
pub struct Runner {
    model: Arc<CpuModel>,
    pool: ThreadPool,
    acts: SharedActs,
    s: Scratch,
    /// Logits of every step of the last [`Runner::forward`], in step order.
    logits: Vec<f32>,
    rows: Vec<Row>,
}

impl Runner {
    pub fn new(model: Arc<CpuModel>, n_threads: usize) -> Self {
        let pool = ThreadPool::new(n_threads);
        let scores = vec![Vec::new(); pool.n_threads()];
        Self { model, pool, acts: SharedActs::new(), s: Scratch { scores, ..Scratch::default() }, logits: Vec::new(), rows: Vec::new() }
    }

    pub fn model(&self) -> &Arc<CpuModel> {
        &self.model
    }

    pub fn n_threads(&self) -> usize {
        self.pool.n_threads()
    }

    /// An empty sequence of this runner's model.
    pub fn sequence(&self, max_ctx: usize) -> Sequence {
        Sequence::new(&self.model, max_ctx)
    }

    /// Bytes of scratch buffers now allocated (activations of one pass, logits).
    pub fn scratch_bytes(&self) -> usize {
        let s = &self.s;
        [&s.x, &s.xn, &s.q, &s.k, &s.v, &s.attn, &s.proj, &s.gate, &s.up, &self.logits].iter().map(|v| v.capacity() * 4).sum()
    }

    /// Feeds every step's tokens to its sequence, all steps together: rows go through the
    /// layers in passes of up to [`MAX_ROWS`], each weight matrix read once per pass for all of
    /// them. Returns the wanted logits, `n_vocab` values per row: for each step in order, none,
    /// one, or one per token ([`Want`]). Nothing is fed when any step is invalid.
    pub fn forward(&mut self, steps: &mut [Step<'_>]) -> Result<&[f32], CpuError> {
        let n_vocab = self.model.config().n_vocab;
        for s in steps.iter() {
            check(s, n_vocab)?;
        }
        self.rows.clear();
        for (i, s) in steps.iter().enumerate() {
            let p0 = s.seq.position();
            let n = s.tokens.len();
            self.rows.extend(s.tokens.iter().enumerate().map(|(j, &token)| Row {
                step: i,
                pos: p0 + j,
                token,
                logits: s.want == Want::All || (s.want == Want::Last && j + 1 == n),
            }));
        }
        let total: usize = steps.iter().map(Step::logit_rows).sum();
        self.logits.clear();
        self.logits.reserve(total * n_vocab);
        let rows = std::mem::take(&mut self.rows);
        let mut caches: Vec<&mut KvCache> = steps.iter_mut().map(|s| &mut s.seq.cache).collect();
        let mut result = Ok(());
        for chunk in rows.chunks(MAX_ROWS) {
            result = self.pass(&mut caches, chunk);
            if result.is_err() {
                break;
            }
        }
        self.rows = rows;
        drop(caches);
        if let Err(e) = result {
            // A pass failed part way: forget what was fed, so no sequence holds half a step.
            for s in steps.iter_mut() {
                let keep = s.seq.tokens.len();
                s.seq.cache.truncate(keep);
            }
            return Err(e);
        }
        for s in steps.iter_mut() {
            s.seq.tokens.extend_from_slice(s.tokens);
        }
        Ok(&self.logits)
    }

    /// Runs one pass of rows through every layer, appending to their sequences' KV caches and
    /// the wanted rows' logits to `self.logits`.
    fn pass(&mut self, caches: &mut [&mut KvCache], rows: &[Row]) -> Result<(), CpuError> {
        let model = Arc::clone(&self.model);
        let c = model.config();
        let (t, d, hd) = (rows.len(), c.n_embd, c.head_dim);
        let (qd, kvd, ff) = (c.q_dim(), c.kv_dim(), c.n_ff);
        let s = &mut self.s;

        let embd = model.mat(&model.token_embd);
        let x = sized(&mut s.x, t * d);
        for (out, r) in x.chunks_exact_mut(d).zip(rows) {
            embd.dequantize_row(r.token as usize, out).map_err(|error| CpuError::Quant { tensor: "token_embd.weight".into(), error })?;
        }
        s.angles.resize_with(t, RopeAngles::default);
        for (a, r) in s.angles.iter_mut().zip(rows) {
            a.compute(r.pos, hd, c.rope_theta, c.rope_freq_scale, model.rope_freqs.as_deref());
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
            for (i, r) in rows.iter().enumerate() {
                rope_in_place(&mut s.q[i * qd..(i + 1) * qd], hd, &s.angles[i], c.rope_style);
                rope_in_place(&mut s.k[i * kvd..(i + 1) * kvd], hd, &s.angles[i], c.rope_style);
                caches[r.step].store(l, r.pos, &s.k[i * kvd..(i + 1) * kvd], &s.v[i * kvd..(i + 1) * kvd]);
            }
            let attn = sized(&mut s.attn, t * qd);
            {
                let caches: &[&mut KvCache] = caches;
                let q = &s.q;
                let out = OutPtr(attn.as_mut_ptr());
                let scores = OutScores(s.scores.as_mut_ptr());
                let n_jobs = t * c.n_head;
                let parts = self.pool.n_threads();
                self.pool.run(&|idx| {
                    // Whole-struct captures keep the pointer wrappers' Sync.
                    let (scores, out) = (&scores, &out);
                    // SAFETY: each thread uses its own scores buffer and writes only the heads of
                    // its share of (row, head) jobs, which are disjoint.
                    let scores = unsafe { &mut *scores.0.add(idx) };
                    for job in share(n_jobs, parts, idx, 1) {
                        let (i, h) = (job / c.n_head, job % c.n_head);
                        let r = rows[i];
                        let out = unsafe { std::slice::from_raw_parts_mut(out.0.add(i * qd + h * hd), hd) };
                        let pages = caches[r.step].head_pages(l, h / group, r.pos + 1);
                        attend_pages(&q[i * qd + h * hd..i * qd + (h + 1) * hd], pages, scale, scores, out);
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
        for r in rows {
            caches[r.step].set_len(r.pos + 1);
        }

        let wanted = rows.iter().filter(|r| r.logits).count();
        if wanted == 0 {
            return Ok(());
        }
        let xn = sized(&mut s.xn, wanted * d);
        for (o, (xi, _)) in xn.chunks_exact_mut(d).zip(s.x.chunks_exact(d).zip(rows).filter(|(_, r)| r.logits)) {
            rmsnorm(xi, &model.output_norm, c.rms_eps, o);
        }
        self.acts.invalidate();
        let at = self.logits.len();
        self.logits.resize(at + wanted * c.n_vocab, 0.0);
        project(&self.pool, &mut self.acts, &model, &model.output, xn, d, &mut self.logits[at..])
    }
}

fn check(s: &Step<'_>, n_vocab: usize) -> Result<(), CpuError> {
    if s.tokens.is_empty() {
        return Err(CpuError::Input("no tokens to feed".into()));
    }
    if let Some(bad) = s.tokens.iter().find(|&&t| t as usize >= n_vocab) {
        return Err(CpuError::Input(format!("token id {bad} is outside the vocabulary of {n_vocab}")));
    }
    let (at, max) = (s.seq.position(), s.seq.max_ctx());
    if at + s.tokens.len() > max {
        return Err(CpuError::Input(format!("context full: {at} + {} tokens exceed the {max} positions of this sequence", s.tokens.len())));
    }
    Ok(())
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
