//! Multi-robot planning frameworks (Chen et al., *Scalable Multi-Robot Collaboration with
//! Large Language Models: Centralized or Decentralized Systems?*, 2024): robots on a grid
//! must each reach a target, planned one time step at a time and executed together.
//!
//! - `centralized`: one planner (agent 0) picks every robot's move, robot by robot, seeing
//!   the whole grid, the moves it has already fixed this step, and the history of all
//!   moves so far (a prompt that grows with the team and the time).
//! - `decentralized`: each robot proposes a move from what it sees (robots within
//!   `view`), tells the robots within `dialogue` of it, and settles its move knowing their
//!   proposals.
//! - `hybrid_feedback` (the paper's best hybrid): the planner plans as in `centralized`,
//!   then each robot checks its own assignment against what it sees and objects when it
//!   would not make that move; the planner re-plans objected moves with a short, focused
//!   prompt about that robot alone.
//! - `hybrid_check`: robots propose as in `decentralized` (without dialogue); the planner
//!   checks each proposal against the whole grid and replaces those it rejects.
//!
//! No penalties: a planner errs more in a long prompt (context_load), a robot errs by not
//! seeing a robot it will collide with, and collisions cost time against the horizon.
//!
//! Events: Message (plans, proposals, objections), Metric (robots_arrived, collisions,
//! steps), Graph (who talks to whom in the framework), Choice ("framework"), Decision.

use serde::{Deserialize, Serialize};

use super::{Mechanism, Opinion, Show, check_count, check_one_of};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::exchange::AgentReply;
use crate::scenario::Scenario;
use crate::spec::ScenarioError;
use crate::tasks::grid::{Cell, GridWorld, MOVES, Picture, execute, move_problem, near};

pub struct MultiRobot;

pub const FRAMEWORKS: &[&str] = &["centralized", "decentralized", "hybrid_feedback", "hybrid_check"];

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    pub framework: String,
    /// How far a robot sees (cells, in any direction).
    pub view: u32,
    /// How far a robot's messages reach in the decentralized dialogue.
    pub dialogue: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self { framework: "hybrid_feedback".into(), view: 1, dialogue: 2 }
    }
}

impl Mechanism for MultiRobot {
    const NAME: &'static str = "multirobot";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_one_of("framework", &p.framework, FRAMEWORKS)?;
        check_count("view", p.view, 0, 24)?;
        check_count("dialogue", p.dialogue, 0, 24)?;
        if s.task.kind != "grid" {
            return Err(ScenarioError(format!("mechanism \"multirobot\" needs task \"grid\", not \"{}\"", s.task.kind)));
        }
        Ok(())
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let world = ctx.task().grid.clone().ok_or("the grid task has no world")?;
        let robots = world.starts.len();
        let n = ctx.n() as AgentId;
        let planner: AgentId = 0;
        let agent_of = |r: usize| (r as AgentId) % n;
        let framework = p.framework.as_str();
        ctx.note(0, format!("{framework}: {robots} robots on a {0}×{0} grid, {1} steps allowed; planner {2}.", world.size, world.horizon, ctx.name(planner)));
        ctx.emit(0, EventKind::Choice { name: "framework".into(), value: framework.into() });
        let talks: Vec<(AgentId, AgentId)> = match framework {
            "decentralized" => (0..n).flat_map(|a| (0..n).filter(move |&b| b != a).map(move |b| (a, b))).collect(),
            _ => (1..n).flat_map(|a| [(planner, a), (a, planner)]).collect(),
        };
        ctx.emit(0, EventKind::Graph { edges: talks });
        let mut positions: Vec<Cell> = world.starts.clone();
        let mut history: Vec<String> = Vec::new();
        let (mut collisions, mut used) = (0u32, 0u32);
        for t in 0..world.horizon {
            let active: Vec<usize> = (0..robots).filter(|&r| positions[r] != world.targets[r]).collect();
            if active.is_empty() {
                break;
            }
            let round = t + 1;
            let env = Env { ctx: &ctx, world: &world, positions: &positions, history: &history, round, view: i64::from(p.view) };
            let moves = match framework {
                "centralized" => plan_centrally(&env, &active).await,
                "decentralized" => propose_and_settle(&env, &active, Some(i64::from(p.dialogue))).await,
                "hybrid_feedback" => {
                    let plan = plan_centrally(&env, &active).await;
                    feedback(&env, &active, plan).await
                }
                _ => {
                    let proposal = propose_and_settle(&env, &active, None).await;
                    central_check(&env, &active, proposal).await
                }
            };
            let (next, hit) = execute(&world, &positions, &moves);
            collisions += hit.len() as u32;
            for &r in &hit {
                ctx.message(round, agent_of(r), vec![planner].into_iter().filter(|&a| a != agent_of(r)).collect(), "collision", format!("robot {} is blocked", r + 1));
            }
            history.push(format!("step {round}: {}", active.iter().map(|&r| format!("R{} {}", r + 1, moves[r])).collect::<Vec<_>>().join(", ")));
            positions = next;
            used = round;
            let arrived = (0..robots).filter(|&r| positions[r] == world.targets[r]).count();
            ctx.metric(round, "robots_arrived", arrived as f64 / robots as f64);
        }
        let arrived = (0..robots).filter(|&r| positions[r] == world.targets[r]).count();
        ctx.metric(used, "robots_arrived", arrived as f64 / robots as f64);
        ctx.metric(used, "collisions", f64::from(collisions));
        ctx.metric(used, "steps", f64::from(used));
        let outcome = if arrived == robots { "all arrived".to_string() } else { format!("{arrived} of {robots} arrived") };
        ctx.decide(used, &outcome, &format!("{framework} plan"), true);
        Ok(())
    }
}

