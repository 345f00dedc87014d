//! The engine: runs a mechanism as a future that asks agents through the driver.
//!
//! A mechanism is an `async fn` that awaits `ctx.ask_all(requests)`. The engine polls it
//! with a no-op waker; when it is pending, the asks it made are handed to the driver
//! (`Run::pending_asks`), which resolves them however it likes (simulated agents here,
//! synchronously; LLM or remote backends in the app, asynchronously and possibly
//! concurrently) and hands the replies back in request order (`Run::answer`). The engine
//! alone decides the order in which replies are applied and logged, so a run is a pure
//! function of (scenario, seed, replies). Everything lands in the event log.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use serde::{Deserialize, Serialize};

use crate::event::{AgentId, EventKind, EventLog};
use crate::exchange::purpose_has_truth;
pub use crate::exchange::{AgentReply, AskRequest, PeerView};
use crate::policy::{Policies, Policy};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::spec::ScenarioError;
use crate::tasks::{Problem, TaskInstance};
use crate::topology::Graph;


/// State shared by the mechanism's future and the driver.
#[derive(Default)]
struct Shared {
    log: EventLog,
    outbox: Vec<AskRequest>,
    inbox: Option<Vec<AgentReply>>,
    next_ask: u64,
    /// Every item asked about in this run (`AskRequest::item` indexes it): the answer keys
    /// stay here, where only the engine's scoring and nature read them.
    items: Vec<Rc<Problem>>,
}

impl Shared {
    /// The index of `problem` in the item table (the same text is the same item).
    fn intern(&mut self, problem: &Problem) -> u32 {
        if let Some(i) = self.items.iter().rposition(|p| p.text == problem.text && p.truth == problem.truth) {
            return i as u32;
        }
        self.items.push(Rc::new(problem.clone()));
        (self.items.len() - 1) as u32
    }
}

/// What a mechanism sees: the scenario, the task, the graph, and the ask/emit API.
#[derive(Clone)]
pub struct Ctx {
    scenario: Rc<Scenario>,
    task: Rc<TaskInstance>,
    graph: Rc<Graph>,
    seed: u64,
    shared: Rc<RefCell<Shared>>,
    /// Policies the driver supplied by name (a conductor may be told to follow one).
    policies: Rc<Policies>,
}

