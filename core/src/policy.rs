//! Learned conductor policies without a training framework: what a policy sees, what it
//! decides, and a small MLP's forward pass in plain f32 arithmetic.
//!
//! The conductor mechanism, given a `policy` param, asks a policy the driver supplied
//! (by name, through `Run::with_policies`) for a [`Plan`]: which workers to call, in what
//! order, and in which [`Shape`] (parallel, sequential, hierarchical). A policy sees only
//! an [`Observation`]: the task's visible structure (kind of task, domain, number of parts,
//! linked steps, how large its numbers are, how long it is) and each worker's track record
//! (graded attempts from past tasks or from probe items) — never skills or answer keys.
//!
//! [`PolicyNet`] is the network the `council-policy` crate trains with burn, exported as
//! plain f32 arrays (JSON) so that the page and the CLI can run a trained policy with this
//! forward pass alone: same bits natively and in wasm (no fused multiply-adds, `libm`
//! exponentials, fixed summation order). [`NetPolicy`] wraps a net with the track records
//! its driver keeps and picks greedily, or samples with a seeded stream while training.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::event::AgentId;
use crate::rng::Rng;
use crate::tasks::Structure;

/// How the chosen workers work together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// Side by side: each works alone (its share, or the whole item) and the conductor
    /// merges the results unchecked.
    Parallel,
    /// A pipeline: each worker takes the previous one's output (a draft, a hand-off) and
    /// builds on it or checks it.
    Sequential,
    /// The conductor splits the work, relays results and checks every one.
    Hierarchical,
}

impl Shape {
    pub const ALL: [Shape; 3] = [Shape::Parallel, Shape::Sequential, Shape::Hierarchical];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Parallel => "parallel",
            Shape::Sequential => "sequential",
            Shape::Hierarchical => "hierarchical",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Shape {
        Shape::ALL[i.min(2)]
    }
}

/// Graded attempts: how many, and how many were right.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub tries: u32,
    pub right: u32,
}

impl Record {
    pub fn add(&mut self, other: Record) {
        self.tries += other.tries;
        self.right += other.right;
    }

    /// Share right with one imagined right and one imagined wrong attempt (an unknown
    /// worker counts as even).
    pub fn rate(self) -> f64 {
        (f64::from(self.right) + 1.0) / (f64::from(self.tries) + 2.0)
    }
}

/// Track records by worker name, then by domain.
pub type TrackRecords = BTreeMap<String, BTreeMap<String, Record>>;

/// One worker as the conductor shows it to a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerView {
    pub agent: AgentId,
    pub name: String,
    /// Graded probe items in the task's domain, answered in this run (empty without probes).
    pub probes: Record,
}

/// What a policy sees of a task and its pool. Everything here is visible in the task
/// statement or was graded in the open; nothing comes from skills or answer keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub structure: Structure,
    pub domain: String,
    pub parts: usize,
    /// Steps that also need an earlier step's result (the statement says so).
    pub links: usize,
    /// The largest number in the statement (bigger numbers look harder).
    pub largest_number: f64,
    /// Rough length of the statement in tokens.
    pub tokens: u32,
    pub workers: Vec<WorkerView>,
}

/// What a policy decided: the workers (in the order they work) and the shape. No
/// workers means the conductor does the task itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub workers: Vec<AgentId>,
    pub shape: Shape,
}

/// A conductor policy a driver supplies to a run.
pub trait Policy {
    fn plan(&self, obs: &Observation) -> Plan;
}

/// Named policies a driver hands to a run (`Run::with_policies`).
pub type Policies = BTreeMap<String, Rc<dyn Policy>>;

/// What the conductor shows a policy about `task` and its pool.
pub fn observe(task: &crate::tasks::TaskInstance, workers: Vec<WorkerView>) -> Observation {
    Observation {
        structure: task.structure,
        domain: task.main.domain.clone(),
        parts: task.parts.len(),
        links: task.steps.iter().filter(|s| s.link.is_some()).count(),
        largest_number: largest_number(&task.main.text),
        tokens: (task.main.text.len() / 4) as u32 + 8,
        workers,
    }
}

