//! `council sweep`: a scenario × `--set` grid × N seeds → mean and 95% interval per config.

use clap::Args;
use serde_json::json;

use council_core::Run;
use council_core::sweep::{ConfigResult, SweepResult, check_size, configs, parse_set, run_sweep, seed_for, summarize};

use crate::agents::{self, Backend, BackendArgs, DriveCounts};
use crate::input::{load_scenario, print_json};
use crate::run_cmd::fmt_num;
use crate::text::clean;
use crate::{CliError, CliResult};

#[derive(Args)]
pub struct SweepArgs {
    /// Scenario: FILE.json, builtin:<id>, a share link, or - for stdin.
    pub scenario: String,
    /// Seeds per config (runs use scenario.seed + 0..N).
    #[arg(long, default_value_t = 100)]
    pub seeds: u32,
    /// Override grid: `path=v1,v2` (e.g. mechanism.params.rounds=1,2,3 or
    /// agents.*.traits.accuracy=0.5,0.8); repeat for a cartesian product.
    #[arg(long = "set", value_name = "PATH=V1,V2")]
    pub sets: Vec<String>,
    /// Metrics to show in human output (default: accuracy, tokens, calls).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Vec<String>,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// With an LLM backend: runs driven together (their asks share the engine's batches).
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
    #[command(flatten)]
    pub llm: BackendArgs,
}

/// Every config × seed with LLM agents, `parallel` runs at a time; metrics as `run_sweep`'s.
fn llm_sweep(scenario: &council_core::Scenario, sets: &[council_core::sweep::SetSpec], seeds: u32, parallel: usize, backend: &mut dyn Backend) -> Result<(SweepResult, DriveCounts), CliError> {
    if seeds == 0 || seeds > 10_000 {
        return Err(CliError::bad(format!("--seeds {seeds}: with an LLM backend give 1..=10000")));
    }
    if parallel == 0 || parallel > 256 {
        return Err(CliError::bad(format!("--parallel {parallel} must be in 1..=256")));
    }
    let mut total = DriveCounts::default();
    let mut results = Vec::new();
    for c in configs(scenario, sets).map_err(|e| CliError::bad(e.0))? {
        let mut metrics = Vec::new();
        let all: Vec<u32> = (0..seeds).collect();
        for group in all.chunks(parallel) {
            let mut runs = group.iter().map(|&i| Run::with_seed(&c.scenario, seed_for(&c.scenario, i))).collect::<Result<Vec<_>, _>>().map_err(|e| CliError::bad(e.0))?;
            let counts = agents::drive(&mut runs, backend)?;
            total.asks += counts.asks;
            total.failed += counts.failed;
            total.waves += counts.waves;
            if total.first_error.is_none() {
                total.first_error = counts.first_error;
            }
            metrics.extend(runs.iter().map(Run::metrics));
        }
        results.push(ConfigResult { set: c.set, runs: seeds, metrics: summarize(&metrics) });
    }
    Ok((SweepResult { configs: results }, total))
}

pub fn sweep(a: SweepArgs) -> CliResult {
    let sets = a.sets.iter().map(|s| parse_set(s)).collect::<Result<Vec<_>, _>>().map_err(CliError::bad)?;
    // The sweep's size is known from the flags alone: refuse it before reading anything.
    check_size(&sets, a.seeds).map_err(|e| CliError::bad(e.0))?;
    let scenario = load_scenario(&a.scenario)?;
    let (result, llm) = match agents::open(&a.llm)? {
        None => (run_sweep(&scenario, &sets, a.seeds).map_err(|e| CliError::bad(e.0))?, None),
        Some(mut b) => {
            let (r, counts) = llm_sweep(&scenario, &sets, a.seeds, a.parallel, b.as_mut())?;
            (r, Some((b, counts)))
        }
    };
    if a.json {
        let configs: Vec<_> = result
            .configs
            .iter()
            .map(|c| {
                let metrics: serde_json::Map<String, serde_json::Value> = c
                    .metrics
                    .iter()
                    .map(|(k, s)| (k.clone(), json!({"mean": s.mean, "lo": s.lo, "hi": s.hi, "n": s.n})))
                    .collect();
                json!({"set": c.set, "runs": c.runs, "metrics": metrics})
            })
            .collect();
        let backend = llm.as_ref().map(|(b, c)| {
            let mut v = b.report();
            v["asks"] = json!(c.asks);
            v["failed_asks"] = json!(c.failed);
            v
        });
        print_json(&json!({ "configs": configs, "backend": backend }));
    } else {
        let shown: Vec<String> = if a.metrics.is_empty() { vec!["accuracy".into(), "tokens".into(), "calls".into()] } else { a.metrics.clone() };
        out!("{} — {} seeds per config", clean(if scenario.title.is_empty() { &scenario.mechanism.kind } else { &scenario.title }), a.seeds);
        for c in &result.configs {
            let label: Vec<String> = c.set.iter().map(|(k, v)| clean(&format!("{k}={v}")).into_owned()).collect();
            let label = if label.is_empty() { "(base)".to_string() } else { label.join(" ") };
            let cells: Vec<String> = shown
                .iter()
                .map(|m| match c.metrics.get(m) {
                    Some(s) => format!("{m} {} [{}, {}]", fmt_num(s.mean), fmt_num(s.lo), fmt_num(s.hi)),
                    None => format!("{m} -"),
                })
                .collect();
            out!("  {label}: {}", cells.join("  "));
        }
        if let Some((b, _)) = &llm {
            out!("{}", b.summary());
        }
    }
    match llm {
        Some((_, c)) => agents::check_failures(&c),
        None => Ok(()),
    }
}
