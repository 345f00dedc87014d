//! Mechanisms: how a group of agents turns asks into a decision.
//!
//! Each mechanism is one file implementing `Mechanism`, one line in the `registered!`
//! table below (which also names its built-in scenarios, JSON files under
//! core/scenarios/), and those scenario files. A mechanism is an `async fn` over a `Ctx`:
//! it asks agents (`ctx.ask_all`), sends messages along the topology, records votes,
//! decisions and per-round metrics, and never touches a backend or the UI. Scenario
//! validation and run start-up look mechanisms up here (see `registry`).

mod items;
mod stream;
mod work;
// The conductor's plans from a driver-supplied policy (see conductor.rs, param `policy`).
mod planned;

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::argument::Trace;
use crate::engine::{AgentReply, Ctx, MechanismFuture, PeerView};
use crate::event::AgentId;
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, parse_params};
use crate::tasks::normalize;

pub(crate) use crate::spec::{check_count, check_one_of};

/// A coordination mechanism.
pub trait Mechanism: 'static {
    /// Registry name (`mechanism.kind`).
    const NAME: &'static str;
    /// Params object (`mechanism.params`); use `#[serde(default, deny_unknown_fields)]`.
    /// Serialize + Default give the documented defaults (checked against
    /// docs/scenario-format.md by a test).
    type Params: DeserializeOwned + Serialize + Default + 'static;
    /// Checks params against the scenario (value ranges, agent counts).
    fn check(params: &Self::Params, scenario: &Scenario) -> Result<(), ScenarioError>;
    /// Runs the mechanism to its final decision.
    fn run(ctx: Ctx, params: Self::Params) -> impl Future<Output = Result<(), String>> + 'static;
}

/// A registered mechanism: its name, its param check, its start, and its built-in
/// scenarios (id, JSON text) in gallery order.
pub struct Entry {
    pub name: &'static str,
    pub validate: fn(&Scenario) -> Result<(), ScenarioError>,
    pub start: fn(Ctx) -> Result<MechanismFuture, ScenarioError>,
    /// The params with every default filled in.
    pub defaults: fn() -> serde_json::Value,
    pub builtins: &'static [(&'static str, &'static str)],
}

const fn entry<M: Mechanism>(builtins: &'static [(&'static str, &'static str)]) -> Entry {
    Entry { name: M::NAME, validate: validate_with::<M>, start: start_with::<M>, defaults: defaults_of::<M>, builtins }
}

fn defaults_of<M: Mechanism>() -> serde_json::Value {
    serde_json::to_value(M::Params::default()).expect("params serialize")
}

fn validate_with<M: Mechanism>(s: &Scenario) -> Result<(), ScenarioError> {
    let p: M::Params = parse_params("mechanism", &s.mechanism.params)?;
    M::check(&p, s)
}

fn start_with<M: Mechanism>(ctx: Ctx) -> Result<MechanismFuture, ScenarioError> {
    let p: M::Params = parse_params("mechanism", &ctx.scenario().mechanism.params)?;
    Ok(Box::pin(M::run(ctx, p)))
}

/// `module::Type => ["builtin-id", ...]`: declares the module and registers the type with
/// the built-ins whose JSON sits in core/scenarios/<builtin-id>.json.
macro_rules! registered {
    ($($module:ident :: $ty:ident => [$($id:literal),* $(,)?]),* $(,)?) => {
        $(mod $module;)*
        /// Every mechanism, in gallery order.
        pub static REGISTRY: &[Entry] = &[
            $(entry::<$module::$ty>(&[$(($id, include_str!(concat!("../../scenarios/", $id, ".json")))),*]),)*
        ];
    };
}

registered! {
    self_consistency::SelfConsistency => ["self-consistency"],
    debate::Debate => ["debate", "debate-hard"],
    reconcile::Reconcile => ["reconcile"],
    machinesom::MachineSom => ["machinesom"],
    architectures::Architectures => ["architectures", "architectures-sequential", "mixed-team"],
    multirobot::MultiRobot => ["multirobot"],
    conductor::Conductor => ["conductor"],
    blackboard::Blackboard => ["blackboard"],
    fortytwo::Fortytwo => ["fortytwo", "fortytwo-sybil"],
    selforg::SelfOrg => ["selforg"],
    dylan::Dylan => ["dylan"],
    agentnet::AgentNet => ["agentnet"],
    symphony::Symphony => ["symphony"],
    adaptorch::AdaptOrch => ["adaptorch"],
    hyperagent::HyperAgent => ["hyperagent"],
    speculative::Speculative => ["speculative"],
    fusion::Fusion => ["fusion"],
    escalate::Escalate => ["escalate"],
}

// ---- helpers shared by mechanisms ----