impl Ctx {
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }
    pub fn task(&self) -> &TaskInstance {
        &self.task
    }
    pub fn graph(&self) -> &Graph {
        &self.graph
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Number of agents.
    pub fn n(&self) -> usize {
        self.scenario.agents.len()
    }
    pub fn name(&self, agent: AgentId) -> &str {
        &self.scenario.agents[agent as usize].name
    }
    /// The policy the driver supplied under `name`, if any.
    pub fn policy(&self, name: &str) -> Option<Rc<dyn Policy>> {
        self.policies.get(name).cloned()
    }
    /// A seeded stream for the mechanism's own choices.
    pub fn rng(&self, label: &str) -> Rng {
        Rng::named(self.seed, label)
    }

    pub fn emit(&self, round: u32, kind: EventKind) {
        self.shared.borrow_mut().log.push(round, kind);
    }
    pub fn note(&self, round: u32, text: impl Into<String>) {
        self.emit(round, EventKind::Note { text: text.into() });
    }
    pub fn metric(&self, round: u32, name: &str, value: f64) {
        self.emit(round, EventKind::Metric { name: name.into(), value });
    }
    pub fn message(&self, round: u32, from: AgentId, to: Vec<AgentId>, msg_kind: &str, text: impl Into<String>) {
        if !to.is_empty() {
            self.emit(round, EventKind::Message { from, to, msg_kind: msg_kind.into(), text: text.into() });
        }
    }
    pub fn vote(&self, round: u32, agent: AgentId, answer: &str, weight: f64) {
        self.emit(round, EventKind::Vote { agent, answer: answer.into(), weight });
    }
    /// Records a decision on the main problem; returns whether it is correct.
    pub fn decide(&self, round: u32, answer: &str, method: &str, is_final: bool) -> bool {
        let correct = self.task.main.is_correct(answer);
        self.emit(round, EventKind::Decision { answer: answer.into(), method: method.into(), correct: Some(correct), is_final });
        correct
    }

    /// A request for `agent` about `problem`, with its persona filled in; the problem's
    /// answer key stays in the engine's item table.
    pub fn request(&self, agent: AgentId, purpose: &str, round: u32, problem: &Problem) -> AskRequest {
        let a = &self.scenario.agents[agent as usize];
        let item = self.shared.borrow_mut().intern(problem);
        AskRequest {
            id: 0,
            agent,
            agent_name: a.name.clone(),
            role: a.role.clone(),
            backend: a.backend.clone(),
            purpose: purpose.into(),
            round,
            question: problem.text.clone(),
            options: problem.options.clone(),
            format: problem.format.clone(),
            domain: problem.domain.clone(),
            instruction: String::new(),
            own: None,
            peers: vec![],
            item,
            draft: None,
            partner: None,
        }
    }

    /// `agent` as the partner of a token-level ask (`speculate`, `fuse`; see
    /// [`crate::exchange::Partner`]).
    pub fn partner(&self, agent: AgentId) -> crate::exchange::Partner {
        let a = &self.scenario.agents[agent as usize];
        crate::exchange::Partner {
            agent,
            name: a.name.clone(),
            role: a.role.clone(),
            backend: a.backend.clone(),
            draft_len: 0,
            complement: 0.0,
            router: String::new(),
        }
    }

    /// Asks every request and waits for all replies (returned in request order).
    pub fn ask_all(&self, requests: Vec<AskRequest>) -> AskAll {
        AskAll { shared: self.shared.clone(), requests: Some(requests), asked: Vec::new() }
    }

    /// Asks one request.
    pub async fn ask(&self, request: AskRequest) -> AgentReply {
        self.ask_all(vec![request]).await.pop().expect("one reply per request")
    }
}

/// The future returned by `Ctx::ask_all`.
pub struct AskAll {
    shared: Rc<RefCell<Shared>>,
    requests: Option<Vec<AskRequest>>,
    asked: Vec<Asked>,
}

/// What the engine keeps of an ask while it waits (the request itself goes to the driver).
struct Asked {
    agent: AgentId,
    round: u32,
    purpose: String,
    truth: Option<String>,
}

impl Future for AskAll {
    type Output = Vec<AgentReply>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut sh = this.shared.borrow_mut();
        if let Some(mut reqs) = this.requests.take() {
            if reqs.is_empty() {
                return Poll::Ready(Vec::new());
            }
            this.asked.reserve(reqs.len());
            for r in reqs.iter_mut() {
                r.id = sh.next_ask;
                sh.next_ask += 1;
                let prompt = r.prompt_text();
                sh.log.push(r.round, EventKind::Ask { agent: r.agent, purpose: r.purpose.clone(), prompt });
                this.asked.push(Asked {
                    agent: r.agent,
                    round: r.round,
                    purpose: r.purpose.clone(),
                    truth: purpose_has_truth(&r.purpose).then(|| crate::tasks::normalize(&sh.items[r.item as usize].truth)),
                });
            }
            sh.outbox.extend(reqs);
            return Poll::Pending;
        }
        match sh.inbox.take() {
            Some(replies) => {
                for (req, rep) in this.asked.iter().zip(replies.iter()) {
                    let correct = match (&req.truth, &rep.answer) {
                        (Some(t), Some(a)) => Some(crate::tasks::normalize(a) == *t),
                        _ => None,
                    };
                    sh.log.push(req.round, EventKind::Answer {
                        agent: req.agent,
                        answer: rep.answer.clone(),
                        confidence: rep.confidence,
                        raw: rep.text.clone(),
                        tokens: rep.tokens,
                        correct,
                        purpose: req.purpose.clone(),
                    });
                    if rep.answer.is_none() {
                        sh.log.push(req.round, EventKind::Error {
                            agent: Some(req.agent),
                            message: "reply could not be parsed".into(),
                        });
                    }
                }
                Poll::Ready(replies)
            }
            None => Poll::Pending,
        }
    }
}

