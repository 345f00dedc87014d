//! Serving many generation requests on one model at once (continuous batching): the asks of
//! a council's round go in together, their prompts start from the longest cached prefix
//! ([`PrefixCache`]) and are prefilled one after another (so a later prompt can reuse an earlier
//! one's pages), then every live sequence decodes in the same forward step, each with its own
//! KV cache and sampler. A request that arrives while others decode joins at the next step.
//!
//! The server keeps no clock (wasm has none in `std`): callers time the events [`Server::step`]
//! reports, e.g. a request's time to first token is when its `Prefilled` event arrives.

use std::collections::VecDeque;
use std::sync::Arc;

use super::forward::{Runner, Sequence, Step, Want};
use super::model::{CpuError, CpuModel};
use super::prefix::PrefixCache;
use crate::sampling::{Sampler, Sampling};

#[derive(Clone, Copy, Debug)]
pub struct ServerOptions {
    /// Most positions of each sequence (capped at the model's training context).
    pub max_ctx: usize,
    /// Threads for the mat-muls and attention (1 = the caller's thread only).
    pub n_threads: usize,
    /// Most sequences decoding in one step (1 = one request after another).
    pub max_batch: usize,
    /// Bytes of KV pages the prefix cache keeps when no sequence uses them (0 = no reuse).
    pub prefix_cache_bytes: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self { max_ctx: 2048, n_threads: 1, max_batch: 8, prefix_cache_bytes: 256 << 20 }
    }
}

/// One generation: a prompt's token ids, how to pick tokens, and when to stop.
#[derive(Clone, Debug)]
pub struct GenRequest {
    pub prompt: Vec<u32>,
    /// Most tokens to generate (fewer when the context runs out first).
    pub max_tokens: usize,
    pub sampling: Sampling,
    /// Tokens that end the generation (end of turn, end of text); not reported as output.
    pub stop: Vec<u32>,
}

/// Why a generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// A stop token was picked.
    Stop,
    /// `max_tokens` (or the context) ran out.
    Length,
}

/// What one [`Server::step`] did, per request.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerEvent {
    /// The prompt went through the model; `reused` of its tokens came from the prefix cache.
    Prefilled { id: u64, prompt_tokens: usize, reused: usize },
    /// A generated token (stop tokens are not reported).
    Token { id: u64, token: u32 },
    /// The request is finished after `tokens` generated tokens.
    Done { id: u64, finish: Finish, tokens: usize },
}

struct Live {
    id: u64,
    seq: Sequence,
    sampler: Sampler,
    stop: Vec<u32>,
    max_tokens: usize,
    generated: usize,
    /// The last generated token, fed at the next decode step.
    next: u32,
}

/// A model serving many requests at once.
pub struct Server {
    runner: Runner,
    prefix: PrefixCache,
    opts: ServerOptions,
    waiting: VecDeque<(u64, GenRequest)>,
    live: Vec<Live>,
    /// Decode steps run and rows they held (for the mean batch size).
    decode_steps: u64,
    decode_rows: u64,
}

impl Server {
    pub fn new(model: Arc<CpuModel>, opts: ServerOptions) -> Self {
        let opts = ServerOptions { max_ctx: opts.max_ctx.clamp(1, model.config().n_ctx_train), max_batch: opts.max_batch.max(1), ..opts };
        Self {
            runner: Runner::new(model, opts.n_threads),
            prefix: PrefixCache::new(opts.prefix_cache_bytes),
            opts,
            waiting: VecDeque::new(),
            live: Vec::new(),
            decode_steps: 0,
            decode_rows: 0,
        }
    }

    pub fn model(&self) -> &Arc<CpuModel> {
        self.runner.model()
    }

    pub fn options(&self) -> &ServerOptions {
        &self.opts
    }

    pub fn prefix_cache(&self) -> &PrefixCache {
        &self.prefix
    }

    /// Forgets every cached prefix no live sequence holds.
    pub fn clear_prefix_cache(&mut self) {
        self.prefix.clear();
    }

    /// Decode steps run so far and the sequences they held in all.
    pub fn decode_counts(&self) -> (u64, u64) {
        (self.decode_steps, self.decode_rows)
    }

    /// Nothing waiting and nothing decoding.
    pub fn is_idle(&self) -> bool {
        self.waiting.is_empty() && self.live.is_empty()
    }