pub(crate) fn check_agents(s: &Scenario, min: usize) -> Result<(), ScenarioError> {
    if s.agents.len() < min {
        return Err(ScenarioError(format!(
            "mechanism \"{}\" needs at least {min} agents, the scenario has {}",
            s.mechanism.kind,
            s.agents.len()
        )));
    }
    Ok(())
}

/// An agent's current answer with its stated confidence and reasoning.
#[derive(Debug, Clone)]
pub(crate) struct Opinion {
    pub answer: String,
    pub confidence: f64,
    pub explanation: String,
    /// A simulated agent's checkable argument (None from LLMs).
    pub trace: Option<Trace>,
}

/// What a mechanism lets peers see of each other's answers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Show {
    pub confidence: bool,
    pub reasoning: bool,
}

impl Show {
    /// Answers and reasoning (Du et al.'s debate shares whole responses).
    pub const REASONING: Show = Show { confidence: false, reasoning: true };
    /// Answers, reasoning and stated confidence (ReConcile's discussion prompt).
    pub const ALL: Show = Show { confidence: true, reasoning: true };
    /// Bare answers.
    pub const ANSWERS: Show = Show { confidence: false, reasoning: false };
}

impl Opinion {
    pub fn from_reply(r: &AgentReply) -> Self {
        Opinion {
            answer: r.answer.clone().unwrap_or_else(|| "?".into()),
            confidence: r.conf(),
            explanation: explanation_of(&r.text),
            trace: r.trace.clone(),
        }
    }

    /// What another agent sees of this opinion under `show`.
    pub fn view(&self, ctx: &Ctx, agent: AgentId, show: Show) -> PeerView {
        PeerView {
            agent,
            name: ctx.name(agent).to_string(),
            answer: self.answer.clone(),
            confidence: show.confidence.then_some(self.confidence),
            explanation: if show.reasoning { self.explanation.clone() } else { String::new() },
            trace: if show.reasoning { self.trace.clone() } else { None },
        }
    }

    /// What the agent remembers of its own opinion (all of it).
    pub fn own(&self, ctx: &Ctx, agent: AgentId) -> PeerView {
        self.view(ctx, agent, Show::ALL)
    }

    /// The message text that carries this opinion under `show`.
    pub fn message(&self, show: Show) -> String {
        let mut s = self.answer.clone();
        if show.confidence {
            s.push_str(&format!(", confidence {:.2}", self.confidence));
        }
        if show.reasoning && !self.explanation.is_empty() {
            s.push_str(": ");
            s.push_str(&self.explanation);
        }
        s
    }
}

/// The reasoning part of a reply (after "ANSWER, confidence X: "), kept to what a prompt
/// quotes.
fn explanation_of(text: &str) -> String {
    let t = text.split_once(": ").map_or(text, |(_, rest)| rest);
    t.chars().take(crate::parse::MAX_EXPLANATION).collect()
}

/// Weighted plurality; ties go to the answer that appeared first (deterministic).
pub(crate) fn plurality(votes: &[(String, f64)]) -> Option<String> {
    let mut groups: Vec<(String, String, f64)> = Vec::new();
    // "?" stands for a reply nobody could read: it abstains. Otherwise a few unparsed
    // replies among scattered answers (a small model's usual output) outvote every answer.
    for (a, w) in votes.iter().filter(|(a, _)| a != "?") {
        let k = normalize(a);
        match groups.iter_mut().find(|g| g.0 == k) {
            Some(g) => g.2 += w,
            None => groups.push((k, a.clone(), *w)),
        }
    }
    let mut best: Option<&(String, String, f64)> = None;
    for g in &groups {
        if best.is_none_or(|b| g.2 > b.2 + 1e-12) {
            best = Some(g);
        }
    }
    best.map(|g| g.1.clone())
}

/// Share of `opinions` holding the plurality answer, and whether all agree.
pub(crate) fn agreement(opinions: &[Opinion]) -> (f64, bool) {
    let votes: Vec<(String, f64)> = opinions.iter().map(|o| (o.answer.clone(), 1.0)).collect();
    let Some(top) = plurality(&votes) else { return (0.0, false) };
    let k = normalize(&top);
    let n = opinions.iter().filter(|o| normalize(&o.answer) == k).count();
    (n as f64 / opinions.len().max(1) as f64, n == opinions.len())
}

/// Fraction of opinions that are right (per-round accuracy).
pub(crate) fn share_correct(ctx: &Ctx, opinions: &[Opinion]) -> f64 {
    let n = opinions.iter().filter(|o| ctx.task().main.is_correct(&o.answer)).count();
    n as f64 / opinions.len().max(1) as f64
}

/// Sends each agent's opinion, as `show` lets peers see it, along the topology.
pub(crate) fn broadcast(ctx: &Ctx, round: u32, opinions: &[Opinion], msg_kind: &str, show: Show) {
    for (i, o) in opinions.iter().enumerate() {
        let to = ctx.graph().seen_by(i as AgentId).to_vec();
        ctx.message(round, i as AgentId, to, msg_kind, o.message(show));
    }
}

