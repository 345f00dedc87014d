//! Sweeps: a scenario × a grid of overrides × N seeds → mean and 95% interval per config.
//!
//! Overrides use dotted paths into the scenario JSON (`mechanism.params.rounds`,
//! `agents.*.traits.accuracy`, `agents.2.traits.calibration`, `task.params.mode`); `*`
//! applies to every element, missing object keys are created (so defaulted fields can be
//! set), and `agents.count=N` resizes the team (copies of the last agent). The grid is
//! expanded into one validated scenario per config (`configs`); a run is
//! `run_config_seed(&config.scenario, seed)`, so a web worker can run configs and seeds
//! one at a time; `run_sweep` is the whole loop. Seeds are `scenario.seed + i`, the same
//! for every config (paired comparisons).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::metrics::Metrics;
use crate::scenario::{Scenario, ScenarioError};

/// Most configs one sweep may expand to, and most seeds per config.
pub const MAX_CONFIGS: usize = 10_000;
pub const MAX_SEEDS: u32 = MAX_RUNS as u32;
/// Most runs (configs × seeds) one sweep may ask for: about 10 s for the 5-agent
/// built-ins on one core. A run's cost grows with agents and rounds (a 128-agent mesh
/// costs ~200x a 5-agent one), so big teams take longer within the same bound.
pub const MAX_RUNS: u64 = 100_000;

/// One `--set path=v1,v2,...`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetSpec {
    pub path: String,
    pub values: Vec<Value>,
}

/// Parses `path=v1,v2`. Each value is JSON if it parses (`0.5`, `true`, `["a","b"]`),
/// else a string; commas inside brackets or quotes do not split.
pub fn parse_set(text: &str) -> Result<SetSpec, String> {
    let (path, values) = text.split_once('=').ok_or_else(|| format!("--set {text}: expected path=value[,value...]"))?;
    let path = path.trim();
    if path.is_empty() || path.len() > 200 || path.split('.').any(str::is_empty) {
        return Err(format!("--set {text}: bad path \"{path}\""));
    }
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut escaped, mut start) = (0i32, false, false, 0usize);
    let bytes = values.as_bytes();
    for i in 0..=bytes.len() {
        let c = bytes.get(i).copied();
        match c {
            _ if escaped => escaped = false,
            Some(b'\\') if quoted => escaped = true,
            Some(b'"') => quoted = !quoted,
            Some(b'[' | b'{') if !quoted => depth += 1,
            Some(b']' | b'}') if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("--set {text}: a closing bracket without its opening one"));
                }
            }
            None if depth != 0 || quoted => {
                return Err(format!("--set {text}: unbalanced brackets or quotes"));
            }
            Some(b',') | None if depth == 0 && !quoted => {
                let item = values[start..i].trim();
                if item.is_empty() {
                    return Err(format!("--set {text}: empty value"));
                }
                out.push(set_value(item).map_err(|e| format!("--set {text}: {e}"))?);
                start = i + 1;
            }
            _ => {}
        }
    }
    Ok(SetSpec { path: path.to_string(), values: out })
}

/// One `--set` value: JSON when it looks like JSON (a list, an object, a quoted string,
/// a number, true/false/null), else a bare word taken as a string. Text that starts like a
/// list, object or string but does not parse is an error, not a string.
fn set_value(item: &str) -> Result<Value, String> {
    match crate::strict_json::parse(item) {
        Ok(v) => Ok(v),
        Err(e) if item.starts_with(['[', '{', '"']) => {
            let shown: String = item.chars().take(40).collect();
            Err(format!("{shown} is not valid JSON ({e})"))
        }
        Err(_) => Ok(Value::String(item.to_string())),
    }
}

/// Sets `path` to `v` inside a scenario's JSON value.
pub fn apply(root: &mut Value, path: &str, v: &Value) -> Result<(), String> {
    if path == "agents.count" {
        let n = v.as_u64().filter(|&n| n >= 1 && n <= crate::spec::MAX_AGENTS as u64).ok_or_else(|| {
            format!("agents.count: {v} is not a number of agents in [1,{}]", crate::spec::MAX_AGENTS)
        })? as usize;
        let agents = root.get_mut("agents").and_then(Value::as_array_mut).ok_or("agents: not a list")?;
        let last = agents.last().cloned().ok_or("agents: empty")?;
        agents.truncate(n);
        while agents.len() < n {
            let mut a = last.clone();
            let name = format!("{}{}", a["name"].as_str().unwrap_or("agent"), agents.len() + 1);
            a["name"] = Value::String(name);
            agents.push(a);
        }
        return Ok(());
    }
    let segs: Vec<&str> = path.split('.').collect();
    set_in(root, &segs, v, path)
}

