//! A fixed probe set: the same tasks and the same pool, with fixed track records, so the
//! training view (and `council train`) can show how the policy's choices change as it
//! learns, and which plans ("topologies") it has settled on.

use council_core::policy::{Decision, Observation, PolicyNet, Record, TrackRecords, WorkerView, decide, observe, softmax};
use council_core::spec::Spec;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The probe pool's workers and their records: (name, per-domain (right, tries)).
const POOL: [(&str, [(&str, u32, u32); 2]); 5] = [
    ("Ana", [("math", 18, 20), ("logic", 9, 20)]),
    ("Bo", [("math", 13, 20), ("logic", 13, 20)]),
    ("Cid", [("math", 7, 20), ("logic", 6, 20)]),
    ("Dot", [("math", 11, 20), ("logic", 19, 20)]),
    ("Eve", [("math", 0, 0), ("logic", 0, 0)]),
];

/// The probe pool's track records.
pub fn records() -> TrackRecords {
    let mut r = TrackRecords::new();
    for (name, by_domain) in POOL {
        for (d, right, tries) in by_domain {
            if tries > 0 {
                r.entry(name.into()).or_default().insert(d.into(), Record { tries, right });
            }
        }
    }
    r
}

/// The probe tasks: (label, task spec, seed).
fn tasks() -> Vec<(&'static str, Spec, u64)> {
    let mc = |d: &str| Spec::new("multiple_choice", json!({"domains": [d], "difficulty": 0.5}));
    let par = |n: u32| Spec::new("multistep", json!({"mode": "parallel", "steps": n, "difficulty": 0.5}));
    let seq = |n: u32| Spec::new("multistep", json!({"mode": "sequential", "steps": n, "difficulty": 0.5}));
    vec![
        ("math question", mc("math"), 1),
        ("logic question", mc("logic"), 2),
        ("units question", mc("units"), 3),
        ("3 parts to sum", par(3), 4),
        ("6 parts to sum", par(6), 5),
        ("chain of 3 steps", seq(3), 6),
        ("chain of 6 steps", seq(6), 7),
    ]
}

/// The probe observations, with their labels.
pub fn observations() -> Vec<(&'static str, Observation)> {
    tasks()
        .into_iter()
        .map(|(label, spec, seed)| {
            let t = council_core::tasks::generate(&spec, seed, POOL.len() + 1);
            let workers = POOL.iter().enumerate().map(|(i, (name, _))| WorkerView { agent: i as u32 + 1, name: name.to_string(), probes: Record::default() }).collect();
            (label, observe(&t, workers))
        })
        .collect()
}

/// What the policy chose for one probe task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeChoice {
    pub task: String,
    pub structure: String,
    pub shape: String,
    /// Called workers in working order (empty: the conductor alone).
    pub workers: Vec<String>,
    /// P(parallel, sequential, hierarchical).
    pub shape_probs: Vec<f32>,
    /// P(team size) for sizes 0 (the conductor alone), 1, 2, 3.
    pub size_probs: Vec<f32>,
    /// P(picked first) per worker of the probe pool.
    pub pick_probs: Vec<(String, f32)>,
}

/// The greedy choices of `net` on the probe set.
pub fn choices(net: &PolicyNet) -> Vec<ProbeChoice> {
    let recs = records();
    observations()
        .into_iter()
        .map(|(label, obs)| {
            let d: Decision = decide(net, &obs, &recs, None);
            let plan = d.plan(&obs);
            ProbeChoice {
                task: label.into(),
                structure: format!("{:?}", obs.structure).to_lowercase(),
                shape: d.shape.name().into(),
                workers: plan.workers.iter().map(|&a| obs.workers[a as usize - 1].name.clone()).collect(),
                shape_probs: softmax(&d.shape_logits),
                size_probs: softmax(&d.size_logits),
                pick_probs: obs.workers.iter().map(|w| w.name.clone()).zip(softmax(&d.scores)).collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use council_core::policy::TEAM_SIZES;

    #[test]
    fn the_probe_set_covers_every_structure_and_is_stable() {
        let obs = observations();
        assert_eq!(obs.len(), 7);
        let kinds: std::collections::BTreeSet<String> = obs.iter().map(|(_, o)| format!("{:?}", o.structure)).collect();
        assert_eq!(kinds.len(), 3);
        let net = PolicyNet::init(16, 1);
        let a = choices(&net);
        assert_eq!(a, choices(&net));
        assert!(a.iter().all(|c| c.pick_probs.len() == 5 && c.size_probs.len() == TEAM_SIZES.len() && (c.shape_probs.iter().sum::<f32>() - 1.0).abs() < 1e-5));
    }
}
