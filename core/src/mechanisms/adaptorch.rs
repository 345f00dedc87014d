//! AdaptOrch: choose how the team is organised for each task from the task's dependency
//! graph, among parallel, sequential, hierarchical and hybrid; and MDAgents' first step:
//! let one agent work alone when it judges the task simple enough. After *AdaptOrch:
//! Task-Adaptive Multi-Agent Orchestration in the Era of LLM Performance Convergence*
//! (Yu, 2026) and *MDAgents: An Adaptive Collaboration of LLMs for Medical
//! Decision-Making* (Kim et al., 2024).
//!
//! Tasks are plans of nodes (task `dag`): sources read their operands from a page of
//! records; combine nodes need the results of the nodes they name. Each topology is a way
//! of passing results, run the same way whoever chose it; what a mismatch costs comes
//! from what agents hold and what reaches them, as in `architectures`:
//! - **Rework.** A solver who needs a result that did not reach it works it out again
//!   itself, and to know what that node is it reads the whole plan (every source's
//!   records): an extra call, a long prompt (harder for agents with a `context_load`),
//!   and a second, independent chance to get that node wrong.
//! - **parallel**: every node but the last is handed out at once (round-robin over the
//!   workers; agent 0 is the lead); results go only to the lead, who does the last node.
//! - **sequential**: one pipeline in plan order, node k by agent k mod n; each stage hands
//!   the next its result plus `handoff` earlier ones (the hand-off of `architectures`).
//! - **hierarchical**: the lead hands every source to a worker (at once) and integrates
//!   the rest itself, one node after another, holding the plan it handed out and the
//!   reports in its context.
//! - **hybrid**: the plan's levels run one after another, each level's nodes at once;
//!   every result is posted to a board that everyone reads, with the node it answers (a
//!   source's records included): nothing is missing, but the board grows in every
//!   later prompt.
//! - **solo**: one agent (the lead) works out the whole plan in one go (one call, the whole
//!   plan in its context).
//! - **adaptive**: the router reads the plan's shape in one pass over nodes and links
//!   (nothing hidden: the plan is what the team is given): nothing between the sources and
//!   the answer -> parallel; a single line -> sequential; every result used once ->
//!   hierarchical; results used twice -> hybrid. With `solo_above` set, the lead is first
//!   asked how likely it is to get the whole plan right alone (its own estimate, a `bid`),
//!   and works alone at or above that.
//!
//! Budgets: one call per node for every team topology, plus rework (counted in `calls`);
//! solo is one call; the adaptive router's complexity check one more.
//!
//! Events: per task a `Choice {name: "topology", value}` and a `Note` with the plan's
//! shape; `Message`s for assignments (`assign`), reports (`report`),
//! hand-offs (`handoff`) and board posts (`post`); a `Note` for each rework; the asks and
//! answers; one final `Decision` per task (accuracy is the share right). Metrics at the
//! end: `rework` (calls spent working out results computed elsewhere) and, with the
//! complexity check, `solo_share`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::stream::{decide_on, task_at};
use super::{Mechanism, Opinion, check_agents, check_count, check_one_of};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, check_unit};
use crate::tasks::{Layout, TaskInstance, layout, levels, normalize};

pub struct AdaptOrch;

pub const TOPOLOGIES: &[&str] = &["adaptive", "parallel", "sequential", "hierarchical", "hybrid", "solo"];

#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// `adaptive` or one fixed topology for every task.
    pub topology: String,
    /// Adaptive only: the lead's stated chance of getting the whole plan right alone at or
    /// above which it works alone (unset: never).
    pub solo_above: Option<f64>,
    /// Plans in the run (each drawn from the task spec).
    pub tasks: u32,
    /// Sequential: earlier results a hand-off carries beyond the latest one.
    pub handoff: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self { topology: "adaptive".into(), solo_above: None, tasks: 1, handoff: 0 }
    }
}

const LEAD: AgentId = 0;

