//! Grid moves for the multi-robot study: each robot on a small grid must take the first
//! step of a shortest path to its box, without stepping onto another robot. One part per
//! robot (parallel); the plan succeeds only if every robot's move is right.

use serde::Deserialize;
use serde_json::Value;

use super::{DifficultyParams, Problem, Structure, TaskInstance, TaskKind, check_difficulty, check_optional, draw_difficulty, lure_for};
use crate::rng::Rng;
use crate::spec::{ScenarioError, parse_params};

pub struct GridMoves;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    #[serde(flatten)]
    difficulty: DifficultyParams,
    /// Robots (default: one per agent).
    #[serde(default)]
    robots: Option<u32>,
    #[serde(default)]
    size: Option<u32>,
}

fn parse(params: &Value) -> Result<Params, ScenarioError> {
    let p: Params = parse_params("task", params)?;
    check_difficulty("task.params", p.difficulty.difficulty, p.difficulty.difficulty_range)?;
    check_optional("robots", p.robots, 1..=64)?;
    check_optional("size", p.size, 3..=32)?;
    Ok(p)
}

const MOVES: [&str; 5] = ["up", "down", "left", "right", "stay"];

impl TaskKind for GridMoves {
    fn name(&self) -> &'static str {
        "grid"
    }

    fn validate(&self, params: &Value) -> Result<(), ScenarioError> {
        parse(params).map(|_| ())
    }

    fn generate(&self, params: &Value, rng: &mut Rng, n_agents: usize) -> TaskInstance {
        let p = parse(params).expect("validated");
        let difficulty = draw_difficulty(rng, p.difficulty.difficulty, p.difficulty.difficulty_range);
        let robots = p.robots.map(|r| r as usize).unwrap_or(n_agents.clamp(1, 64));
        let size = p.size.unwrap_or((2 * robots as u32).clamp(4, 32)) as i64;
        let mut taken: Vec<(i64, i64)> = Vec::new();
        let free_cell = |rng: &mut Rng, taken: &mut Vec<(i64, i64)>| loop {
            let c = (rng.below(size as u64) as i64, rng.below(size as u64) as i64);
            if !taken.contains(&c) {
                taken.push(c);
                return c;
            }
        };
        let robot_pos: Vec<(i64, i64)> = (0..robots).map(|_| free_cell(rng, &mut taken)).collect();
        let box_pos: Vec<(i64, i64)> = (0..robots).map(|_| free_cell(rng, &mut taken)).collect();
        let mut parts = Vec::with_capacity(robots);
        let mut truths = Vec::with_capacity(robots);
        for r in 0..robots {
            let (x, y) = robot_pos[r];
            let (bx, by) = box_pos[r];
            // Preferred axis: the longer distance first; blocked cells force the other axis.
            let horiz = if bx > x { "right" } else { "left" };
            let vert = if by > y { "down" } else { "up" };
            let step = |m: &str| match m {
                "right" => (x + 1, y),
                "left" => (x - 1, y),
                "down" => (x, y + 1),
                _ => (x, y - 1),
            };
            let mut prefs: Vec<&str> = Vec::new();
            if (bx - x).abs() >= (by - y).abs() {
                if bx != x { prefs.push(horiz); }
                if by != y { prefs.push(vert); }
            } else {
                if by != y { prefs.push(vert); }
                if bx != x { prefs.push(horiz); }
            }
            let truth = prefs
                .iter()
                .copied()
                .find(|m| !robot_pos.contains(&step(m)) || step(m) == (bx, by))
                .unwrap_or("stay");
            let lure = prefs.iter().copied().find(|m| *m != truth).unwrap_or(if truth == "stay" { "up" } else { "stay" });
            let mut distractors = vec![lure.to_string()];
            distractors.extend(MOVES.iter().filter(|m| **m != truth && **m != lure).map(|m| m.to_string()));
            truths.push(truth.to_string());
            parts.push(Problem {
                text: format!(
                    "Robot {} is at ({x},{y}) and its box is at ({bx},{by}); other robots block their cells. Which move first?",
                    r + 1
                ),
                options: MOVES.iter().map(|m| m.to_string()).collect(),
                format: "text".into(),
                domain: "planning".into(),
                truth: truth.to_string(),
                difficulty,
                distractors,
                lure: lure_for(difficulty),
                derivations: vec![],
            });
        }
        let main = Problem {
            text: format!("Plan the first move of each of {robots} robots on a {size}×{size} grid."),
            options: vec![],
            format: "text".into(),
            domain: "planning".into(),
            truth: truths.join(","),
            difficulty,
            distractors: {
                let mut wrong = truths.clone();
                wrong[0] = parts[0].distractors[0].clone();
                vec![wrong.join(",")]
            },
            lure: lure_for(difficulty),
            derivations: vec![],
        };
        TaskInstance { kind: self.name().into(), main, structure: Structure::Parallel, parts, steps: vec![], start: 0 }
    }
}