/// An erased mechanism future.
pub type MechanismFuture = Pin<Box<dyn Future<Output = Result<(), String>>>>;

/// One run of a scenario, driven step by step (see the module doc).
pub struct Run {
    scenario: Rc<Scenario>,
    task: Rc<TaskInstance>,
    seed: u64,
    shared: Rc<RefCell<Shared>>,
    future: Option<MechanismFuture>,
    pending: Vec<AskRequest>,
    slots: Vec<Option<AgentReply>>,
    error: Option<String>,
}

/// Builds a mechanism's future for a run (the registry looks it up by kind).
pub type StartMechanism = fn(Ctx) -> Result<MechanismFuture, ScenarioError>;

impl Run {
    /// Starts a run of a validated scenario with `seed`, its mechanism built by `start`.
    /// Drivers call `Run::new` / `Run::with_seed` (in `registry`), which validate the
    /// scenario and look the mechanism up first.
    pub fn start(scenario: &Scenario, seed: u64, start: StartMechanism) -> Result<Self, ScenarioError> {
        Self::start_with_policies(scenario, seed, start, Policies::new())
    }

    /// `start`, with named policies the mechanism may follow (see `policy`).
    pub fn start_with_policies(scenario: &Scenario, seed: u64, start: StartMechanism, policies: Policies) -> Result<Self, ScenarioError> {
        let task = Rc::new(crate::tasks::generate(&scenario.task, seed, scenario.agents.len()));
        let graph = Rc::new(crate::topology::build(&scenario.topology, scenario.agents.len(), seed));
        let scenario = Rc::new(scenario.clone());
        let shared = Rc::new(RefCell::new(Shared::default()));
        let ctx = Ctx { scenario: scenario.clone(), task: task.clone(), graph, seed, shared: shared.clone(), policies: Rc::new(policies) };
        let future = start(ctx)?;
        let mut run = Run { scenario, task, seed, shared, future: Some(future), pending: vec![], slots: vec![], error: None };
        run.step();
        Ok(run)
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }
    pub fn task(&self) -> &TaskInstance {
        &self.task
    }
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Advances the mechanism until it waits for replies or finishes. Call after
    /// answering; `new` already calls it once.
    pub fn step(&mut self) {
        if self.future.is_none() {
            return;
        }
        if !self.pending.is_empty() {
            if self.slots.iter().any(Option::is_none) {
                return; // still waiting for replies
            }
            let replies: Vec<AgentReply> = self.slots.drain(..).map(|s| s.expect("filled")).collect();
            self.pending.clear();
            self.shared.borrow_mut().inbox = Some(replies);
        }
        let mut cx = Context::from_waker(Waker::noop());
        let fut = self.future.as_mut().expect("checked");
        match fut.as_mut().poll(&mut cx) {
            Poll::Ready(result) => {
                self.future = None;
                if let Err(e) = result {
                    self.shared.borrow_mut().log.push(0, EventKind::Error { agent: None, message: e.clone() });
                    self.error = Some(e);
                }
            }
            Poll::Pending => {
                let out = std::mem::take(&mut self.shared.borrow_mut().outbox);
                if out.is_empty() {
                    let e = "mechanism is waiting on something other than an ask".to_string();
                    self.shared.borrow_mut().log.push(0, EventKind::Error { agent: None, message: e.clone() });
                    self.error = Some(e);
                    self.future = None;
                } else {
                    self.slots = vec![None; out.len()];
                    self.pending = out;
                }
            }
        }
    }

    /// Asks waiting for replies, in the order replies must be given.
    pub fn pending_asks(&self) -> &[AskRequest] {
        &self.pending
    }

    /// Gives all replies at once (in `pending_asks` order) and steps.
    pub fn answer(&mut self, replies: Vec<AgentReply>) -> Result<(), String> {
        if replies.len() != self.pending.len() {
            return Err(format!("expected {} replies, got {}", self.pending.len(), replies.len()));
        }
        self.slots = replies.into_iter().map(Some).collect();
        self.step();
        Ok(())
    }