/// The largest whole number written in `text` (0 when there is none).
pub fn largest_number(text: &str) -> f64 {
    let mut best = 0.0f64;
    let mut cur: Option<f64> = None;
    for c in text.chars().chain(std::iter::once(' ')) {
        if let Some(d) = c.to_digit(10) {
            cur = Some((cur.unwrap_or(0.0) * 10.0 + f64::from(d)).min(1e15));
        } else if let Some(v) = cur.take() {
            best = best.max(v);
        }
    }
    best
}

// ---- features ----

/// Domains with their own feature slot (any other shares the last one).
pub const DOMAINS: [&str; 4] = ["math", "sequences", "units", "logic"];
/// Length of the task feature vector.
pub const TASK_DIM: usize = 17;
/// Length of the per-worker feature vector.
pub const WORKER_DIM: usize = 7;

/// A worker's record in the task's domain and over all domains: what the driver kept from
/// past tasks plus this run's probes.
pub fn worker_records(obs: &Observation, records: &TrackRecords) -> Vec<(Record, Record)> {
    obs.workers
        .iter()
        .map(|w| {
            let mut domain = w.probes;
            let mut all = w.probes;
            if let Some(by_domain) = records.get(&w.name) {
                if let Some(r) = by_domain.get(&obs.domain) {
                    domain.add(*r);
                }
                for r in by_domain.values() {
                    all.add(*r);
                }
            }
            (domain, all)
        })
        .collect()
}

fn confidence(r: Record) -> f32 {
    let n = r.tries as f32;
    n / (n + 5.0)
}

/// The task's features: structure, domain, size, apparent difficulty, length, and a
/// summary of the pool's records in this domain.
pub fn task_features(obs: &Observation, recs: &[(Record, Record)]) -> Vec<f32> {
    let mut x = vec![0.0f32; TASK_DIM];
    x[match obs.structure {
        Structure::Single => 0,
        Structure::Parallel => 1,
        Structure::Sequential => 2,
        // The conductor refuses dependency-graph tasks for a policy (it was never trained
        // on them); the nearest slot keeps this total.
        Structure::Graph => 2,
    }] = 1.0;
    let d = DOMAINS.iter().position(|d| *d == obs.domain).unwrap_or(DOMAINS.len());
    x[3 + d] = 1.0;
    x[8] = obs.parts.min(32) as f32 / 8.0;
    x[9] = if obs.parts == 0 { 0.0 } else { obs.links as f32 / obs.parts as f32 };
    x[10] = libm::log10f(1.0 + obs.largest_number as f32) / 4.0;
    x[11] = libm::log2f((obs.tokens.max(1) as f32) / 100.0) / 4.0;
    x[12] = obs.workers.len() as f32 / 8.0;
    if !recs.is_empty() {
        let rates: Vec<f32> = recs.iter().map(|(d, _)| d.rate() as f32).collect();
        x[13] = rates.iter().sum::<f32>() / rates.len() as f32;
        x[14] = rates.iter().copied().fold(0.0, f32::max);
        x[15] = recs.iter().map(|(d, _)| confidence(*d)).sum::<f32>() / recs.len() as f32;
    }
    x[16] = 1.0;
    x
}

/// Worker `i`'s features: its records (rate and how much it rests on), its rank and gap
/// to the best record in the pool.
pub fn worker_features(recs: &[(Record, Record)], i: usize) -> Vec<f32> {
    let (d, a) = recs[i];
    let rate = d.rate() as f32;
    let best = recs.iter().map(|(d, _)| d.rate() as f32).fold(0.0, f32::max);
    let better = recs.iter().filter(|(o, _)| (o.rate() as f32) > rate).count();
    let rank = if recs.len() > 1 { better as f32 / (recs.len() - 1) as f32 } else { 0.0 };
    vec![rate, confidence(d), a.rate() as f32, confidence(a), rank, rate - best, if d.tries == 0 { 1.0 } else { 0.0 }]
}

// ---- the network ----

/// One layer: `y = x·w + b` with `w` stored row-major as [inputs][outputs] (burn's
/// `Linear` layout, so weights copy over as they are).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    pub inputs: usize,
    pub outputs: usize,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
}

impl Layer {
    fn init(inputs: usize, outputs: usize, rng: &mut Rng) -> Self {
        // Uniform ±1/√inputs (what burn's `Linear` uses by default), drawn from our stream
        // so every backend and the page start from the same bits.
        let k = 1.0 / (inputs as f64).sqrt();
        let w = (0..inputs * outputs).map(|_| rng.range_f64(-k, k) as f32).collect();
        Layer { inputs, outputs, w, b: vec![0.0; outputs] }
    }