    /// Queues a request under the caller's `id`. Checked here: a request the model cannot
    /// serve is refused before it takes a place.
    pub fn submit(&mut self, id: u64, mut req: GenRequest) -> Result<(), CpuError> {
        let n_vocab = self.runner.model().config().n_vocab;
        if req.prompt.is_empty() {
            return Err(CpuError::Input("the prompt is empty".into()));
        }
        if let Some(bad) = req.prompt.iter().find(|&&t| t as usize >= n_vocab) {
            return Err(CpuError::Input(format!("token id {bad} is outside the vocabulary of {n_vocab}")));
        }
        // The last generated token is never fed, so prompt + max_tokens may fill the context.
        let room = self.opts.max_ctx.saturating_sub(req.prompt.len());
        if room == 0 {
            return Err(CpuError::Input(format!("the prompt has {} tokens; the context holds {}", req.prompt.len(), self.opts.max_ctx)));
        }
        req.max_tokens = req.max_tokens.min(room);
        self.waiting.push_back((id, req));
        Ok(())
    }

    /// Drops request `id` wherever it is (its pages go to the prefix cache if it had started).
    pub fn cancel(&mut self, id: u64) -> bool {
        if let Some(i) = self.waiting.iter().position(|(w, _)| *w == id) {
            self.waiting.remove(i);
            return true;
        }
        if let Some(i) = self.live.iter().position(|l| l.id == id) {
            let l = self.live.swap_remove(i);
            self.prefix.insert(&l.seq, true);
            return true;
        }
        false
    }

    /// Does one unit of work and appends what happened to `events`: prefills the next waiting
    /// request while there is room in the batch, else runs one decode step for every live
    /// sequence. Does nothing when idle.
    pub fn step(&mut self, events: &mut Vec<ServerEvent>) -> Result<(), CpuError> {
        if self.live.len() < self.opts.max_batch
            && let Some((id, req)) = self.waiting.pop_front()
        {
            return self.prefill(id, req, events);
        }
        if self.live.is_empty() {
            return Ok(());
        }
        let n_vocab = self.runner.model().config().n_vocab;
        let next: Vec<u32> = self.live.iter().map(|l| l.next).collect();
        let mut steps: Vec<Step> =
            self.live.iter_mut().zip(&next).map(|(l, t)| Step { seq: &mut l.seq, tokens: std::slice::from_ref(t), want: Want::Last }).collect();
        let logits = self.runner.forward(&mut steps)?;
        drop(steps);
        self.decode_steps += 1;
        self.decode_rows += self.live.len() as u64;
        let picked: Vec<u32> = self.live.iter_mut().zip(logits.chunks_exact(n_vocab)).map(|(l, row)| l.sampler.sample(row)).collect();
        let mut i = 0;
        for token in picked {
            if Self::accept(&mut self.live[i], token, events) {
                let l = self.live.remove(i);
                self.prefix.insert(&l.seq, true);
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    fn prefill(&mut self, id: u64, req: GenRequest, events: &mut Vec<ServerEvent>) -> Result<(), CpuError> {
        let mut seq = self.runner.sequence(self.opts.max_ctx);
        let reused = self.prefix.start(&mut seq, &req.prompt);
        let logits = self.runner.forward(&mut [Step { seq: &mut seq, tokens: &req.prompt[reused..], want: Want::Last }])?;
        let mut sampler = Sampler::new(req.sampling);
        let token = sampler.sample(logits);
        // The prompt's full pages are shared at once: the next prompts of this round may start
        // with them.
        self.prefix.insert(&seq, false);
        events.push(ServerEvent::Prefilled { id, prompt_tokens: req.prompt.len(), reused });
        let mut live = Live { id, seq, sampler, stop: req.stop, max_tokens: req.max_tokens, generated: 0, next: 0 };
        if Self::accept(&mut live, token, events) {
            self.prefix.insert(&live.seq, true);
        } else {
            self.live.push(live);
        }
        Ok(())
    }

    /// Takes a picked token; returns whether the request is finished.
    fn accept(l: &mut Live, token: u32, events: &mut Vec<ServerEvent>) -> bool {
        let finish = if l.stop.contains(&token) {
            Some(Finish::Stop)
        } else if l.generated >= l.max_tokens {
            Some(Finish::Length)
        } else {
            events.push(ServerEvent::Token { id: l.id, token });
            l.generated += 1;
            l.next = token;
            (l.generated >= l.max_tokens).then_some(Finish::Length)
        };
        if let Some(finish) = finish {
            events.push(ServerEvent::Done { id: l.id, finish, tokens: l.generated });
        }
        finish.is_some()
    }
}
