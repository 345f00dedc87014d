//! Multiple-choice questions with a difficulty, generated from number facts so that the
//! ground truth is exact and an LLM can genuinely answer them too.
//!
//! Answers are option letters (`A`..). Difficulty sets both the simulated agents' odds
//! and the size of the numbers in the text; the lure is the option built from the most
//! common slip (a carry error, an off-by-one step).

use serde::Deserialize;
use serde_json::Value;

use super::{DifficultyParams, Problem, Structure, TaskInstance, TaskKind, check_difficulty, check_optional, draw_difficulty, lettered, lure_for};
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

/// A generated number fact: the question, the right value with its worked steps, and the
/// wrong values (most tempting first) with the slip that produces each.
struct Fact {
    text: String,
    truth: i64,
    steps: Vec<String>,
    /// (value, steps, index of the wrong step)
    wrong: Vec<(i64, Vec<String>, usize)>,
}

fn fact(domain: &str, d: f64, rng: &mut Rng) -> Fact {
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
            let (last, prev) = (terms[len - 1], terms[len - 2]);
            let truth = terms[len];
            let text = format!("What comes next: {}, ?", shown.join(", "));
            if geometric {
                let gap = last - prev;
                Fact {
                    text,
                    truth,
                    steps: vec!["each term is double the one before".into(), format!("{last} × 2 = {truth}")],
                    wrong: vec![
                        (last + gap, vec![format!("the last gap is {gap}, so the terms go up by {gap}"), format!("{last} + {gap} = {}", last + gap)], 0),
                        (truth - step, vec!["each term is double the one before".into(), format!("{last} × 2 = {}", truth - step)], 1),
                        (truth + step, vec!["each term is double the one before".into(), format!("{last} × 2 = {}", truth + step)], 1),
                        (truth + 2 * step, vec!["each term is double the one before".into(), format!("{last} × 2 = {}", truth + 2 * step)], 1),
                    ],
                }
            } else {
                let rule = format!("the terms go up by {step} each time");
                Fact {
                    text,
                    truth,
                    steps: vec![rule.clone(), format!("{last} + {step} = {truth}")],
                    wrong: vec![
                        (truth + 1, vec![rule.clone(), format!("{last} + {step} = {}", truth + 1)], 1),
                        (truth - step, vec![format!("the terms go up by {step}, and {last} is the next one"), format!("the answer is {last}")], 0),
                        (truth + step, vec![rule.clone(), format!("{last} + {} = {}", 2 * step, truth + step)], 1),
                        (truth + 2 * step, vec![format!("the terms go up by {}", 2 * step), format!("{last} + {} = {}", 3 * step, truth + 2 * step)], 0),
                    ],
                }
            }
        }
        "units" => {
            let h = scale(1, 2 + (d * 20.0) as i64);
            let m = scale(1, 59);
            let truth = h * 60 + m;
            let hours = |k: i64, per: i64| format!("{k} hours = {k} × {per} = {} minutes", k * per);
            Fact {
                text: format!("How many minutes are in {h} hours and {m} minutes?"),
                truth,
                steps: vec![hours(h, 60), format!("{} + {m} = {truth}", h * 60)],
                wrong: vec![
                    (h * 100 + m, vec![hours(h, 100), format!("{} + {m} = {}", h * 100, h * 100 + m)], 0),
                    (truth - 60, vec![format!("{h} hours = {} × 60 = {} minutes", h - 1, (h - 1) * 60), format!("{} + {m} = {}", (h - 1) * 60, truth - 60)], 0),
                    (truth + 60, vec![format!("{h} hours = {} × 60 = {} minutes", h + 1, (h + 1) * 60), format!("{} + {m} = {}", (h + 1) * 60, truth + 60)], 0),
                    (h * 60 - m, vec![hours(h, 60), format!("{} − {m} = {}", h * 60, h * 60 - m)], 1),
                ],
            }
        }
        "logic" => {
            let n = scale(10, 20 + (d * 80.0) as i64);
            let k = scale(2, 4 + (d * 5.0) as i64);
            let (q, r) = (n / k, n % k);
            let div = format!("{n} ÷ {k} = {q} remainder {r}");
            Fact {
                text: format!("How many whole boxes of {k} can be filled from {n} eggs?"),
                truth: q,
                steps: vec![div.clone(), format!("only whole boxes count: {q}")],
                wrong: vec![
                    (q + 1, vec![div.clone(), format!("the {r} left over need a box too: {}", q + 1)], 1),
                    (q - 1, vec![format!("{n} ÷ {k} = {} remainder {}", q - 1, r + k), format!("only whole boxes count: {}", q - 1)], 0),
                    (r + q + 2, vec![div.clone(), format!("{q} boxes plus {} more: {}", r + 2, r + q + 2)], 1),
                    (q * 2, vec![format!("{n} ÷ {} = {}", (k / 2).max(1), q * 2), format!("only whole boxes count: {}", q * 2)], 0),
                ],
            }
        }
        _ => {
            let digits = if d < 0.3 { 1 } else if d < 0.7 { 2 } else { 3 };
            let hi = 10i64.pow(digits) - 1;
            let a = scale(2, hi.max(3));
            let b = scale(2, 9 + (d * 40.0) as i64);
            let truth = a * b;
            let (tens, ones) = (a / 10 * 10, a % 10);
            // The written method: split a into tens and ones. Forgetting a carry is the
            // classic slip (off by ten), then an extra or a missing group.
            let split = |o: i64| format!("{a} × {b} = {tens} × {b} + {o} × {b}");
            let worked = |o: i64, sum: i64| {
                if tens == 0 {
                    vec![format!("{a} × {b} = {sum}")]
                } else {
                    vec![split(o), format!("{tens} × {b} = {}", tens * b), format!("{o} × {b} = {}", o * b), format!("{} + {} = {sum}", tens * b, o * b)]
                }
            };
            let last = if tens == 0 { 0 } else { 3 };
            let mut extra = worked(ones + 1, truth + b);
            extra[0] = if tens == 0 { format!("{a} × {b} = {} × {b} = {}", a + 1, truth + b) } else { extra[0].clone() };
            Fact {
                text: format!("What is {a} × {b}?"),
                truth,
                steps: worked(ones, truth),
                wrong: vec![
                    (truth + 10, worked(ones, truth + 10), last),
                    (truth - 10, worked(ones, truth - 10), last),
                    (truth + b, extra, 0),
                    (truth - a, vec![format!("{a} × {b} = {a} × {} = {}", b - 1, truth - a)], 0),
                ],
            }
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
        let f = fact(domain, difficulty, rng);
        let truth = f.truth;
        // Distinct wrong values, lure first.
        let mut values = vec![truth];
        for (w, _, _) in &f.wrong {
            if values.len() < k && !values.contains(w) {
                values.push(*w);
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
        // Derivations in the order shown (the letters follow the shuffled options).
        let shown: Vec<i64> = order.iter().map(|&vi| values[vi]).collect();
        let worked = std::iter::once((truth, f.steps.clone(), None))
            .chain(f.wrong.iter().map(|(v, steps, flaw)| (*v, steps.clone(), Some(*flaw))))
            .collect();
        let main = Problem {
            text: format!("{} ({domain})", f.text),
            options,
            format: "option".into(),
            domain: domain.into(),
            truth: truth_letter,
            difficulty,
            distractors,
            lure: lure_for(difficulty),
            derivations: lettered(worked, &shown),
        };
        TaskInstance { kind: self.name().into(), main, structure: Structure::Single, parts: vec![], steps: vec![], start: 0, grid: None, deps: vec![] }
    }
}
