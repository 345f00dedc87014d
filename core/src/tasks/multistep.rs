//! Multi-step numeric tasks for the architectures study.
//!
//! - `parallel`: independent sub-problems whose results are summed. Each part comes with
//!   its own working material (a short ledger to read the operands from), so holding
//!   every part in one context is a long context.
//! - `sequential`: a chain; each step transforms the previous result, and some steps also
//!   add the result of an earlier step (a long link, with probability `links`). Whoever
//!   does such a step needs that earlier result at hand: a single agent holds all of them,
//!   a team has only what its hand-off messages carried.

use serde::Deserialize;
use serde_json::Value;

use super::{Derivation, DifficultyParams, Problem, Step, Structure, TaskInstance, TaskKind, check_difficulty, check_optional, draw_difficulty, lure_for, op_word};
use crate::rng::Rng;
use crate::spec::{ScenarioError, check_unit, parse_params};

pub struct MultiStep;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(flatten)]
    difficulty: DifficultyParams,
    #[serde(default)]
    steps: Option<u32>,
    #[serde(default)]
    mode: Option<String>,
    /// Sequential: chance that a step (from the third on) also needs an earlier result.
    #[serde(default)]
    links: Option<f64>,
    /// Parallel: lines of working material per part (0 for bare questions).
    #[serde(default)]
    material: Option<u32>,
}

fn parse(params: &Value) -> Result<Params, ScenarioError> {
    let p: Params = parse_params("task", params)?;
    check_difficulty("task.params", p.difficulty.difficulty, p.difficulty.difficulty_range)?;
    check_optional("steps", p.steps, 1..=32)?;
    check_optional("material", p.material, 0..=40)?;
    if let Some(l) = p.links {
        check_unit("task.params.links", l)?;
    }
    if let Some(m) = &p.mode
        && m != "parallel"
        && m != "sequential"
    {
        return Err(ScenarioError(format!("task.params.mode \"{m}\" is not parallel or sequential")));
    }
    Ok(p)
}

const DEFAULT_LINKS: f64 = 0.5;
const DEFAULT_MATERIAL: u32 = 8;

pub(super) fn sym(op: char) -> char {
    if op == '*' { '×' } else { op }
}

/// The worked step `x op r = y`, and the slips that give wrong results: the wrong
/// operation, an off-by-one, a carry slip. Returns (truth, sound steps, wrong results).
pub(super) fn worked(x: i64, op: char, r: i64) -> (i64, Vec<String>, Vec<(i64, Vec<String>, usize)>) {
    let y = Step { op, left: x, right: r, link: None }.apply(x);
    let line = |v: i64| format!("{x} {} {r} = {v}", sym(op));
    let wrong_op = match op {
        '*' => x.saturating_add(r),
        '+' => x.saturating_sub(r),
        _ => x.saturating_add(r),
    };
    let other = match op {
        '*' => '+',
        '+' => '-',
        _ => '+',
    };
    let wrong = vec![
        (wrong_op, vec![format!("{x} {} {r} = {wrong_op}", sym(other))], 0),
        (y + 1, vec![line(y + 1)], 0),
        (y - 1, vec![line(y - 1)], 0),
        (y + 10, vec![line(y + 10)], 0),
    ];
    (y, vec![line(y)], wrong)
}

/// A problem from worked steps: `truth` with its sound steps, the distinct wrong results.
pub(super) fn problem(text: String, difficulty: f64, truth: i64, steps: Vec<String>, wrong: Vec<(i64, Vec<String>, usize)>) -> Problem {
    let mut seen = vec![truth];
    let mut derivations = vec![Derivation::sound(truth.to_string(), steps)];
    for (v, st, flaw) in wrong {
        if !seen.contains(&v) {
            seen.push(v);
            derivations.push(Derivation::flawed(v.to_string(), st, flaw));
        }
    }
    Problem {
        text,
        options: vec![],
        format: "number".into(),
        domain: "math".into(),
        truth: truth.to_string(),
        difficulty,
        distractors: seen[1..].iter().map(i64::to_string).collect(),
        lure: lure_for(difficulty),
        derivations,
    }
}

/// Step `i` of a sequential task for a solver holding `x` (and `linked`, the earlier
/// result a linked step adds). Its truth is the right result for what the solver holds.
pub(crate) fn step_problem(t: &TaskInstance, i: usize, step: &Step, x: i64, linked: Option<i64>) -> Problem {
    let (y, mut steps, mut wrong) = worked(x, step.op, step.right);
    let mut text = format!("Step {}: take {x} and {} {}", i + 1, op_word(step.op), step.right);
    let truth = match (step.link, linked) {
        (Some(j), Some(v)) => {
            text.push_str(&format!(", then add the result of step {}, which was {v}", j + 1));
            let z = y.saturating_add(v);
            steps.push(format!("{y} + {v} = {z}"));
            for w in wrong.iter_mut() {
                w.0 = w.0.saturating_add(v);
                w.1.push(format!("{} + {v} = {}", w.0 - v, w.0));
            }
            // Forgetting the earlier result is the tempting slip here.
            wrong.insert(0, (y, vec![steps[0].clone(), format!("nothing else to add: {y}")], 1));
            z
        }
        _ => y,
    };
    text.push_str(". What is the result?");
    problem(text, t.main.difficulty, truth, steps, wrong)
}

