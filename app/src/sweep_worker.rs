//! Sweeps off the page's thread: the worker side and the message protocol.
//!
//! The sweep worker is a second instance of the `council-worker` bundle (the one Trunk
//! already builds for local models), started with the name [`NAME`]; the bin's `main` routes
//! on that name. Reusing the bundle costs no second wasm build or download; the models
//! code it carries is never called here.
//!
//! Protocol (JSON strings both ways): the page sends `run` with every validated config
//! and the seeds, the worker answers `ready` once, then `rows` batches (about every 40 ms,
//! so progress is smooth) and one `done`. A `cancel` is read between batches: the worker
//! yields to its event loop after each batch, so the message gets through. Jobs run in the
//! order of [`crate::sweep::jobs`] (config-major, seeds inner), with the same engine call as
//! a run in the page, so the rows equal the CLI's for the same seeds.

use std::cell::Cell;
use std::rc::Rc;

use council_core::scenario::Scenario;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The worker name that selects the sweep worker in `council-worker`'s `main`.
pub const NAME: &str = "council-sweep";

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Run `seeds` seeds (`base_seed`, `base_seed + 1`, ...) of every config, in order.
    Run { id: u32, configs: Vec<Value>, seeds: u32, base_seed: u64 },
    /// Stop sweep `id` after the batch in progress.
    Cancel { id: u32 },
}

/// One run's metrics; `None` stands for a NaN (JSON has no NaN).
pub type WireMetrics = Vec<(String, Option<f64>)>;

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Ready,
    /// Metrics of jobs `first`, `first + 1`, ... in job order.
    Rows { id: u32, first: usize, rows: Vec<WireMetrics> },
    /// The sweep ended; `ms` is the worker's compute time from receiving `run`.
    Done { id: u32, cancelled: bool, ms: f64 },
    Error { id: u32, message: String },
}

/// Metrics to their wire form (NaN → `None`).
pub fn to_wire(m: Vec<(String, f64)>) -> WireMetrics {
    m.into_iter().map(|(k, v)| (k, v.is_finite().then_some(v))).collect()
}

/// Wire metrics back (`None` → NaN, which the statistics skip).
pub fn from_wire(m: WireMetrics) -> Vec<(String, f64)> {
    m.into_iter().map(|(k, v)| (k, v.unwrap_or(f64::NAN))).collect()
}

/// How long the worker computes before it posts a batch and yields.
const BATCH_MS: f64 = 40.0;

/// Whether this global scope is a worker started as the sweep worker.
pub fn is_this_worker() -> bool {
    js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>().is_ok_and(|s| s.name() == NAME)
}

fn post(ev: &Event) {
    if let (Ok(t), Ok(scope)) = (serde_json::to_string(ev), js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>()) {
        let _ = scope.post_message(&JsValue::from_str(&t));
    }
}

/// Lets the worker's event loop run (so a `cancel` message is delivered).
async fn next_task() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Ok(scope) = js_sys::global().dyn_into::<web_sys::WorkerGlobalScope>() {
            let _ = scope.set_timeout_with_callback(&resolve);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// Installs the message handler; call once from the worker's `main`.
pub fn start() {
    // The id of the sweep asked to stop; checked between batches.
    let cancelled: Rc<Cell<Option<u32>>> = Rc::default();
    // One sweep at a time: a new `run` waits for the one in progress to end.
    let busy: Rc<Cell<bool>> = Rc::default();
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let Some(text) = e.data().as_string() else { return };
        match serde_json::from_str::<Request>(&text) {
            Err(err) => post(&Event::Error { id: 0, message: format!("bad sweep request: {err}") }),
            Ok(Request::Cancel { id }) => cancelled.set(Some(id)),
            Ok(Request::Run { id, configs, seeds, base_seed }) => {
                let (cancelled, busy) = (cancelled.clone(), busy.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    while busy.replace(true) {
                        next_task().await;
                    }
                    if let Err(message) = run(id, configs, seeds, base_seed, &cancelled).await {
                        post(&Event::Error { id, message });
                    }
                    busy.set(false);
                });
            }
        }
    });
    if let Ok(scope) = js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>() {
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    }
    on_message.forget();
    post(&Event::Ready);
}

async fn run(id: u32, configs: Vec<Value>, seeds: u32, base_seed: u64, cancelled: &Cell<Option<u32>>) -> Result<(), String> {
    let t0 = js_sys::Date::now();
    let configs: Vec<Scenario> = configs.into_iter().map(|v| Scenario::from_value(v).map_err(|e| e.to_string())).collect::<Result<_, _>>()?;
    let total = configs.len() * seeds as usize;
    let mut next = 0usize;
    while next < total {
        if cancelled.get() == Some(id) {
            break;
        }
        let first = next;
        let mut rows = Vec::new();
        let batch_start = js_sys::Date::now();
        while next < total && (rows.is_empty() || js_sys::Date::now() - batch_start < BATCH_MS) {
            let (config, seed) = crate::sweep::job_at(next, seeds, base_seed);
            rows.push(to_wire(crate::engine::run_metrics(&configs[config], seed)?));
            next += 1;
        }
        post(&Event::Rows { id, first, rows });
        next_task().await;
    }
    post(&Event::Done { id, cancelled: next < total, ms: js_sys::Date::now() - t0 });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_round_trips_and_keeps_nan_as_null() {
        let ev = Event::Rows { id: 3, first: 10, rows: vec![to_wire(vec![("accuracy".into(), 0.5), ("rounds_to_consensus".into(), f64::NAN)])] };
        let text = serde_json::to_string(&ev).unwrap();
        assert!(text.contains("\"type\":\"rows\"") && text.contains("null"), "{text}");
        let Event::Rows { rows, .. } = serde_json::from_str(&text).unwrap() else { panic!("not rows") };
        let back = from_wire(rows.into_iter().next().unwrap());
        assert_eq!(back[0], ("accuracy".into(), 0.5));
        assert!(back[1].1.is_nan());
        let req = Request::Run { id: 1, configs: vec![], seeds: 5, base_seed: u64::MAX };
        assert_eq!(serde_json::from_str::<Request>(&serde_json::to_string(&req).unwrap()).unwrap(), req);
    }
}