fn set_in(node: &mut Value, segs: &[&str], v: &Value, path: &str) -> Result<(), String> {
    let Some((&head, rest)) = segs.split_first() else {
        *node = v.clone();
        return Ok(());
    };
    match node {
        Value::Array(items) => {
            if head == "*" {
                for item in items.iter_mut() {
                    set_in(item, rest, v, path)?;
                }
                Ok(())
            } else {
                let i: usize = head.parse().map_err(|_| format!("{path}: \"{head}\" is not an index"))?;
                let len = items.len();
                let item = items.get_mut(i).ok_or_else(|| format!("{path}: index {i} out of range (there are {len})"))?;
                set_in(item, rest, v, path)
            }
        }
        Value::Object(map) => {
            if head == "*" {
                for item in map.values_mut() {
                    set_in(item, rest, v, path)?;
                }
                return Ok(());
            }
            let child = map.entry(head.to_string()).or_insert_with(|| if rest.is_empty() { Value::Null } else { Value::Object(Default::default()) });
            set_in(child, rest, v, path)
        }
        _ => Err(format!("{path}: \"{head}\" is inside a value that is not an object or list")),
    }
}

/// One point of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepConfig {
    /// Path → value for this point (empty for the base scenario).
    pub set: BTreeMap<String, Value>,
    pub scenario: Scenario,
}

/// Expands the grid (cartesian product, first `--set` varying slowest); each config is
/// validated, and the error names the config.
pub fn configs(base: &Scenario, sets: &[SetSpec]) -> Result<Vec<SweepConfig>, ScenarioError> {
    let total = config_count(sets)?;
    let base_value = base.to_value();
    let mut out = Vec::with_capacity(total);
    for idx in 0..total {
        let mut rem = idx;
        let mut choice = vec![0usize; sets.len()];
        for (k, s) in sets.iter().enumerate().rev() {
            choice[k] = rem % s.values.len();
            rem /= s.values.len();
        }
        let mut v = base_value.clone();
        let mut set = BTreeMap::new();
        for (s, &c) in sets.iter().zip(&choice) {
            apply(&mut v, &s.path, &s.values[c]).map_err(ScenarioError)?;
            set.insert(s.path.clone(), s.values[c].clone());
        }
        let scenario = Scenario::from_value(v).map_err(|e| {
            let label: Vec<String> = set.iter().map(|(k, x)| format!("{k}={x}")).collect();
            ScenarioError(format!("sweep config {}: {e}", label.join(" ")))
        })?;
        out.push(SweepConfig { set, scenario });
    }
    Ok(out)
}

/// How many configs `sets` expand to (at least one value per set, at most [`MAX_CONFIGS`]).
pub fn config_count(sets: &[SetSpec]) -> Result<usize, ScenarioError> {
    if let Some(s) = sets.iter().find(|s| s.values.is_empty()) {
        return Err(ScenarioError(format!("sweep: --set {} has no values", s.path)));
    }
    let total = sets.iter().try_fold(1usize, |acc, s| acc.checked_mul(s.values.len()).filter(|&x| x <= MAX_CONFIGS));
    total.ok_or_else(|| ScenarioError(format!("sweep: more than {MAX_CONFIGS} configs")))
}

/// Checks a whole sweep's size before any of it runs: `seeds` per config in
/// [1, MAX_SEEDS] and configs × seeds at most [`MAX_RUNS`].
pub fn check_size(sets: &[SetSpec], seeds: u32) -> Result<(), ScenarioError> {
    if seeds == 0 || seeds > MAX_SEEDS {
        return Err(ScenarioError(format!("sweep: seeds {seeds} out of [1,{MAX_SEEDS}]")));
    }
    let configs = config_count(sets)?;
    let runs = configs as u64 * u64::from(seeds);
    if runs > MAX_RUNS {
        return Err(ScenarioError(format!(
            "sweep: {configs} configs x {seeds} seeds = {runs} runs, more than the limit of {MAX_RUNS} runs per sweep"
        )));
    }
    Ok(())
}

/// The seed of run `i` (same for every config).
pub fn seed_for(scenario: &Scenario, i: u32) -> u64 {
    scenario.seed.wrapping_add(u64::from(i))
}

