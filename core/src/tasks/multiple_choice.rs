//! Multiple-choice questions with a difficulty, generated from number facts so that the
//! ground truth is exact and an LLM can genuinely answer them too.
//!
//! Answers are option letters (`A`..). Difficulty sets both the simulated agents' odds
//! and the size of the numbers in the text; the lure is the option built from the most
//! common slip (a carry error, an off-by-one step).

use serde::Deserialize;
use serde_json::Value;

use super::{DifficultyParams, Problem, Structure, TaskInstance, TaskKind, check_difficulty, check_optional, draw_difficulty, lure_for};
use crate::rng::Rng;
use crate::spec::{ScenarioError, parse_params};

pub struct MultipleChoice;

pub const DOMAINS: &[&str] = &["math", "sequences", "units", "logic"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(flatten)]
    difficulty: DifficultyParams,
    #[serde(default)]
    options: Option<u32>,
    /// Domains to draw from (default: all).
    #[serde(default)]
    domains: Vec<String>,
}

fn parse(params: &Value) -> Result<Params, ScenarioError> {
    let p: Params = parse_params("task", params)?;
    check_difficulty("task.params", p.difficulty.difficulty, p.difficulty.difficulty_range)?;
    check_optional("options", p.options, 2..=8)?;
    for d in &p.domains {
        if !DOMAINS.contains(&d.as_str()) {
            return Err(ScenarioError(format!("task.params.domains: unknown domain \"{d}\" (expected {})", DOMAINS.join(", "))));
        }
    }
    Ok(p)
}

/// Letter for option `i`.
pub fn letter(i: usize) -> String {
    char::from(b'A' + i as u8).to_string()
}

/// Question text, correct value, and wrong values (most tempting first).
fn fact(domain: &str, d: f64, rng: &mut Rng) -> (String, i64, Vec<i64>) {
    let mut scale = |lo: i64, hi: i64| lo + rng.below((hi - lo + 1) as u64) as i64;
    match domain {
        "sequences" => {
            let start = scale(1, 20);
            let step = scale(2, 3 + (d * 12.0) as i64);
            let len = 4;
            let geometric = d > 0.6 && rng.chance(0.5);
            let terms: Vec<i64> = (0..=len)
                .map(|i| if geometric { start * (2i64.pow(i as u32)) } else { start + step * i as i64 })
                .collect();
            let shown: Vec<String> = terms[..len].iter().map(|t| t.to_string()).collect();
            let truth = terms[len];
            let lure = if geometric { terms[len - 1] + (terms[len - 1] - terms[len - 2]) } else { truth + 1 };
            (format!("What comes next: {}, ?", shown.join(", ")), truth, vec![lure, truth - step, truth + step, truth + 2 * step])
        }
        "units" => {
            let h = scale(1, 2 + (d * 20.0) as i64);
            let m = scale(1, 59);
            let truth = h * 60 + m;
            (format!("How many minutes are in {h} hours and {m} minutes?"), truth, vec![h * 100 + m, truth - 60, truth + 60, h * 60 - m])
        }
        "logic" => {
            let n = scale(10, 20 + (d * 80.0) as i64);
            let k = scale(2, 4 + (d * 5.0) as i64);
            let truth = n / k;
            (
                format!("How many whole boxes of {k} can be filled from {n} eggs?"),
                truth,
                vec![truth + 1, truth - 1, n % k + truth + 2, truth * 2],
            )
        }
        _ => {
            let digits = if d < 0.3 { 1 } else if d < 0.7 { 2 } else { 3 };
            let hi = 10i64.pow(digits) - 1;
            let a = scale(2, hi.max(3));
            let b = scale(2, 9 + (d * 40.0) as i64);
            let truth = a * b;
            // Forgetting a carry is the classic slip: off by a power of ten.
            (format!("What is {a} × {b}?"), truth, vec![truth + 10, truth - 10, truth + b, truth - a])
        }
    }
}

impl TaskKind for MultipleChoice {
    fn name(&self) -> &'static str {
        "multiple_choice"
    }

    fn validate(&self, params: &Value) -> Result<(), ScenarioError> {
        parse(params).map(|_| ())
    }

    fn generate(&self, params: &Value, rng: &mut Rng, _n_agents: usize) -> TaskInstance {
        let p = parse(params).expect("validated");
        let difficulty = draw_difficulty(rng, p.difficulty.difficulty, p.difficulty.difficulty_range);
        let domains: Vec<&str> = if p.domains.is_empty() { DOMAINS.to_vec() } else { p.domains.iter().map(String::as_str).collect() };
        let domain = domains[rng.index(domains.len())];
        let k = p.options.unwrap_or(4) as usize;
        let (text, truth, wrong) = fact(domain, difficulty, rng);
        // Distinct wrong values, lure first.
        let mut values = vec![truth];
        for w in wrong {
            if values.len() < k && !values.contains(&w) {
                values.push(w);
            }
        }
        let mut extra = 1;
        while values.len() < k {
            let w = truth + 3 * extra + 1;
            if !values.contains(&w) {
                values.push(w);
            }
            extra += 1;
        }
        let mut order: Vec<usize> = (0..k).collect();
        rng.shuffle(&mut order);
        // order[pos] = index into values shown at position pos.
        let options: Vec<String> = order.iter().map(|&vi| values[vi].to_string()).collect();
        let pos_of = |vi: usize| order.iter().position(|&x| x == vi).expect("permutation");
        let truth_letter = letter(pos_of(0));
        let distractors: Vec<String> = (1..k).map(|vi| letter(pos_of(vi))).collect();
        let main = Problem {
            text: format!("{text} ({domain})"),
            options,
            format: "option".into(),
            domain: domain.into(),
            truth: truth_letter,
            difficulty,
            distractors,
            lure: lure_for(difficulty),
        };
        TaskInstance { kind: self.name().into(), main, structure: Structure::Single, parts: vec![], steps: vec![], start: 0 }
    }
}
