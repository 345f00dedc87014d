//! The event log: a run's single source of truth.
//!
//! Every view (graph animation, timeline, transcript, metrics, exports) is a function of
//! this log, and replay is re-reading it. The log is append-only; its canonical
//! serialization (one compact JSON object per line, fields in declaration order) has a
//! stable hash that tests compare across runs and across targets (native vs wasm).

use serde::{Deserialize, Serialize};

/// Index of an agent in `Scenario::agents`.
pub type AgentId = u32;

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the log, from 0, without gaps.
    pub seq: u64,
    /// Round (or step) of the mechanism this event belongs to; 0 is the initial round.
    pub round: u32,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened. Field order is part of the canonical serialization: append new
/// fields at the end with `#[serde(default, skip_serializing_if = ...)]` so old logs keep
/// their hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// The mechanism asks an agent something (`purpose`: "answer", "revise", "judge", "plan", ...).
    Ask { agent: AgentId, purpose: String, prompt: String },
    /// An agent's reply, parsed. `answer` is `None` when the reply could not be parsed;
    /// `raw` keeps what the agent actually said.
    Answer {
        agent: AgentId,
        answer: Option<String>,
        confidence: Option<f64>,
        raw: String,
        tokens: u32,
        /// Whether the answer matches the ground truth of what was asked (None when
        /// the ask has no right answer, e.g. a plan or a bid).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        correct: Option<bool>,
        /// The ask's purpose, repeated so metrics need not pair asks with answers.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        purpose: String,
    },
    /// A message travelling along the topology; `msg_kind` colours it in the UI
    /// ("answer", "critique", "vote", "plan", "request", ...).
    Message { from: AgentId, to: Vec<AgentId>, msg_kind: String, text: String },
    /// A vote cast for an answer, with the weight the aggregation gave it.
    Vote { agent: AgentId, answer: String, weight: f64 },
    /// A ranking of answers (best first) by a judging agent.
    Rank { agent: AgentId, order: Vec<String> },
    /// A collective decision (the final answer, or a round's aggregate).
    Decision {
        answer: String,
        method: String,
        correct: Option<bool>,
        /// True for the run's final answer (the one accuracy is measured on).
        #[serde(default, rename = "final", skip_serializing_if = "is_false")]
        is_final: bool,
    },
    /// A named number the mechanism reports at this point (e.g. per-round accuracy).
    Metric { name: String, value: f64 },
    /// Free text for the transcript (phase changes, plans, explanations).
    Note { text: String },
    /// Something went wrong for an agent or the run; the run may continue.
    Error { agent: Option<AgentId>, message: String },
    // What follows lets mechanisms show their structure as it changes; the views draw
    // each the same way for every mechanism, up to the timeline's cursor.
    /// A per-agent score at this point (`name`: reputation, contribution, importance,
    /// share, ...): drawn as bars, and `importance` as node size.
    Score { name: String, agent: AgentId, value: f64 },
    /// The communication graph from this point on (a mechanism that builds or rewires its
    /// topology): `(a, b)` means b sees a.
    Graph { edges: Vec<(AgentId, AgentId)> },
    /// An agent leaves (`active: false`: pruned, failed, gated out) or rejoins the team.
    Active { agent: AgentId, active: bool, reason: String },
    /// Working groups (hyperedges): each group shares one channel; drawn as hulls.
    Groups { groups: Vec<Vec<AgentId>>, label: String },
    /// A pairwise judgment: `judge` compared the answers of `a` and `b` and preferred
    /// `winner` (one of them); views build the judgment matrix from these.
    Judgment { judge: AgentId, a: AgentId, b: AgentId, winner: AgentId },
    /// A structural choice the mechanism made for a task (`name` e.g. topology, route;
    /// `value` e.g. parallel, agent 3).
    Choice { name: String, value: String },
    /// Who wrote each piece of `agent`'s reply when two models wrote it together
    /// (speculative drafting, token-level fusion), in order: drafts the verifier kept or
    /// threw away, tokens it wrote itself, tokens the fusion router gave each model.
    Tokens { agent: AgentId, pieces: Vec<Piece> },
}

/// Who wrote a piece of a reply that two models wrote together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PieceStatus {
    /// Drafted by the partner and kept by the verifier.
    Accepted,
    /// Drafted by the partner and thrown away by the verifier (not part of the reply).
    Rejected,
    /// Written by the asked agent's model itself (a correction, a bonus token, or a token
    /// of the verifier writing alone).
    Written,
    /// Fusion: emitted by the model the router chose, as that model would have.
    Chosen,
    /// Fusion: emitted by the chosen model, changed by the complementary logit.
    Complemented,
}

/// One token (or, for simulated agents, one reasoning step) of a reply that two models
/// wrote together, in order; `by` is the agent whose model wrote or drafted it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Piece {
    pub text: String,
    pub by: AgentId,
    pub status: PieceStatus,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// An append-only event log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventLog {
    events: Vec<Event>,
}

impl EventLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an event in round `round`, numbering it.
    pub fn push(&mut self, round: u32, kind: EventKind) -> &Event {
        let seq = self.events.len() as u64;
        self.events.push(Event { seq, round, kind });
        self.events.last().expect("just pushed")
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The canonical serialization: JSON Lines, one compact event per line.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            out.push_str(&serde_json::to_string(e).expect("events always serialize"));
            out.push('\n');
        }
        out
    }

    /// Reads a log back from JSON Lines, checking that sequence numbers have no gaps.
    pub fn from_jsonl(text: &str) -> Result<Self, String> {
        let mut events = Vec::new();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let e: Event = serde_json::from_str(line)
                .map_err(|err| format!("event log line {}: {err}", i + 1))?;
            if e.seq != events.len() as u64 {
                return Err(format!(
                    "event log line {}: seq {} out of order (expected {})",
                    i + 1,
                    e.seq,
                    events.len()
                ));
            }
            events.push(e);
        }
        Ok(Self { events })
    }

    /// Stable hash of the canonical serialization (hex), equal natively and in wasm.
    pub fn hash(&self) -> String {
        format!("{:016x}", crate::determinism::fnv1a64(self.to_jsonl().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> EventLog {
        let mut log = EventLog::new();
        log.push(0, EventKind::Ask { agent: 0, purpose: "answer".into(), prompt: "Q1".into() });
        log.push(0, EventKind::Answer {
            agent: 0,
            answer: Some("B".into()),
            confidence: Some(0.8),
            raw: "B, confidence 0.8".into(),
            tokens: 7,
            correct: None,
            purpose: String::new(),
        });
        log.push(1, EventKind::Message { from: 0, to: vec![1, 2], msg_kind: "answer".into(), text: "B".into() });
        log
    }

    #[test]
    fn jsonl_round_trips_and_keeps_the_hash() {
        let log = sample();
        let back = EventLog::from_jsonl(&log.to_jsonl()).unwrap();
        assert_eq!(back, log);
        assert_eq!(back.hash(), log.hash());
    }

    #[test]
    fn hash_changes_with_content() {
        let a = sample();
        let mut b = sample();
        b.push(1, EventKind::Note { text: "x".into() });
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn gaps_in_seq_are_rejected() {
        let text = sample().to_jsonl().lines().skip(1).collect::<Vec<_>>().join("\n");
        assert!(EventLog::from_jsonl(&text).unwrap_err().contains("out of order"));
    }
}
