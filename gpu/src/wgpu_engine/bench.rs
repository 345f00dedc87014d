//! Timing the WebGPU engine, for `council bench decode` (native only: it reads the clock).
//! Figures on lavapipe or SwiftShader are correctness-only: both run the shaders on the CPU.

use std::time::Instant;

use super::{DispatchCounts, GpuMemory, WgpuEngine};

/// What one benchmark run measured.
#[derive(Clone, Debug)]
pub struct DecodeFigures {
    pub adapter: String,
    pub prompt_tokens: usize,
    /// Prompt through the prefill blocks, last-token logits read back.
    pub prefill_tok_s: f64,
    pub decode_tokens: usize,
    /// Host-driven decode: one submit and one top-k readback per token (what a sampler on
    /// the CPU would do).
    pub decode_tok_s: f64,
    /// GPU-resident greedy loop: the argmax is fed back on the GPU and ids are read back 8
    /// at a time.
    pub greedy_tok_s: f64,
    /// Queue submits per token in the greedy loop (goal: 1).
    pub submits_per_token: f64,
    pub counts: DispatchCounts,
    /// Device memory allocated at load (its KV cache sized for `max_ctx` positions).
    pub memory: GpuMemory,
    pub max_ctx: usize,
}

/// Prefills `prompt`, decodes `n` tokens host-driven, then `n` more GPU-resident.
pub fn measure_decode(engine: &mut WgpuEngine, prompt: &[u32], n: usize) -> Result<DecodeFigures, String> {
    if prompt.len() < 2 || n == 0 {
        return Err("the benchmark needs a prompt of at least 2 tokens and at least 1 decode step".into());
    }
    engine.reset();
    let t = Instant::now();
    let logits = pollster::block_on(engine.prefill(prompt))?;
    let prefill_s = t.elapsed().as_secs_f64();

    let mut next = super::runner::argmax(&logits);
    let t = Instant::now();
    for _ in 0..n {
        next = pollster::block_on(engine.decode_top_k(next))?.first().map_or(0, |p| p.0);
    }
    let decode_s = t.elapsed().as_secs_f64();

    engine.reset();
    pollster::block_on(engine.feed(&prompt[..prompt.len() - 1]))?;
    let submits = engine.counts().submits;
    let t = Instant::now();
    let generated = pollster::block_on(engine.generate_greedy(&prompt[prompt.len() - 1..], n, &[]))?;
    let greedy_s = t.elapsed().as_secs_f64();
    let counts = engine.counts();
    Ok(DecodeFigures {
        adapter: engine.adapter(),
        prompt_tokens: prompt.len(),
        prefill_tok_s: prompt.len() as f64 / prefill_s,
        decode_tokens: n,
        decode_tok_s: n as f64 / decode_s,
        greedy_tok_s: generated.len() as f64 / greedy_s,
        submits_per_token: (counts.submits - submits) as f64 / generated.len().max(1) as f64,
        counts,
        memory: engine.memory(),
        max_ctx: engine.max_ctx(),
    })
}

