//! Training the conductor policy with burn: REINFORCE with a baseline.
//!
//! Each step collects one episode from each of `batch` task streams (each stream works
//! through pools of `per_pool` tasks, keeping track records), acting with core's plain
//! forward pass of the current weights and sampling (`council_core::policy::decide`): the
//! shape and the team size from their softmaxes, the workers one after another from a
//! softmax over the scores of those not yet picked (Plackett–Luce). Then burn recomputes
//! the log-probability of what was done and takes one Adam step on
//!
//!   loss = −(1/B)·Σ A·log π(action) − β·(1/B)·Σ entropy + ½·mean((V − r)²),
//!
//! where the advantage A = (r − V)/spread uses a learned baseline V (a small value head
//! over the task features, trained alongside and not exported). The new policy weights
//! are read back into the [`PolicyNet`] the next step acts with (one readback per step).
//!
//! The device: burn's wgpu backend where an adapter exists (WebGPU in the page), its Flex
//! CPU backend otherwise. Flex runs single-threaded here, so a seed gives the same curve
//! bit for bit (`curve_hash`).

use std::rc::Rc;

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::{Device, Tensor, TensorData};
use council_core::policy::{Decision, Layer, NetPolicy, Policy, PolicyNet, TASK_DIM, TEAM_SIZES, WORKER_DIM};
use council_core::rng::Rng;
use serde::Serialize;

use crate::StepStats;
use crate::env::{Skills, Stream, episode, remember};

/// Which burn backend trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backend {
    /// burn's Flex backend (pure Rust, CPU).
    Cpu,
    /// burn's wgpu backend (WebGPU in the browser; Vulkan/Metal/GL natively).
    Wgpu,
}

/// A burn device with gradients on the CPU backend.
pub fn cpu_device() -> Device {
    Device::flex().autodiff()
}

/// A burn device with gradients on the wgpu backend, if an adapter can be had.
pub async fn wgpu_device() -> Result<Device, String> {
    Device::wgpu_options().init_async().await.map(Device::autodiff).map_err(|e| format!("no wgpu adapter: {e}"))
}

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainConfig {
    pub seed: u64,
    pub steps: usize,
    /// Episodes per step (one per stream).
    pub batch: usize,
    pub hidden: usize,
    pub lr: f64,
    /// Entropy bonus β.
    pub entropy: f64,
    pub call_cost: f64,
    pub per_pool: usize,
}

impl TrainConfig {
    pub fn new(seed: u64) -> Self {
        TrainConfig { seed, steps: 400, batch: 64, hidden: 32, lr: 0.005, entropy: 0.05, call_cost: crate::CALL_COST, per_pool: crate::EPISODES_PER_POOL }
    }

    /// Bounds every size before anything is sized from it.
    pub fn check(&self) -> Result<(), String> {
        let bad = |what: &str, v: usize, lo: usize, hi: usize| (v < lo || v > hi).then(|| format!("{what} {v} out of [{lo},{hi}]"));
        if let Some(e) = bad("steps", self.steps, 1, 100_000)
            .or_else(|| bad("batch", self.batch, 1, 1024))
            .or_else(|| bad("hidden", self.hidden, 1, council_core::policy::MAX_HIDDEN))
            .or_else(|| bad("per_pool", self.per_pool, 1, 10_000))
        {
            return Err(e);
        }
        if !(self.lr > 0.0 && self.lr <= 1.0) || !(0.0..=1.0).contains(&self.entropy) || !(0.0..=1.0).contains(&self.call_cost) {
            return Err("lr must be in (0,1], entropy and call cost in [0,1]".into());
        }
        Ok(())
    }
}

/// The network as burn modules: the policy (same layout as [`PolicyNet`]) and the value
/// head used as the baseline.
#[derive(Module, Debug)]
struct Net {
    worker1: Linear,
    worker2: Linear,
    plan1: Linear,
    plan2: Linear,
    value1: Linear,
    value2: Linear,
}

fn linear(l: &Layer, device: &Device) -> Linear {
    let mut lin = LinearConfig::new(l.inputs, l.outputs).init(device);
    lin.weight = Param::from_data(TensorData::new(l.w.clone(), [l.inputs, l.outputs]), device);
    lin.bias = Some(Param::from_data(TensorData::new(l.b.clone(), [l.outputs]), device));
    lin
}

impl Net {
    fn new(p: &PolicyNet, seed: u64, device: &Device) -> Self {
        // The value head starts from the seed too (a fresh stream), so runs repeat exactly.
        let v = PolicyNet::init(p.hidden, seed ^ 0x7661_6c75_65);
        let value2 = Layer { inputs: p.hidden, outputs: 1, w: v.worker2.w.clone(), b: vec![0.0] };
        Net {
            worker1: linear(&p.worker1, device),
            worker2: linear(&p.worker2, device),
            plan1: linear(&p.plan1, device),
            plan2: linear(&p.plan2, device),
            value1: linear(&v.plan1, device),
            value2: linear(&value2, device),
        }
    }

