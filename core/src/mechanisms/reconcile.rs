//! ReConcile round table (Chen et al., 2023): each round every agent sees the grouped
//! answers with each agent's explanation and confidence, and revises; the table stops at
//! consensus or after R rounds; the final answer is a vote weighted by recalibrated
//! confidence. Both votes are logged so the UI can show where they disagree.

use serde::{Deserialize, Serialize};

use super::{Discussion, Mechanism, Opinion, Show, check_agents, check_count, check_one_of, discuss, plurality};
use crate::engine::Ctx;
use crate::scenario::Scenario;
use crate::spec::ScenarioError;

pub struct Reconcile;

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    pub rounds: u32,
    /// `weighted` (by recalibrated confidence) or `majority`.
    pub vote: String,
    /// Map raw confidences to ReConcile's coarse levels before weighting.
    pub recalibrate: bool,
    pub stop_at_consensus: bool,
    /// The discussion prompt carries each agent's explanation (off: answers and
    /// confidences only, the ablation that shows what explanations add).
    pub explanations: bool,
}

impl Default for Params {
    fn default() -> Self {
        Self { rounds: 3, vote: "weighted".into(), recalibrate: true, stop_at_consensus: true, explanations: true }
    }
}

/// ReConcile's recalibration: confidences cluster near the top, so spread them out.
pub fn recalibrate(c: f64) -> f64 {
    if c >= 1.0 {
        1.0
    } else if c >= 0.9 {
        0.8
    } else if c >= 0.8 {
        0.5
    } else if c > 0.6 {
        0.3
    } else {
        0.1
    }
}

impl Mechanism for Reconcile {
    const NAME: &'static str = "reconcile";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 2)?;
        check_count("rounds", p.rounds, 0, 20)?;
        check_one_of("vote", &p.vote, &["weighted", "majority"])
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let agents: Vec<u32> = (0..ctx.n() as u32).collect();
        ctx.note(0, "Round table: everyone answers with an explanation and a confidence.");
        let discussion = Discussion {
            first: "Answer, explain in one sentence, and give your confidence (0 to 1).",
            revise: "Here are the answers grouped by option, with each agent's explanation and confidence. Reconsider, then give your answer, a one-sentence explanation and your confidence.",
            rounds: p.rounds,
            stop_at_consensus: p.stop_at_consensus,
            consensus_note: "Consensus: the table stops.",
            show: if p.explanations { Show::ALL } else { Show { confidence: true, reasoning: false } },
        };
        let (ops, last) = discuss(&ctx, &agents, &discussion).await;
        let weight = |o: &Opinion| if p.recalibrate { recalibrate(o.confidence) } else { o.confidence };
        let weighted = plurality(&ops.iter().map(|o| (o.answer.clone(), weight(o))).collect::<Vec<_>>()).unwrap_or_default();
        let majority = plurality(&ops.iter().map(|o| (o.answer.clone(), 1.0)).collect::<Vec<_>>()).unwrap_or_default();
        let weighted_right = ctx.task().main.is_correct(&weighted);
        let majority_right = ctx.task().main.is_correct(&majority);
        ctx.metric(last, "weighted_vote_correct", f64::from(u8::from(weighted_right)));
        ctx.metric(last, "majority_vote_correct", f64::from(u8::from(majority_right)));
        ctx.metric(last, "votes_disagree", f64::from(u8::from(weighted != majority)));
        for (i, o) in ops.iter().enumerate() {
            ctx.vote(last, i as u32, &o.answer, if p.vote == "weighted" { weight(o) } else { 1.0 });
        }
        let (chosen, other, other_name) =
            if p.vote == "weighted" { (weighted, majority, "plain majority") } else { (majority, weighted, "confidence-weighted vote") };
        if chosen != other {
            ctx.decide(last, &other, other_name, false);
        }
        ctx.decide(last, &chosen, if p.vote == "weighted" { "confidence-weighted vote" } else { "plain majority" }, true);
        Ok(())
    }
}
