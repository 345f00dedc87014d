//! Arithmetic word problems with exact numeric answers.
//!
//! Two to four operations on small quantities in a short story; harder items use more
//! operations and bigger numbers. Distractors are the results of typical slips (skipping
//! the last operation, adding instead of multiplying).

use serde::Deserialize;
use serde_json::Value;

use super::{Derivation, DifficultyParams, Problem, Structure, TaskInstance, TaskKind, check_difficulty, draw_difficulty, lure_for};
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
        let bought = bags * per_bag;
        let mut text = format!("{who} has {start} {what}. {who} buys {bags} bags with {per_bag} {what} each, then gives away {given}");
        let have = start + bought;
        let left = have - given;
        let mut steps = vec![
            format!("{bags} bags × {per_bag} = {bought} {what} bought"),
            format!("{start} + {bought} = {have}"),
            format!("{have} − {given} = {left}"),
        ];
        // Typical slips: stopping one step short (the lure), adding the bag count instead of
        // multiplying, and an off-by-one in the last step.
        let slip_add = start + bags + per_bag - given;
        let mut wrong: Vec<(i64, Vec<String>, usize)> = vec![(
            slip_add,
            vec![format!("{bags} bags and {per_bag} each: {start} + {bags} + {per_bag} = {}", start + bags + per_bag), format!("{} − {given} = {slip_add}", start + bags + per_bag)],
            0,
        )];
        let value = if difficulty > 0.5 {
            let friends = 2 + rng.below(3) as i64;
            let share = left / friends;
            text.push_str(&format!(" and shares the rest equally among {friends} friends, keeping the remainder aside. How many {what} does each friend get?"));
            steps.push(format!("{left} ÷ {friends} = {share} each (remainder {})", left % friends));
            let mut short = steps.clone();
            short[3] = format!("each friend gets what is left: {left}");
            wrong.insert(0, (left, short, 3));
            share
        } else {
            text.push_str(&format!(". How many {what} does {who} have now?"));
            let mut short = steps.clone();
            short[2] = format!("{who} still has {have}");
            wrong.insert(0, (have, short, 2));
            left
        };
        let last = steps.len() - 1;
        for delta in [1i64, -1] {
            let mut off = steps.clone();
            off[last] = off[last].replacen(&format!("= {value}"), &format!("= {}", value + delta), 1);
            wrong.push((value + delta, off, last));
        }
        wrong.retain(|(v, _, _)| *v != value);
        let mut seen = vec![value];
        wrong.retain(|(v, _, _)| if seen.contains(v) { false } else { seen.push(*v); true });
        let derivations = std::iter::once(Derivation::sound(value.to_string(), steps))
            .chain(wrong.iter().map(|(v, st, f)| Derivation::flawed(v.to_string(), st.clone(), *f)))
            .collect();
        let main = Problem {
            text,
            options: vec![],
            format: "number".into(),
            domain: "math".into(),
            truth: value.to_string(),
            difficulty,
            distractors: wrong.iter().map(|(v, _, _)| v.to_string()).collect(),
            lure: lure_for(difficulty),
            derivations,
        };
        TaskInstance { kind: self.name().into(), main, structure: Structure::Single, parts: vec![], steps: vec![], start: 0, grid: None, deps: vec![] }
    }
}
