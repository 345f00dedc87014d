//! `council train`: trains the conductor policy with burn (the same code the page's
//! training worker runs), prints the reward curve, the probe set's choices and the
//! held-out comparison; `--out` writes the policy (the JSON the page imports and exports).
//! Also the policy files `council run --policy NAME=FILE` reads.

use std::io::Read;

use clap::Args;

use council_core::policy::PolicyNet;

use crate::{CliError, CliResult};

#[derive(Args)]
pub struct TrainArgs {
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Policy-gradient steps.
    #[arg(long, default_value_t = 400)]
    pub steps: usize,
    /// Episodes per step.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// burn backend: cpu (Flex) or wgpu.
    #[arg(long, default_value = "cpu")]
    pub backend: String,
    /// Held-out pools for the comparison (0: skip it).
    #[arg(long, default_value_t = 128)]
    pub eval_pools: usize,
    /// Write the trained policy (JSON) here.
    #[arg(long, value_name = "OUT.json")]
    pub out: Option<String>,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Reads a policy file (bounded: special files and huge files are refused before reading).
pub fn read_policy(path: &str) -> Result<PolicyNet, CliError> {
    let f = std::fs::File::open(path).map_err(|e| CliError::bad(format!("{path}: {e}")))?;
    let mut text = String::new();
    f.take((4 << 20) + 1).read_to_string(&mut text).map_err(|e| CliError::bad(format!("{path}: {e}")))?;
    PolicyNet::from_json(&text).map_err(|e| CliError::bad(format!("{path}: {e}")))
}

#[cfg(not(feature = "train"))]
pub fn train(_a: TrainArgs) -> CliResult {
    Err(CliError::bad("this council was built without training (burn): build it with `cargo build -p council-cli --features train`"))
}

#[cfg(feature = "train")]
pub fn train(a: TrainArgs) -> CliResult {
    use council_policy::eval::{EvalConfig, evaluate};
    use council_policy::train::{Backend, TrainConfig, Trainer, cpu_device, wgpu_device};
    use serde_json::json;

    let mut cfg = TrainConfig::new(a.seed);
    cfg.steps = a.steps;
    cfg.batch = a.batch;
    cfg.check().map_err(CliError::bad)?;
    if a.eval_pools > 1000 {
        return Err(CliError::bad(format!("--eval-pools {} out of [0,1000]", a.eval_pools)));
    }
    let (device, backend) = match a.backend.as_str() {
        "cpu" => (cpu_device(), Backend::Cpu),
        "wgpu" => (pollster::block_on(wgpu_device()).map_err(CliError::Failed)?, Backend::Wgpu),
        other => return Err(CliError::bad(format!("--backend {other}: expected cpu or wgpu"))),
    };
    let mut trainer = Trainer::new(cfg, device, backend).map_err(CliError::bad)?;
    let t0 = std::time::Instant::now();
    while !trainer.finished() {
        let s = pollster::block_on(trainer.step()).map_err(CliError::Failed)?;
        if !a.json && (s.step % 25 == 0 || s.step == 1) {
            out!("step {:4}  reward {:+.3}  accuracy {:.2}  calls {:.1}  workers {:.1}", s.step, s.reward, s.accuracy, s.calls, s.workers);
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let policy = trainer.policy();
    if let Some(path) = &a.out {
        std::fs::write(path, policy.to_json()).map_err(|e| CliError::Failed(format!("{path}: {e}")))?;
    }
    let probe = council_policy::probe::choices(&policy);
    let episodes = trainer.cfg.steps * trainer.cfg.batch;
    let comparison = (a.eval_pools > 0).then(|| {
        let mut e = EvalConfig::new(a.seed, episodes);
        e.pools = a.eval_pools;
        evaluate(&policy, &e)
    });
    if a.json {
        crate::input::print_json(&json!({
            "seed": a.seed,
            "steps": trainer.cfg.steps,
            "batch": trainer.cfg.batch,
            "backend": backend,
            "curve": trainer.curve,
            "curve_hash": trainer.curve_hash(),
            "seconds": secs,
            "steps_per_s": trainer.cfg.steps as f64 / secs,
            "episodes_per_s": episodes as f64 / secs,
            "probe": probe,
            "comparison": comparison,
        }));
    } else {
        out!("trained {} steps × {} episodes in {secs:.1} s ({:.1} steps/s); curve {}", trainer.cfg.steps, trainer.cfg.batch, trainer.cfg.steps as f64 / secs, trainer.curve_hash());
        for c in &probe {
            out!("  {:18} {:12} {}", c.task, c.shape, if c.workers.is_empty() { "conductor alone".into() } else { c.workers.join(" → ") });
        }
        if let Some(c) = &comparison {
            out!("held-out ({} pools × {} tasks, shifted skills): mean reward per task, 95% interval over pools", c.config.pools, c.config.per_pool);
            for m in &c.methods {
                out!("  {:20} {:+.3} [{:+.3}, {:+.3}]  accuracy {:.2}  calls {:.1}", m.name, m.reward.mean, m.reward.lo, m.reward.hi, m.accuracy, m.calls);
            }
            let best = c.versus.iter().find(|v| v.baseline == c.best_fixed);
            if let Some(b) = best {
                out!("learned − best fixed ({}): {:+.3} [{:+.3}, {:+.3}]", c.best_fixed, b.diff.mean, b.diff.lo, b.diff.hi);
            }
            out!("learned − LinUCB (equal samples): {:+.3} [{:+.3}, {:+.3}]", c.versus_linucb.mean, c.versus_linucb.lo, c.versus_linucb.hi);
        }
    }
    Ok(())
}
