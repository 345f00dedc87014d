//! `--backend local:MODEL.gguf`: the asks of a wave go to the CPU engine's [`Server`] together:
//! each prompt starts from the longest prefix an earlier prompt left in the KV page cache, and
//! every live ask decodes in the same forward step.
//!
//! Per wave it records the prompt tokens, how many came from the prefix cache, the time to each
//! ask's first token, and the time saved by reuse, estimated as the reused tokens at this run's
//! measured prefill speed (`council bench debate` measures it against a run without reuse).

use std::sync::Arc;
use std::time::Instant;

use council_gpu::cpu::{CpuModel, GenRequest, Server, ServerEvent, ServerOptions};
use council_gpu::sampling::Sampling;
use council_gpu::tokenizer::Tokenizer;
use serde_json::{Value, json};

use super::{Answer, Backend, BackendArgs, WaveAsk};
use crate::CliError;

/// What one wave cost.
#[derive(Clone, Debug, Default)]
pub struct WaveStats {
    pub round: u32,
    pub asks: usize,
    pub prompt_tokens: usize,
    pub reused_tokens: usize,
    /// Time in prefill steps, and the tokens they fed.
    pub prefill_ms: f64,
    pub prefilled_tokens: usize,
    /// Time in decode steps, and the tokens they produced (all asks together).
    pub decode_ms: f64,
    pub decoded_tokens: usize,
    /// Mean and largest time from the wave's start to an ask's first token.
    pub ttft_mean_ms: f64,
    pub ttft_max_ms: f64,
    pub wall_ms: f64,
    /// Mean sequences per decode step.
    pub mean_batch: f64,
}

pub struct Local {
    server: Server,
    tok: Arc<Tokenizer>,
    stop: Vec<u32>,
    ctx: usize,
    max_tokens: usize,
    temperature: f32,
    pub waves: Vec<WaveStats>,
}

impl Local {
    pub fn open(path: &str, a: &BackendArgs) -> Result<Self, CliError> {
        crate::llm::check_model(path)?;
        // The same rule as generate and score: 1..=1024, lowered to the machine's count.
        let threads = crate::llm::thread_count(a.threads)?;
        if a.batch == 0 || a.batch > council_gpu::cpu::MAX_ROWS {
            return Err(CliError::bad(format!("--batch {} must be in 1..={}", a.batch, council_gpu::cpu::MAX_ROWS)));
        }
        if a.ctx < 16 || a.ctx > 1 << 17 {
            return Err(CliError::bad(format!("--ctx {} must be in 16..=131072", a.ctx)));
        }
        if a.prefix_cache_mib > 1 << 16 {
            return Err(CliError::bad(format!("--prefix-cache-mib {} is more than 64 GiB", a.prefix_cache_mib)));
        }
        let model = CpuModel::open(path).map_err(|e| CliError::bad(format!("{path}: {e}")))?;
        let tok = Tokenizer::from_gguf(model.gguf()).map_err(|e| CliError::bad(format!("{path}: {e}")))?;
        let opts = ServerOptions { max_ctx: a.ctx, n_threads: threads, max_batch: a.batch, prefix_cache_bytes: a.prefix_cache_mib << 20 };
        Ok(Self {
            server: Server::new(Arc::new(model), opts),
            stop: tok.eog_ids(),
            tok: Arc::new(tok),
            ctx: a.ctx,
            max_tokens: a.max_tokens as usize,
            temperature: a.temperature,
            waves: Vec::new(),
        })
    }

    fn sampling(&self, seed: u64) -> Sampling {
        if self.temperature == 0.0 { Sampling::Greedy } else { Sampling::random(self.temperature, seed) }
    }

    /// Prefill milliseconds per token over every wave so far (for the reuse estimate).
    fn prefill_ms_per_token(&self) -> Option<f64> {
        let (ms, n) = self.waves.iter().fold((0.0, 0), |(ms, n), w| (ms + w.prefill_ms, n + w.prefilled_tokens));
        (n > 0).then(|| ms / n as f64)
    }
}

