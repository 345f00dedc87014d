//! One-call native runs of the WebGPU engine, so a driver (`council generate/score
//! --backend wgpu`) needs one line per command: open a model on the default adapter,
//! generate with timings, score teacher-forced top-k.

use std::path::Path;
use std::time::Instant;

use super::{EngineOptions, WgpuEngine};
use crate::device::Gpu;
use crate::gguf::GgufFile;

/// Reads `path` and loads it onto the default adapter (`WGPU_BACKEND` picks the backend).
pub fn open(path: &Path, opts: &EngineOptions) -> Result<WgpuEngine, String> {
    let file = GgufFile::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let gpu = pollster::block_on(Gpu::new())?;
    WgpuEngine::load_gguf_blocking(&gpu, &file, opts)
}

/// Picks the next id from full next-token logits (a CPU-side sampler).
pub type Sampler<'a> = &'a mut dyn FnMut(&[f32]) -> u32;

/// One scored position: its index and the top (id, logit) pairs, best first.
pub type ScoredPosition = (usize, Vec<(u32, f32)>);

/// Generated ids and how fast they came.
#[derive(Clone, Debug, PartialEq)]
pub struct Generation {
    pub tokens: Vec<u32>,
    /// Prompt tokens per second, up to the first sampled token's logits.
    pub prefill_tok_s: f64,
    /// Generated tokens per second after the first.
    pub decode_tok_s: f64,
}

/// Feeds `prompt` from an empty cache and generates up to `max_new` tokens, stopping after
/// a `stop` id. With `sample = None` it is greedy and the loop stays on the GPU (argmax fed
/// back on the device, ids read back in batches); otherwise `sample` picks each id from the
/// full next-token logits (one readback per token).
pub fn generate(
    engine: &mut WgpuEngine,
    prompt: &[u32],
    max_new: usize,
    stop: &[u32],
    mut sample: Option<Sampler<'_>>,
) -> Result<Generation, String> {
    engine.reset();
    let t = Instant::now();
    let logits = pollster::block_on(engine.prefill(prompt))?;
    let prefill_tok_s = prompt.len() as f64 / t.elapsed().as_secs_f64();
    if max_new == 0 {
        return Ok(Generation { tokens: Vec::new(), prefill_tok_s, decode_tok_s: 0.0 });
    }
    let first = match sample.as_mut() {
        Some(pick) => pick(&logits),
        None => argmax(&logits),
    };
    let mut tokens = vec![first];
    let t = Instant::now();
    if !stop.contains(&first) && max_new > 1 {
        match sample.as_mut() {
            None => tokens.extend(pollster::block_on(engine.generate_greedy(&[first], max_new - 1, stop))?),
            Some(pick) => {
                while tokens.len() < max_new && !stop.contains(tokens.last().unwrap()) {
                    let logits = pollster::block_on(engine.decode(*tokens.last().unwrap()))?;
                    tokens.push(pick(&logits));
                }
            }
        }
    }
    let decoded = tokens.len() - 1;
    let decode_tok_s = if decoded > 0 { decoded as f64 / t.elapsed().as_secs_f64() } else { 0.0 };
    Ok(Generation { tokens, prefill_tok_s, decode_tok_s })
}

/// Teacher-forced scoring from an empty cache: for every position `i >= from`, the top `k`
/// (id, logit) pairs after reading `tokens[..=i]`, best first, ranked on the GPU. The
/// engine must have been loaded with `EngineOptions::top_k >= k`.
pub fn score(engine: &mut WgpuEngine, tokens: &[u32], from: usize, k: usize) -> Result<Vec<ScoredPosition>, String> {
    if k > engine.top_k() {
        return Err(format!("top-k {k} exceeds the {} the engine was loaded for", engine.top_k()));
    }
    let rows = pollster::block_on(engine.top_k_for(tokens))?;
    Ok(rows.into_iter().enumerate().skip(from).map(|(i, mut top)| (i, { top.truncate(k); top })).collect())
}

pub(crate) fn argmax(v: &[f32]) -> u32 {
    v.iter().enumerate().fold((0, f32::MIN), |b, (i, x)| if *x > b.1 { (i, *x) } else { b }).0 as u32
}
