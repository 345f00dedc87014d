//! Multi-step numeric tasks for the architectures study: `parallel` (independent
//! sub-problems whose results are summed) or `sequential` (each step transforms the
//! previous result, so one slip corrupts everything after it).

use serde::Deserialize;
use serde_json::Value;

use super::{DifficultyParams, Problem, Step, Structure, TaskInstance, TaskKind, check_difficulty, check_optional, draw_difficulty, lure_for, op_word, unique_wrong};
use crate::rng::Rng;
use crate::spec::{ScenarioError, parse_params};

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
}

fn parse(params: &Value) -> Result<Params, ScenarioError> {
    let p: Params = parse_params("task", params)?;
    check_difficulty("task.params", p.difficulty.difficulty, p.difficulty.difficulty_range)?;
    check_optional("steps", p.steps, 1..=32)?;
    if let Some(m) = &p.mode
        && m != "parallel" && m != "sequential" {
            return Err(ScenarioError(format!("task.params.mode \"{m}\" is not parallel or sequential")));
        }
    Ok(p)
}

/// Wrong results a step typically produces: wrong operation, off by one, sign slip.
pub(crate) fn numeric_distractors(truth: i64, input: i64, step: &Step) -> Vec<String> {
    let wrong_op = match step.op {
        '*' => input.saturating_add(step.right),
        '+' => input.saturating_sub(step.right),
        _ => input.saturating_add(step.right),
    };
    unique_wrong(
        vec![wrong_op.to_string(), (truth + 1).to_string(), (truth - 1).to_string(), (truth + 10).to_string()],
        &truth.to_string(),
    )
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
        let mut steps = Vec::with_capacity(m);
        for _ in 0..m {
            let op = match rng.below(3) {
                0 => '+',
                1 => '-',
                _ => '*',
            };
            let right = if op == '*' { 2 + rng.below(3) as i64 } else { 1 + rng.below(big) as i64 };
            steps.push(Step { op, left: 1 + rng.below(big) as i64, right });
        }
        let start = 1 + rng.below(big) as i64;
        let mut parts = Vec::with_capacity(m);
        let main_truth;
        let main_text;
        if sequential {
            let mut x = start;
            for (i, s) in steps.iter().enumerate() {
                let y = s.apply(x);
                parts.push(Problem {
                    text: format!("Step {}: take {x} and {} {}. What is the result?", i + 1, op_word(s.op), s.right),
                    options: vec![],
                    format: "number".into(),
                    domain: "math".into(),
                    truth: y.to_string(),
                    difficulty,
                    distractors: numeric_distractors(y, x, s),
                    lure: lure_for(difficulty),
                    derivations: vec![],
                });
                x = y;
            }
            main_truth = x;
            let chain: Vec<String> = steps.iter().map(|s| format!("{} {}", op_word(s.op), s.right)).collect();
            main_text = format!("Start from {start}, then in order: {}. What is the final result?", chain.join(", then "));
        } else {
            let mut total = 0i64;
            for (i, s) in steps.iter().enumerate() {
                let y = s.apply(s.left);
                total += y;
                let sym = if s.op == '*' { '×' } else { s.op };
                parts.push(Problem {
                    text: format!("Part {}: what is {} {sym} {}?", i + 1, s.left, s.right),
                    options: vec![],
                    format: "number".into(),
                    domain: "math".into(),
                    truth: y.to_string(),
                    difficulty,
                    distractors: numeric_distractors(y, s.left, s),
                    lure: lure_for(difficulty),
                    derivations: vec![],
                });
            }
            main_truth = total;
            let list: Vec<String> = parts.iter().map(|p| p.text.clone()).collect();
            main_text = format!("Solve every part and add the results. {}", list.join(" "));
        }
        let main = Problem {
            text: main_text,
            options: vec![],
            format: "number".into(),
            domain: "math".into(),
            truth: main_truth.to_string(),
            difficulty,
            distractors: unique_wrong(
                vec![(main_truth + 1).to_string(), (main_truth - 1).to_string(), (main_truth + 10).to_string()],
                &main_truth.to_string(),
            ),
            lure: lure_for(difficulty),
            derivations: vec![],
        };
        TaskInstance {
            kind: self.name().into(),
            main,
            structure: if sequential { Structure::Sequential } else { Structure::Parallel },
            parts,
            steps,
            start,
        }
    }
}
