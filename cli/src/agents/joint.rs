//! Token-level asks (`speculate`, `fuse`) on local models: the asked agent's model and its
//! partner's run token by token in the CPU engine (`council_gpu::cpu::speculate` / `fuse`),
//! greedily, and the answer carries who wrote each token.
//!
//! Prompts: a `fuse` ask gives each expert the ask rendered for itself (its name and role).
//! A `speculate` drafter predicts the verifier's reply, so it reads the verifier's own prompt,
//! unless both agents are the same model: then it reads its own persona's prompt (else it
//! would be the verifier itself and every draft would be kept).

use std::sync::Arc;

use council_core::AskRequest;
use council_core::event::{Piece, PieceStatus};
use council_gpu::cpu::{Authored, CpuModel, JointOptions, Route, Runner, fuse, speculate};
use council_gpu::tokenizer::Tokenizer;

use super::{Answer, Backend, WaveAsk};

/// A local model as a token-level ask needs it.
#[derive(Clone)]
pub struct Engine {
    pub model: Arc<CpuModel>,
    pub tok: Arc<Tokenizer>,
    pub threads: usize,
    pub max_tokens: usize,
    pub ctx: usize,
}

/// Whether the ask is a token-level ask (two agents writing one reply).
pub fn is_joint(req: &AskRequest) -> bool {
    req.partner.is_some() && matches!(req.purpose.as_str(), "speculate" | "fuse")
}

fn failed(why: String) -> Answer {
    Answer { error: Some(why), ..Answer::default() }
}

/// Answers a token-level ask with the two agents' local models.
pub fn answer(backend: &dyn Backend, ask: &WaveAsk) -> Answer {
    let req = &ask.req;
    let Some(partner) = &req.partner else { return failed("a token-level ask without a partner".into()) };
    let (Some(me), Some(other)) = (backend.engine(req.agent), backend.engine(partner.agent)) else {
        return failed(format!(
            "{} needs {} and {} on local models (a remote API or a simulated agent gives no token-level access)",
            req.purpose, req.agent_name, partner.name
        ));
    };
    if me.model.config().n_vocab != other.model.config().n_vocab || me.tok.vocab_size() != other.tok.vocab_size() {
        return failed(format!("{} and {} use models with different vocabularies", req.agent_name, partner.name));
    }
    let same = Arc::ptr_eq(&me.model, &other.model);
    let render = |p: &council_core::prompt::Prompt| council_gpu::chat::turn_tokens(&me.tok, &p.system, &p.user);
    let mine = match render(&ask.prompt) {
        Ok(t) => t,
        Err(e) => return failed(e),
    };
    let own_persona = || ask.partner_prompt.as_ref().map_or(Ok(mine.clone()), render);
    let theirs = match (req.purpose.as_str(), same) {
        ("speculate", false) => Ok(mine.clone()),
        _ => own_persona(),
    };
    let theirs = match theirs {
        Ok(t) => t,
        Err(e) => return failed(e),
    };
    let opts = JointOptions { max_tokens: me.max_tokens, max_ctx: me.ctx, stop: me.tok.eog_ids() };
    let mut first = Runner::new(Arc::clone(&me.model), me.threads);
    let mut second = (!same).then(|| Runner::new(Arc::clone(&other.model), other.threads));
    let result = if req.purpose == "speculate" {
        speculate(&mut first, second.as_mut(), &mine, &theirs, partner.draft_len as usize, &opts)
    } else {
        let route = Route::parse(&partner.router).unwrap_or(Route::Token);
        fuse(&mut first, second.as_mut(), &mine, &theirs, route, partner.complement, &opts)
    };
    let joint = match result {
        Ok(j) => j,
        Err(e) => return failed(format!("the local engine failed: {e}")),
    };
    let pieces = joint
        .pieces
        .iter()
        .map(|p| Piece {
            text: me.tok.decode_lossy(&[p.token], false),
            by: if p.first { req.agent } else { partner.agent },
            status: match p.status {
                Authored::Accepted => PieceStatus::Accepted,
                Authored::Rejected => PieceStatus::Rejected,
                Authored::Written => PieceStatus::Written,
                Authored::Chosen => PieceStatus::Chosen,
                Authored::Complemented => PieceStatus::Complemented,
            },
        })
        .collect();
    Answer {
        text: me.tok.decode_lossy(&joint.tokens, false),
        prompt_tokens: mine.len() as u32,
        completion_tokens: joint.tokens.len() as u32,
        error: None,
        pieces,
    }
}
