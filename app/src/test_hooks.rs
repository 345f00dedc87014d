//! Functions exported to JavaScript for the browser tests and the cross-target checks.
//!
//! Trunk exposes the wasm-bindgen exports as `window.wasmBindings`; the tests call these
//! instead of scraping the DOM when what they check is a computation, not a view.

use wasm_bindgen::prelude::*;

/// The core's determinism probe, to compare with `council probe-digest` natively.
#[wasm_bindgen]
pub fn probe_digest(seed: u64, steps: u32) -> String {
    council_core::determinism::probe_digest(seed, steps)
}

/// Gets a WebGPU adapter through wgpu (compiled into this wasm, not JS) and runs the
/// WGSL self-test dispatch. Resolves to a JSON report; rejects with a readable reason.
#[wasm_bindgen]
pub async fn webgpu_selftest(n: u32) -> Result<String, JsValue> {
    let gpu = council_gpu::device::Gpu::new().await.map_err(|e| JsValue::from_str(&e))?;
    let r = council_gpu::selftest::run(&gpu, n as usize).await.map_err(|e| JsValue::from_str(&e))?;
    Ok(serde_json::json!({
        "adapter": r.adapter,
        "n": r.n,
        "max_abs_error": r.max_abs_error,
        "sum_gpu": r.sum_gpu,
        "sum_expected": r.sum_expected,
        "passed": r.passed(),
    })
    .to_string())
}

fn run_view_attr(name: &str) -> Option<String> {
    let doc = web_sys::window()?.document()?;
    doc.query_selector("[data-testid=run-view]").ok()??.get_attribute(name)
}

/// Event-log hash of the run on screen (None when no run is shown).
#[wasm_bindgen]
pub fn current_log_hash() -> Option<String> {
    run_view_attr("data-log-hash")
}

/// The replay cursor of the run on screen: how many events are applied (0..=len).
#[wasm_bindgen]
pub fn current_cursor() -> Option<u32> {
    run_view_attr("data-cursor")?.parse().ok()
}

/// Number of events in the run on screen.
#[wasm_bindgen]
pub fn current_log_len() -> Option<u32> {
    run_view_attr("data-log-len")?.parse().ok()
}

/// Runs built-in scenario `id` with `seed` in wasm and returns its log hash (compare with
/// `council run builtin:<id> --seed N --json` natively).
#[wasm_bindgen]
pub fn builtin_log_hash(id: &str, seed: u64) -> Result<String, JsValue> {
    let s = council_core::builtin::builtin(id).map_err(|e| JsValue::from_str(&e.to_string()))?;
    let r = council_core::engine::run_simulated_seed(&s, seed).map_err(|e| JsValue::from_str(&e.to_string()))?;
    Ok(r.log.hash())
}

// --- The LLM engine on the real model (tests/browser/engine.test.mjs, bench-engine.mjs) ---
// Token ids in, logits or ids out: the Node side compares with llama.cpp's reference and
// times each call, so these hooks hold no clock and no tokenizer. One model per engine is
// kept loaded between calls.

use council_gpu::cpu::{CpuModel, Session, SessionOptions};
use council_gpu::gguf::GgufFile;
use council_gpu::wgpu_engine::{EngineOptions, WgpuEngine};
use std::cell::RefCell;

thread_local! {
    static ENGINE_CPU: RefCell<Option<Session>> = const { RefCell::new(None) };
    static ENGINE_GPU: RefCell<Option<WgpuEngine>> = const { RefCell::new(None) };
}

fn js_err(e: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&e.to_string())
}

/// Loads GGUF `bytes` into the CPU engine (1 thread, 2048 positions); returns the quantized
/// dot-product kernel in use ("simd128" or "scalar").
#[wasm_bindgen]
pub fn engine_cpu_load(bytes: Vec<u8>) -> Result<String, JsValue> {
    let model = CpuModel::from_gguf(GgufFile::from_bytes(bytes).map_err(js_err)?).map_err(js_err)?;
    let session = Session::new(std::sync::Arc::new(model), SessionOptions { max_ctx: 2048, n_threads: 1 });
    ENGINE_CPU.with(|c| *c.borrow_mut() = Some(session));
    Ok(council_gpu::quant::kernel_name().to_string())
}

