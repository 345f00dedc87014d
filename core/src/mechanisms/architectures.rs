//! The five canonical agent architectures of *Towards a Science of Scaling Agent Systems*
//! (2025): Single, Independent, Centralized, Decentralized, Hybrid, on multi-step tasks
//! that are parallelizable or sequential.
//!
//! The simulated costs of organisation are explicit knobs:
//! - `load_penalty`: on parallelizable tasks, each extra independent part an agent holds
//!   in one context makes every part harder (why splitting parallel work helps; a
//!   sequential chain is one thread of thought and carries no such penalty);
//! - `handoff_penalty`: a sequential step whose input comes from another agent is harder
//!   (state is lost in translation; why sequential work suffers from teams);
//! - `merge_error`: Independent agents never share context, so each unverified slice may
//!   be misread when the outputs are stitched together (error amplification);
//! - review: Centralized has the orchestrator check each result, Decentralized has
//!   neighbours check each other, Hybrid does both; flagged parts are redone once.

use serde::Deserialize;

use super::work::{Job, Reviewers, as_number, assign, final_answer, parts_correct, solve_reviewed};
use super::{Mechanism, check_one_of};
use crate::engine::Ctx;
use crate::event::AgentId;
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, check_unit};
use crate::tasks::Structure;

pub struct Architectures;

pub const ARCHITECTURES: &[&str] = &["single", "independent", "centralized", "decentralized", "hybrid"];

#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    pub architecture: String,
    pub load_penalty: f64,
    pub handoff_penalty: f64,
    pub merge_error: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self { architecture: "centralized".into(), load_penalty: 0.05, handoff_penalty: 0.45, merge_error: 0.1 }
    }
}

impl Mechanism for Architectures {
    const NAME: &'static str = "architectures";
    type Params = Params;