    pub fn forward(&self, x: &[f32]) -> Vec<f32> {
        let mut y = self.b.clone();
        for (i, &xi) in x.iter().enumerate().take(self.inputs) {
            let row = &self.w[i * self.outputs..(i + 1) * self.outputs];
            for (yo, &wo) in y.iter_mut().zip(row) {
                *yo += xi * wo;
            }
        }
        y
    }

    fn check(&self, name: &str) -> Result<(), String> {
        if self.w.len() != self.inputs * self.outputs || self.b.len() != self.outputs {
            return Err(format!("{name}: {} weights and {} biases for a {}×{} layer", self.w.len(), self.b.len(), self.inputs, self.outputs));
        }
        if self.w.iter().chain(&self.b).any(|v| !v.is_finite()) {
            return Err(format!("{name}: a weight is not a finite number"));
        }
        Ok(())
    }
}

/// Largest hidden width a policy file may ask for.
pub const MAX_HIDDEN: usize = 256;
/// The file format's name and version.
pub const FORMAT: &str = "council-policy";
pub const FORMAT_VERSION: u32 = 1;
/// Team sizes the plan head chooses from (0: the conductor alone). A size larger than the
/// pool calls the whole pool.
pub const TEAM_SIZES: [usize; 4] = [0, 1, 2, 3];
/// Outputs of the plan head: shape logits, then team-size logits.
pub const PLAN_OUTPUTS: usize = 3 + TEAM_SIZES.len();

/// The policy network, two two-layer MLPs with ReLU:
/// - the worker head scores each worker from (task, worker) features, with shared weights
///   so any pool size works; workers are picked by these scores (Plackett–Luce: one after
///   another, each from a softmax over those not yet picked);
/// - the plan head reads the task features and gives logits for the shape and the team
///   size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyNet {
    pub format: String,
    pub version: u32,
    pub task_dim: usize,
    pub worker_dim: usize,
    pub hidden: usize,
    pub worker1: Layer,
    pub worker2: Layer,
    pub plan1: Layer,
    pub plan2: Layer,
    /// How it was trained (seed, steps, backend, curve hash), for the record.
    #[serde(default)]
    pub meta: BTreeMap<String, serde_json::Value>,
}

fn relu(v: Vec<f32>) -> Vec<f32> {
    v.into_iter().map(|x| x.max(0.0)).collect()
}

impl PolicyNet {
    /// A fresh network with weights drawn from `seed`.
    pub fn init(hidden: usize, seed: u64) -> Self {
        let mut rng = Rng::named(seed, "policy-init");
        let hidden = hidden.clamp(1, MAX_HIDDEN);
        PolicyNet {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            task_dim: TASK_DIM,
            worker_dim: WORKER_DIM,
            hidden,
            worker1: Layer::init(TASK_DIM + WORKER_DIM, hidden, &mut rng),
            worker2: Layer::init(hidden, 1, &mut rng),
            plan1: Layer::init(TASK_DIM, hidden, &mut rng),
            plan2: Layer::init(hidden, PLAN_OUTPUTS, &mut rng),
            meta: BTreeMap::new(),
        }
    }

