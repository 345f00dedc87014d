//! Baselines the learned policy is compared with: fixed plans, and a LinUCB contextual
//! bandit over plan templates (the routing rule of *Symphony*-style orchestration).
//!
//! Council has no `symphony` mechanism on this branch yet, so the LinUCB baseline is
//! implemented here, small and self-contained: disjoint linear models (Li et al., 2010),
//! one per arm, over the same task features the learned policy sees. An arm is a plan
//! template (a shape and a team size); the team is the best workers by track record.
//! It learns online from each episode's reward, like the learned policy learns from
//! rewards, so comparing them at an equal number of episodes is fair.

use std::cell::RefCell;

use council_core::policy::{Observation, Plan, Policy, Shape, TrackRecords, best_by_record, task_features, worker_records, TASK_DIM};

/// Team sizes LinUCB's arms use (0: every worker).
pub const TEAM_SIZES: [usize; 4] = [1, 2, 3, 0];

/// One plan template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arm {
    pub shape: Shape,
    pub k: usize,
}

impl Arm {
    pub fn all() -> Vec<Arm> {
        Shape::ALL.iter().flat_map(|&shape| TEAM_SIZES.iter().map(move |&k| Arm { shape, k })).collect()
    }

    pub fn label(self) -> String {
        let team = if self.k == 0 { "all".to_string() } else { format!("top{}", self.k) };
        format!("{}/{team}", self.shape.name())
    }
}

struct State {
    /// Per arm: A⁻¹ (d×d, row-major) and b (d).
    a_inv: Vec<Vec<f64>>,
    b: Vec<Vec<f64>>,
    records: TrackRecords,
    last: Option<(usize, Vec<f64>)>,
}

/// Disjoint LinUCB over [`Arm::all`]: pick the arm with the highest upper confidence
/// bound θₐ·x + α·√(xᵀA⁻¹x), then update that arm with the reward.
pub struct LinUcb {
    pub alpha: f64,
    pub arms: Vec<Arm>,
    state: RefCell<State>,
}

impl LinUcb {
    pub fn new(alpha: f64) -> Self {
        let arms = Arm::all();
        let d = TASK_DIM;
        let eye: Vec<f64> = (0..d * d).map(|i| if i % (d + 1) == 0 { 1.0 } else { 0.0 }).collect();
        let state = State { a_inv: vec![eye; arms.len()], b: vec![vec![0.0; d]; arms.len()], records: TrackRecords::new(), last: None };
        LinUcb { alpha, arms, state: RefCell::new(state) }
    }

    /// The track records of the pool the next plan is for.
    pub fn set_records(&self, records: &TrackRecords) {
        self.state.borrow_mut().records = records.clone();
    }

    /// Learns from the reward of the last plan (Sherman–Morrison update of A⁻¹).
    pub fn update(&self, reward: f64) {
        let mut s = self.state.borrow_mut();
        let Some((arm, x)) = s.last.take() else { return };
        let d = x.len();
        let a = &mut s.a_inv[arm];
        let ax: Vec<f64> = (0..d).map(|i| (0..d).map(|j| a[i * d + j] * x[j]).sum()).collect();
        let denom = 1.0 + x.iter().zip(&ax).map(|(u, v)| u * v).sum::<f64>();
        for i in 0..d {
            for j in 0..d {
                a[i * d + j] -= ax[i] * ax[j] / denom;
            }
        }
        for (bi, xi) in s.b[arm].iter_mut().zip(&x) {
            *bi += reward * xi;
        }
    }
}

impl Policy for LinUcb {
    fn plan(&self, obs: &Observation) -> Plan {
        let mut s = self.state.borrow_mut();
        let recs = worker_records(obs, &s.records);
        let x: Vec<f64> = task_features(obs, &recs).into_iter().map(f64::from).collect();
        let d = x.len();
        let mut best = (0usize, f64::NEG_INFINITY);
        for k in 0..self.arms.len() {
            let a = &s.a_inv[k];
            let ax: Vec<f64> = (0..d).map(|i| (0..d).map(|j| a[i * d + j] * x[j]).sum()).collect();
            let mean: f64 = ax.iter().zip(&s.b[k]).map(|(u, v)| u * v).sum();
            let width = x.iter().zip(&ax).map(|(u, v)| u * v).sum::<f64>().max(0.0).sqrt();
            let ucb = mean + self.alpha * width;
            if ucb > best.1 + 1e-12 {
                best = (k, ucb);
            }
        }
        let arm = self.arms[best.0];
        let workers = best_by_record(obs, &s.records, arm.k);
        s.last = Some((best.0, x));
        Plan { workers, shape: arm.shape }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use council_core::policy::{Record, WorkerView};
    use council_core::tasks::Structure;

    fn obs(structure: Structure) -> Observation {
        Observation {
            structure,
            domain: "math".into(),
            parts: 4,
            links: 0,
            largest_number: 20.0,
            tokens: 200,
            workers: (0..3).map(|i| WorkerView { agent: i + 1, name: format!("W{i}"), probes: Record::default() }).collect(),
        }
    }

    #[test]
    fn linucb_learns_which_arm_pays_per_context() {
        let ucb = LinUcb::new(0.3);
        // Reward 1 for hierarchical/top1 on parallel tasks and sequential/top2 on chains.
        for i in 0..600 {
            let st = if i % 2 == 0 { Structure::Parallel } else { Structure::Sequential };
            let plan = ucb.plan(&obs(st));
            let good = match st {
                Structure::Parallel => plan.shape == Shape::Hierarchical && plan.workers.len() == 1,
                _ => plan.shape == Shape::Sequential && plan.workers.len() == 2,
            };
            ucb.update(if good { 1.0 } else { 0.0 });
        }
        let p = ucb.plan(&obs(Structure::Parallel));
        assert_eq!((p.shape, p.workers.len()), (Shape::Hierarchical, 1));
        let q = ucb.plan(&obs(Structure::Sequential));
        assert_eq!((q.shape, q.workers.len()), (Shape::Sequential, 2));
    }
}
