//! One conversation on the CPU: a [`Runner`] with one [`Sequence`], for callers that feed a
//! single prompt at a time (generation, scoring, the benchmarks).
//!
//! Tokens go through the layers in batches (prefill, scoring): each weight block is decoded once
//! per batch rather than once per token. Decode is the batch of one.

use std::sync::Arc;

use super::forward::{Runner, Sequence, Step, Want};
use super::model::{CpuError, CpuModel};

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

/// A model plus one KV cache: feed tokens, get logits.
pub struct Session {
    runner: Runner,
    seq: Sequence,
}

impl Session {
    pub fn new(model: Arc<CpuModel>, opts: SessionOptions) -> Self {
        let seq = Sequence::new(&model, opts.max_ctx);
        Self { runner: Runner::new(model, opts.n_threads), seq }
    }

    pub fn model(&self) -> &Arc<CpuModel> {
        self.runner.model()
    }

    /// Positions in the KV cache (tokens fed so far).
    pub fn position(&self) -> usize {
        self.seq.position()
    }

    pub fn max_ctx(&self) -> usize {
        self.seq.max_ctx()
    }

    pub fn n_threads(&self) -> usize {
        self.runner.n_threads()
    }

    /// Forgets every position.
    pub fn reset(&mut self) {
        self.seq.reset();
    }

    /// Keeps the first `n` positions (e.g. to reuse a shared prompt prefix).
    pub fn truncate(&mut self, n: usize) {
        self.seq.truncate(n);
    }

    /// Bytes of the KV cache and scratch buffers now allocated.
    pub fn state_bytes(&self) -> usize {
        self.seq.state_bytes() + self.runner.scratch_bytes()
    }

    fn run(&mut self, tokens: &[u32], want: Want) -> Result<&[f32], CpuError> {
        self.runner.forward(&mut [Step { seq: &mut self.seq, tokens, want }])
    }

    /// Feeds `tokens` and returns the logits after the last one.
    pub fn prefill(&mut self, tokens: &[u32]) -> Result<&[f32], CpuError> {
        self.run(tokens, Want::Last)
    }

    /// Feeds one token and returns the next-token logits.
    pub fn decode(&mut self, token: u32) -> Result<&[f32], CpuError> {
        self.run(&[token], Want::Last)
    }

    /// Feeds `tokens` without computing logits (e.g. a prompt prefix).
    pub fn feed(&mut self, tokens: &[u32]) -> Result<(), CpuError> {
        if tokens.is_empty() {
            return Ok(());
        }
        self.run(tokens, Want::Nothing).map(|_| ())
    }

    /// Feeds `tokens` and returns the logits after every one of them (teacher forcing), as
    /// `tokens.len() × n_vocab` row-major values.
    pub fn logits_all(&mut self, tokens: &[u32]) -> Result<Vec<f32>, CpuError> {
        if tokens.is_empty() {
            return Ok(Vec::new());
        }
        self.run(tokens, Want::All).map(<[f32]>::to_vec)
    }
}