    /// Checks a network read from a file or the page's storage: format, sizes, finite
    /// weights. Sizes are bounded before anything is sized from them.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("not a Council policy (format \"{}\")", self.format.chars().take(40).collect::<String>()));
        }
        if self.version != FORMAT_VERSION {
            return Err(format!("policy format version {} is not supported (this build reads {FORMAT_VERSION})", self.version));
        }
        if self.task_dim != TASK_DIM || self.worker_dim != WORKER_DIM {
            return Err(format!("policy expects {}+{} features, this build makes {TASK_DIM}+{WORKER_DIM}", self.task_dim, self.worker_dim));
        }
        if self.hidden == 0 || self.hidden > MAX_HIDDEN {
            return Err(format!("policy hidden width {} out of [1,{MAX_HIDDEN}]", self.hidden));
        }
        let h = self.hidden;
        for (name, l, i, o) in [
            ("worker1", &self.worker1, TASK_DIM + WORKER_DIM, h),
            ("worker2", &self.worker2, h, 1),
            ("plan1", &self.plan1, TASK_DIM, h),
            ("plan2", &self.plan2, h, PLAN_OUTPUTS),
        ] {
            if l.inputs != i || l.outputs != o {
                return Err(format!("{name}: {}×{} layer, expected {i}×{o}", l.inputs, l.outputs));
            }
            l.check(name)?;
        }
        Ok(())
    }

    /// Reads and validates a policy file (JSON).
    pub fn from_json(text: &str) -> Result<Self, String> {
        if text.len() > 4 << 20 {
            return Err("policy file is larger than 4 MiB".into());
        }
        let net: PolicyNet = serde_json::from_str(text).map_err(|e| format!("policy file: {e}"))?;
        net.validate()?;
        Ok(net)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("policies always serialize")
    }

    fn layers(&self) -> [&Layer; 4] {
        [&self.worker1, &self.worker2, &self.plan1, &self.plan2]
    }

    /// Every weight in a fixed order (worker1, worker2, plan1, plan2; w then b).
    pub fn flat(&self) -> Vec<f32> {
        let mut v = Vec::new();
        for l in self.layers() {
            v.extend_from_slice(&l.w);
            v.extend_from_slice(&l.b);
        }
        v
    }

    /// Sets every weight from `flat` (the order of [`PolicyNet::flat`]).
    pub fn set_flat(&mut self, flat: &[f32]) -> Result<(), String> {
        let need = self.flat().len();
        if flat.len() != need {
            return Err(format!("{} weights given, the network has {need}", flat.len()));
        }
        let mut at = 0;
        for l in [&mut self.worker1, &mut self.worker2, &mut self.plan1, &mut self.plan2] {
            let (nw, nb) = (l.w.len(), l.b.len());
            l.w.copy_from_slice(&flat[at..at + nw]);
            at += nw;
            l.b.copy_from_slice(&flat[at..at + nb]);
            at += nb;
        }
        Ok(())
    }

    /// The worker head's score for (task, worker) features.
    pub fn worker_score(&self, task: &[f32], worker: &[f32]) -> f32 {
        let x: Vec<f32> = task.iter().chain(worker).copied().collect();
        self.worker2.forward(&relu(self.worker1.forward(&x)))[0]
    }

    /// The plan head's logits: ([parallel, sequential, hierarchical], team sizes).
    pub fn plan_logits(&self, task: &[f32]) -> ([f32; 3], [f32; 4]) {
        let y = self.plan2.forward(&relu(self.plan1.forward(task)));
        ([y[0], y[1], y[2]], [y[3], y[4], y[5], y[6]])
    }
}

/// Softmax in f32 (`libm` exponentials, fixed order).
pub fn softmax(l: &[f32]) -> Vec<f32> {
    let m = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = l.iter().map(|v| libm::expf(v - m)).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// Index of the largest value (the first on ties).
fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for k in 1..v.len() {
        if v[k] > v[best] {
            best = k;
        }
    }
    best
}

/// A draw from `p` (probabilities summing to 1) with a uniform `u`.
fn draw(p: &[f32], u: f32) -> usize {
    let mut acc = 0.0;
    for (k, &pk) in p.iter().enumerate() {
        acc += pk;
        if u < acc {
            return k;
        }
    }
    p.len() - 1
}

/// Everything a policy step computed: the features, the scores and logits, and the
/// action. Training keeps these to score the action's log-probability with burn.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub task_x: Vec<f32>,
    pub worker_x: Vec<Vec<f32>>,
    pub scores: Vec<f32>,
    pub shape_logits: [f32; 3],
    pub size_logits: [f32; 4],
    pub shape: Shape,
    /// Index into [`TEAM_SIZES`].
    pub size: usize,
    /// Workers picked (positions in the observation), in the order they were picked.
    pub picks: Vec<usize>,
}

impl Decision {
    /// The plan: the picked workers in the order picked.
    pub fn plan(&self, obs: &Observation) -> Plan {
        Plan { workers: self.picks.iter().map(|&i| obs.workers[i].agent).collect(), shape: self.shape }
    }
}

