//! Speculative drafting (CoSine, Collaborative Speculative Inference, 2025): a cheap
//! drafter proposes the next `draft_len` tokens, the verifier scores them all in one step
//! and keeps the longest prefix it would have written itself, then writes one token of its
//! own. The reply is exactly the verifier's greedy reply; what drafting changes is how many
//! verifier steps it takes, which depends on how often the drafter guesses right.
//!
//! Agent 0 verifies, agent 1 drafts. The mechanism makes one `speculate` ask to the
//! verifier naming the drafter as its partner; whoever resolves it does the drafting:
//! - simulated agents treat the steps of an argument as the tokens (`sim::tokens`): the
//!   drafter drafts along the answer it believes most given what has been written, so the
//!   saving depends on how often the two agree (copies of one model agree more, a weaker
//!   drafter less);
//! - local models run real token-level speculative decoding in the CPU engine (the CLI's
//!   and the page's drivers), greedy, so the text is identical to the verifier's alone.
//!
//! The reply's pieces say which tokens were drafted and kept, drafted and thrown away, or
//! written by the verifier; the mechanism logs them (`Tokens`), counts the verification
//! rounds and drafts, and reports a modelled speed-up: tokens written per unit of
//! verifier time, a drafter step costing `drafter_cost` of a verifier step (a verifier
//! step scoring k+1 tokens costs about one, since decoding is bound by reading weights).
//! Measured speed-ups of the real engine are `council bench speculative`'s.

use serde::{Deserialize, Serialize};

use super::{Mechanism, check_agents};
use crate::engine::Ctx;
use crate::event::{EventKind, Piece, PieceStatus};
use crate::exchange::{MAX_PIECES, Partner};
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, check_count, check_range};

pub struct Speculative;

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Tokens the drafter proposes before each verification step (0: the verifier alone).
    pub draft_len: u32,
    /// Cost of one drafter step relative to one verifier step, for the modelled speed-up.
    pub drafter_cost: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self { draft_len: 4, drafter_cost: 0.25 }
    }
}

pub(crate) const VERIFIER: u32 = 0;
pub(crate) const DRAFTER: u32 = 1;

/// Token-level asks need both agents on simulated agents or both on local models: a remote
/// API gives no token-level access, and a simulated agent cannot share tokens with a model.
pub(crate) fn check_token_pair(s: &Scenario, what: &str) -> Result<(), ScenarioError> {
    check_agents(s, 2)?;
    let (a, b) = (&s.agents[0], &s.agents[1]);
    for x in [a, b] {
        if x.backend.remote().is_some() {
            return Err(ScenarioError(format!(
                "mechanism \"{}\": {} ({}) is on a remote API, which gives no token-level access; use a local model or a simulated agent",
                s.mechanism.kind, x.name, what
            )));
        }
    }
    if a.backend.is_sim() != b.backend.is_sim() {
        return Err(ScenarioError(format!(
            "mechanism \"{}\": {} and {} must both be simulated or both local models (tokens cannot pass between a model and a simulated agent)",
            s.mechanism.kind, a.name, b.name
        )));
    }
    Ok(())
}

/// What the pieces of a speculative reply add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Drafting {
    pub accepted: u32,
    pub rejected: u32,
    pub written: u32,
    /// Verification steps: each ends with a token the verifier writes, and a last step
    /// may end on accepted drafts alone (the verifier's own next token was the end).
    pub verifier_steps: u32,
}

impl Drafting {
    pub fn of(pieces: &[Piece]) -> Self {
        let count = |s| pieces.iter().filter(|p| p.status == s).count() as u32;
        let (accepted, rejected, written) = (count(PieceStatus::Accepted), count(PieceStatus::Rejected), count(PieceStatus::Written));
        let trailing = u32::from(pieces.last().is_some_and(|p| p.status == PieceStatus::Accepted));
        Drafting { accepted, rejected, written, verifier_steps: written + trailing }
    }

    pub fn drafted(&self) -> u32 {
        self.accepted + self.rejected
    }

    /// Tokens in the reply.
    pub fn tokens(&self) -> u32 {
        self.accepted + self.written
    }
}

impl Mechanism for Speculative {
    const NAME: &'static str = "speculative";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_token_pair(s, "a verifier or drafter")?;
        check_count("draft_len", p.draft_len, 0, 16)?;
        check_range("mechanism.params.drafter_cost", p.drafter_cost, 0.0, 1.0)
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let (v, d) = (VERIFIER, DRAFTER);
        let problem = ctx.task().main.clone();
        if p.draft_len == 0 {
            ctx.note(0, format!("{} writes alone (no drafts): the baseline speculative drafting must match.", ctx.name(v)));
        } else {
            ctx.note(0, format!("{} drafts {} token(s) at a time; {} checks each draft in one step and keeps what it would have written.", ctx.name(d), p.draft_len, ctx.name(v)));
        }
        let mut req = ctx.request(v, "speculate", 0, &problem);
        req.instruction = "Answer, explain in one sentence, and give your confidence (0 to 1).".into();
        req.partner = Some(Partner { draft_len: p.draft_len, ..ctx.partner(d) });
        let reply = ctx.ask(req).await;
        let mut pieces = reply.pieces.clone();
        pieces.truncate(MAX_PIECES);
        let counts = Drafting::of(&pieces);
        ctx.emit(0, EventKind::Tokens { agent: v, pieces });
        if counts.drafted() > 0 {
            ctx.message(0, d, vec![v], "draft", format!("{} drafted token(s) over {} verification step(s)", counts.drafted(), counts.verifier_steps));
            ctx.message(0, v, vec![d], "verdict", format!("kept {} of your drafts, threw away {}, wrote {} myself", counts.accepted, counts.rejected, counts.written));
        }
        let tokens = f64::from(counts.tokens());
        if counts.drafted() > 0 {
            ctx.metric(0, "acceptance_rate", f64::from(counts.accepted) / f64::from(counts.drafted()));
        }
        ctx.metric(0, "drafted", f64::from(counts.drafted()));
        ctx.metric(0, "accepted", f64::from(counts.accepted));
        ctx.metric(0, "verifier_steps", f64::from(counts.verifier_steps));
        ctx.metric(0, "reply_tokens", tokens);
        if counts.verifier_steps > 0 {
            ctx.metric(0, "tokens_per_verifier_step", tokens / f64::from(counts.verifier_steps));
            // The verifier alone takes one step per token.
            let cost = f64::from(counts.verifier_steps) + p.drafter_cost * f64::from(counts.drafted());
            ctx.metric(0, "modelled_speedup", tokens / cost);
        }
        let answer = reply.answer.clone().unwrap_or_else(|| "?".into());
        ctx.decide(0, &answer, "the verifier's reply", true);
        Ok(())
    }
}
