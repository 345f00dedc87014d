//! Multi-agent debate (Du et al., 2023; studied as test-time scaling in *Revisiting
//! Multi-Agent Debate as Test-Time Scaling*, 2025): N agents answer, then for R rounds
//! each sees the responses (answer and reasoning) of the agents it is connected to and
//! revises; final majority. Stated confidences are not shown unless `show_confidence`.

use serde::{Deserialize, Serialize};

use super::{Discussion, Mechanism, Show, check_agents, check_count, check_one_of, discuss, final_vote};
use crate::engine::Ctx;
use crate::scenario::Scenario;
use crate::spec::ScenarioError;

pub struct Debate;

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    pub rounds: u32,
    /// `majority` or `weighted` (by stated confidence).
    pub aggregate: String,
    /// Stop early once all agents agree.
    pub stop_at_consensus: bool,
    /// Peers see each other's reasoning (Du et al.), not only the answers.
    pub show_reasoning: bool,
    /// Peers see each other's stated confidence.
    pub show_confidence: bool,
}

impl Default for Params {
    fn default() -> Self {
        Self { rounds: 2, aggregate: "majority".into(), stop_at_consensus: false, show_reasoning: true, show_confidence: false }
    }
}

impl Mechanism for Debate {
    const NAME: &'static str = "debate";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 1)?;
        check_count("rounds", p.rounds, 0, 20)?;
        check_one_of("aggregate", &p.aggregate, &["majority", "weighted"])
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let agents: Vec<u32> = (0..ctx.n() as u32).collect();
        ctx.note(0, format!("{} agents answer, then debate for {} rounds.", agents.len(), p.rounds));
        let discussion = Discussion {
            first: "Answer the question and explain briefly.",
            revise: "These are the other agents' answers. Using them as extra advice, give your updated answer.",
            rounds: p.rounds,
            stop_at_consensus: p.stop_at_consensus,
            consensus_note: "Consensus reached; the debate stops.",
            show: Show { confidence: p.show_confidence, reasoning: p.show_reasoning },
        };
        let (ops, last) = discuss(&ctx, &agents, &discussion).await;
        let weights: Vec<f64> = if p.aggregate == "weighted" { ops.iter().map(|o| o.confidence).collect() } else { vec![1.0; ops.len()] };
        final_vote(&ctx, last, &ops, &weights, &format!("{} vote", p.aggregate));
        Ok(())
    }
}
