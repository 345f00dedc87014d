//! HyperAgent: agents working on the same subtask share one channel (a hyperedge), instead
//! of talking over pairwise links. After *HyperAgent: Leveraging Hypergraphs for Topology
//! Optimization in Multi-Agent Communication* (Zhang et al., 2025).
//!
//! The task's parts (task `multistep`, parallel mode) are the subtasks; the team splits
//! into one group per part (contiguous blocks of agents). Everyone answers its part, then
//! revises for `rounds` rounds, seeing the answers and reasoning of the others on its part;
//! each group's final answer is its plurality, and the parts' answers are summed.
//! - `links: hyperedges`: each agent posts once per round to its group's channel (one
//!   message reaching the whole group) and reads only its group.
//! - `links: pairwise`: the scenario's graph carries the posts, one message per link.
//!   Whoever is linked to an agent sends it its post, relevant or not: an agent reads every
//!   post it receives (its prompt grows with them) and weighs those about its own part. In
//!   a full mesh everyone on a part hears everyone else on it, at a message per pair; in a
//!   sparser graph, some teammates never hear each other.
//!
//! Both arms make the same calls (one per agent per round); what differs is how many
//! messages travel, how long prompts get, and who hears whom.
//!
//! Events: a `Groups` event with the hyperedges (label `one channel per subtask`) in
//! hyperedge mode; `Message`s (`post`) per round; the asks and answers; per-round
//! `round_accuracy` (share of agents right on their part); a non-final `Decision` per
//! group and the final `Decision`; metric `parts_correct` (share of parts the groups got
//! right).

use serde::{Deserialize, Serialize};

use super::{Mechanism, Opinion, Show, check_count, check_one_of, plurality};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::scenario::Scenario;
use crate::spec::ScenarioError;
use crate::tasks::{Structure, normalize};

pub struct HyperAgent;

#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// `hyperedges` (one channel per subtask group) or `pairwise` (the scenario's graph).
    pub links: String,
    /// Revision rounds after the first answers.
    pub rounds: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self { links: "hyperedges".into(), rounds: 2 }
    }
}

impl Mechanism for HyperAgent {
    const NAME: &'static str = "hyperagent";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_one_of("links", &p.links, &["hyperedges", "pairwise"])?;
        check_count("rounds", p.rounds, 0, 10)?;
        let mode = s.task.params.get("mode").and_then(|m| m.as_str()).unwrap_or("parallel");
        if s.task.kind != "multistep" || mode != "parallel" {
            return Err(ScenarioError("mechanism \"hyperagent\" needs task \"multistep\" in parallel mode (independent subtasks)".into()));
        }
        let parts = s.task.params.get("steps").and_then(|v| v.as_u64()).unwrap_or(4) as usize;
        if s.agents.len() < parts {
            return Err(ScenarioError(format!("mechanism \"hyperagent\" needs at least one agent per subtask: {parts} subtasks, {} agents", s.agents.len())));
        }
        Ok(())
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let t = ctx.task().clone();
        if t.structure != Structure::Parallel || t.parts.is_empty() {
            return Err("hyperagent needs independent subtasks".into());
        }
        let n = ctx.n();
        let m = t.parts.len();
        // Contiguous blocks, sizes as even as the team allows.
        let part_of: Vec<usize> = (0..n).map(|a| a * m / n).collect();
        let groups: Vec<Vec<AgentId>> = (0..m).map(|j| (0..n).filter(|&a| part_of[a] == j).map(|a| a as AgentId).collect()).collect();
        let hyper = p.links == "hyperedges";
        if hyper {
            ctx.emit(0, EventKind::Groups { groups: groups.clone(), label: "one channel per subtask".into() });
        }
        ctx.note(0, format!("{m} subtasks, {n} agents in groups of about {}; they talk over {}.", n / m, if hyper { "one channel per group" } else { "pairwise links" }));

        // Round 0: everyone answers its part.
        let reqs = (0..n)
            .map(|a| {
                let mut r = ctx.request(a as AgentId, "answer", 0, &t.parts[part_of[a]]);
                r.instruction = format!("You work on subtask {} with {}.", part_of[a] + 1, teammates(&ctx, &groups[part_of[a]], a as AgentId));
                r
            })
            .collect();
        let mut ops: Vec<Opinion> = ctx.ask_all(reqs).await.iter().map(Opinion::from_reply).collect();
        post(&ctx, 0, &ops, &groups, &part_of, hyper);
        round_accuracy(&ctx, 0, &ops, &part_of);

        for round in 1..=p.rounds {
            let reqs = (0..n)
                .map(|a| {
                    let me = a as AgentId;
                    let heard: Vec<AgentId> = if hyper {
                        groups[part_of[a]].iter().copied().filter(|&b| b != me).collect()
                    } else {
                        ctx.graph().sees(me).to_vec()
                    };
                    let mut r = ctx.request(me, "revise", round, &t.parts[part_of[a]]);
                    r.own = Some(ops[a].own(&ctx, me));
                    r.peers = heard.iter().filter(|&&b| part_of[b as usize] == part_of[a]).map(|&b| ops[b as usize].view(&ctx, b, Show::REASONING)).collect();
                    let other: Vec<String> = heard
                        .iter()
                        .filter(|&&b| part_of[b as usize] != part_of[a])
                        .map(|&b| format!("{} (subtask {}): {}", ctx.name(b), part_of[b as usize] + 1, ops[b as usize].message(Show::REASONING)))
                        .collect();
                    r.instruction = if other.is_empty() {
                        "Consider your teammates' answers on your subtask, then give your own.".into()
                    } else {
                        format!("Posts you also received, about other subtasks:\n{}\nConsider your teammates' answers on your subtask, then give your own.", other.join("\n"))
                    };
                    r
                })
                .collect();
            ops = ctx.ask_all(reqs).await.iter().map(Opinion::from_reply).collect();
            post(&ctx, round, &ops, &groups, &part_of, hyper);
            round_accuracy(&ctx, round, &ops, &part_of);
        }

