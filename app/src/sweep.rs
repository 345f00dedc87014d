//! Sweeps: one or two scenario parameters over value lists, several seeds each, with
//! per-config mean and 95% interval and CSV rows. This module is the pure part (grid, job
//! order, statistics, CSV), tested natively; the runs happen in the sweep worker
//! (`sweep_worker`), driven from the page by `sweep_client`.

use serde_json::Value;

/// One swept parameter: a dotted path into the scenario JSON (`*` = every array element,
/// e.g. `agents.*.traits.accuracy`) and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub path: String,
    pub values: Vec<f64>,
}

/// Parses "1,2,4" or a range "0.1:0.9:5" (start:end:count, inclusive).
pub fn parse_values(s: &str) -> Result<Vec<f64>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("give values like 1,2,3 or a range start:end:count".into());
    }
    let v: Vec<f64> = if s.contains(':') {
        let p: Vec<&str> = s.split(':').map(str::trim).collect();
        let [a, b, n] = p.as_slice() else { return Err(format!("range \"{s}\": use start:end:count")) };
        let (a, b): (f64, f64) = (a.parse().map_err(|_| format!("\"{a}\" is not a number"))?, b.parse().map_err(|_| format!("\"{b}\" is not a number"))?);
        let n: usize = n.parse().map_err(|_| format!("\"{n}\" is not a count"))?;
        if !(1..=50).contains(&n) {
            return Err("a range has 1 to 50 values".into());
        }
        (0..n).map(|i| if n == 1 { a } else { a + (b - a) * i as f64 / (n - 1) as f64 }).collect()
    } else {
        s.split(',').map(|x| x.trim().parse::<f64>().map_err(|_| format!("\"{}\" is not a number", x.trim()))).collect::<Result<_, _>>()?
    };
    if v.len() > 50 {
        return Err("at most 50 values per parameter".into());
    }
    if v.iter().any(|x| !x.is_finite()) {
        return Err("values must be finite numbers".into());
    }
    Ok(v)
}

/// Sets `path` to `value` in a scenario JSON, through the core's override rules (the same
/// ones `council sweep --set` uses). Whole numbers are written as integers so integer
/// fields (rounds, agent counts) validate.
pub fn set_path(root: &mut Value, path: &str, value: f64) -> Result<(), String> {
    if path.is_empty() || path.len() > 200 {
        return Err("parameter path is empty or too long".into());
    }
    let v = if value.fract() == 0.0 && (0.0..9.0e15).contains(&value) { Value::from(value as u64) } else { Value::from(value) };
    council_core::sweep::apply(root, path, &v)
}

/// Every (config, seed) job of a sweep, in the order they run.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub config: usize,
    pub x: f64,
    pub y: Option<f64>,
    pub seed: u64,
}

pub fn jobs(x: &Axis, y: Option<&Axis>, seeds: u32, base_seed: u64) -> Vec<Job> {
    let ys: Vec<Option<f64>> = match y {
        Some(a) => a.values.iter().map(|v| Some(*v)).collect(),
        None => vec![None],
    };
    let mut out = Vec::new();
    let mut config = 0;
    for yv in &ys {
        for xv in &x.values {
            for s in 0..seeds {
                out.push(Job { config, x: *xv, y: *yv, seed: base_seed.wrapping_add(u64::from(s)) });
            }
            config += 1;
        }
    }
    out
}

/// A short label for a swept value: ranges make values like 0.6000000000000001, which
/// would not fit under a heat-map column (the CSV keeps the exact value).
pub fn label(v: f64) -> String {
    let r = (v * 1e6).round() / 1e6;
    if r.is_finite() { format!("{r}") } else { format!("{v}") }
}

/// Config index and seed of job `i` in the order of [`jobs`] (config-major, seeds inner):
/// what the worker runs, given only the seed count.
pub fn job_at(i: usize, seeds: u32, base_seed: u64) -> (usize, u64) {
    let seeds = seeds.max(1) as usize;
    (i / seeds, base_seed.wrapping_add((i % seeds) as u64))
}

