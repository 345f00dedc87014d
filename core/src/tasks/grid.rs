//! A grid world for the multi-robot study: robots on a square grid must each reach their
//! own target; no two robots may share a cell or swap places. A plan is made one time step
//! at a time (one move per robot), the moves are executed together, and collisions leave
//! the colliding robots where they were.
//!
//! Each move decision is a `Problem` built for the decider's picture of the world
//! ([`move_problem`]): where the robot is, where it must go, which other robots the
//! decider can see and which moves it knows they will make. Its truth is the best move for
//! that picture (a shortest path around what it knows to be in the way), so a planner
//! that sees everything and a robot that sees only its neighbourhood can both be right by
//! their own lights and still collide.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Derivation, DifficultyParams, Problem, Structure, TaskInstance, TaskKind, check_difficulty, check_optional, draw_difficulty, lure_for};
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

/// Most robots a grid task may have.
pub const MAX_ROBOTS: u32 = 24;

fn parse(params: &Value) -> Result<Params, ScenarioError> {
    let p: Params = parse_params("task", params)?;
    check_difficulty("task.params", p.difficulty.difficulty, p.difficulty.difficulty_range)?;
    check_optional("robots", p.robots, 1..=MAX_ROBOTS)?;
    check_optional("size", p.size, 3..=24)?;
    if let (Some(r), Some(s)) = (p.robots, p.size)
        && 2 * r > s * s
    {
        return Err(ScenarioError(format!("task.params: {r} robots do not fit twice on a {s}×{s} grid")));
    }
    Ok(p)
}

pub type Cell = (i64, i64);

/// The moves a robot can make.
pub const MOVES: [&str; 5] = ["right", "left", "down", "up", "stay"];

pub fn step_of(m: &str) -> Cell {
    match m {
        "right" => (1, 0),
        "left" => (-1, 0),
        "down" => (0, 1),
        "up" => (0, -1),
        _ => (0, 0),
    }
}

fn add(a: Cell, d: Cell) -> Cell {
    (a.0 + d.0, a.1 + d.1)
}

/// The world: grid size, where each robot starts and where it must go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridWorld {
    pub size: i64,
    pub starts: Vec<Cell>,
    pub targets: Vec<Cell>,
    /// Time steps allowed (enough for the longest route with some detours).
    pub horizon: u32,
}

/// What a decider knows when it picks robot `robot`'s move.
pub struct Picture<'a> {
    pub world: &'a GridWorld,
    pub positions: &'a [Cell],
    pub robot: usize,
    /// Robots the decider can see (besides `robot`).
    pub visible: Vec<usize>,
    /// Moves it knows other robots will make this step.
    pub planned: &'a [(usize, &'a str)],
}

impl Picture<'_> {
    /// Cells the decider knows will be taken after this step by the robots it sees.
    fn taken(&self) -> Vec<Cell> {
        self.visible
            .iter()
            .map(|&o| match self.planned.iter().find(|(r, _)| *r == o) {
                Some((_, m)) => add(self.positions[o], step_of(m)),
                None => self.positions[o],
            })
            .collect()
    }

    fn inside(&self, c: Cell) -> bool {
        c.0 >= 0 && c.1 >= 0 && c.0 < self.world.size && c.1 < self.world.size
    }

    /// First move of a shortest path to the target around `blocked` (None: no path).
    fn route(&self, blocked: &[Cell]) -> Option<&'static str> {
        let (from, to) = (self.positions[self.robot], self.world.targets[self.robot]);
        if from == to {
            return Some("stay");
        }
        let n = self.world.size;
        let idx = |c: Cell| (c.1 * n + c.0) as usize;
        let mut first: Vec<Option<&'static str>> = vec![None; (n * n) as usize];
        let mut seen = vec![false; (n * n) as usize];
        let mut queue = std::collections::VecDeque::new();
        seen[idx(from)] = true;
        // Prefer the axis with more distance left, so routes are the natural ones.
        let (dx, dy) = ((to.0 - from.0).abs(), (to.1 - from.1).abs());
        let order: [&'static str; 4] = if dx >= dy { ["right", "left", "down", "up"] } else { ["down", "up", "right", "left"] };
        queue.push_back(from);
        while let Some(c) = queue.pop_front() {
            for m in order {
                let next = add(c, step_of(m));
                if !self.inside(next) || seen[idx(next)] || (blocked.contains(&next) && next != to) {
                    continue;
                }
                seen[idx(next)] = true;
                first[idx(next)] = first[idx(c)].or(Some(m));
                if next == to {
                    return first[idx(next)];
                }
                queue.push_back(next);
            }
        }
        None
    }
}