fn with_cpu<T>(f: impl FnOnce(&mut Session) -> Result<T, council_gpu::cpu::CpuError>) -> Result<T, JsValue> {
    ENGINE_CPU.with(|c| match c.borrow_mut().as_mut() {
        Some(s) => f(s).map_err(js_err),
        None => Err(JsValue::from_str("no CPU model loaded: call engine_cpu_load first")),
    })
}

/// Teacher-forced logits from an empty cache: `tokens.len() × vocab`, row-major.
#[wasm_bindgen]
pub fn engine_cpu_logits(tokens: Vec<u32>) -> Result<Vec<f32>, JsValue> {
    with_cpu(|s| {
        s.reset();
        s.logits_all(&tokens)
    })
}

/// Starts afresh with `tokens`; returns the greedy next id.
#[wasm_bindgen]
pub fn engine_cpu_prefill(tokens: Vec<u32>) -> Result<u32, JsValue> {
    with_cpu(|s| {
        s.reset();
        Ok(council_gpu::cpu::ops::argmax(s.prefill(&tokens)?) as u32)
    })
}

/// Feeds `token`; returns the greedy next id.
#[wasm_bindgen]
pub fn engine_cpu_decode(token: u32) -> Result<u32, JsValue> {
    with_cpu(|s| Ok(council_gpu::cpu::ops::argmax(s.decode(token)?) as u32))
}

/// Runs random Q4_0/Q4_1/Q8_0 matrices through the scalar kernel and the one `matmul` uses
/// here (SIMD128 in the release build), for 1–5 activation vectors; returns JSON with the
/// kernel name, the number of outputs compared and the largest |difference| relative to
/// the output's scale; then the same for one attention head over an f16 cache (absolute
/// difference, values up to 3).
#[wasm_bindgen]
pub fn engine_kernel_check(seed: u32) -> Result<String, JsValue> {
    use council_gpu::quant::{self as q, Kernel, QMatrix, QuantizedActs, WeightFormat};
    let mut state = u64::from(seed) | 1;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let (rows, cols) = (37, 576);
    let (mut compared, mut worst) = (0usize, 0.0f32);
    for format in [WeightFormat::Q4_0, WeightFormat::Q4_1, WeightFormat::Q8_0] {
        let mut data = Vec::new();
        for _ in 0..rows {
            let row: Vec<f32> = (0..cols).map(|_| rnd() * 0.3).collect();
            data.extend(match format {
                WeightFormat::Q4_0 => q::quantize_row_q4_0(&row),
                WeightFormat::Q4_1 => q::quantize_row_q4_1(&row),
                _ => q::quantize_row_q8_0(&row),
            }.map_err(js_err)?);
        }
        let w = QMatrix::new(format, rows, cols, &data).map_err(js_err)?;
        for n in 1..=5 {
            let x: Vec<f32> = (0..n * cols).map(|_| rnd() * 4.0).collect();
            let acts = QuantizedActs::new(format, &x, cols).map_err(js_err)?;
            let (mut scalar, mut best) = (vec![0.0; n * rows], vec![0.0; n * rows]);
            q::matmul_with(Kernel::Scalar, &w, &acts, &mut scalar).map_err(js_err)?;
            q::matmul(&w, &acts, &mut best).map_err(js_err)?;
            let scale = scalar.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
            for (a, b) in scalar.iter().zip(&best) {
                worst = worst.max((a - b).abs() / scale);
            }
            compared += scalar.len();
        }
    }
    // Attention over an f16 cache: the vector loops against the scalar ones, head widths 64 and
    // 128 (vector) and 36 (scalar fallback), up to 300 positions.
    use council_gpu::cpu::ops::attend_head_with;
    let mut attention_max_diff = 0.0f32;
    for (d, n) in [(64, 1), (64, 5), (64, 300), (128, 17), (36, 9)] {
        let q: Vec<f32> = (0..d).map(|_| rnd() * 2.0).collect();
        let keys: Vec<u16> = (0..n * d).map(|_| q::f32_to_f16_bits(rnd() * 1.5)).collect();
        let vals: Vec<u16> = (0..n * d).map(|_| q::f32_to_f16_bits(rnd() * 3.0)).collect();
        let (mut s1, mut s2) = (Vec::new(), Vec::new());
        let (mut fast, mut scalar) = (vec![0.0f32; d], vec![0.0f32; d]);
        attend_head_with(Kernel::best(), &q, &keys, &vals, n, 0.125, &mut s1, &mut fast);
        attend_head_with(Kernel::Scalar, &q, &keys, &vals, n, 0.125, &mut s2, &mut scalar);
        for (a, b) in fast.iter().zip(&scalar) {
            attention_max_diff = attention_max_diff.max((a - b).abs());
        }
    }
    Ok(serde_json::json!({ "kernel": q::kernel_name(), "compared": compared, "max_rel_diff": worst,
        "attention_max_diff": attention_max_diff }).to_string())
}

