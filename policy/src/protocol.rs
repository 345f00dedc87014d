//! Messages between the page and its training worker (JSON strings both ways).
//!
//! The page sends `train` (a fresh policy) or `evaluate` (the held-out comparison of a
//! given policy); the worker answers `ready` once, then `started`, one `progress` per step,
//! `probe` every few steps, and `done` with the trained policy; an evaluation sends
//! `evaluating` per method and `compared`. `stop` is read between steps (the worker yields
//! to its event loop after each one). The worker is a separate bundle that carries burn,
//! fetched the first time the training view starts something.

use serde::{Deserialize, Serialize};

use crate::StepStats;
use crate::eval::Comparison;
use crate::probe::ProbeChoice;

/// The name the training worker is started under.
pub const NAME: &str = "council-train";

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Train a fresh policy. `backend`: `auto` (WebGPU when an adapter exists, else CPU),
    /// `wgpu` or `cpu`. `eval_pools` > 0 runs the held-out comparison afterwards.
    Train { id: u32, seed: u64, steps: usize, batch: usize, backend: String, eval_pools: usize },
    /// Compare a policy (JSON) on held-out pools, LinUCB getting `linucb_warmup` episodes.
    Evaluate { id: u32, policy: String, seed: u64, pools: usize, linucb_warmup: usize },
    /// Stop job `id` after the step in progress (a stopped training still sends `done`).
    Stop { id: u32 },
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Ready,
    /// Training started on `backend` (`wgpu` or `cpu`); `adapter` says which device.
    Started { id: u32, backend: String, adapter: String },
    Progress { id: u32, steps: usize, stats: StepStats, ms: f64 },
    /// The probe set's choices after `step` steps.
    Probe { id: u32, step: usize, choices: Vec<ProbeChoice> },
    /// Training ended (`stopped`: by the user). `policy` is the policy file (JSON).
    Done { id: u32, stopped: bool, policy: String, curve_hash: String, steps_per_s: f64, ms: f64 },
    Evaluating { id: u32, method: String, done: usize, of: usize },
    Compared { id: u32, comparison: Comparison },
    Error { id: u32, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        let r = Request::Train { id: 1, seed: 9, steps: 300, batch: 32, backend: "auto".into(), eval_pools: 0 };
        let t = serde_json::to_string(&r).unwrap();
        assert!(t.contains("\"type\":\"train\""));
        assert_eq!(serde_json::from_str::<Request>(&t).unwrap(), r);
        let e = Event::Progress { id: 1, steps: 300, stats: StepStats { step: 1, reward: 0.5, accuracy: 0.6, calls: 4.0, workers: 1.5, shapes: [0.2, 0.3, 0.5] }, ms: 12.0 };
        assert_eq!(serde_json::from_str::<Event>(&serde_json::to_string(&e).unwrap()).unwrap(), e);
    }
}