/// Runs the network on an observation: greedy (`rng` None: the likeliest shape and team
/// size, the best-scored workers) or sampled (shape and size from their softmaxes, workers
/// one after another from a softmax over the scores of those not yet picked).
pub fn decide(net: &PolicyNet, obs: &Observation, records: &TrackRecords, rng: Option<&mut Rng>) -> Decision {
    let recs = worker_records(obs, records);
    let task_x = task_features(obs, &recs);
    let worker_x: Vec<Vec<f32>> = (0..recs.len()).map(|i| worker_features(&recs, i)).collect();
    let scores: Vec<f32> = worker_x.iter().map(|w| net.worker_score(&task_x, w)).collect();
    let (shape_logits, size_logits) = net.plan_logits(&task_x);
    let n = scores.len();
    let (shape, size, picks) = match rng {
        None => {
            let size = argmax(&size_logits);
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            order.truncate(TEAM_SIZES[size].min(n));
            (Shape::from_index(argmax(&shape_logits)), size, order)
        }
        Some(rng) => {
            let shape = draw(&softmax(&shape_logits), rng.f64() as f32);
            let size = draw(&softmax(&size_logits), rng.f64() as f32);
            let mut left: Vec<usize> = (0..n).collect();
            let mut picks = Vec::new();
            while picks.len() < TEAM_SIZES[size].min(n) {
                let p = softmax(&left.iter().map(|&i| scores[i]).collect::<Vec<_>>());
                let k = draw(&p, rng.f64() as f32);
                picks.push(left.remove(k));
            }
            (Shape::from_index(shape), size, picks)
        }
    };
    Decision { task_x, worker_x, scores, shape_logits, size_logits, shape, size, picks }
}

/// A network with the track records its driver keeps. Greedy unless given a stream to
/// sample from; every decision is kept in `decisions` (training reads them back).
pub struct NetPolicy {
    pub net: PolicyNet,
    pub records: TrackRecords,
    pub sampler: Option<RefCell<Rng>>,
    pub decisions: RefCell<Vec<Decision>>,
}

impl NetPolicy {
    pub fn greedy(net: PolicyNet, records: TrackRecords) -> Self {
        NetPolicy { net, records, sampler: None, decisions: RefCell::default() }
    }

    pub fn sampling(net: PolicyNet, records: TrackRecords, rng: Rng) -> Self {
        NetPolicy { net, records, sampler: Some(RefCell::new(rng)), decisions: RefCell::default() }
    }
}

impl Policy for NetPolicy {
    fn plan(&self, obs: &Observation) -> Plan {
        let d = match &self.sampler {
            Some(r) => decide(&self.net, obs, &self.records, Some(&mut r.borrow_mut())),
            None => decide(&self.net, obs, &self.records, None),
        };
        let plan = d.plan(obs);
        self.decisions.borrow_mut().push(d);
        plan
    }
}

/// A policy that always gives the same plan shape and picks workers by a rule: used for
/// the fixed-topology baselines and tests.
pub struct FixedPolicy {
    pub shape: Shape,
    /// Workers to call: 0 for all, else the best `k` by track record.
    pub k: usize,
    pub records: TrackRecords,
}

impl Policy for FixedPolicy {
    fn plan(&self, obs: &Observation) -> Plan {
        Plan { workers: best_by_record(obs, &self.records, self.k), shape: self.shape }
    }
}

