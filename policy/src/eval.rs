//! The held-out comparison: the learned policy against the heuristic conductor, LinUCB
//! and every fixed plan, on pools whose skills are shifted from the training pools.
//!
//! Every method plays the same stream: the same pools, the same tasks with the same
//! seeds, each keeping its own track records (what a method learns about a pool depends
//! on whom it calls). A method's score is its mean reward per pool; comparisons are
//! paired over pools (learned − baseline per pool), with the project's 95% interval
//! (mean ± 1.96·s/√n, `council_core::sweep::Stat`). LinUCB first learns online on as
//! many training episodes as the learned policy was trained on (equal samples), then
//! keeps learning online on the held-out stream.

use std::rc::Rc;

use council_core::policy::{FixedPolicy, NetPolicy, Policy, PolicyNet, Shape};
use council_core::sweep::Stat;
use serde::{Deserialize, Serialize};

use crate::baselines::{Arm, LinUcb};
use crate::env::{Pool, Skills, Stream, TaskDraw, episode, remember};

/// How the comparison is run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    pub seed: u64,
    /// Held-out pools.
    pub pools: usize,
    /// Tasks per pool.
    pub per_pool: usize,
    pub call_cost: f64,
    /// Training episodes LinUCB learns from before the held-out stream (set it to the
    /// learned policy's training episodes: equal samples).
    pub linucb_warmup: usize,
    pub linucb_alpha: f64,
    /// Tasks per pool in training (LinUCB's warm-up stream uses it too).
    pub train_per_pool: usize,
}

impl EvalConfig {
    pub fn new(seed: u64, linucb_warmup: usize) -> Self {
        EvalConfig { seed, pools: 128, per_pool: 20, call_cost: crate::CALL_COST, linucb_warmup, linucb_alpha: 0.5, train_per_pool: crate::EPISODES_PER_POOL }
    }
}

/// One method's result on the held-out stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodResult {
    pub name: String,
    /// Mean reward per pool, with its 95% interval over pools.
    pub reward: Stat,
    pub accuracy: f64,
    /// Calls per task.
    pub calls: f64,
    #[serde(skip)]
    pub pool_means: Vec<f64>,
}

/// The learned policy minus one baseline, paired over pools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Versus {
    pub baseline: String,
    pub diff: Stat,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub config: EvalConfig,
    pub methods: Vec<MethodResult>,
    /// The fixed plan with the highest mean reward (chosen after the fact, which favours it).
    pub best_fixed: String,
    pub versus: Vec<Versus>,
    /// Whether the learned policy's paired interval against the best fixed plan is above 0.
    pub beats_best_fixed: bool,
    /// Learned − LinUCB, paired.
    pub versus_linucb: Stat,
}

/// The methods compared, in report order.
pub fn method_names() -> Vec<String> {
    let mut v = vec!["learned".to_string(), "heuristic".into(), "linucb".into()];
    v.extend(Arm::all().into_iter().map(Arm::label));
    v
}

/// Whether `name` is a fixed plan (a shape and a team size).
pub fn is_fixed(name: &str) -> bool {
    Shape::ALL.iter().any(|s| name.starts_with(&format!("{}/", s.name())))
}

/// The held-out stream: pools and their tasks.
pub fn held_out(cfg: &EvalConfig) -> Vec<(Pool, Vec<TaskDraw>)> {
    let mut s = Stream::new(cfg.seed ^ 0x6865_6c64_6f75_74, Skills::Shifted, cfg.per_pool);
    (0..cfg.pools)
        .map(|_| {
            let first = s.next_task();
            let mut tasks = vec![first];
            let pool = s.pool.clone();
            tasks.extend((1..cfg.per_pool).map(|_| s.next_task()));
            (pool, tasks)
        })
        .collect()
}

fn fixed_arm(name: &str) -> Option<Arm> {
    Arm::all().into_iter().find(|a| a.label() == name)
}