    /// Every policy weight as one vector, in [`PolicyNet::flat`]'s order.
    fn flat(&self) -> Tensor<1> {
        let mut parts = Vec::new();
        for l in [&self.worker1, &self.worker2, &self.plan1, &self.plan2] {
            parts.push(l.weight.val().flatten::<1>(0, 1));
            parts.push(l.bias.as_ref().expect("layers have biases").val());
        }
        Tensor::cat(parts, 0).detach()
    }
}

/// What one step collected, per episode.
struct Batch {
    decisions: Vec<Decision>,
    rewards: Vec<f64>,
    correct: Vec<bool>,
    calls: Vec<u32>,
}

/// A training run in progress.
pub struct Trainer {
    pub cfg: TrainConfig,
    /// The weights the next step acts with.
    pub net: PolicyNet,
    pub backend: Backend,
    pub curve: Vec<StepStats>,
    model: Option<Net>,
    optim: ModuleOptimizer,
    device: Device,
    streams: Vec<Stream>,
}

/// `rows` × `cols` matrix from row-major values.
fn matrix(v: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    Tensor::from_data(TensorData::new(v, [rows, cols]), device)
}

fn vector(v: Vec<f32>, device: &Device) -> Tensor<1> {
    let n = v.len();
    Tensor::from_data(TensorData::new(v, [n]), device)
}

/// Σ over rows of `onehot`·log_softmax(`logits`) (the chosen entries' log-probabilities)
/// and the rows' entropies.
fn categorical(logits: Tensor<2>, onehot: Tensor<2>) -> (Tensor<1>, Tensor<1>) {
    let n = logits.dims()[0];
    let logp = log_softmax(logits, 1);
    let chosen: Tensor<1> = (logp.clone() * onehot).sum_dim(1).reshape([n]);
    let entropy: Tensor<1> = (logp.clone().exp() * logp).sum_dim(1).reshape([n]).neg();
    (chosen, entropy)
}

impl Trainer {
    /// A fresh policy (weights from the seed) on `device`.
    pub fn new(cfg: TrainConfig, device: Device, backend: Backend) -> Result<Self, String> {
        cfg.check()?;
        let net = PolicyNet::init(cfg.hidden, cfg.seed);
        let model = Net::new(&net, cfg.seed, &device);
        // Streams start at staggered points of their pools, so a batch mixes fresh pools
        // (no records yet) with well-known ones.
        let streams: Vec<Stream> = (0..cfg.batch)
            .map(|b| {
                let mut s = Stream::new(Rng::derive(cfg.seed, &[b as u64, 0x7374]).next_u64(), Skills::Training, cfg.per_pool);
                s.served = b * cfg.per_pool / cfg.batch.max(1);
                s
            })
            .collect();
        Ok(Trainer { cfg, net, backend, curve: Vec::new(), model: Some(model), optim: AdamConfig::new().init(), device, streams })
    }

    pub fn steps_done(&self) -> usize {
        self.curve.len()
    }

    pub fn finished(&self) -> bool {
        self.curve.len() >= self.cfg.steps
    }

    /// Plays one episode per stream with sampled actions of the current weights.
    fn collect(&mut self) -> Batch {
        let step = self.curve.len() as u64;
        let mut batch = Batch { decisions: Vec::new(), rewards: Vec::new(), correct: Vec::new(), calls: Vec::new() };
        for (b, s) in self.streams.iter_mut().enumerate() {
            let draw = s.next_task();
            let rng = Rng::derive(self.cfg.seed, &[step, b as u64, 0x5a]);
            let policy = Rc::new(NetPolicy::sampling(self.net.clone(), s.records.clone(), rng));
            let o = episode(&s.pool, &draw, Some(policy.clone() as Rc<dyn Policy>), self.cfg.call_cost);
            remember(&mut s.records, &o);
            let d = policy.decisions.borrow_mut().pop().expect("the conductor asked the policy once");
            batch.decisions.push(d);
            batch.rewards.push(o.reward);
            batch.correct.push(o.correct);
            batch.calls.push(o.calls);
        }
        batch
    }

