//! MachineSoM societies (Zhang et al., *Exploring Collaboration Mechanisms for LLM
//! Agents: A Social Psychology View*, 2023): agents are easy-going (conform readily) or
//! overconfident (stubborn, always sure); each round the society either debates (sees
//! peers) or reflects (sees only its own previous answer). Which agents are which comes
//! from their traits; the note names them.

use serde::{Deserialize, Serialize};

use super::{Mechanism, Show, broadcast, check_agents, final_vote, initial_answers, revise_round, round_metrics};
use crate::engine::Ctx;
use crate::scenario::Scenario;
use crate::spec::ScenarioError;

pub struct MachineSom;

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Thinking pattern per round: `debate` or `reflection`.
    pub strategy: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Self { strategy: vec!["debate".into(), "debate".into(), "reflection".into()] }
    }
}

impl Mechanism for MachineSom {
    const NAME: &'static str = "machinesom";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 2)?;
        if p.strategy.len() > 20 {
            return Err(ScenarioError(format!("mechanism.params.strategy: {} rounds, at most 20", p.strategy.len())));
        }
        for (i, x) in p.strategy.iter().enumerate() {
            if x != "debate" && x != "reflection" {
                return Err(ScenarioError(format!("mechanism.params.strategy[{i}]: \"{x}\" is not debate or reflection")));
            }
        }
        Ok(())
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let agents: Vec<u32> = (0..ctx.n() as u32).collect();
        let easy: Vec<&str> = ctx
            .scenario()
            .agents
            .iter()
            .filter(|a| a.traits.conformity >= a.traits.stubbornness)
            .map(|a| a.name.as_str())
            .collect();
        ctx.note(
            0,
            format!(
                "A society of {} ({} easy-going: {}); strategy: {}.",
                agents.len(),
                easy.len(),
                if easy.is_empty() { "none".into() } else { easy.join(", ") },
                p.strategy.join(" → ")
            ),
        );
        let mut ops = initial_answers(&ctx, &agents, "Answer the question and explain briefly.").await;
        broadcast(&ctx, 0, &ops, "answer", Show::REASONING);
        round_metrics(&ctx, 0, &ops);
        for (r, pattern) in p.strategy.iter().enumerate() {
            let round = r as u32 + 1;
            if pattern == "debate" {
                ops = revise_round(&ctx, round, &ops, "revise", "These are the other agents' answers. Give your updated answer.", Show::REASONING).await;
                broadcast(&ctx, round, &ops, "answer", Show::REASONING);
            } else {
                ops = revise_round(&ctx, round, &ops, "reflect", "Reflect on your previous answer on your own and give your final answer.", Show::REASONING).await;
            }
            round_metrics(&ctx, round, &ops);
        }
        final_vote(&ctx, p.strategy.len() as u32, &ops, &vec![1.0; ops.len()], "majority vote");
        Ok(())
    }
}