/// The move problem for `pic`: text as the decider sees the world, truth the best move
/// for that picture, the naive move that ignores the other robots as the lure.
pub fn move_problem(pic: &Picture, difficulty: f64) -> Problem {
    let r = pic.robot;
    let (pos, target) = (pic.positions[r], pic.world.targets[r]);
    let blocked = pic.taken();
    let truth = pic.route(&blocked).unwrap_or("stay");
    let naive = pic.route(&[]).unwrap_or("stay");
    let others: Vec<String> = pic
        .visible
        .iter()
        .map(|&o| {
            let plan = pic.planned.iter().find(|(x, _)| *x == o).map(|(_, m)| format!(" (moving {m})")).unwrap_or_default();
            format!("robot {} at ({},{}){plan}", o + 1, pic.positions[o].0, pic.positions[o].1)
        })
        .collect();
    let n = pic.world.size;
    let text = format!(
        "On a {n}×{n} grid (x to the right, y down), robot {} is at ({},{}) and must reach ({},{}). {}Which move now: right, left, down, up or stay?",
        r + 1,
        pos.0,
        pos.1,
        target.0,
        target.1,
        if others.is_empty() { "No other robot is in sight. ".to_string() } else { format!("In sight: {}. ", others.join("; ")) }
    );
    let head = format!("robot {} at ({},{}), target ({},{})", r + 1, pos.0, pos.1, target.0, target.1);
    let reason = |m: &str| -> String {
        if m == "stay" {
            if pos == target { "it is already there".into() } else { "every way forward is blocked this step".into() }
        } else {
            let c = add(pos, step_of(m));
            format!("({},{}) is free and on a shortest way round", c.0, c.1)
        }
    };
    let mut wrong: Vec<&str> = Vec::new();
    if naive != truth {
        wrong.push(naive);
    }
    wrong.extend(MOVES.iter().copied().filter(|m| *m != truth && *m != naive));
    let mut derivations = vec![Derivation::sound(truth, vec![head.clone(), reason(truth), format!("move {truth}")])];
    for (k, m) in wrong.iter().enumerate() {
        // The lure ignores what is in the way; the rest misread the geometry.
        let why = if k == 0 && *m == naive {
            let c = add(pos, step_of(m));
            format!("({},{}) looks free", c.0, c.1)
        } else {
            reason(m)
        };
        derivations.push(Derivation::flawed(*m, vec![head.clone(), why, format!("move {m}")], 1));
    }
    Problem {
        text,
        options: MOVES.iter().map(|m| m.to_string()).collect(),
        format: "text".into(),
        domain: "planning".into(),
        truth: truth.to_string(),
        difficulty,
        distractors: wrong.iter().map(|m| m.to_string()).collect(),
        lure: lure_for(difficulty),
        derivations,
    }
}

/// Robots within `radius` (Chebyshev distance) of `robot`.
pub fn near(positions: &[Cell], robot: usize, radius: i64) -> Vec<usize> {
    let p = positions[robot];
    (0..positions.len()).filter(|&o| o != robot && (positions[o].0 - p.0).abs().max((positions[o].1 - p.1).abs()) <= radius).collect()
}

