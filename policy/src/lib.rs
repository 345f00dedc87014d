//! Learned orchestration: a conductor policy trained by policy gradient on simulated
//! worker pools, and what it is compared with.
//!
//! - [`env`]: pools of simulated workers, the task stream, one episode = one task run by
//!   core's conductor following the policy's plan; rewards and track records.
//! - [`train`] (feature `burn`): REINFORCE with a baseline, the network in burn (its
//!   wgpu backend where a GPU adapter exists, its Flex CPU backend otherwise); acting uses
//!   core's plain-f32 forward pass with the weights copied back after every update.
//! - [`eval`] and [`baselines`]: the held-out comparison (heuristic conductor, LinUCB,
//!   every fixed plan) with paired 95% intervals.
//! - [`probe`]: a fixed probe set whose choices the training view shows.
//!
//! The same code runs natively (`council train`) and in the page's training worker.

pub mod baselines;
pub mod env;
pub mod eval;
pub mod probe;
pub mod protocol;
#[cfg(feature = "burn")]
pub mod train;

use serde::{Deserialize, Serialize};

/// One step's figures (the reward curve is the sequence of `reward`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepStats {
    pub step: usize,
    /// Mean reward of the step's episodes.
    pub reward: f64,
    pub accuracy: f64,
    /// Calls per episode.
    pub calls: f64,
    /// Workers called per episode.
    pub workers: f64,
    /// Share of episodes planned parallel, sequential, hierarchical.
    pub shapes: [f64; 3],
}

/// Reward lost per call (every ask, checks and redos included).
pub const CALL_COST: f64 = 0.01;
/// Tasks a training pool serves before a fresh pool is drawn.
pub const EPISODES_PER_POOL: usize = 20;

/// FNV-1a over the bits of a sequence of numbers (the reward curve's fingerprint).
pub fn hash_f64s(values: impl IntoIterator<Item = f64>) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for v in values {
        for b in v.to_bits().to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}