/// Round metrics every deliberation emits: accuracy and agreement of current opinions.
pub(crate) fn round_metrics(ctx: &Ctx, round: u32, opinions: &[Opinion]) -> bool {
    let (agree, unanimous) = agreement(opinions);
    ctx.metric(round, "round_accuracy", share_correct(ctx, opinions));
    ctx.metric(round, "round_agreement", agree);
    unanimous
}

/// Asks every agent in `agents` to answer the main problem.
pub(crate) async fn initial_answers(ctx: &Ctx, agents: &[AgentId], instruction: &str) -> Vec<Opinion> {
    let problem = ctx.task().main.clone();
    let reqs = agents
        .iter()
        .map(|&a| {
            let mut r = ctx.request(a, "answer", 0, &problem);
            r.instruction = instruction.into();
            r
        })
        .collect();
    ctx.ask_all(reqs).await.iter().map(Opinion::from_reply).collect()
}

/// One revision round: each agent sees its own opinion and (for `revise`) those of the
/// agents it sees in the topology, as `show` lets it.
pub(crate) async fn revise_round(ctx: &Ctx, round: u32, opinions: &[Opinion], purpose: &str, instruction: &str, show: Show) -> Vec<Opinion> {
    let problem = ctx.task().main.clone();
    let reqs = (0..opinions.len())
        .map(|i| {
            let a = i as AgentId;
            let mut r = ctx.request(a, purpose, round, &problem);
            r.instruction = instruction.into();
            r.own = Some(opinions[i].own(ctx, a));
            if purpose == "revise" {
                r.peers = ctx.graph().sees(a).iter().map(|&j| opinions[j as usize].view(ctx, j, show)).collect();
            }
            r
        })
        .collect();
    ctx.ask_all(reqs).await.iter().map(Opinion::from_reply).collect()
}

/// How a discussion (debate, round table) opens and revises; see [`discuss`].
pub(crate) struct Discussion<'a> {
    pub first: &'a str,
    pub revise: &'a str,
    pub rounds: u32,
    pub stop_at_consensus: bool,
    /// The note written when consensus ends the discussion early.
    pub consensus_note: &'a str,
    /// What agents see of each other's answers.
    pub show: Show,
}

/// Everyone answers, then revises for up to `rounds` rounds seeing the peers the topology
/// shows them; each round's opinions are broadcast and scored. Returns the last opinions
/// and the round they were given in.
pub(crate) async fn discuss(ctx: &Ctx, agents: &[AgentId], d: &Discussion<'_>) -> (Vec<Opinion>, u32) {
    let mut ops = initial_answers(ctx, agents, d.first).await;
    broadcast(ctx, 0, &ops, "answer", d.show);
    let mut unanimous = round_metrics(ctx, 0, &ops);
    let mut last = 0;
    for round in 1..=d.rounds {
        if unanimous && d.stop_at_consensus {
            ctx.note(round - 1, d.consensus_note);
            break;
        }
        ops = revise_round(ctx, round, &ops, "revise", d.revise, d.show).await;
        broadcast(ctx, round, &ops, "answer", d.show);
        unanimous = round_metrics(ctx, round, &ops);
        last = round;
    }
    (ops, last)
}

/// Records each agent's vote and the final decision by plurality (weights as given).
pub(crate) fn final_vote(ctx: &Ctx, round: u32, opinions: &[Opinion], weights: &[f64], method: &str) -> String {
    let mut votes = Vec::with_capacity(opinions.len());
    for (i, o) in opinions.iter().enumerate() {
        ctx.vote(round, i as AgentId, &o.answer, weights[i]);
        votes.push((o.answer.clone(), weights[i]));
    }
    let answer = plurality(&votes).unwrap_or_else(|| "?".into());
    ctx.decide(round, &answer, method, true);
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurality_is_weighted_and_deterministic() {
        let v = |a: &str, w: f64| (a.to_string(), w);
        assert_eq!(plurality(&[v("A", 1.0), v("B", 1.0)]).unwrap(), "A");
        assert_eq!(plurality(&[v("A", 1.0), v("B", 1.0), v("b", 0.5)]).unwrap(), "B");
        assert_eq!(plurality(&[v("A", 0.9), v("B", 0.5), v("B", 0.3)]).unwrap(), "A");
        assert!(plurality(&[]).is_none());
        // Unreadable replies abstain: two of them do not beat one answer.
        assert_eq!(plurality(&[v("?", 1.0), v("?", 1.0), v("4", 1.0), v("11", 1.0)]).unwrap(), "4");
        assert!(plurality(&[v("?", 1.0)]).is_none());
    }

}
