//! What passes between a mechanism and an agent: the ask (everything a backend needs to
//! build a prompt), the reply, and what one agent gets to see of another's answer.
//!
//! These types sit below the engine, the simulated agents, the prompt builder and the
//! reply parser, which all speak them; drivers (app, CLI) build prompts from an
//! [`AskRequest`] and hand back an [`AgentReply`].

use serde::{Deserialize, Serialize};

use crate::backend::Backend;
use crate::event::AgentId;

/// What one agent said earlier, as another agent (or itself) gets to see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerView {
    pub agent: AgentId,
    pub name: String,
    pub answer: String,
    pub confidence: f64,
    pub explanation: String,
}

/// Hidden facts a simulated agent draws its behaviour from. LLM prompt builders must
/// not use these (they are the ground truth).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimContext {
    pub truth: String,
    /// Effective difficulty of this ask (item difficulty plus any mechanism penalty).
    pub difficulty: f64,
    pub domain: String,
    pub distractors: Vec<String>,
    pub lure: f64,
    /// For `plan` asks: the heuristic plan a simulated conductor states.
    pub scripted: Option<String>,
}

/// One question to one agent: everything an LLM backend needs to build a prompt.
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
    /// `answer`, `revise`, `reflect`, `judge`, `check`, `bid`, `plan` or `solve`.
    pub purpose: String,
    pub round: u32,
    /// The question text.
    pub question: String,
    /// Options to choose from (multiple choice, candidates to judge); labelled A, B, ...
    /// when `format` is `option`.
    pub options: Vec<String>,
    /// `option`, `number` or `text`: what the answer should look like.
    pub format: String,
    /// What the mechanism wants from the agent this time (plain words).
    pub instruction: String,
    /// The agent's own previous answer, when it has one.
    pub own: Option<PeerView>,
    /// Peers' answers, explanations and confidences visible to this agent.
    pub peers: Vec<PeerView>,
    pub sim: SimContext,
}

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
        if let Some(own) = &self.own {
            s.push_str(&format!("\nYour previous answer: {} (confidence {:.2}): {}", own.answer, own.confidence, own.explanation));
        }
        for p in &self.peers {
            s.push_str(&format!("\n{} answered {} (confidence {:.2}): {}", p.name, p.answer, p.confidence, p.explanation));
        }
        if !self.instruction.is_empty() {
            s.push('\n');
            s.push_str(&self.instruction);
        }
        s
    }

    /// Rough prompt size in tokens (4 characters per token), for simulated cost.
    pub fn estimated_prompt_tokens(&self) -> u32 {
        let chars = self.question.len()
            + self.options.iter().map(|o| o.len() + 4).sum::<usize>()
            + self.instruction.len()
            + self.role.len()
            + self.own.iter().chain(self.peers.iter()).map(|p| p.explanation.len() + p.name.len() + 24).sum::<usize>();
        (chars / 4) as u32 + 8
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
}

impl AgentReply {
    /// Confidence, defaulting to 0.5 when the agent gave none.
    pub fn conf(&self) -> f64 {
        self.confidence.unwrap_or(0.5).clamp(0.0, 1.0)
    }
}

/// Purposes whose answer is judged against the truth of what was asked.
pub fn purpose_has_truth(purpose: &str) -> bool {
    matches!(purpose, "answer" | "revise" | "reflect" | "solve" | "judge")
}