    /// One policy-gradient update on `batch`, then reads the policy weights back.
    async fn learn(&mut self, batch: &Batch) -> Result<(), String> {
        let b = batch.decisions.len();
        let dev = self.device.clone();
        // Worker rows (every worker of every episode), and one row per pick: the workers
        // still available (mask), the one picked (one-hot), its episode (membership).
        let (mut xw, mut xt) = (Vec::new(), Vec::new());
        let (mut shape1h, mut size1h) = (Vec::new(), Vec::new());
        let (mut picks, mut first) = (Vec::new(), 0usize);
        for (e, d) in batch.decisions.iter().enumerate() {
            for wx in &d.worker_x {
                xw.extend(d.task_x.iter().chain(wx).copied());
            }
            xt.extend_from_slice(&d.task_x);
            shape1h.extend((0..3).map(|k| f32::from(u8::from(k == d.shape.index()))));
            size1h.extend((0..TEAM_SIZES.len()).map(|k| f32::from(u8::from(k == d.size))));
            let mut left: Vec<usize> = (0..d.worker_x.len()).collect();
            for &p in &d.picks {
                picks.push((e, left.iter().map(|&i| first + i).collect::<Vec<_>>(), first + p));
                left.retain(|&i| i != p);
            }
            first += d.worker_x.len();
        }
        let rows = first;
        let n_picks = picks.len();
        let rewards = vector(batch.rewards.iter().map(|&r| r as f32).collect(), &dev);

        let model = self.model.take().expect("model present between steps");
        let xt = matrix(xt, b, TASK_DIM, &dev);
        // Baseline and advantages (the baseline is not differentiated through).
        let value: Tensor<1> = model.value2.forward(relu(model.value1.forward(xt.clone()))).reshape([b]);
        let adv = rewards.clone() - value.clone().detach();
        let centred = adv.clone() - adv.clone().mean().expand([b]);
        let spread = (centred.clone() * centred).mean().sqrt().clamp_min(0.1);
        let adv = adv / spread.expand([b]);

        let plan = model.plan2.forward(relu(model.plan1.forward(xt)));
        let (logp_shape, ent_shape) = categorical(plan.clone().slice([0..b, 0..3]), matrix(shape1h, b, 3, &dev));
        let (logp_size, ent_size) = categorical(plan.slice([0..b, 3..3 + TEAM_SIZES.len()]), matrix(size1h, b, TEAM_SIZES.len(), &dev));
        let mut gain = (adv.clone() * (logp_shape + logp_size)).sum();
        let mut entropy = ent_shape.sum() + ent_size.sum();
        if n_picks > 0 {
            let xw = matrix(xw, rows, TASK_DIM + WORKER_DIM, &dev);
            let scores: Tensor<2> = model.worker2.forward(relu(model.worker1.forward(xw))).reshape([1, rows]).expand([n_picks, rows]);
            let (mut mask, mut picked, mut member) = (vec![0.0f32; n_picks * rows], vec![0.0f32; n_picks * rows], vec![0.0f32; n_picks * b]);
            for (j, (e, avail, p)) in picks.iter().enumerate() {
                for &i in avail {
                    mask[j * rows + i] = 1.0;
                }
                picked[j * rows + p] = 1.0;
                member[j * b + e] = 1.0;
            }
            let mask = matrix(mask, n_picks, rows, &dev);
            // Workers not available get −10⁴: they vanish from the softmax.
            let masked = scores + (mask - 1.0).mul_scalar(1.0e4);
            let (logp_pick, ent_pick) = categorical(masked, matrix(picked, n_picks, rows, &dev));
            let adv_pick: Tensor<1> = matrix(member, n_picks, b, &dev).matmul(adv.clone().reshape([b, 1])).reshape([n_picks]);
            gain = gain + (adv_pick * logp_pick).sum();
            entropy = entropy + ent_pick.sum();
        }
        let err = value - rewards;
        let value_loss = (err.clone() * err).mean().mul_scalar(0.5);
        let loss = (gain + entropy.mul_scalar(self.cfg.entropy)).div_scalar(b as f64).neg() + value_loss;
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let model = self.optim.step(self.cfg.lr, model, grads);
        let flat = model.flat().into_data_async().await.map_err(|e| format!("reading the weights back: {e:?}"))?;
        self.model = Some(model);
        let flat: Vec<f32> = flat.try_to_vec::<f32>().map_err(|e| format!("reading the weights back: {e:?}"))?;
        self.net.set_flat(&flat)
    }

/// Collects one batch, learns from it, and records the step's figures.
    pub async fn step(&mut self) -> Result<StepStats, String> {
        let batch = self.collect();
        self.learn(&batch).await?;
        let n = batch.rewards.len() as f64;
        let mut shapes = [0.0; 3];
        for d in &batch.decisions {
            shapes[d.shape.index()] += 1.0 / n;
        }
        let stats = StepStats {
            step: self.curve.len() + 1,
            reward: batch.rewards.iter().sum::<f64>() / n,
            accuracy: batch.correct.iter().filter(|c| **c).count() as f64 / n,
            calls: batch.calls.iter().map(|&c| f64::from(c)).sum::<f64>() / n,
            workers: batch.decisions.iter().map(|d| d.picks.len() as f64).sum::<f64>() / n,
            shapes,
        };
        self.curve.push(stats.clone());
        Ok(stats)
    }

    /// The reward curve's fingerprint with the final weights: equal for equal seeds.
    pub fn curve_hash(&self) -> String {
        crate::hash_f64s(self.curve.iter().map(|s| s.reward).chain(self.net.flat().into_iter().map(f64::from)))
    }

    /// The trained policy with how it was trained in its `meta`.
    pub fn policy(&self) -> PolicyNet {
        let mut p = self.net.clone();
        p.meta.insert("seed".into(), self.cfg.seed.into());
        p.meta.insert("steps".into(), self.curve.len().into());
        p.meta.insert("batch".into(), self.cfg.batch.into());
        p.meta.insert("backend".into(), serde_json::to_value(self.backend).unwrap_or_default());
        p.meta.insert("curve_hash".into(), self.curve_hash().into());
        p
    }
}
