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
