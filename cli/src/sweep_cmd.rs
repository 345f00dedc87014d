//! `council sweep`: a scenario × `--set` grid × N seeds → mean and 95% interval per config.

use clap::Args;
use serde_json::json;

use council_core::sweep::{parse_set, run_sweep};

use crate::input::{load_scenario, print_json};
use crate::run_cmd::fmt_num;
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
}

pub fn sweep(a: SweepArgs) -> CliResult {
    let scenario = load_scenario(&a.scenario)?;
    let sets = a.sets.iter().map(|s| parse_set(s)).collect::<Result<Vec<_>, _>>().map_err(CliError::bad)?;
    let result = run_sweep(&scenario, &sets, a.seeds).map_err(|e| CliError::bad(e.0))?;
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
        print_json(&json!({ "configs": configs }));
    } else {
        let shown: Vec<String> = if a.metrics.is_empty() { vec!["accuracy".into(), "tokens".into(), "calls".into()] } else { a.metrics.clone() };
        out!("{} — {} seeds per config", if scenario.title.is_empty() { &scenario.mechanism.kind } else { &scenario.title }, a.seeds);
        for c in &result.configs {
            let label: Vec<String> = c.set.iter().map(|(k, v)| format!("{k}={v}")).collect();
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
    }
    Ok(())
}