impl Backend for Local {
    fn wave(&mut self, round: u32, asks: &[WaveAsk]) -> Vec<Answer> {
        let t0 = Instant::now();
        let mut answers = vec![Answer::default(); asks.len()];
        let mut tokens: Vec<Vec<u32>> = vec![Vec::new(); asks.len()];
        let mut stats = WaveStats { round, asks: asks.len(), ..WaveStats::default() };
        let mut submitted = 0;
        for (i, a) in asks.iter().enumerate() {
            let prompt = match council_gpu::chat::turn_tokens(&self.tok, &a.prompt.system, &a.prompt.user) {
                Ok(p) => p,
                Err(e) => {
                    answers[i].error = Some(e);
                    continue;
                }
            };
            answers[i].prompt_tokens = prompt.len() as u32;
            let req = GenRequest { prompt, max_tokens: self.max_tokens, sampling: self.sampling(a.seed), stop: self.stop.clone() };
            match self.server.submit(i as u64, req) {
                Ok(()) => submitted += 1,
                Err(e) => answers[i].error = Some(e.to_string()),
            }
        }
        let (steps0, rows0) = self.server.decode_counts();
        let mut ttft = Vec::with_capacity(submitted);
        let mut events = Vec::new();
        while !self.server.is_idle() {
            events.clear();
            let step = Instant::now();
            if let Err(e) = self.server.step(&mut events) {
                // An engine failure ends every ask still open; the run goes on with the reason.
                for (i, a) in answers.iter_mut().enumerate() {
                    if self.server.cancel(i as u64) {
                        a.error = Some(format!("the local engine failed: {e}"));
                    }
                }
                break;
            }
            let ms = step.elapsed().as_secs_f64() * 1000.0;
            let mut prefill = false;
            for e in &events {
                match *e {
                    ServerEvent::Prefilled { prompt_tokens, reused, .. } => {
                        prefill = true;
                        stats.prompt_tokens += prompt_tokens;
                        stats.reused_tokens += reused;
                        stats.prefilled_tokens += prompt_tokens - reused;
                        ttft.push(t0.elapsed().as_secs_f64() * 1000.0);
                    }
                    ServerEvent::Token { id, token } => tokens[id as usize].push(token),
                    ServerEvent::Done { .. } => {}
                }
            }
            if prefill {
                stats.prefill_ms += ms;
            } else {
                stats.decode_ms += ms;
                stats.decoded_tokens += events.iter().filter(|e| matches!(e, ServerEvent::Token { .. })).count();
            }
        }
        let (steps, rows) = self.server.decode_counts();
        stats.mean_batch = if steps > steps0 { (rows - rows0) as f64 / (steps - steps0) as f64 } else { 0.0 };
        stats.ttft_mean_ms = if ttft.is_empty() { 0.0 } else { ttft.iter().sum::<f64>() / ttft.len() as f64 };
        stats.ttft_max_ms = ttft.iter().copied().fold(0.0, f64::max);
        stats.wall_ms = t0.elapsed().as_secs_f64() * 1000.0;
        for (a, t) in answers.iter_mut().zip(&tokens) {
            a.text = self.tok.decode_lossy(t, false);
            a.completion_tokens = t.len() as u32;
        }
        self.waves.push(stats);
        answers
    }

    fn report(&self) -> Value {
        let per_token = self.prefill_ms_per_token();
        let waves: Vec<Value> = self
            .waves
            .iter()
            .map(|w| {
                json!({"round": w.round, "asks": w.asks, "prompt_tokens": w.prompt_tokens, "reused_tokens": w.reused_tokens,
                    "prefill_ms": w.prefill_ms, "decode_ms": w.decode_ms, "decoded_tokens": w.decoded_tokens,
                    "decode_tok_s": if w.decode_ms > 0.0 { w.decoded_tokens as f64 * 1000.0 / w.decode_ms } else { 0.0 },
                    "mean_batch": w.mean_batch, "ttft_mean_ms": w.ttft_mean_ms, "ttft_max_ms": w.ttft_max_ms, "wall_ms": w.wall_ms,
                    "ttft_saved_ms_est": per_token.map(|p| p * w.reused_tokens as f64)})
            })
            .collect();
        let c = self.server.prefix_cache();
        let s = c.stats();
        let reused: usize = self.waves.iter().map(|w| w.reused_tokens).sum();
        json!({"backend": "local", "threads": self.server.options().n_threads, "max_batch": self.server.options().max_batch,
            "prefix_cache": {"budget_bytes": c.budget(), "bytes": c.bytes(), "pages": c.pages(), "reused_tokens": s.reused_tokens,
                "looked_up_tokens": s.looked_up_tokens, "evicted_pages": s.evicted_pages},
            "prefill_ms_per_token": per_token, "ttft_saved_ms_est": per_token.map(|p| p * reused as f64), "waves": waves})
    }

    fn engine(&self, _agent: u32) -> Option<super::joint::Engine> {
        let o = self.server.options();
        Some(super::joint::Engine { model: Arc::clone(self.server.model()), tok: Arc::clone(&self.tok), threads: o.n_threads, max_tokens: self.max_tokens, ctx: self.ctx })
    }

    fn summary(&self) -> String {
        let (prompt, reused) = self.waves.iter().fold((0, 0), |(p, r), w| (p + w.prompt_tokens, r + w.reused_tokens));
        let decode_ms: f64 = self.waves.iter().map(|w| w.decode_ms).sum();
        let decoded: usize = self.waves.iter().map(|w| w.decoded_tokens).sum();
        let saved = self.prefill_ms_per_token().map_or(0.0, |p| p * reused as f64);
        format!(
            "local engine: {} waves · {prompt} prompt tokens, {reused} from the prefix cache (≈ {saved:.0} ms of prefill saved) · decode {:.1} tok/s over all asks",
            self.waves.len(),
            if decode_ms > 0.0 { decoded as f64 * 1000.0 / decode_ms } else { 0.0 }
        )
    }
}