/// Runs one method over the held-out stream.
pub fn evaluate_method(name: &str, net: &PolicyNet, cfg: &EvalConfig, stream: &[(Pool, Vec<TaskDraw>)]) -> MethodResult {
    let linucb = (name == "linucb").then(|| {
        let u = Rc::new(LinUcb::new(cfg.linucb_alpha));
        // Equal samples: LinUCB learns online from as many training episodes first.
        let mut train = Stream::new(cfg.seed ^ 0x6c69_6e75_6362, Skills::Training, cfg.train_per_pool);
        for _ in 0..cfg.linucb_warmup {
            let draw = train.next_task();
            u.set_records(&train.records);
            let o = episode(&train.pool, &draw, Some(u.clone()), cfg.call_cost);
            u.update(o.reward);
            remember(&mut train.records, &o);
        }
        u
    });
    let mut pool_means = Vec::with_capacity(stream.len());
    let (mut right, mut calls, mut n) = (0u32, 0u64, 0u32);
    for (pool, tasks) in stream {
        let mut records = council_core::policy::TrackRecords::new();
        let mut sum = 0.0;
        for draw in tasks {
            let policy: Option<Rc<dyn Policy>> = match name {
                "learned" => Some(Rc::new(NetPolicy::greedy(net.clone(), records.clone()))),
                "heuristic" => None,
                "linucb" => {
                    let u = linucb.clone().expect("made above");
                    u.set_records(&records);
                    Some(u)
                }
                other => {
                    let arm = fixed_arm(other).unwrap_or_else(|| panic!("unknown method {other}"));
                    Some(Rc::new(FixedPolicy { shape: arm.shape, k: arm.k, records: records.clone() }))
                }
            };
            let o = episode(pool, draw, policy, cfg.call_cost);
            if let Some(u) = &linucb {
                u.update(o.reward);
            }
            remember(&mut records, &o);
            sum += o.reward;
            right += u32::from(o.correct);
            calls += u64::from(o.calls);
            n += 1;
        }
        pool_means.push(sum / tasks.len().max(1) as f64);
    }
    MethodResult {
        name: name.to_string(),
        reward: Stat::of(&pool_means),
        accuracy: f64::from(right) / f64::from(n.max(1)),
        calls: calls as f64 / f64::from(n.max(1)),
        pool_means,
    }
}

/// Puts method results together: best fixed plan, paired differences.
pub fn compare(cfg: &EvalConfig, methods: Vec<MethodResult>) -> Comparison {
    let learned = methods.iter().find(|m| m.name == "learned").map(|m| m.pool_means.clone()).unwrap_or_default();
    let paired = |m: &MethodResult| -> Stat {
        let d: Vec<f64> = learned.iter().zip(&m.pool_means).map(|(a, b)| a - b).collect();
        Stat::of(&d)
    };
    let best_fixed = methods
        .iter()
        .filter(|m| is_fixed(&m.name))
        .max_by(|a, b| a.reward.mean.total_cmp(&b.reward.mean))
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let versus: Vec<Versus> = methods.iter().filter(|m| m.name != "learned").map(|m| Versus { baseline: m.name.clone(), diff: paired(m) }).collect();
    let diff_to = |name: &str| versus.iter().find(|v| v.baseline == name).map(|v| v.diff).unwrap_or(Stat { mean: f64::NAN, lo: f64::NAN, hi: f64::NAN, n: 0 });
    let best = diff_to(&best_fixed);
    Comparison {
        config: cfg.clone(),
        beats_best_fixed: best.lo > 0.0,
        versus_linucb: diff_to("linucb"),
        best_fixed,
        versus,
        methods,
    }
}

/// Runs every method and compares them.
pub fn evaluate(net: &PolicyNet, cfg: &EvalConfig) -> Comparison {
    let stream = held_out(cfg);
    let methods = method_names().iter().map(|m| evaluate_method(m, net, cfg, &stream)).collect();
    compare(cfg, methods)
}