impl Mechanism for AdaptOrch {
    const NAME: &'static str = "adaptorch";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 2)?;
        check_one_of("topology", &p.topology, TOPOLOGIES)?;
        check_count("tasks", p.tasks, 1, 32)?;
        check_count("handoff", p.handoff, 0, 32)?;
        if let Some(x) = p.solo_above {
            check_unit("mechanism.params.solo_above", x)?;
        }
        if s.task.kind != "dag" {
            return Err(ScenarioError(format!("mechanism \"adaptorch\" needs task \"dag\" (plans with a dependency graph), not \"{}\"", s.task.kind)));
        }
        Ok(())
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let mut round = 0u32;
        let (mut rework, mut solo) = (0u32, 0u32);
        for k in 0..p.tasks {
            let t = task_at(&ctx, k, None);
            let shape = layout(&t.deps);
            let mut topology = p.topology.clone();
            if topology == "adaptive" {
                topology = route(&shape).to_string();
                if let Some(threshold) = p.solo_above {
                    let mut r = ctx.request(LEAD, "bid", round, &t.main);
                    r.instruction = "Before the team starts: how likely are you to get this whole plan right on your own (0 to 1)?".into();
                    let bid = ctx.ask(r).await.conf();
                    if bid >= threshold {
                        topology = "solo".into();
                    }
                    ctx.note(round, format!("{} judges its chance alone at {bid:.2} (works alone at {threshold:.2} or more).", ctx.name(LEAD)));
                    round += 1;
                }
            }
            ctx.emit(round, EventKind::Choice { name: "topology".into(), value: topology.clone() });
            ctx.note(
                round,
                format!(
                    "Plan {}: {} nodes, {} levels, at most {} side by side, {} result(s) used twice or more: {topology}.",
                    k + 1,
                    shape.nodes,
                    shape.depth,
                    shape.width,
                    shape.shared
                ),
            );
            solo += u32::from(topology == "solo");
            let done = if topology == "solo" {
                let mut r = ctx.request(LEAD, "solve", round, &t.main);
                r.instruction = "Work out the whole plan on your own and give the answer node's result.".into();
                let a = ctx.ask(r).await.answer.unwrap_or_else(|| "?".into());
                Done { answer: a, rounds: 1, rework: 0 }
            } else {
                execute(&ctx, &t, &topology, p.handoff as usize, round).await
            };
            round += done.rounds;
            rework += done.rework;
            decide_on(&ctx, round, &t.main, &done.answer, &format!("{topology} plan"));
            round += 1;
        }
        ctx.metric(round, "rework", f64::from(rework));
        if p.solo_above.is_some() {
            ctx.metric(round, "solo_share", f64::from(solo) / f64::from(p.tasks));
        }
        Ok(())
    }
}

/// The topology for a plan of this shape (AdaptOrch's routing, in one pass over the plan).
pub fn route(shape: &Layout) -> &'static str {
    if shape.depth <= 2 {
        "parallel"
    } else if shape.width == 1 {
        "sequential"
    } else if shape.shared == 0 {
        "hierarchical"
    } else {
        "hybrid"
    }
}

/// What a topology's run of one plan produced.
struct Done {
    answer: String,
    rounds: u32,
    rework: u32,
}

/// What a solver holds in its context besides its node.
#[derive(Clone, Copy, PartialEq)]
enum Holding {
    Node,
    /// The lead's own nodes hold the plan it handed out, and the reports so far.
    Coordinator,
    /// The board: every result posted so far, with the node it answers.
    Board,
}

/// Where a finished node's result goes.
enum Delivery {
    /// To the lead (parallel, hierarchical).
    Lead,
    /// To the next stage of the pipeline, with `handoff` earlier results (sequential).
    Pipeline,
    /// To the board, where everyone reads it (hybrid).
    Board,
}

