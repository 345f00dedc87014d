//! Token-level fusion (FusionRoute, 2025): two expert models write one reply together; at
//! each token a router picks the expert that emits it, and a complementary logit (here
//! the other expert's log-probabilities, weighted by `complement`) refines the chosen
//! expert's choice. Which model wrote each token is logged.
//!
//! Agent 0 and agent 1 are the experts (two models, or one model with two personas). The
//! mechanism makes one `fuse` ask to agent 0 naming agent 1 as its partner:
//! - simulated agents treat the steps of an argument as the tokens (`sim::tokens`): the
//!   router gives each step to the expert whose belief is stronger there (training-free:
//!   the paper's router is learned), and the complement pools the two beliefs;
//! - local models fuse real next-token distributions in the CPU engine (the drivers);
//!   the router compares the two models' top probabilities.
//!
//! `router` sets the routing: `token` (per token), `sequence` (one expert for the whole
//! reply, the sequence-level collaboration the paper compares against), `first` or
//! `second` (one expert alone: the baselines).

use serde::{Deserialize, Serialize};

use super::speculative::check_token_pair;
use super::{Mechanism, check_one_of};
use crate::engine::Ctx;
use crate::event::{EventKind, PieceStatus};
use crate::exchange::{MAX_PIECES, Partner};
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, check_range};

pub struct Fusion;

pub const ROUTERS: &[&str] = &["token", "sequence", "first", "second"];

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// How the expert that emits a token is picked (see the module doc).
    pub router: String,
    /// Weight of the complementary logit: the other expert's log-probabilities added to
    /// the chosen expert's (0: the chosen expert alone decides the token).
    pub complement: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self { router: "token".into(), complement: 0.5 }
    }
}

impl Mechanism for Fusion {
    const NAME: &'static str = "fusion";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_token_pair(s, "an expert")?;
        check_one_of("router", &p.router, ROUTERS)?;
        check_range("mechanism.params.complement", p.complement, 0.0, 2.0)
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let (a, b) = (0u32, 1u32);
        let problem = ctx.task().main.clone();
        let how = match p.router.as_str() {
            "sequence" => "the more confident expert at the first token writes the whole reply".to_string(),
            "first" => format!("{} writes every token", ctx.name(a)),
            "second" => format!("{} writes every token", ctx.name(b)),
            _ => "per token, the more confident expert emits it".to_string(),
        };
        let complement = if p.complement > 0.0 {
            format!(", with {:.2} × the other expert's log-probabilities added", p.complement)
        } else {
            String::new()
        };
        ctx.note(0, format!("{} and {} write one reply: {how}{complement}.", ctx.name(a), ctx.name(b)));
        let mut req = ctx.request(a, "fuse", 0, &problem);
        req.instruction = "Answer, explain in one sentence, and give your confidence (0 to 1).".into();
        req.partner = Some(Partner { complement: p.complement, router: p.router.clone(), ..ctx.partner(b) });
        let reply = ctx.ask(req).await;
        let mut pieces = reply.pieces.clone();
        pieces.truncate(MAX_PIECES);
        let n = pieces.len().max(1) as f64;
        let by_a = pieces.iter().filter(|x| x.by == a).count() as f64;
        let switches = pieces.windows(2).filter(|w| w[0].by != w[1].by).count();
        let complemented = pieces.iter().filter(|x| x.status == PieceStatus::Complemented).count() as f64;
        ctx.emit(0, EventKind::Tokens { agent: a, pieces: pieces.clone() });
        for (agent, share) in [(a, by_a / n), (b, 1.0 - by_a / n)] {
            ctx.emit(0, EventKind::Score { name: "share".into(), agent, value: share });
        }
        if by_a < n && by_a > 0.0 {
            ctx.message(0, b, vec![a], "tokens", format!("wrote {} of {} tokens", pieces.len() - by_a as usize, pieces.len()));
        }
        ctx.metric(0, "share_first", by_a / n);
        ctx.metric(0, "switches", switches as f64);
        ctx.metric(0, "complemented", complemented / n);
        let answer = reply.answer.clone().unwrap_or_else(|| "?".into());
        ctx.decide(0, &answer, "fused reply", true);
        Ok(())
    }
}
