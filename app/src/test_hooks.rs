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
    let r = council_core::run_simulated_seed(&s, seed).map_err(|e| JsValue::from_str(&e.to_string()))?;
    Ok(r.log.hash())
}