/// Mean and 95% interval of the finite values, by the core's rule (mean ± 1.96 s/√n,
/// kept inside the observed range), so the app and `council sweep` agree.
pub fn mean_ci(v: &[f64]) -> Option<(f64, f64, f64)> {
    let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let s = council_core::sweep::Stat::of(&v);
    Some((s.mean, s.lo, s.hi))
}

/// One finished job: its metrics by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub job: Job,
    pub metrics: Vec<(String, f64)>,
}

/// CSV of all rows: x, y, seed, then every metric name seen (blank where missing).
pub fn csv(x: &Axis, y: Option<&Axis>, rows: &[Row]) -> String {
    let mut names: Vec<String> = Vec::new();
    for r in rows {
        for (k, _) in &r.metrics {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let q = |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
    let mut out = q(&x.path);
    if let Some(y) = y {
        out.push(',');
        out.push_str(&q(&y.path));
    }
    out.push_str(",seed");
    for n in &names {
        out.push(',');
        out.push_str(&q(n));
    }
    out.push('\n');
    for r in rows {
        out.push_str(&r.job.x.to_string());
        if y.is_some() {
            out.push(',');
            out.push_str(&r.job.y.map(|v| v.to_string()).unwrap_or_default());
        }
        out.push_str(&format!(",{}", r.job.seed));
        for n in &names {
            out.push(',');
            if let Some((_, v)) = r.metrics.iter().find(|(k, _)| k == n) {
                out.push_str(&v.to_string());
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_lists_and_ranges() {
        assert_eq!(parse_values("1, 2,4").unwrap(), vec![1.0, 2.0, 4.0]);
        assert_eq!(parse_values("0:1:3").unwrap(), vec![0.0, 0.5, 1.0]);
        assert!(parse_values("0:1:1000").is_err());
        assert!(parse_values("a,b").unwrap_err().contains("\"a\""));
        assert!(parse_values("").is_err());
        let r = parse_values("0.3:0.9:7").unwrap();
        assert_eq!(r.iter().map(|v| label(*v)).collect::<Vec<_>>(), ["0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"]);
        assert_eq!((label(2.0), label(0.125), label(-1.5)), ("2".into(), "0.125".into(), "-1.5".into()));
    }

    #[test]
    fn set_path_handles_wildcards_ints_and_bad_paths() {
        let mut s = serde_json::json!({"mechanism": {"params": {"rounds": 2}}, "agents": [{"traits": {}}, {}]});
        set_path(&mut s, "mechanism.params.rounds", 3.0).unwrap();
        assert_eq!(s["mechanism"]["params"]["rounds"], serde_json::json!(3));
        set_path(&mut s, "agents.*.traits.accuracy", 0.9).unwrap();
        assert_eq!(s["agents"][1]["traits"]["accuracy"], serde_json::json!(0.9));
        assert!(set_path(&mut s, "mechanism.params.rounds.x", 1.0).is_err());
        assert!(set_path(&mut s, "agents.7.name", 1.0).is_err());
        assert!(set_path(&mut s, "", 1.0).is_err());
    }

    #[test]
    fn grid_stats_and_csv() {
        let x = Axis { path: "a".into(), values: vec![1.0, 2.0] };
        let y = Axis { path: "b".into(), values: vec![0.5, 0.7, 0.9] };
        let j = jobs(&x, Some(&y), 4, 10);
        assert_eq!(j.len(), 24);
        assert_eq!(j.iter().map(|j| j.config).max(), Some(5));
        for (i, job) in j.iter().enumerate() {
            assert_eq!(job_at(i, 4, 10), (job.config, job.seed), "job {i}");
        }
        let (m, lo, hi) = mean_ci(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((m - 2.5).abs() < 1e-12 && lo < m && hi > m && ((hi - lo) / 2.0 - 1.96 * (5.0f64 / 3.0 / 4.0).sqrt()).abs() < 1e-9);
        assert_eq!(mean_ci(&[f64::NAN]), None);
        let rows = vec![Row { job: j[0].clone(), metrics: vec![("accuracy".into(), 0.5)] }];
        let c = csv(&x, Some(&y), &rows);
        assert_eq!(c, "a,b,seed,accuracy\n1,0.5,10,0.5\n");
    }
}