/// A few lines of records to read a part's operands from (what a tool would return).
fn material(rng: &mut Rng, lines: u32, a: i64, b: i64, part: usize) -> String {
    if lines == 0 {
        return String::new();
    }
    let key = rng.index(lines as usize);
    let mut out = Vec::with_capacity(lines as usize);
    for k in 0..lines as usize {
        let (x, y) = if k == key { (a, b) } else { (1 + rng.below(90) as i64, 1 + rng.below(9) as i64) };
        let tag = if k == key { format!("P{}", part + 1) } else { format!("R{}", 10 + rng.below(80)) };
        out.push(format!("{tag}: base {x}, factor {y}"));
    }
    format!(" Records: {}.", out.join("; "))
}

impl TaskKind for MultiStep {
    fn name(&self) -> &'static str {
        "multistep"
    }

    fn validate(&self, params: &Value) -> Result<(), ScenarioError> {
        parse(params).map(|_| ())
    }

    fn generate(&self, params: &Value, rng: &mut Rng, _n_agents: usize) -> TaskInstance {
        let p = parse(params).expect("validated");
        let difficulty = draw_difficulty(rng, p.difficulty.difficulty, p.difficulty.difficulty_range);
        let m = p.steps.unwrap_or(4) as usize;
        let sequential = p.mode.as_deref() == Some("sequential");
        let big = 5 + (difficulty * 30.0) as u64;
        let links = p.links.unwrap_or(DEFAULT_LINKS);
        let mut steps = Vec::with_capacity(m);
        for i in 0..m {
            let op = match rng.below(3) {
                0 => '+',
                1 => '-',
                _ => '*',
            };
            let right = if op == '*' { 2 + rng.below(3) as i64 } else { 1 + rng.below(big) as i64 };
            let link = (sequential && i >= 2 && rng.chance(links)).then(|| rng.index(i - 1));
            steps.push(Step { op, left: 1 + rng.below(big) as i64, right, link });
        }
        let start = 1 + rng.below(big) as i64;
        let mut t = TaskInstance {
            kind: self.name().into(),
            main: problem(String::new(), difficulty, 0, vec![], vec![]),
            structure: if sequential { Structure::Sequential } else { Structure::Parallel },
            parts: vec![],
            steps,
            start,
            grid: None,
            deps: vec![],
        };
        if sequential {
            let chain = t.chain();
            let mut x = start;
            for i in 0..m {
                let step = t.steps[i].clone();
                let part = step_problem(&t, i, &step, x, step.link.map(|j| chain[j]));
                t.parts.push(part);
                x = chain[i];
            }
            let described: Vec<String> = t
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let link = s.link.map(|j| format!(" and add the result of step {}", j + 1)).unwrap_or_default();
                    format!("({}) {} {}{link}", i + 1, op_word(s.op), s.right)
                })
                .collect();
            let truth = *chain.last().expect("at least one step");
            let text = format!("Start from {start}, then in order: {}. What is the final result?", described.join(", "));
            let steps = vec![format!("working through the {m} steps gives {truth}")];
            let wrong = vec![(truth + 1, vec![format!("working through the {m} steps gives {}", truth + 1)], 0), (truth - 1, vec![format!("working through the {m} steps gives {}", truth - 1)], 0), (truth + 10, vec![format!("working through the {m} steps gives {}", truth + 10)], 0)];
            t.main = problem(text, difficulty, truth, steps, wrong);
        } else {
            let lines = p.material.unwrap_or(DEFAULT_MATERIAL);
            let mut total = 0i64;
            for (i, s) in t.steps.clone().iter().enumerate() {
                let (y, st, wrong) = worked(s.left, s.op, s.right);
                total += y;
                let records = material(rng, lines, s.left, s.right, i);
                let text = format!("Part {}: take the base of record P{} and {} its factor.{records}", i + 1, i + 1, op_word(s.op));
                let mut st = st;
                st.insert(0, format!("record P{}: base {}, factor {}", i + 1, s.left, s.right));
                let record = st[0].clone();
                let wrong = wrong
                    .into_iter()
                    .map(|(v, mut w, f)| {
                        w.insert(0, record.clone());
                        (v, w, f + 1)
                    })
                    .collect();
                t.parts.push(problem(text, difficulty, y, st, wrong));
            }
            let list: Vec<String> = t.parts.iter().map(|p| p.text.clone()).collect();
            let text = format!("Solve every part and add the results. {}", list.join(" "));
            let parts: Vec<String> = t.parts.iter().map(|p| p.truth.clone()).collect();
            let steps = vec![format!("{} = {total}", parts.join(" + "))];
            let wrong = vec![(total + 1, vec![format!("{} = {}", parts.join(" + "), total + 1)], 0), (total - 1, vec![format!("{} = {}", parts.join(" + "), total - 1)], 0), (total + 10, vec![format!("{} = {}", parts.join(" + "), total + 10)], 0)];
            t.main = problem(text, difficulty, total, steps, wrong);
        }
        t
    }
}
