//! Arithmetic word problems with exact numeric answers.
//!
//! Two to four operations on small quantities in a short story; harder items use more
//! operations and bigger numbers. Distractors are the results of typical slips (skipping
//! the last operation, adding instead of multiplying).

use serde::Deserialize;
use serde_json::Value;

use super::{DifficultyParams, Problem, Structure, TaskInstance, TaskKind, check_difficulty, draw_difficulty, lure_for};
use crate::rng::Rng;
use crate::spec::{ScenarioError, parse_params};

pub struct Arithmetic;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(flatten)]
    difficulty: DifficultyParams,
}

const NAMES: &[&str] = &["Ana", "Bo", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana"];
const THINGS: &[&str] = &["apples", "stamps", "marbles", "books", "coins", "shells"];

impl TaskKind for Arithmetic {
    fn name(&self) -> &'static str {
        "arithmetic"
    }

    fn validate(&self, params: &Value) -> Result<(), ScenarioError> {
        let p: Params = parse_params("task", params)?;
        check_difficulty("task.params", p.difficulty.difficulty, p.difficulty.difficulty_range)
    }

    fn generate(&self, params: &Value, rng: &mut Rng, _n_agents: usize) -> TaskInstance {
        let p: Params = parse_params("task", params).expect("validated");
        let difficulty = draw_difficulty(rng, p.difficulty.difficulty, p.difficulty.difficulty_range);
        let who = NAMES[rng.index(NAMES.len())];
        let what = THINGS[rng.index(THINGS.len())];
        let big = 5 + (difficulty * 40.0) as u64;
        let start = 3 + rng.below(big) as i64;
        let bags = 2 + rng.below(2 + (difficulty * 6.0) as u64) as i64;
        let per_bag = 2 + rng.below(big / 2 + 2) as i64;
        let given = 1 + rng.below(start as u64) as i64;
        let mut text = format!("{who} has {start} {what}. {who} buys {bags} bags with {per_bag} {what} each");
        let mut value = start + bags * per_bag;
        let slip_add = start + bags + per_bag;
        let mut before_last = value;
        text.push_str(&format!(", then gives away {given}"));
        value -= given;
        let mut lure = before_last;
        if difficulty > 0.5 {
            let friends = 2 + rng.below(3) as i64;
            before_last = value;
            // Keep the division exact.
            let share = value / friends;
            value = share;
            text.push_str(&format!(" and shares the rest equally among {friends} friends, keeping any left over"));
            text = text.replace("keeping any left over", "keeping the remainder aside");
            lure = before_last;
            text.push_str(&format!(". How many {what} does each friend get?"));
        } else {
            text.push_str(&format!(". How many {what} does {who} have now?"));
        }
        let mut distractors = vec![lure.to_string(), (slip_add - given).to_string(), (value + 1).to_string(), (value - 1).to_string()];
        distractors = super::unique_wrong(distractors, &value.to_string());
        let main = Problem {
            text,
            options: vec![],
            format: "number".into(),
            domain: "math".into(),
            truth: value.to_string(),
            difficulty,
            distractors,
            lure: lure_for(difficulty),
        };
        TaskInstance { kind: self.name().into(), main, structure: Structure::Single, parts: vec![], steps: vec![], start: 0 }
    }
}