/// Loads GGUF `bytes` onto the WebGPU adapter (top-k 10, 256 positions); returns the adapter.
#[wasm_bindgen]
pub async fn engine_gpu_load(bytes: Vec<u8>) -> Result<String, JsValue> {
    let file = GgufFile::from_bytes(bytes).map_err(js_err)?;
    let gpu = council_gpu::device::Gpu::new().await.map_err(js_err)?;
    let opts = EngineOptions { max_ctx: Some(256), top_k: 10, ..Default::default() };
    let engine = WgpuEngine::load_gguf(&gpu, &file, &opts).await.map_err(js_err)?;
    let adapter = engine.adapter();
    ENGINE_GPU.with(|c| *c.borrow_mut() = Some(engine));
    Ok(adapter)
}

/// Takes the GPU engine out for an async call (a RefCell borrow must not live across an
/// await) and puts it back afterwards.
async fn with_gpu<T, F>(f: impl FnOnce(WgpuEngine) -> F) -> Result<T, JsValue>
where
    F: std::future::Future<Output = (WgpuEngine, Result<T, String>)>,
{
    let engine = ENGINE_GPU
        .with(|c| c.borrow_mut().take())
        .ok_or_else(|| JsValue::from_str("no GPU model loaded (or a call is in flight): call engine_gpu_load first"))?;
    let (engine, result) = f(engine).await;
    ENGINE_GPU.with(|c| *c.borrow_mut() = Some(engine));
    result.map_err(js_err)
}

/// Teacher-forced logits from an empty cache on the GPU: `tokens.len() × vocab`, row-major.
#[wasm_bindgen]
pub async fn engine_gpu_logits(tokens: Vec<u32>) -> Result<Vec<f32>, JsValue> {
    with_gpu(|mut e| async move {
        let r = e.logits_for(&tokens).await.map(|rows| rows.concat());
        (e, r)
    })
    .await
}

/// Starts afresh with `tokens`; returns the greedy next id (from the last position's logits).
#[wasm_bindgen]
pub async fn engine_gpu_prefill(tokens: Vec<u32>) -> Result<u32, JsValue> {
    with_gpu(|mut e| async move {
        e.reset();
        let r = e.prefill(&tokens).await.map(|l| council_gpu::cpu::ops::argmax(&l) as u32);
        (e, r)
    })
    .await
}

/// The GPU-resident greedy loop: feeds `first` and generates `n` more ids.
#[wasm_bindgen]
pub async fn engine_gpu_generate(first: u32, n: u32) -> Result<Vec<u32>, JsValue> {
    with_gpu(|mut e| async move {
        let r = e.generate_greedy(&[first], n as usize, &[]).await;
        (e, r)
    })
    .await
}

/// The GPU engine's work counters: dispatches per layer and per decoded token, layers, and
/// the queue submits and token steps since load (JSON).
#[wasm_bindgen]
pub fn engine_gpu_counts() -> Result<String, JsValue> {
    ENGINE_GPU.with(|c| {
        let c = c.borrow();
        let e = c.as_ref().ok_or_else(|| JsValue::from_str("no GPU model loaded"))?;
        let k = e.counts();
        Ok(serde_json::json!({
            "per_layer": k.per_layer, "per_token": k.per_token, "per_layer_prefill": k.per_layer_prefill,
            "n_layers": e.config().n_layers, "submits": k.submits, "tokens": k.tokens,
        })
        .to_string())
    })
}
