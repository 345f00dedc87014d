//! A check that the WebGPU kernels compute correctly on this device, with no model download:
//! a small random llama-shaped model (mixed weight types, GQA, q/k/v biases) goes through the
//! engine's three paths (prefill blocks, one-token decode, the GPU-resident greedy loop) and
//! is compared with the f32 reference forward pass. Async and poll-free, so the browser
//! (SwiftShader in CI, any WebGPU adapter for users) can run it as it is.

use super::reference::{SyntheticWeights, max_abs_diff, reference_logits, tiny_config, tiny_model};
use super::{EngineOptions, LlamaConfig, WgpuEngine};
use crate::device::Gpu;

/// Largest |Δlogit| accepted against the f32 reference (K/V are f16 on the GPU too; the
/// rest is summation order).
pub const TOLERANCE: f32 = 5e-3;

/// What the self-check found.
#[derive(Clone, Debug)]
pub struct SelfCheckReport {
    pub adapter: String,
    /// Teacher-forced positions compared (prefill-block path).
    pub positions: usize,
    /// Largest |Δlogit| of the prefill-block path.
    pub block_max_error: f32,
    /// Largest |Δlogit| of the one-token decode path.
    pub decode_max_error: f32,
    /// Greedy tokens the GPU loop produced that the reference also ranks first (or within
    /// 0.01 of first), out of `greedy_tokens`.
    pub greedy_agreeing: usize,
    pub greedy_tokens: usize,
}

impl SelfCheckReport {
    pub fn passed(&self) -> bool {
        self.block_max_error <= TOLERANCE && self.decode_max_error <= TOLERANCE && self.greedy_agreeing == self.greedy_tokens
    }
}

fn max_row_error(got: &[Vec<f32>], want: &[Vec<f32>]) -> f32 {
    if got.len() != want.len() {
        return f32::INFINITY;
    }
    got.iter().zip(want).map(|(g, w)| if g.len() == w.len() { max_abs_diff(g, w) } else { f32::INFINITY }).fold(0.0, f32::max)
}

/// Runs the check on `gpu`.
pub async fn run(gpu: &Gpu) -> Result<SelfCheckReport, String> {
    let cfg = LlamaConfig { vocab: 211, ..tiny_config(false) };
    let weights: SyntheticWeights = tiny_model(&cfg, true, true, 7);
    let tokens: Vec<u32> = (0..24u32).map(|i| (i * 37 + 11) % cfg.vocab as u32).collect();
    let want = reference_logits(&cfg, &weights, &tokens);
    let mut engine = WgpuEngine::load(gpu, &cfg, &weights, &EngineOptions { max_ctx: Some(64), ..Default::default() }).await?;

    let block = engine.logits_for(&tokens).await?;
    engine.reset();
    let mut stepped = vec![engine.prefill(&tokens[..12]).await?];
    for &t in &tokens[12..] {
        stepped.push(engine.decode(t).await?);
    }

    engine.reset();
    let prompt = &tokens[..5];
    let generated = engine.generate_greedy(prompt, 10, &[]).await?;
    let mut sequence = prompt.to_vec();
    sequence.extend(&generated);
    let reference = reference_logits(&cfg, &weights, &sequence);
    let greedy_agreeing = generated
        .iter()
        .enumerate()
        .filter(|(i, tok)| {
            let row = &reference[prompt.len() - 1 + i];
            let best = row.iter().fold(f32::MIN, |a, b| a.max(*b));
            row.get(**tok as usize).is_some_and(|v| best - v < 0.01)
        })
        .count();
    Ok(SelfCheckReport {
        adapter: gpu.describe(),
        positions: tokens.len(),
        block_max_error: max_row_error(&block, &want),
        decode_max_error: max_row_error(&stepped, &want[11..]),
        greedy_agreeing,
        greedy_tokens: 10,
    })
}