        let last = p.rounds;
        let mut answers = Vec::with_capacity(m);
        for (j, g) in groups.iter().enumerate() {
            let votes: Vec<(String, f64)> = g.iter().map(|&a| (ops[a as usize].answer.clone(), 1.0)).collect();
            let answer = plurality(&votes).unwrap_or_else(|| "?".into());
            let correct = t.parts[j].is_correct(&answer);
            ctx.emit(last, EventKind::Decision { answer: answer.clone(), method: format!("group {} plurality", j + 1), correct: Some(correct), is_final: false });
            answers.push(answer);
        }
        let right = answers.iter().zip(&t.parts).filter(|(a, q)| q.is_correct(a)).count();
        ctx.metric(last, "parts_correct", right as f64 / m as f64);
        ctx.decide(last, &t.combine(&answers), "sum of the groups' answers", true);
        Ok(())
    }
}

fn teammates(ctx: &Ctx, group: &[AgentId], me: AgentId) -> String {
    let names: Vec<&str> = group.iter().filter(|&&b| b != me).map(|&b| ctx.name(b)).collect();
    if names.is_empty() { "nobody else".into() } else { names.join(", ") }
}

/// Each agent's post: once to its group's channel, or along each of its links.
fn post(ctx: &Ctx, round: u32, ops: &[Opinion], groups: &[Vec<AgentId>], part_of: &[usize], hyper: bool) {
    for (a, o) in ops.iter().enumerate() {
        let me = a as AgentId;
        let text = format!("subtask {}: {}", part_of[a] + 1, o.message(Show::REASONING));
        if hyper {
            let to: Vec<AgentId> = groups[part_of[a]].iter().copied().filter(|&b| b != me).collect();
            ctx.message(round, me, to, "post", text);
        } else {
            for &b in ctx.graph().seen_by(me) {
                ctx.message(round, me, vec![b], "post", text.clone());
            }
        }
    }
}

/// Share of agents whose current answer to their own part is right.
fn round_accuracy(ctx: &Ctx, round: u32, ops: &[Opinion], part_of: &[usize]) {
    let t = ctx.task();
    let right = ops.iter().enumerate().filter(|(a, o)| normalize(&o.answer) == normalize(&t.parts[part_of[*a]].truth)).count();
    ctx.metric(round, "round_accuracy", right as f64 / ops.len().max(1) as f64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::run_simulated;

    fn scenario(links: &str, topology: &str) -> Scenario {
        let mut v = crate::builtin("hyperagent").unwrap().to_value();
        v["mechanism"]["params"]["links"] = links.into();
        v["topology"] = serde_json::json!({"kind": topology});
        Scenario::from_value(v).unwrap()
    }

    #[test]
    fn a_channel_is_one_post_per_agent_and_round_links_are_one_per_pair() {
        let hyper = run_simulated(&scenario("hyperedges", "mesh")).unwrap();
        let mesh = run_simulated(&scenario("pairwise", "mesh")).unwrap();
        // 9 agents, 3 rounds (answers and two revisions): same calls either way.
        assert_eq!(hyper.metrics.get("calls"), Some(27.0));
        assert_eq!(mesh.metrics.get("calls"), Some(27.0));
        assert_eq!(hyper.metrics.get("messages"), Some(27.0));
        assert_eq!(hyper.metrics.get("deliveries"), Some(27.0 * 2.0));
        assert_eq!(mesh.metrics.get("messages"), Some(27.0 * 8.0));
        let groups: Vec<_> = hyper.log.events().iter().filter_map(|e| match &e.kind { EventKind::Groups { groups, .. } => Some(groups.clone()), _ => None }).collect();
        assert_eq!(groups, vec![vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8]]]);
        assert!(!mesh.log.events().iter().any(|e| matches!(e.kind, EventKind::Groups { .. })));
        // Over pairwise links every post lands in every prompt: longer prompts.
        assert!(mesh.metrics.get("tokens").unwrap() > 1.3 * hyper.metrics.get("tokens").unwrap());
    }

    #[test]
    fn teammates_hear_each_other_only_where_links_exist() {
        // In a star, leaves hear only the hub: a leaf's revision sees at most one teammate.
        let star = run_simulated(&scenario("pairwise", "star")).unwrap();
        let revise_peers: Vec<usize> = star
            .log
            .events()
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Ask { agent, purpose, prompt } if purpose == "revise" && *agent == 4 => Some(prompt.matches(" answered ").count()),
                _ => None,
            })
            .collect();
        assert!(!revise_peers.is_empty() && revise_peers.iter().all(|&k| k <= 1), "{revise_peers:?}");
    }

    #[test]
    fn needs_parallel_subtasks_and_an_agent_for_each() {
        let mut v = crate::builtin("hyperagent").unwrap().to_value();
        v["task"]["params"]["steps"] = 12.into();
        assert!(Scenario::from_value(v).unwrap_err().0.contains("12 subtasks, 9 agents"));
        let mut v = crate::builtin("hyperagent").unwrap().to_value();
        v["task"]["params"]["mode"] = "sequential".into();
        assert!(Scenario::from_value(v).unwrap_err().0.contains("parallel mode"));
    }
}