    /// Gives the reply to pending ask `index` (any order, e.g. as concurrent backends
    /// finish); the run steps once every pending ask has its reply.
    pub fn answer_at(&mut self, index: usize, reply: AgentReply) -> Result<(), String> {
        let slot = self.slots.get_mut(index).ok_or_else(|| format!("no pending ask {index}"))?;
        *slot = Some(reply);
        self.step();
        Ok(())
    }

    /// The simulated agent's reply to pending ask `index`: nature draws the agent's private
    /// mind for the item (harder the longer the context it must hold), and the agent
    /// decides from that mind and what the ask shows it.
    pub fn simulate(&self, index: usize) -> AgentReply {
        let req = &self.pending[index];
        let problem = self.shared.borrow().items[req.item as usize].clone();
        let agent = &self.scenario.agents[req.agent as usize];
        let strain = context_strain(agent.traits.context_load, req.estimated_prompt_tokens());
        let mind = crate::nature::mind(&problem, agent, req.agent, self.seed, strain);
        let mut rng = Rng::derive(self.seed, &[req.id, u64::from(req.agent), 0xa11ce]);
        // A token-level ask has a second agent write the reply with the first: it brings
        // its own mind about the same item.
        let partner = req.partner.as_ref().and_then(|p| {
            let other = self.scenario.agents.get(p.agent as usize)?;
            let strain = context_strain(other.traits.context_load, req.estimated_prompt_tokens());
            Some(crate::nature::mind(&problem, other, p.agent, self.seed, strain))
        });
        match partner {
            Some(partner_mind) => crate::sim::reply_with_partner(&agent.traits, req, &mind, &partner_mind, &mut rng),
            None => crate::sim::reply(&agent.traits, req, &mind, &mut rng),
        }
    }

    /// Answers every pending ask with simulated agents (whatever their backend) and steps.
    pub fn resolve_simulated(&mut self) {
        let replies: Vec<AgentReply> = (0..self.pending.len()).map(|i| self.simulate(i)).collect();
        if !replies.is_empty() {
            self.answer(replies).expect("one reply per pending ask");
        }
    }

    pub fn is_done(&self) -> bool {
        self.future.is_none()
    }

    /// The error that ended the run early, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// A snapshot of the log so far.
    pub fn log(&self) -> EventLog {
        self.shared.borrow().log.clone()
    }

    /// Number of events so far (cheap; lets a UI fetch only new events).
    pub fn log_len(&self) -> usize {
        self.shared.borrow().log.len()
    }

    /// Events from position `from` on.
    pub fn events_since(&self, from: usize) -> Vec<crate::event::Event> {
        self.shared.borrow().log.events().get(from..).map(<[_]>::to_vec).unwrap_or_default()
    }

    pub fn metrics(&self) -> crate::metrics::Metrics {
        crate::metrics::compute(&self.shared.borrow().log)
    }

    pub fn summary(&self) -> Summary {
        Summary::of(&self.shared.borrow().log, &self.task, self.error.clone())
    }

    /// Log, metrics and summary.
    pub fn result(&self) -> RunResult {
        let log = self.log();
        let metrics = crate::metrics::compute(&log);
        let summary = Summary::of(&log, &self.task, self.error.clone());
        RunResult { log_hash: log.hash(), log, metrics, summary }
    }
}

/// The headline of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub final_answer: Option<String>,
    pub truth: String,
    pub correct: Option<bool>,
    /// Highest round number seen.
    pub rounds: u32,
    pub asks: u32,
    pub tokens: u64,
    pub messages: u32,
    pub error: Option<String>,
}

impl Summary {
    pub fn of(log: &EventLog, task: &TaskInstance, error: Option<String>) -> Self {
        let mut s = Summary {
            final_answer: None,
            truth: task.main.truth.clone(),
            correct: None,
            rounds: 0,
            asks: 0,
            tokens: 0,
            messages: 0,
            error,
        };
        for e in log.events() {
            s.rounds = s.rounds.max(e.round);
            match &e.kind {
                EventKind::Ask { .. } => s.asks += 1,
                EventKind::Answer { tokens, .. } => s.tokens += u64::from(*tokens),
                EventKind::Message { .. } => s.messages += 1,
                EventKind::Decision { answer, correct, is_final: true, .. } => {
                    s.final_answer = Some(answer.clone());
                    s.correct = *correct;
                }
                _ => {}
            }
        }
        s
    }
}