/// One time step's shared state.
struct Env<'a> {
    ctx: &'a Ctx,
    world: &'a GridWorld,
    positions: &'a [Cell],
    history: &'a [String],
    round: u32,
    view: i64,
}

impl Env<'_> {
    fn agent_of(&self, r: usize) -> AgentId {
        (r as AgentId) % self.ctx.n() as AgentId
    }

    /// A move ask for `robot` by `agent`, picturing what `agent` knows.
    fn ask(&self, agent: AgentId, robot: usize, visible: Vec<usize>, planned: &[(usize, &str)], purpose: &str, instruction: String) -> crate::exchange::AskRequest {
        let pic = Picture { world: self.world, positions: self.positions, robot, visible, planned };
        let problem = move_problem(&pic, self.ctx.task().main.difficulty);
        let mut r = self.ctx.request(agent, purpose, self.round, &problem);
        r.instruction = instruction;
        r
    }

    fn everyone_but(&self, robot: usize) -> Vec<usize> {
        (0..self.positions.len()).filter(|&o| o != robot).collect()
    }
}

fn move_of(reply: &AgentReply) -> String {
    reply.answer.as_deref().filter(|a| MOVES.contains(a)).unwrap_or("stay").to_string()
}

/// The planner picks each active robot's move in turn, knowing the moves fixed so far and
/// the whole history (its prompt grows with the team and the time).
async fn plan_centrally(env: &Env<'_>, active: &[usize]) -> Vec<String> {
    let ctx = env.ctx;
    let mut moves = vec!["stay".to_string(); env.positions.len()];
    let mut fixed: Vec<(usize, String)> = Vec::new();
    let so_far = if env.history.is_empty() { "none yet".to_string() } else { env.history.join("; ") };
    for &r in active {
        let planned: Vec<(usize, &str)> = fixed.iter().map(|(o, m)| (*o, m.as_str())).collect();
        let state: Vec<String> = (0..env.positions.len()).map(|o| format!("R{} at ({},{}) → ({},{})", o + 1, env.positions[o].0, env.positions[o].1, env.world.targets[o].0, env.world.targets[o].1)).collect();
        let instruction = format!("You plan for every robot. All robots: {}. Moves so far: {so_far}. Plan robot {}'s move.", state.join(", "), r + 1);
        let req = env.ask(0, r, env.everyone_but(r), &planned, "solve", instruction);
        let m = move_of(&ctx.ask(req).await);
        let to = env.agent_of(r);
        if to != 0 {
            ctx.message(env.round, 0, vec![to], "plan", format!("robot {}: {m}", r + 1));
        }
        moves[r] = m.clone();
        fixed.push((r, m));
    }
    moves
}