/// Runs plan `t` under `topology`, from round `start`.
async fn execute(ctx: &Ctx, t: &TaskInstance, topology: &str, handoff: usize, start: u32) -> Done {
    let n = t.deps.len();
    let sink = n - 1;
    let workers: Vec<AgentId> = if ctx.n() > 1 { (1..ctx.n() as AgentId).collect() } else { vec![LEAD] };
    let level = levels(&t.deps);
    let depth = level.iter().max().map_or(0, |l| l + 1);
    let by_level: Vec<Vec<usize>> = (0..depth).map(|l| (0..n).filter(|&v| level[v] == l).collect()).collect();
    let mut owner = vec![LEAD; n];
    let (waves, delivery, holding): (Vec<Vec<usize>>, Delivery, Holding) = match topology {
        "parallel" => {
            for v in 0..sink {
                owner[v] = workers[v % workers.len()];
            }
            (vec![(0..sink).collect(), vec![sink]], Delivery::Lead, Holding::Node)
        }
        "sequential" => {
            for (v, o) in owner.iter_mut().enumerate() {
                *o = (v % ctx.n()) as AgentId;
            }
            ((0..n).map(|v| vec![v]).collect(), Delivery::Pipeline, Holding::Node)
        }
        "hierarchical" => {
            // The lead hands every source to a worker and integrates the rest itself.
            let mut k = 0usize;
            for v in 0..n {
                if t.deps[v].is_empty() {
                    owner[v] = workers[k % workers.len()];
                    k += 1;
                }
            }
            let sources: Vec<usize> = (0..n).filter(|&v| t.deps[v].is_empty()).collect();
            let rest: Vec<Vec<usize>> = (0..n).filter(|&v| !t.deps[v].is_empty()).map(|v| vec![v]).collect();
            (std::iter::once(sources).chain(rest).collect(), Delivery::Lead, Holding::Coordinator)
        }
        _ => {
            let mut k = 0usize;
            for wave in &by_level {
                for &v in wave {
                    if v != sink {
                        owner[v] = workers[k % workers.len()];
                        k += 1;
                    }
                }
            }
            (by_level.clone(), Delivery::Board, Holding::Board)
        }
    };
    if matches!(delivery, Delivery::Lead) {
        for v in 0..sink {
            if owner[v] != LEAD {
                ctx.message(start, LEAD, vec![owner[v]], "assign", format!("node {}", v + 1));
            }
        }
    }

    // What each agent holds: results it computed (its own nodes and any rework) and
    // results that reached it.
    let mut known: Vec<BTreeMap<usize, i64>> = vec![BTreeMap::new(); ctx.n()];
    let mut results: BTreeMap<usize, i64> = BTreeMap::new();
    let mut answers: Vec<String> = vec!["?".into(); n];
    let mut posts: Vec<String> = Vec::new();
    let mut round = start;
    let mut rework = 0u32;
    for wave in &waves {
        // Each agent's nodes in this wave, in plan order.
        let mut queues: Vec<(AgentId, std::collections::VecDeque<usize>)> = Vec::new();
        for &v in wave {
            match queues.iter_mut().find(|(a, _)| *a == owner[v]) {
                Some((_, q)) => q.push_back(v),
                None => queues.push((owner[v], std::collections::VecDeque::from([v]))),
            }
        }
        loop {
            // One ask per agent: its next node, or first a result that node needs and it
            // does not hold.
            let mut batch: Vec<(AgentId, usize, bool)> = Vec::new();
            for (a, q) in &queues {
                if let Some(&v) = q.front() {
                    match missing(t, &known[*a as usize], v) {
                        Some(m) => batch.push((*a, m, true)),
                        None => batch.push((*a, v, false)),
                    }
                }
            }
            if batch.is_empty() {
                break;
            }
            let reqs = batch
                .iter()
                .map(|&(a, v, again)| {
                    let inputs: Vec<i64> = t.deps[v].iter().map(|d| known[a as usize][d]).collect();
                    let mut r = ctx.request(a, "solve", round, &t.node_given(v, &inputs));
                    r.instruction = if again {
                        ctx.note(round, format!("{} does not have node {}'s result and works it out again from the plan.", ctx.name(a), v + 1));
                        format!("You need node {}'s result and nobody passed it to you. The whole plan: {}\nWork node {} out yourself.", v + 1, t.main.text, v + 1)
                    } else {
                        instruction(t, a, holding, &known[a as usize], &posts)
                    };
                    r
                })
                .collect();
            let replies = ctx.ask_all(reqs).await;
            for (&(a, v, again), reply) in batch.iter().zip(&replies) {
                let said = Opinion::from_reply(reply);
                // An answer that is not a number still leaves the agent holding something.
                let value = normalize(&said.answer).parse::<i64>().unwrap_or(0);
                known[a as usize].insert(v, value);
                if again {
                    rework += 1;
                    continue;
                }
                answers[v] = said.answer.clone();
                results.insert(v, value);
                if let Some((_, q)) = queues.iter_mut().find(|(x, _)| *x == a) {
                    q.pop_front();
                }
                match &delivery {
                    Delivery::Lead if a != LEAD => {
                        ctx.message(round, a, vec![LEAD], "report", format!("node {}: {}", v + 1, said.answer));
                        known[LEAD as usize].insert(v, value);
                    }
                    Delivery::Pipeline if v + 1 < n => {
                        // The latest result and up to `handoff` earlier ones, most recent first.
                        let next = owner[v + 1];
                        let carried: Vec<(usize, i64)> = std::iter::once((v, value)).chain(results.iter().rev().filter(|(k, _)| **k != v).take(handoff).map(|(&k, &x)| (k, x))).collect();
                        if next != a {
                            let text: Vec<String> = carried.iter().map(|(k, x)| format!("node {}: {x}", k + 1)).collect();
                            ctx.message(round, a, vec![next], "handoff", format!("results: {}", text.join(", ")));
                        }
                        for (k, x) in carried {
                            known[next as usize].insert(k, x);
                        }
                    }
                    Delivery::Board => {
                        let everyone: Vec<AgentId> = (0..ctx.n() as AgentId).filter(|&x| x != a).collect();
                        ctx.message(round, a, everyone, "post", format!("node {}: {}", v + 1, said.answer));
                        for k in known.iter_mut() {
                            k.insert(v, value);
                        }
                        posts.push(format!("- Node {} ({}): {} Result: {}. {}", v + 1, ctx.name(a), t.node_statement(v), said.answer, said.explanation));
                    }
                    _ => {}
                }
            }
            round += 1;
        }
    }
    Done { answer: answers[sink].clone(), rounds: round - start, rework }
}

