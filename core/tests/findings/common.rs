//! The harness every findings test uses: scenarios with sweep-style overrides, runs over
//! the sweep seeds (the same `scenario.seed + i` that `council sweep` uses, so the arm
//! means here are what the CLI prints), paired differences with 95% intervals, and the
//! check that docs/findings.md states exactly the figures measured here.

use council_core::sweep::{Stat, configs, parse_set, run_config_seed, seed_for};
use council_core::{Metrics, Scenario, builtin};

/// Runs per point: the issue asks for at least 200.
pub const SEEDS: u32 = 400;

/// A built-in (by id) with `path=value` overrides, one config.
pub fn scenario(id: &str, sets: &[&str]) -> Scenario {
    with(&builtin(id).unwrap(), sets)
}

/// `base` with `path=value` overrides (each must pick a single value).
pub fn with(base: &Scenario, sets: &[&str]) -> Scenario {
    let specs: Vec<_> = sets.iter().map(|s| parse_set(s).unwrap()).collect();
    let mut cs = configs(base, &specs).unwrap();
    assert_eq!(cs.len(), 1, "overrides must pick one config: {sets:?}");
    cs.remove(0).scenario
}

/// Metrics of `SEEDS` runs.
pub fn runs(s: &Scenario) -> Vec<Metrics> {
    runs_n(s, SEEDS)
}

/// Metrics of `n` runs (for effects too small to resolve with `SEEDS`).
pub fn runs_n(s: &Scenario, n: u32) -> Vec<Metrics> {
    (0..n).map(|i| run_config_seed(s, seed_for(s, i))).collect()
}

/// One metric per run (every run must define it).
pub fn metric(runs: &[Metrics], name: &str) -> Vec<f64> {
    runs.iter().map(|m| m.get(name).unwrap_or_else(|| panic!("metric {name} missing"))).collect()
}

/// One metric per run, where defined.
pub fn metric_where_defined(runs: &[Metrics], name: &str) -> Vec<f64> {
    runs.iter().filter_map(|m| m.get(name)).collect()
}

pub fn stat(v: &[f64]) -> Stat {
    Stat::of(v)
}

/// Paired difference a − b (same seeds, so the same items).
pub fn paired(a: &[f64], b: &[f64]) -> Stat {
    assert_eq!(a.len(), b.len());
    Stat::of(&a.iter().zip(b).map(|(x, y)| x - y).collect::<Vec<_>>())
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// `0.123 [0.101, 0.145]`, signed when `signed`.
pub fn show(s: Stat, signed: bool) -> String {
    if signed {
        format!("{:+.3} [{:+.3}, {:+.3}]", s.mean, s.lo, s.hi)
    } else {
        format!("{:.3} [{:.3}, {:.3}]", s.mean, s.lo, s.hi)
    }
}

/// One row of docs/findings.md: a measured figure beside the paper's.
pub struct Row<'a> {
    pub id: &'a str,
    pub mechanism: &'a str,
    /// What is compared, and at what budget (equal calls / equal tokens).
    pub what: &'a str,
    pub paper: &'a str,
    pub council: String,
    pub seeds: u32,
    /// How to reproduce the arms with the CLI.
    pub reproduce: &'a str,
}

/// Prints the row and checks that docs/findings.md has it with the same figure (set
/// COUNCIL_FINDINGS_PRINT=1 to print without checking, e.g. after changing the model).
pub fn report(row: Row) {
    let line = format!("| {} | {} | {} | {} | {} | {} | `{}` |", row.id, row.mechanism, row.what, row.paper, row.council, row.seeds, row.reproduce);
    println!("{line}");
    if std::env::var_os("COUNCIL_FINDINGS_PRINT").is_some() {
        return;
    }
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/findings.md")).expect("docs/findings.md");
    let found = doc.lines().find(|l| l.starts_with(&format!("| {} |", row.id)));
    match found {
        Some(l) if l.contains(&row.council) => {}
        Some(l) => panic!("docs/findings.md states a different figure for {}:\n  doc:      {l}\n  measured: {line}", row.id),
        None => panic!("docs/findings.md has no row for {}; add:\n{line}", row.id),
    }
}