/// Executes one step of moves together. A robot stays where it is when its move leaves the
/// grid, when another robot moves to the same cell, when it would swap places with
/// another, or when the cell it moves to stays occupied. Returns the new positions and
/// the robots that collided.
pub fn execute(world: &GridWorld, positions: &[Cell], moves: &[String]) -> (Vec<Cell>, Vec<usize>) {
    let n = positions.len();
    let mut want: Vec<Cell> = (0..n).map(|i| add(positions[i], step_of(&moves[i]))).collect();
    let mut blocked = vec![false; n];
    for i in 0..n {
        let c = want[i];
        if c.0 < 0 || c.1 < 0 || c.0 >= world.size || c.1 >= world.size {
            want[i] = positions[i];
            blocked[i] = true;
        }
    }
    // Same destination, or a swap: everyone involved stays.
    for i in 0..n {
        for j in (i + 1)..n {
            if want[i] == want[j] || (want[i] == positions[j] && want[j] == positions[i]) {
                blocked[i] = true;
                blocked[j] = true;
            }
        }
    }
    for i in 0..n {
        if blocked[i] {
            want[i] = positions[i];
        }
    }
    // Moving into a cell whose robot stays: blocked too (repeat until nothing changes).
    loop {
        let mut changed = false;
        for i in 0..n {
            if want[i] != positions[i] && (0..n).any(|j| j != i && want[j] == want[i]) {
                want[i] = positions[i];
                blocked[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let collided = (0..n).filter(|&i| blocked[i] && moves[i] != "stay").collect();
    (want, collided)
}

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
        let robots = p.robots.map(|r| r as usize).unwrap_or(n_agents.clamp(1, MAX_ROBOTS as usize));
        let size = i64::from(p.size.unwrap_or((robots as u32 + 4).clamp(5, 24)));
        let size = size.max(((2 * robots) as f64).sqrt().ceil() as i64 + 1);
        let mut taken: Vec<Cell> = Vec::new();
        let mut free_cell = |rng: &mut Rng| loop {
            let c = (rng.below(size as u64) as i64, rng.below(size as u64) as i64);
            if !taken.contains(&c) {
                taken.push(c);
                return c;
            }
        };
        let starts: Vec<Cell> = (0..robots).map(|_| free_cell(rng)).collect();
        let targets: Vec<Cell> = (0..robots).map(|_| free_cell(rng)).collect();
        let longest = starts.iter().zip(&targets).map(|(s, t)| (s.0 - t.0).abs() + (s.1 - t.1).abs()).max().unwrap_or(0);
        let world = GridWorld { size, starts: starts.clone(), targets, horizon: (longest + 4 + robots as i64 / 2) as u32 };
        let parts: Vec<Problem> =
            (0..robots).map(|r| move_problem(&Picture { world: &world, positions: &starts, robot: r, visible: (0..robots).filter(|&o| o != r).collect(), planned: &[] }, difficulty)).collect();
        let main = Problem {
            text: format!("Bring each of the {robots} robots on a {size}×{size} grid to its own target within {} steps, without two robots ever sharing a cell.", world.horizon),
            options: vec![],
            format: "text".into(),
            domain: "planning".into(),
            truth: "all arrived".into(),
            difficulty,
            distractors: vec!["not all arrived".into()],
            lure: lure_for(difficulty),
            derivations: vec![],
        };
        // Success is the outcome of executing plans, not a combination of part answers.
        TaskInstance { kind: self.name().into(), main, structure: Structure::Single, parts, steps: vec![], start: 0, grid: Some(world), deps: vec![] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> GridWorld {
        GridWorld { size: 5, starts: vec![(0, 0), (2, 0)], targets: vec![(4, 0), (0, 0)], horizon: 10 }
    }

    #[test]
    fn the_best_move_goes_round_what_the_decider_knows_is_in_the_way() {
        let w = world();
        let pos = vec![(0, 0), (1, 0)];
        let all = Picture { world: &w, positions: &pos, robot: 0, visible: vec![1], planned: &[] };
        assert_eq!(move_problem(&all, 0.5).truth, "down", "robot 2 blocks the way right");
        let blind = Picture { world: &w, positions: &pos, robot: 0, visible: vec![], planned: &[] };
        let p = move_problem(&blind, 0.5);
        assert_eq!(p.truth, "right", "a robot that cannot see robot 2 goes straight");
        let planned = [(1usize, "down")];
        let told = Picture { world: &w, positions: &pos, robot: 0, visible: vec![1], planned: &planned };
        assert_eq!(move_problem(&told, 0.5).truth, "right", "robot 2 will move out of the way");
        assert_eq!(move_problem(&all, 0.5).distractors[0], "right", "the naive move is the lure");
    }

    #[test]
    fn collisions_and_swaps_keep_robots_in_place() {
        let w = world();
        let pos = vec![(0, 0), (2, 0)];
        let (next, hit) = execute(&w, &pos, &["right".into(), "left".into()]);
        assert_eq!(next, vec![(0, 0), (2, 0)], "both wanted (1,0)");
        assert_eq!(hit, vec![0, 1]);
        let pos = vec![(0, 0), (1, 0)];
        let (next, _) = execute(&w, &pos, &["right".into(), "left".into()]);
        assert_eq!(next, pos, "no swapping");
        let (next, hit) = execute(&w, &pos, &["right".into(), "stay".into()]);
        assert_eq!((next, hit), (pos.clone(), vec![0]), "the cell stays occupied");
        let (next, hit) = execute(&w, &pos, &["right".into(), "right".into()]);
        assert_eq!((next, hit), (vec![(1, 0), (2, 0)], vec![]), "a train moves together");
    }

    #[test]
    fn every_generated_world_fits_and_is_seeded() {
        let spec = crate::spec::Spec::new("grid", serde_json::json!({"robots": 8}));
        for seed in 0..50 {
            let t = crate::tasks::generate(&spec, seed, 8);
            let w = t.grid.as_ref().unwrap();
            let mut cells = w.starts.clone();
            cells.extend(&w.targets);
            cells.sort();
            cells.dedup();
            assert_eq!(cells.len(), 16);
            assert!(cells.iter().all(|c| c.0 >= 0 && c.1 >= 0 && c.0 < w.size && c.1 < w.size));
            assert_eq!(t, crate::tasks::generate(&spec, seed, 8));
        }
    }
}