/// Everything a finished run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub log: EventLog,
    pub log_hash: String,
    pub metrics: crate::metrics::Metrics,
    pub summary: Summary,
}

/// Extra difficulty of holding a prompt of `tokens`: `load` per doubling beyond 250 tokens
/// (long contexts dilute attention; a model property, see `Traits::context_load`).
pub fn context_strain(load: f64, tokens: u32) -> f64 {
    load * libm::log2((f64::from(tokens) / 250.0).max(1.0))
}

/// Resolves asks with simulated agents until the run is done.
pub fn drive_simulated(run: &mut Run) {
    // Every mechanism makes a bounded number of asks (validated sizes); the guard only
    // protects against a buggy mechanism looping forever.
    let mut guard = 0u32;
    while !run.is_done() && guard < 1_000_000 {
        run.resolve_simulated();
        guard += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::run_simulated;

    fn debate() -> Scenario {
        crate::builtin("debate").unwrap()
    }

    #[test]
    fn answer_order_does_not_change_the_run() {
        let s = debate();
        let reference = run_simulated(&s).unwrap();
        // Answer every batch back to front, one at a time, as concurrent backends would.
        let mut run = Run::new(&s).unwrap();
        while !run.is_done() {
            let n = run.pending_asks().len();
            let replies: Vec<AgentReply> = (0..n).map(|i| run.simulate(i)).collect();
            for (i, r) in replies.into_iter().enumerate().rev() {
                run.answer_at(i, r).unwrap();
            }
        }
        assert_eq!(run.result().log_hash, reference.log_hash);
    }

    #[test]
    fn asks_carry_what_a_prompt_needs() {
        let mut run = Run::new(&debate()).unwrap();
        assert_eq!(run.pending_asks().len(), 5);
        let first = &run.pending_asks()[0];
        assert_eq!((first.purpose.as_str(), first.round, first.agent_name.as_str()), ("answer", 0, "Ada"));
        assert_eq!(first.options.len(), 4);
        run.resolve_simulated();
        let revise = &run.pending_asks()[0];
        assert_eq!(revise.purpose, "revise");
        assert!(revise.own.is_some());
        assert_eq!(revise.peers.len(), 4, "mesh: every other agent is visible");
        assert!(revise.peers.iter().all(|p| !p.answer.is_empty() && p.confidence.is_none() && !p.explanation.is_empty() && p.trace.is_some()));
        assert!(revise.prompt_text().contains("Ben answered"));
    }

    #[test]
    fn unparsed_replies_are_logged_and_counted_not_dropped() {
        let mut run = Run::new(&debate()).unwrap();
        while !run.is_done() {
            let n = run.pending_asks().len();
            let mut replies: Vec<AgentReply> = (0..n).map(|i| run.simulate(i)).collect();
            replies[0] = AgentReply::from_text(None, None, "I like turtles".into(), 5);
            run.answer(replies).unwrap();
        }
        let log = run.log();
        let errors = log.events().iter().filter(|e| matches!(e.kind, EventKind::Error { .. })).count();
        assert_eq!(errors, 3, "one per round");
        assert!(log.to_jsonl().contains("I like turtles"));
        assert_eq!(run.metrics().get("unparsed"), Some(3.0));
    }

    #[test]
    fn replay_from_the_log_gives_the_same_metrics() {
        let r = run_simulated(&debate()).unwrap();
        let back = EventLog::from_jsonl(&r.log.to_jsonl()).unwrap();
        assert_eq!(crate::metrics::compute(&back), r.metrics);
        assert_eq!(back.hash(), r.log_hash);
    }

    #[test]
    fn wrong_reply_count_is_an_error() {
        let mut run = Run::new(&debate()).unwrap();
        assert!(run.answer(vec![]).unwrap_err().contains("expected 5 replies"));
        assert!(run.answer_at(99, run.simulate(0)).is_err());
    }
}
