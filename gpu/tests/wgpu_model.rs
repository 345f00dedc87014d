//! The WebGPU engine on the real test model (SmolLM2-135M-Instruct Q4_1) on the native
//! adapter — lavapipe in CI, which runs the shaders on the CPU at a few seconds per token, so
//! sequences stay short — against the CPU path and llama.cpp.
//!
//! Comparisons follow architecture.md §7: top-1 agreement wherever the reference's top1−top2
//! margin exceeds 0.5, and mean |Δlogit| over the reference's top-5 under 0.5 (llama.cpp and
//! the CPU path quantize activations to Q8; this engine keeps them in f32).

#![cfg(not(target_arch = "wasm32"))]

use std::sync::Arc;

use council_gpu::cpu::{CpuModel, Session, SessionOptions};
use council_gpu::device::Gpu;
use council_gpu::gguf::GgufFile;
use council_gpu::tokenizer::Tokenizer;
use council_gpu::wgpu_engine::{EngineOptions, WgpuEngine};

mod common;
use common::{agreement, assert_agrees, llama_cpp_reference, top_n, TopLists};

fn engine(file: &GgufFile) -> WgpuEngine {
    let gpu = pollster::block_on(Gpu::new()).expect("a native wgpu adapter (lavapipe in CI)");
    let engine = WgpuEngine::load_gguf_blocking(&gpu, file, &EngineOptions { max_ctx: Some(256), ..Default::default() }).unwrap();
    eprintln!("WebGPU engine on {}: {:?}", engine.adapter(), engine.counts());
    engine
}

/// The chat prompt "What is the capital of France?" as llama.cpp tokenizes it (37 tokens).
const PROMPT: [u32; 37] = [
    1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712, 8182, 2, 198, 1,
    4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198,
];

#[test]
fn short_chat_teacher_forced_logits_match_the_cpu_path() {
    let file = GgufFile::open(common::test_model()).unwrap();
    let tokenizer = Tokenizer::from_gguf(file.gguf()).unwrap();
    let chat = "<|im_start|>user\nName three colours.<|im_end|>\n<|im_start|>assistant\nRed, green and blue are three colours.";
    let tokens = tokenizer.encode(chat, true);
    assert!(tokens.len() <= 24, "keep lavapipe runs short: {} tokens", tokens.len());

    let mut gpu_engine = engine(&file);
    let t = std::time::Instant::now();
    let ours = gpu_engine.logits_for_blocking(&tokens).unwrap();
    eprintln!("{} teacher-forced positions on the GPU path in {:.1?}", tokens.len(), t.elapsed());

    let model = Arc::new(CpuModel::from_gguf(file).unwrap());
    let mut session = Session::new(model, SessionOptions { max_ctx: 256, n_threads: 1 });
    let cpu = session.logits_all(&tokens).unwrap();
    let vocab = ours[0].len();
    let cpu_top: TopLists = cpu.chunks_exact(vocab).map(|row| top_n(row, 5)).collect();
    assert_agrees("WebGPU vs CPU path", &agreement(&ours, &cpu_top));
}

#[test]
fn capital_chat_matches_llama_cpp_and_greedy_answers_paris() {
    let file = GgufFile::open(common::test_model()).unwrap();
    let mut engine = engine(&file);
    let t = std::time::Instant::now();
    let rows = engine.logits_for_blocking(&PROMPT).unwrap();
    eprintln!("{} teacher-forced positions in {:.1?}", PROMPT.len(), t.elapsed());

    // The first answer token: an f32 forward pass (the probe's numpy oracle) gives "The" 25.3254
    // just above "L" 25.2433; llama.cpp has them the other way round, 0.09 apart.
    let last = &rows[PROMPT.len() - 1];
    let top5: Vec<u32> = top_n(last, 5).iter().map(|p| p.0).collect();
    eprintln!("first answer token top-5: {:?}", top_n(last, 5));
    assert!((last[504] - 25.3254).abs() < 0.05 && (last[60] - 25.2433).abs() < 0.05, "f32 oracle values");
    assert_eq!(top5, [504, 60, 15319, 2219, 7026]);

    let (tokens, top) = llama_cpp_reference("logits.json", "capital");
    assert_eq!(tokens[..PROMPT.len()], PROMPT, "the reference tokenized the same chat");
    assert_agrees("WebGPU vs llama.cpp (capital chat prompt)", &agreement(&rows, &top[..PROMPT.len()]));

    // Continue greedily from the cache the scoring left (37 positions): "The capital of France is Paris".
    let t = std::time::Instant::now();
    let continuation = engine.generate_greedy_blocking(&[504], 5, &[2]).unwrap();
    eprintln!("greedy {continuation:?} in {:.1?} ({:?})", t.elapsed(), engine.counts());
    assert_eq!(continuation, [3575, 282, 4649, 314, 7042]);
}