    fn check(p: &Params, _s: &Scenario) -> Result<(), ScenarioError> {
        check_one_of("architecture", &p.architecture, ARCHITECTURES)?;
        check_unit("mechanism.params.load_penalty", p.load_penalty)?;
        check_unit("mechanism.params.handoff_penalty", p.handoff_penalty)?;
        check_unit("mechanism.params.merge_error", p.merge_error)
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let n = ctx.n() as AgentId;
        let t = ctx.task().clone();
        let m = t.parts.len().max(1);
        let sequential = t.structure == Structure::Sequential;
        let arch = p.architecture.as_str();
        let (lead, workers): (Option<AgentId>, Vec<AgentId>) = match arch {
            "single" => (None, vec![0]),
            "centralized" | "hybrid" if n > 1 => (Some(0), (1..n).collect()),
            "centralized" | "hybrid" => (Some(0), vec![0]),
            _ => (None, (0..n).collect()),
        };
        ctx.note(
            0,
            format!(
                "{arch}: {} part(s), {}, {} worker(s){}.",
                m,
                if sequential { "sequential" } else { "parallel" },
                workers.len(),
                lead.map(|l| format!(", orchestrator {}", ctx.name(l))).unwrap_or_default()
            ),
        );
        let (owner, load) = assign(m, &workers);
        let graph = ctx.graph().clone();
        let lead_review = move |j: &Job| -> Vec<AgentId> { lead.filter(|&l| l != j.agent).into_iter().collect() };
        // Peers who see the author's messages review it; when the topology gives none
        // (a star's leaves), the next worker does.
        let peer_review = |j: &Job| -> Vec<AgentId> {
            let mut v: Vec<AgentId> = graph.seen_by(j.agent).iter().copied().filter(|x| workers.contains(x) && Some(*x) != lead).collect();
            if v.is_empty() && workers.len() > 1 {
                let k = owner_index(&workers, j.agent);
                v.push(workers[(k + 1) % workers.len()]);
            }
            v.truncate(2);
            v
        };
        let no_review = |_: &Job| -> Vec<AgentId> { vec![] };
        let stages: Vec<Reviewers<'_>> = match arch {
            "centralized" => vec![&lead_review],
            "decentralized" => vec![&peer_review],
            "hybrid" => vec![&peer_review, &lead_review],
            _ => vec![&no_review],
        };
        let mut answers: Vec<String> = Vec::with_capacity(m);
        if arch == "single" {
            // One agent holds every part in its context.
            let extra = if sequential { 0.0 } else { p.load_penalty * (m as f64 - 1.0) };
            if sequential {
                let mut input = Some(t.start);
                for i in 0..m {
                    let job = Job::new(0, i, input, extra, "Do this step.");
                    let a = solve_reviewed(&ctx, i as u32, None, &[job], &stages).await.remove(0);
                    input = as_number(&a);
                    answers.push(a);
                }
            } else {
                let jobs: Vec<Job> = (0..m).map(|i| Job::new(0, i, None, extra, "Solve this part.")).collect();
                answers = solve_reviewed(&ctx, 0, None, &jobs, &stages).await;
            }
        } else if arch == "independent" && sequential {
            // No talk: a worker cannot receive the previous result, so it redoes the chain
            // up to the end of its block itself; the last block's chain is the answer.
            let block_end: Vec<usize> = workers.iter().map(|w| owner.iter().rposition(|o| o == w).unwrap_or(0)).collect();
            let mut chain: Vec<Option<i64>> = vec![Some(t.start); workers.len()];
            let mut last: Vec<String> = vec!["?".into(); workers.len()];
            for i in 0..m {
                let active: Vec<usize> = (0..workers.len()).filter(|&k| block_end[k] >= i).collect();
                let jobs: Vec<Job> = active
                    .iter()
                    .map(|&k| Job::new(workers[k], i, chain[k], 0.0, "Work alone from the task statement."))
                    .collect();
                let res = solve_reviewed(&ctx, i as u32, None, &jobs, &stages).await;
                for (&k, a) in active.iter().zip(res) {
                    chain[k] = as_number(&a);
                    last[k] = a;
                }
                answers.push(last[owner_index(&workers, owner[i])].clone());
            }
        } else if sequential {
            let mut input = Some(t.start);
            let mut prev_owner: Option<AgentId> = None;
            for i in 0..m {
                let w = owner[i];
                let handoff = prev_owner.is_some_and(|o| o != w) || (lead.is_some() && i > 0);
                let extra = if handoff { p.handoff_penalty } else { 0.0 };
                let job = Job::new(w, i, input, extra, "Do this step with the input you were given.");
                let a = solve_reviewed(&ctx, i as u32, lead, &[job], &stages).await.remove(0);
                if lead.is_none() && i + 1 < m && owner[i + 1] != w {
                    ctx.message(i as u32, w, vec![owner[i + 1]], "handoff", format!("result so far: {a}"));
                }
                input = as_number(&a);
                answers.push(a);
                prev_owner = Some(w);
            }
        } else {
            let jobs: Vec<Job> = (0..m)
                .map(|i| Job::new(owner[i], i, None, p.load_penalty * (load[i] as f64 - 1.0), "Solve your part."))
                .collect();
            answers = solve_reviewed(&ctx, 0, lead, &jobs, &stages).await;
        }
        ctx.metric(m as u32, "parts_correct", parts_correct(&ctx, &answers));
        let mut fin = final_answer(&ctx, &answers);
        if arch == "independent" {
            // Stitching unverified slices from agents that never shared context: each
            // slice may be misread, and one misread slice spoils the whole answer.
            let mut rng = ctx.rng("merge");
            let slices = workers.len().min(m);
            let misread = (0..slices).filter(|_| rng.chance(p.merge_error)).count();
            if misread > 0 {
                ctx.note(m as u32, format!("Merging {slices} unverified slices: {misread} misread."));
                fin = t.main.distractors.first().cloned().unwrap_or_else(|| "?".into());
            }
        }
        if let Some(l) = lead {
            for w in workers.iter().filter(|&&w| w != l) {
                ctx.message(m as u32, *w, vec![l], "result", "done");
            }
        }
        ctx.decide(m as u32, &fin, &format!("{arch} aggregate"), true);
        Ok(())
    }
}

fn owner_index(workers: &[AgentId], w: AgentId) -> usize {
    workers.iter().position(|&x| x == w).unwrap_or(0)
}