/// Metrics of one simulated run (what a web worker calls per config and seed).
pub fn run_config_seed(scenario: &Scenario, seed: u64) -> Metrics {
    // Metrics only: skipping the log hash and copies keeps sweeps fast.
    match crate::engine::Run::with_seed(scenario, seed) {
        Ok(mut run) => {
            crate::engine::drive_simulated(&mut run);
            run.metrics()
        }
        Err(_) => Metrics::default(),
    }
}

/// Mean and 95% interval (normal approximation, mean ± 1.96·s/√n, kept inside the
/// observed range).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
    /// Runs in which the metric was defined.
    pub n: u32,
}

impl Stat {
    pub fn of(values: &[f64]) -> Stat {
        let mut acc = StatAcc::default();
        for &v in values {
            acc.push(v);
        }
        acc.stat()
    }
}

/// A [`Stat`] built one value at a time in constant memory (sum for the mean, Welford's
/// update for the variance, min and max), so a sweep's memory does not grow with seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatAcc {
    n: u64,
    sum: f64,
    welford_mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Default for StatAcc {
    fn default() -> Self {
        Self { n: 0, sum: 0.0, welford_mean: 0.0, m2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }
}

impl StatAcc {
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        self.sum += x;
        let d = x - self.welford_mean;
        self.welford_mean += d / self.n as f64;
        self.m2 += d * (x - self.welford_mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    pub fn stat(&self) -> Stat {
        let n = self.n;
        if n == 0 {
            return Stat { mean: f64::NAN, lo: f64::NAN, hi: f64::NAN, n: 0 };
        }
        let mean = self.sum / n as f64;
        if n < 2 {
            return Stat { mean, lo: mean, hi: mean, n: 1 };
        }
        let var = self.m2 / (n as f64 - 1.0);
        let half = 1.96 * libm::sqrt(var / n as f64);
        // Keep the interval inside the observed range (a share cannot exceed 1).
        Stat { mean, lo: (mean - half).max(self.min), hi: (mean + half).min(self.max), n: n.min(u64::from(u32::MAX)) as u32 }
    }
}

/// Per-metric accumulators over runs (a metric missing from a run is left out for it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary(BTreeMap<String, StatAcc>);

impl Summary {
    pub fn add(&mut self, run: &Metrics) {
        for (k, v) in &run.0 {
            if v.is_finite() {
                match self.0.get_mut(k) {
                    Some(acc) => acc.push(*v),
                    None => {
                        let mut acc = StatAcc::default();
                        acc.push(*v);
                        self.0.insert(k.clone(), acc);
                    }
                }
            }
        }
    }

    pub fn stats(&self) -> BTreeMap<String, Stat> {
        self.0.iter().map(|(k, a)| (k.clone(), a.stat())).collect()
    }
}

/// Per-metric statistics over runs (a metric missing from a run is left out for it).
pub fn summarize(runs: &[Metrics]) -> BTreeMap<String, Stat> {
    let mut s = Summary::default();
    for r in runs {
        s.add(r);
    }
    s.stats()
}

/// Results of one config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigResult {
    pub set: BTreeMap<String, Value>,
    pub runs: u32,
    pub metrics: BTreeMap<String, Stat>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepResult {
    pub configs: Vec<ConfigResult>,
}

/// Runs every config for `seeds` seeds.
/// Runs every config for `seeds` seeds (the size is checked first: [`check_size`]);
/// statistics are accumulated run by run, so memory does not grow with seeds.
pub fn run_sweep(base: &Scenario, sets: &[SetSpec], seeds: u32) -> Result<SweepResult, ScenarioError> {
    check_size(sets, seeds)?;
    let mut results = Vec::new();
    for c in configs(base, sets)? {
        let mut summary = Summary::default();
        for i in 0..seeds {
            summary.add(&run_config_seed(&c.scenario, seed_for(&c.scenario, i)));
        }
        results.push(ConfigResult { set: c.set, runs: seeds, metrics: summary.stats() });
    }
    Ok(SweepResult { configs: results })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Scenario {
        crate::builtin("debate").unwrap()
    }

    #[test]
    fn set_values_parse_as_json_or_strings() {
        let s = parse_set("mechanism.params.rounds=1,2, 3").unwrap();
        assert_eq!(s.values, vec![Value::from(1), Value::from(2), Value::from(3)]);
        let s = parse_set("mechanism.params.strategy=[\"debate\",\"reflection\"],[\"debate\"]").unwrap();
        assert_eq!(s.values.len(), 2);
        let s = parse_set("agents.*.traits.calibration=random,informative").unwrap();
        assert_eq!(s.values[0], Value::from("random"));
        assert!(parse_set("rounds").is_err());
        assert!(parse_set("a..b=1").is_err());
        assert!(parse_set("a=1,").is_err());
        // Values that start like JSON must be JSON: no silent zero-value or string sets.
        for bad in ["x=[[[1", "x=[1,2", "x=1]", "x={\"a\":1", "x=\"open", "x=[1,2]]", "x={\"a\":1,\"a\":2}", "x=[1,]"] {
            let e = parse_set(bad).unwrap_err();
            assert!(e.starts_with(&format!("--set {bad}: ")), "{bad}: {e}");
        }
        assert_eq!(parse_set("x=\"a,b\",\"c\\\",d\"").unwrap().values, vec![Value::from("a,b"), Value::from("c\",d")]);
    }

    #[test]
    fn sweep_size_is_bounded_before_anything_runs() {
        let sets = vec![parse_set("agents.*.traits.accuracy=0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1").unwrap()];
        assert!(check_size(&sets, (MAX_RUNS / 10) as u32).is_ok());
        let e = run_sweep(&base(), &sets, (MAX_RUNS / 10) as u32 + 1).unwrap_err().0;
        assert_eq!(e, format!("sweep: 10 configs x {} seeds = {} runs, more than the limit of {MAX_RUNS} runs per sweep", MAX_RUNS / 10 + 1, MAX_RUNS + 10));
        assert!(run_sweep(&base(), &[], 1_000_000).unwrap_err().0.contains("out of [1,"));
        assert!(run_sweep(&base(), &[], 0).is_err());
        let empty = SetSpec { path: "x".into(), values: vec![] };
        assert!(run_sweep(&base(), &[empty], 1).unwrap_err().0.contains("has no values"));
    }

    #[test]
    fn streamed_statistics_match_the_two_pass_formula() {
        let v: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 101) as f64 / 7.0).collect();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
        let s = Stat::of(&v);
        assert_eq!(s.mean, mean);
        assert!((s.hi - s.mean - 1.96 * (var / n).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn grid_expands_and_applies_wildcards() {
        let sets = vec![parse_set("mechanism.params.rounds=0,3").unwrap(), parse_set("agents.*.traits.accuracy=0.3,0.9").unwrap()];
        let cs = configs(&base(), &sets).unwrap();
        assert_eq!(cs.len(), 4);
        assert_eq!(cs[1].set["agents.*.traits.accuracy"], Value::from(0.9));
        assert!(cs[3].scenario.agents.iter().all(|a| a.traits.accuracy == 0.9));
        assert_eq!(cs[3].scenario.mechanism.params["rounds"], Value::from(3));
        // Other traits keep their values.
        assert_eq!(cs[3].scenario.agents[3].traits.conformity, 0.7);
    }

    #[test]
    fn bad_overrides_are_named() {
        let e = configs(&base(), &[parse_set("agents.*.traits.accuracy=1.5").unwrap()]).unwrap_err().0;
        assert!(e.contains("accuracy 1.5 out of [0,1]"), "{e}");
        let e = configs(&base(), &[parse_set("agents.9.traits.accuracy=0.5").unwrap()]).unwrap_err().0;
        assert!(e.contains("index 9 out of range"), "{e}");
        let e = configs(&base(), &[parse_set("mechanism.params.nope=1").unwrap()]).unwrap_err().0;
        assert!(e.contains("nope"), "{e}");
    }

    #[test]
    fn agent_count_resizes_the_team() {
        let cs = configs(&base(), &[parse_set("agents.count=2,7").unwrap()]).unwrap();
        assert_eq!(cs[0].scenario.agents.len(), 2);
        assert_eq!(cs[1].scenario.agents.len(), 7);
        assert_eq!(cs[1].scenario.agents[6].name, "Eve7");
    }

    #[test]
    fn sweep_is_deterministic_and_intervals_bracket_the_mean() {
        let sets = vec![parse_set("mechanism.params.rounds=0,2").unwrap()];
        let a = run_sweep(&base(), &sets, 40).unwrap();
        assert_eq!(a, run_sweep(&base(), &sets, 40).unwrap());
        for c in &a.configs {
            let acc = c.metrics["accuracy"];
            assert!(acc.lo <= acc.mean && acc.mean <= acc.hi && acc.n == 40);
        }
    }

    #[test]
    fn stat_of_known_values() {
        let s = Stat::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        assert!((s.hi - s.mean - 1.96 * (5.0f64 / 12.0).sqrt()).abs() < 1e-12);
        // Shares stay inside the observed range.
        let p = Stat::of(&[0.0, 1.0, 0.0, 1.0]);
        assert_eq!((p.lo, p.hi), (0.0, 1.0));
    }
}
