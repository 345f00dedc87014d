//! Single agent with self-consistency: k independent samples from one agent, majority
//! vote (Wang et al., 2022). The compute-matched baseline every other card compares to.

use serde::{Deserialize, Serialize};

use super::{Mechanism, Opinion, check_count, round_metrics};
use crate::engine::Ctx;
use crate::event::AgentId;
use crate::scenario::Scenario;
use crate::spec::ScenarioError;

pub struct SelfConsistency;

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Number of samples.
    pub k: u32,
    /// Which agent samples.
    pub agent: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self { k: 5, agent: 0 }
    }
}

impl Mechanism for SelfConsistency {
    const NAME: &'static str = "self_consistency";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_count("k", p.k, 1, 500)?;
        check_count("agent", p.agent, 0, s.agents.len() as u32 - 1)
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let agent = p.agent as AgentId;
        let problem = ctx.task().main.clone();
        ctx.note(0, format!("{} samples {} answers independently; the majority wins.", ctx.name(agent), p.k));
        let reqs = (0..p.k)
            .map(|_| {
                let mut r = ctx.request(agent, "answer", 0, &problem);
                r.instruction = "Answer independently; think step by step.".into();
                r
            })
            .collect();
        let samples: Vec<Opinion> = ctx.ask_all(reqs).await.iter().map(Opinion::from_reply).collect();
        round_metrics(&ctx, 0, &samples);
        let mut votes = Vec::new();
        for s in &samples {
            ctx.vote(0, agent, &s.answer, 1.0);
            votes.push((s.answer.clone(), 1.0));
        }
        let answer = super::plurality(&votes).unwrap_or_else(|| "?".into());
        ctx.decide(0, &answer, "majority of samples", true);
        Ok(())
    }
}