/// Each robot proposes from what it sees; with `dialogue`, it then tells the robots within
/// that range and settles its move knowing their proposals.
async fn propose_and_settle(env: &Env<'_>, active: &[usize], dialogue: Option<i64>) -> Vec<String> {
    let ctx = env.ctx;
    let reqs = active.iter().map(|&r| env.ask(env.agent_of(r), r, near(env.positions, r, env.view), &[], "solve", "Plan your own move from what you can see.".into())).collect();
    let proposed: Vec<String> = ctx.ask_all(reqs).await.iter().map(move_of).collect();
    let mut moves = vec!["stay".to_string(); env.positions.len()];
    for (&r, m) in active.iter().zip(&proposed) {
        moves[r] = m.clone();
    }
    let Some(reach) = dialogue else { return moves };
    for &r in active {
        let hear: Vec<AgentId> = near(env.positions, r, reach).iter().map(|&o| env.agent_of(o)).filter(|&a| a != env.agent_of(r)).collect();
        ctx.message(env.round, env.agent_of(r), hear, "proposal", format!("robot {} plans {}", r + 1, moves[r]));
    }
    let reqs = active
        .iter()
        .map(|&r| {
            let heard: Vec<usize> = near(env.positions, r, reach).into_iter().filter(|o| active.contains(o)).collect();
            let mut visible = near(env.positions, r, env.view);
            for &o in &heard {
                if !visible.contains(&o) {
                    visible.push(o);
                }
            }
            let planned: Vec<(usize, &str)> = heard.iter().map(|&o| (o, moves[o].as_str())).collect();
            env.ask(env.agent_of(r), r, visible, &planned, "solve", "Settle your move now that you know your neighbours' plans.".into())
        })
        .collect();
    let settled: Vec<String> = ctx.ask_all(reqs).await.iter().map(move_of).collect();
    for (&r, m) in active.iter().zip(settled) {
        moves[r] = m;
    }
    moves
}

/// Each robot checks its assignment against what it sees; the planner re-plans the moves
/// robots object to with a short prompt about that robot alone.
async fn feedback(env: &Env<'_>, active: &[usize], mut moves: Vec<String>) -> Vec<String> {
    let ctx = env.ctx;
    let reqs = active
        .iter()
        .map(|&r| {
            let mut q = env.ask(env.agent_of(r), r, near(env.positions, r, env.view), &[], "check", format!("The planner tells robot {} to move {}. Reply `ok` or `wrong`.", r + 1, moves[r]));
            q.peers = vec![Opinion { answer: moves[r].clone(), confidence: 0.5, explanation: String::new(), trace: None }.view(ctx, 0, Show::ANSWERS)];
            q
        })
        .collect();
    let verdicts = ctx.ask_all(reqs).await;
    for (&r, v) in active.iter().zip(&verdicts) {
        if v.answer.as_deref() != Some("wrong") {
            continue;
        }
        let from = env.agent_of(r);
        if from != 0 {
            ctx.message(env.round, from, vec![0], "objection", format!("robot {}: {} does not work from here", r + 1, moves[r]));
        }
        let planned: Vec<(usize, &str)> = active.iter().filter(|&&o| o != r).map(|&o| (o, moves[o].as_str())).collect();
        let req = env.ask(0, r, env.everyone_but(r), &planned, "solve", format!("Robot {} objects to its move. Re-plan robot {} alone, keeping the others' moves.", r + 1, r + 1));
        moves[r] = move_of(&ctx.ask(req).await);
    }
    moves
}

/// The planner checks each robot's proposal against the whole grid and replaces the ones it
/// rejects.
async fn central_check(env: &Env<'_>, active: &[usize], mut moves: Vec<String>) -> Vec<String> {
    let ctx = env.ctx;
    let reqs = active
        .iter()
        .map(|&r| {
            let planned: Vec<(usize, &str)> = active.iter().filter(|&&o| o != r).map(|&o| (o, moves[o].as_str())).collect();
            let mut q = env.ask(0, r, env.everyone_but(r), &planned, "check", format!("Robot {} proposes {}. Reply `ok` or `wrong`.", r + 1, moves[r]));
            q.peers = vec![Opinion { answer: moves[r].clone(), confidence: 0.5, explanation: String::new(), trace: None }.view(ctx, env.agent_of(r), Show::ANSWERS)];
            q
        })
        .collect();
    let verdicts = ctx.ask_all(reqs).await;
    for (&r, v) in active.iter().zip(&verdicts) {
        if v.answer.as_deref() != Some("wrong") {
            continue;
        }
        let planned: Vec<(usize, &str)> = active.iter().filter(|&&o| o != r).map(|&o| (o, moves[o].as_str())).collect();
        let req = env.ask(0, r, env.everyone_but(r), &planned, "solve", format!("Robot {}'s proposal is rejected; pick its move.", r + 1));
        let m = move_of(&ctx.ask(req).await);
        let to = env.agent_of(r);
        if to != 0 {
            ctx.message(env.round, 0, vec![to], "correction", format!("robot {}: {m} instead of {}", r + 1, moves[r]));
        }
        moves[r] = m;
    }
    moves
}