/// A result `agent` needs before it can do node `v` and does not hold, one whose own
/// inputs it does hold (so it can be worked out now); None when it holds every input.
fn missing(t: &TaskInstance, held: &BTreeMap<usize, i64>, v: usize) -> Option<usize> {
    for &d in &t.deps[v] {
        if !held.contains_key(&d) {
            return Some(missing(t, held, d).unwrap_or(d));
        }
    }
    None
}

/// What solver `agent` is told, with what its topology makes it hold.
fn instruction(t: &TaskInstance, agent: AgentId, holding: Holding, held: &BTreeMap<usize, i64>, posts: &[String]) -> String {
    match holding {
        Holding::Coordinator if agent == LEAD => {
            let reports: Vec<String> = held.iter().map(|(k, x)| format!("node {}: {x}", k + 1)).collect();
            format!("You handed out this plan: {}\nResults so far: {}.\nDo your node now.", t.main.text, reports.join(", "))
        }
        Holding::Node | Holding::Coordinator => "Solve your node of the plan.".into(),
        Holding::Board if posts.is_empty() => "The board is empty so far. Solve your node and post the result.".into(),
        Holding::Board => format!("The board so far:\n{}\nSolve your node and post the result.", posts.join("\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::run_simulated;
    use crate::spec::Spec;

    fn scenario(topology: &str, shape: &str, extra: serde_json::Value) -> Scenario {
        let mut v = crate::builtin("adaptorch").unwrap().to_value();
        v["mechanism"]["params"] = serde_json::json!({"topology": topology, "tasks": 1});
        for (k, x) in extra.as_object().unwrap() {
            v["mechanism"]["params"][k] = x.clone();
        }
        v["task"]["params"]["shape"] = shape.into();
        Scenario::from_value(v).unwrap()
    }

    fn solves(r: &crate::engine::RunResult) -> usize {
        r.log.events().iter().filter(|e| matches!(&e.kind, EventKind::Ask { purpose, .. } if purpose == "solve")).count()
    }

    #[test]
    fn every_topology_does_every_node_once_plus_rework() {
        for shape in ["parallel", "chain", "tree", "mixed"] {
            for topology in ["parallel", "sequential", "hierarchical", "hybrid", "adaptive"] {
                for seed in 0..5 {
                    let s = scenario(topology, shape, serde_json::json!({}));
                    let r = crate::registry::run_simulated_seed(&s, seed).unwrap();
                    let rework = r.metrics.get("rework").unwrap() as usize;
                    assert_eq!(solves(&r), 8 + rework, "{topology} on {shape}");
                    let finals = r.log.events().iter().filter(|e| matches!(e.kind, EventKind::Decision { is_final: true, .. })).count();
                    assert_eq!(finals, 1);
                    let chosen: Vec<&str> = r.log.events().iter().filter_map(|e| match &e.kind { EventKind::Choice { name, value } if name == "topology" => Some(value.as_str()), _ => None }).collect();
                    assert_eq!(chosen.len(), 1);
                    if topology != "adaptive" {
                        assert_eq!(chosen[0], topology);
                    }
                    // Results reach whoever needs them on the board and on the matching shapes.
                    if topology == "hybrid" || (topology, shape) == ("parallel", "parallel") || (topology, shape) == ("sequential", "chain") || topology == "adaptive" {
                        assert_eq!(rework, 0, "{topology} on {shape}");
                    }
                }
            }
        }
    }

    #[test]
    fn what_does_not_reach_a_solver_is_worked_out_again() {
        // Parallel on a chain of 8 with three workers (nodes 1..7 round-robin, the lead does
        // node 8): each worker works out the nodes before its own that it does not hold,
        // keeping what it worked out: Ana 2 + 2, Bo 1 + 2, Cid 2 + 2.
        let r = run_simulated(&scenario("parallel", "chain", serde_json::json!({}))).unwrap();
        assert_eq!(r.metrics.get("rework"), Some(11.0));
        // A pipeline hands on only the latest result: the flat plan's last node (Cid's, who
        // also did node 4 and was handed nodes 3 and 7) misses the other four; hand-offs
        // carrying everything lose nothing.
        let r = run_simulated(&scenario("sequential", "parallel", serde_json::json!({}))).unwrap();
        assert_eq!(r.metrics.get("rework"), Some(4.0));
        let r = run_simulated(&scenario("sequential", "parallel", serde_json::json!({"handoff": 32}))).unwrap();
        assert_eq!(r.metrics.get("rework"), Some(0.0));
        // A rework reads the whole plan: its prompt is far longer than the node's.
        let r = run_simulated(&scenario("parallel", "chain", serde_json::json!({}))).unwrap();
        let prompt = |pred: &dyn Fn(&str) -> bool| r.log.events().iter().find_map(|e| match &e.kind { EventKind::Ask { prompt, .. } if pred(prompt) => Some(prompt.len()), _ => None }).unwrap();
        assert!(prompt(&|p| p.contains("nobody passed it")) > 2 * prompt(&|p| p.contains("Solve your node")));
    }

    #[test]
    fn solo_is_one_call_and_the_check_asks_the_lead_first() {
        let r = run_simulated(&scenario("solo", "tree", serde_json::json!({}))).unwrap();
        assert_eq!(r.metrics.get("calls"), Some(1.0));
        let r = run_simulated(&scenario("adaptive", "chain", serde_json::json!({"solo_above": 0.0}))).unwrap();
        let asks: Vec<(u32, String)> = r.log.events().iter().filter_map(|e| match &e.kind { EventKind::Ask { agent, purpose, .. } => Some((*agent, purpose.clone())), _ => None }).collect();
        assert_eq!(asks, vec![(0, "bid".to_string()), (0, "solve".to_string())], "a threshold of 0: always alone");
        assert_eq!(r.metrics.get("solo_share"), Some(1.0));
        let r = run_simulated(&scenario("adaptive", "chain", serde_json::json!({"solo_above": 1.0}))).unwrap();
        assert_eq!(r.metrics.get("solo_share"), Some(0.0));
    }

    #[test]
    fn params_are_bounded() {
        let mut v = crate::builtin("adaptorch").unwrap().to_value();
        v["mechanism"]["params"]["tasks"] = 33.into();
        assert!(Scenario::from_value(v).unwrap_err().0.contains("tasks 33 out of [1,32]"));
        let mut v = crate::builtin("adaptorch").unwrap().to_value();
        v["mechanism"]["params"]["topology"] = "star".into();
        assert!(Scenario::from_value(v).unwrap_err().0.contains("\"star\" is not one of"));
        let mut v = crate::builtin("adaptorch").unwrap().to_value();
        v["task"] = serde_json::json!({"kind": "multistep"});
        assert!(Scenario::from_value(v).unwrap_err().0.contains("needs task \"dag\""));
    }

    #[test]
    fn the_router_reads_the_shape() {
        for (shape, want) in [("parallel", "parallel"), ("chain", "sequential"), ("tree", "hierarchical"), ("mixed", "hybrid")] {
            for seed in 0..20u64 {
                let t = crate::tasks::generate(&Spec::new("dag", serde_json::json!({"shape": shape, "nodes": 7})), seed, 4);
                assert_eq!(route(&layout(&t.deps)), want, "{shape} seed {seed}: {:?}", t.deps);
            }
        }
    }
}
