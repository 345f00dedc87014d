//! Multi-robot planning frameworks (Chen et al., *Scalable Multi-Robot Collaboration with
//! Large Language Models: Centralized or Decentralized Systems?*, 2023/2024): one planner
//! for everyone, every robot for itself with dialogue, or two hybrids — a central plan
//! with local feedback, or local proposals with a central check. One robot per agent on a
//! grid task; success needs every robot's move right.
//!
//! Simulated costs: a central planner's context grows with the number of robots
//! (`context_penalty` per robot); a robot planning alone lacks the global picture
//! (`local_penalty`) and meets more conflicts in larger teams (`conflict_penalty` per
//! robot). Feedback or a check narrows what has to be fixed.

use serde::Deserialize;

use super::work::{Job, Reviewers, parts_correct, solve_reviewed};
use super::{Mechanism, check_one_of};
use crate::engine::Ctx;
use crate::event::AgentId;
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, check_unit};

pub struct MultiRobot;

pub const FRAMEWORKS: &[&str] = &["centralized", "decentralized", "hybrid_feedback", "hybrid_check"];

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    pub framework: String,
    pub context_penalty: f64,
    pub local_penalty: f64,
    pub conflict_penalty: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self { framework: "hybrid_check".into(), context_penalty: 0.04, local_penalty: 0.25, conflict_penalty: 0.03 }
    }
}

impl Mechanism for MultiRobot {
    const NAME: &'static str = "multirobot";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_one_of("framework", &p.framework, FRAMEWORKS)?;
        check_unit("mechanism.params.context_penalty", p.context_penalty)?;
        check_unit("mechanism.params.local_penalty", p.local_penalty)?;
        check_unit("mechanism.params.conflict_penalty", p.conflict_penalty)?;
        if s.task.kind != "grid" {
            return Err(ScenarioError(format!("mechanism \"multirobot\" needs task \"grid\", not \"{}\"", s.task.kind)));
        }
        Ok(())
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let n = ctx.n() as AgentId;
        let robots = ctx.task().parts.len();
        let planner: AgentId = 0;
        let robot_agent = |r: usize| (r as AgentId) % n;
        let central = p.context_penalty * robots as f64;
        let local = p.local_penalty + p.conflict_penalty * robots as f64;
        let state = ctx.task().parts.iter().map(|q| q.text.clone()).collect::<Vec<_>>().join(" ");
        ctx.note(0, format!("{}: {robots} robots, planner {}.", p.framework, ctx.name(planner)));
        let graph = ctx.graph().clone();
        let (jobs, assigner): (Vec<Job>, Option<AgentId>) = match p.framework.as_str() {
            "centralized" | "hybrid_feedback" => (
                (0..robots)
                    .map(|r| Job::new(planner, r, None, format!("Plan robot {}'s move. Full state: {state}", r + 1)))
                    .collect(),
                None,
            ),
            framework => (
                (0..robots)
                    .map(|r| Job::new(robot_agent(r), r, None, "Plan your own move from what you can see."))
                    .collect(),
                None,
            ),
        };
        // Who reviews a job, per framework.
        let robot_feedback = |j: &Job| -> Vec<AgentId> { vec![robot_agent(j.part)].into_iter().filter(|&a| a != j.agent).collect() };
        let central_check = |j: &Job| -> Vec<AgentId> { if j.agent != planner { vec![planner] } else { vec![] } };
        let dialogue = |j: &Job| -> Vec<AgentId> { graph.seen_by(j.agent).iter().copied().take(2).collect() };
        let stages: Vec<Reviewers<'_>> = match p.framework.as_str() {
            "centralized" => vec![],
            "decentralized" => vec![&dialogue],
            "hybrid_feedback" => vec![&robot_feedback],
            _ => vec![&central_check],
        };
        let answers = solve_reviewed(&ctx, 0, assigner, &jobs, &stages).await;
        for (r, a) in answers.iter().enumerate() {
            let to: Vec<AgentId> = if p.framework == "centralized" || p.framework == "hybrid_feedback" { vec![robot_agent(r)] } else { vec![] };
            ctx.message(1, planner, to.into_iter().filter(|&x| x != planner).collect(), "plan", format!("robot {}: {a}", r + 1));
        }
        let share = parts_correct(&ctx, &answers);
        ctx.metric(1, "robots_correct", share);
        ctx.decide(1, &answers.join(","), &format!("{} plan", p.framework), true);
        Ok(())
    }
}