/// The `k` workers with the best records in the task's domain (all for 0), best first;
/// ties by position.
pub fn best_by_record(obs: &Observation, records: &TrackRecords, k: usize) -> Vec<AgentId> {
    let recs = worker_records(obs, records);
    let mut idx: Vec<usize> = (0..obs.workers.len()).collect();
    idx.sort_by(|&a, &b| recs[b].0.rate().total_cmp(&recs[a].0.rate()).then(a.cmp(&b)));
    let k = if k == 0 { idx.len() } else { k.min(idx.len()) };
    idx[..k].iter().map(|&i| obs.workers[i].agent).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(n: usize) -> Observation {
        Observation {
            structure: Structure::Parallel,
            domain: "math".into(),
            parts: 6,
            links: 0,
            largest_number: 37.0,
            tokens: 400,
            workers: (0..n).map(|i| WorkerView { agent: i as AgentId + 1, name: format!("W{}", i + 1), probes: Record::default() }).collect(),
        }
    }

    #[test]
    fn largest_number_reads_the_statement() {
        assert_eq!(largest_number("take 12 and add 305, then 7"), 305.0);
        assert_eq!(largest_number("no numbers"), 0.0);
        assert_eq!(largest_number("99999999999999999999999"), 1e15);
    }

    #[test]
    fn records_and_features_come_from_graded_attempts() {
        let o = obs(3);
        let mut recs = TrackRecords::new();
        recs.entry("W2".into()).or_default().insert("math".into(), Record { tries: 8, right: 8 });
        recs.entry("W2".into()).or_default().insert("logic".into(), Record { tries: 2, right: 0 });
        let r = worker_records(&o, &recs);
        assert_eq!(r[1].0, Record { tries: 8, right: 8 });
        assert_eq!(r[1].1, Record { tries: 10, right: 8 });
        assert_eq!(r[0].0, Record::default());
        let t = task_features(&o, &r);
        assert_eq!(t.len(), TASK_DIM);
        assert_eq!((t[1], t[3]), (1.0, 1.0));
        let w = worker_features(&r, 1);
        assert_eq!(w.len(), WORKER_DIM);
        assert_eq!((w[4], w[5], w[6]), (0.0, 0.0, 0.0), "best worker: rank 0, no gap, known");
        assert_eq!(worker_features(&r, 0)[6], 1.0);
        assert_eq!(best_by_record(&o, &recs, 1), vec![2]);
        assert_eq!(best_by_record(&o, &recs, 0), vec![2, 1, 3]);
    }

    #[test]
    fn json_round_trip_and_flat_weights() {
        let net = PolicyNet::init(16, 3);
        net.validate().unwrap();
        let back = PolicyNet::from_json(&net.to_json()).unwrap();
        assert_eq!(back, net);
        let mut other = PolicyNet::init(16, 4);
        assert_ne!(other, net);
        other.set_flat(&net.flat()).unwrap();
        assert_eq!(other.flat(), net.flat());
        assert!(other.set_flat(&[1.0]).is_err());
    }

    #[test]
    fn bad_policy_files_are_named_not_trusted() {
        let mut net = PolicyNet::init(8, 1);
        net.hidden = 100_000;
        assert!(net.validate().unwrap_err().contains("hidden width"));
        let mut net = PolicyNet::init(8, 1);
        net.plan2.w[0] = f32::NAN;
        assert!(PolicyNet::from_json(&serde_json::to_string(&net).unwrap_or_default()).is_err());
        let mut net = PolicyNet::init(8, 1);
        net.worker1.w.pop();
        assert!(net.validate().unwrap_err().contains("worker1"));
        assert!(PolicyNet::from_json("{\"format\":\"x\"}").is_err());
        assert!(PolicyNet::from_json("[]").is_err());
    }

    #[test]
    fn greedy_follows_the_scores_and_sampling_is_seeded() {
        let mut net = PolicyNet::init(8, 1);
        // The worker head reads the domain rate only; the plan head picks one worker.
        net.worker1.w.iter_mut().for_each(|w| *w = 0.0);
        net.worker1.b.iter_mut().for_each(|b| *b = 0.0);
        net.worker1.w[TASK_DIM * 8] = 10.0; // input: worker rate -> hidden 0
        net.worker2.w.iter_mut().for_each(|w| *w = 0.0);
        net.worker2.w[0] = 1.0;
        net.plan2.w.iter_mut().for_each(|w| *w = 0.0);
        net.plan2.b = vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
        let o = obs(3);
        let mut recs = TrackRecords::new();
        recs.entry("W3".into()).or_default().insert("math".into(), Record { tries: 10, right: 10 });
        let d = decide(&net, &o, &recs, None);
        assert_eq!((d.shape, d.size), (Shape::Hierarchical, 1));
        assert_eq!(d.plan(&o).workers, vec![3]);
        let a = decide(&net, &o, &recs, Some(&mut Rng::new(5)));
        let b = decide(&net, &o, &recs, Some(&mut Rng::new(5)));
        assert_eq!(a, b);
        assert_eq!(a.picks.len(), TEAM_SIZES[a.size].min(3));
        let mut seen = a.picks.clone();
        seen.dedup();
        assert_eq!(seen.len(), a.picks.len(), "no worker twice");
    }
}
