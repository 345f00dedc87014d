//! The WebGPU engine on the real test model (SmolLM2-135M-Instruct Q4_1) on the native
//! adapter (lavapipe in CI: slow, so sequences stay short), against llama.cpp's published
//! first-position logits (shared/reference/probe-browser.md §5).

#![cfg(not(target_arch = "wasm32"))]

use council_gpu::device::Gpu;
use council_gpu::gguf::GgufFile;
use council_gpu::wgpu_engine::{EngineOptions, WgpuEngine};

fn model_path() -> std::path::PathBuf {
    let path = std::env::var_os("COUNCIL_TEST_MODEL").map(Into::into).unwrap_or_else(|| {
        std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
            .join(".cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    assert!(
        path.exists(),
        "test model missing at {} — run `scripts/setup` (it fetches SmolLM2-135M-Instruct.Q4_1.gguf) or set COUNCIL_TEST_MODEL",
        path.display()
    );
    path
}

/// The chat prompt "What is the capital of France?" as llama.cpp tokenizes it (37 tokens).
const PROMPT: [u32; 37] = [
    1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712, 8182, 2, 198, 1,
    4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198,
];

/// llama.cpp 0.3.36's top-10 after PROMPT; an f32 numpy forward gives "The" 25.33 over "L" 25.24.
const LLAMA_CPP_TOP10: [(u32, f32); 10] = [
    (60, 24.7399),
    (504, 24.6510),
    (15319, 24.3985),
    (2219, 23.8847),
    (7026, 23.8362),
    (3706, 23.5591),
    (14925, 23.4828),
    (50, 23.4655),
    (30904, 22.7886),
    (39832, 22.7516),
];

#[test]
fn first_answer_token_logits_match_llama_cpp() {
    let file = GgufFile::open(model_path()).unwrap();
    let gpu = pollster::block_on(Gpu::new()).expect("a native wgpu adapter (lavapipe in CI)");
    let t = std::time::Instant::now();
    let mut engine = WgpuEngine::load_gguf_blocking(&gpu, &file, &EngineOptions::default()).unwrap();
    eprintln!("loaded on {} in {:.2?}: {:?}", engine.adapter(), t.elapsed(), engine.counts());
    let t = std::time::Instant::now();
    let logits = engine.prefill_blocking(&PROMPT).unwrap();
    eprintln!("prefill of {} tokens: {:.2?}", PROMPT.len(), t.elapsed());
    // llama.cpp quantizes activations (Q8_1/Q8_0), which shifts this row by ~0.55 against an
    // f32-activation engine; the f32 numpy oracle of the probe gives "The" 25.3254, "L" 25.2433.
    let deltas: Vec<f32> = LLAMA_CPP_TOP10.iter().map(|(id, l)| logits[*id as usize] - l).collect();
    let shift = deltas.iter().sum::<f32>() / deltas.len() as f32;
    let spread = deltas.iter().map(|d| (d - shift).abs()).sum::<f32>() / deltas.len() as f32;
    eprintln!("Δlogit vs llama.cpp on its top-10: {deltas:?} (shift {shift:.3}, mean |Δ − shift| {spread:.3})");
    assert!(spread < 0.15, "relative logits differ from llama.cpp: {spread}");
    assert!(shift.abs() < 1.0, "logits offset from llama.cpp by {shift}");
    assert!((logits[504] - 25.3254).abs() < 0.05 && (logits[60] - 25.2433).abs() < 0.05, "f32 oracle values");
    let mut ranked: Vec<usize> = (0..logits.len()).collect();
    ranked.sort_by(|a, b| logits[*b].total_cmp(&logits[*a]));
    eprintln!("ours top-5: {:?}", ranked[..5].iter().map(|i| (*i, logits[*i])).collect::<Vec<_>>());
    assert_eq!(ranked[..5], [504, 60, 15319, 2219, 7026], "top-5 as the f32 oracle / llama.cpp (with the near-tie flipped)");

    assert!(engine.generate_greedy_blocking(&[], 4, &[]).is_err(), "an empty prompt is an error");
    engine.reset();
    let t = std::time::Instant::now();
    let tokens = engine.generate_greedy_blocking(&PROMPT, 6, &[2]).unwrap();
    eprintln!("greedy: {tokens:?} in {:.2?} ({:?})", t.elapsed(), engine.counts());
    // The f32 oracle's greedy answer (and wllama's): "The capital of France is Paris".
    assert_eq!(tokens, [504, 3575, 282, 4649, 314, 7042]);
}
