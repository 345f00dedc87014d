//! What passes between a mechanism and an agent: the ask (everything a backend needs to
//! build a prompt), the reply, and what one agent gets to see of another's answer.
//!
//! These types sit below the engine, the simulated agents, the prompt builder and the
//! reply parser, which all speak them; drivers (app, CLI) build prompts from an
//! [`AskRequest`] and hand back an [`AgentReply`].

use serde::{Deserialize, Serialize};

use crate::argument::Trace;
use crate::backend::Backend;
pub use crate::event::{Piece, PieceStatus};
use crate::event::AgentId;

/// What one agent said earlier, as another agent (or itself) gets to see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerView {
    pub agent: AgentId,
    pub name: String,
    pub answer: String,
    /// The confidence it stated, when the mechanism shows confidences (ReConcile does,
    /// plain debate does not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Its reasoning as text (empty when the mechanism shows answers only).
    pub explanation: String,
    /// The checkable argument behind a simulated agent's answer (None for LLM replies
    /// and when the mechanism shows answers only). Prompts use `explanation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
}

/// One question to one agent: everything an LLM backend needs to build a prompt. It
/// holds no ground truth: simulated agents get their private view of the item from the
/// engine (see `nature`), by `item`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AskRequest {
    /// Run-wide ask number (0, 1, ...), in the order the mechanism made them.
    pub id: u64,
    pub agent: AgentId,
    pub agent_name: String,
    /// The agent's role/persona text.
    pub role: String,
    /// The agent's backend.
    pub backend: Backend,
    /// `answer`, `revise`, `reflect`, `judge`, `check`, `bid`, `plan`, `solve` or `probe`
    /// (a calibration item the environment grades; asked like `answer`).
    pub purpose: String,
    pub round: u32,
    /// The question text.
    pub question: String,
    /// Options to choose from (multiple choice, candidates to judge); labelled A, B, ...
    /// when `format` is `option`.
    pub options: Vec<String>,
    /// `option`, `number` or `text`: what the answer should look like.
    pub format: String,
    /// The subject of the question (`math`, `logic`, ...), as anyone reading it can tell.
    pub domain: String,
    /// What the mechanism wants from the agent this time (plain words).
    pub instruction: String,
    /// The agent's own previous answer, when it has one.
    pub own: Option<PeerView>,
    /// Peers' answers, explanations and confidences visible to this agent.
    pub peers: Vec<PeerView>,
    /// Which item of the run the ask is about: an index into the engine's item table,
    /// meaningless outside the engine (drivers pass it through untouched).
    pub item: u32,
    /// For `plan` asks: the plan the mechanism drafted from what the planner can observe
    /// (a simulated planner states it; an LLM writes its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<String>,
    /// For `speculate` and `fuse` asks: the second agent whose model writes this reply
    /// together with the asked agent's, token by token (see [`Partner`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<Partner>,
}

/// The second model of a token-level ask. `speculate`: the partner's model drafts
/// `draft_len` tokens at a time and the asked agent's model verifies them in one step,
/// keeping the longest prefix it would have written itself, so the reply is exactly the
/// asked agent's greedy reply (0: the asked agent writes alone). `fuse`: per token a
/// router lets the more confident of the two models emit it, adding `complement` times
/// the other model's log-probabilities. Drivers need token-level access to both models
/// (two local models, or one with two personas); the partner's prompt is the same ask
/// rendered for the partner (its name and role).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Partner {
    pub agent: AgentId,
    pub name: String,
    pub role: String,
    pub backend: Backend,
    #[serde(default)]
    pub draft_len: u32,
    #[serde(default)]
    pub complement: f64,
    /// `fuse`: how the router picks the model that emits a token: `token` (the more
    /// confident one, per token), `sequence` (the more confident one at the first token,
    /// for the whole reply), `first` / `second` (always the asked agent / the partner).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub router: String,
}

impl AskRequest {
    /// The same ask as the partner would get it alone (its name, role and backend), for
    /// rendering the partner model's prompt in a `fuse` ask.
    pub fn for_partner(&self) -> Option<AskRequest> {
        let p = self.partner.as_ref()?;
        Some(AskRequest {
            agent: p.agent,
            agent_name: p.name.clone(),
            role: p.role.clone(),
            backend: p.backend.clone(),
            partner: None,
            ..self.clone()
        })
    }
}

/// Most pieces a reply may carry (the longest reply plus its rejected drafts).
pub const MAX_PIECES: usize = 16_384;

impl AskRequest {
    /// A plain default prompt (what the log shows; LLM templates may do better).
    pub fn prompt_text(&self) -> String {
        let mut s = String::with_capacity(self.question.len() + 64 + 96 * self.peers.len());
        if !self.role.is_empty() {
            s.push_str(&format!("You are {}: {}\n", self.agent_name, self.role));
        }
        s.push_str(&self.question);
        for (i, o) in self.options.iter().enumerate() {
            if self.format == "option" {
                s.push_str(&format!("\n{}) {o}", crate::tasks::letter(i)));
            } else if i == 0 {
                s.push_str(&format!("\nOptions: {}", self.options.join(", ")));
            }
        }
        let said = |p: &PeerView| match p.confidence {
            Some(c) => format!("{} (confidence {c:.2})", p.answer),
            None => p.answer.clone(),
        };
        if let Some(own) = &self.own {
            s.push_str(&format!("\nYour previous answer: {}: {}", said(own), own.explanation));
        }
        for p in &self.peers {
            s.push_str(&format!("\n{} answered {}: {}", p.name, said(p), p.explanation));
        }
        if !self.instruction.is_empty() {
            s.push('\n');
            s.push_str(&self.instruction);
        }
        s
    }

    /// Prompt size in tokens as a model would count it (about 4 characters per token):
    /// what a simulated agent's context costs.
    pub fn estimated_prompt_tokens(&self) -> u32 {
        (self.prompt_text().len() / 4) as u32 + 8
    }
}

/// A backend's reply to one ask. `answer` is `None` when the reply could not be parsed
/// (it is logged and counted, never dropped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReply {
    pub answer: Option<String>,
    pub confidence: Option<f64>,
    /// What the agent said, verbatim.
    pub text: String,
    /// Tokens spent (prompt + completion; estimated for simulated agents).
    pub tokens: u32,
    /// A simulated agent's checkable argument for its answer (None from LLMs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
    /// For `speculate` and `fuse` asks: who wrote each piece of the reply, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pieces: Vec<Piece>,
}

impl AgentReply {
    /// A reply from text alone (what LLM backends give).
    pub fn from_text(answer: Option<String>, confidence: Option<f64>, text: String, tokens: u32) -> Self {
        AgentReply { answer, confidence, text, tokens, trace: None, pieces: Vec::new() }
    }

    /// Confidence, defaulting to 0.5 when the agent gave none.
    pub fn conf(&self) -> f64 {
        self.confidence.unwrap_or(0.5).clamp(0.0, 1.0)
    }
}

/// Purposes whose answer is judged against the truth of what was asked.
pub fn purpose_has_truth(purpose: &str) -> bool {
    matches!(purpose, "answer" | "revise" | "reflect" | "solve" | "judge" | "probe" | "speculate" | "fuse")
}
