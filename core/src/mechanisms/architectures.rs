//! The five canonical agent architectures of *Towards a Science of Scaling Agent Systems*
//! (Kim et al., 2025): Single, Independent, Centralized, Decentralized and Hybrid, on
//! multi-step tasks that are parallelizable or sequential.
//!
//! Nothing here is a penalty knob; the costs and gains of organisation come from what
//! each agent holds and who checks whom:
//! - **Context.** A single agent holds the whole task (every part's material, or the whole
//!   chain so far) in one prompt; a worker holds only its piece. Long prompts make items
//!   harder for agents with a `context_load` (see `engine::context_strain`), which is why
//!   splitting parallel work can pay.
//! - **Checks.** The single agent checks its own work (with its blind spot for its own
//!   mistakes); the centralized orchestrator checks every result; decentralized peers check
//!   each other; hybrid does both; independent agents are never checked and their outputs
//!   are merged as they are, so every unchecked slip reaches the answer.
//! - **Hand-offs.** On a sequential task a step needs the previous result, and a linked step
//!   also an earlier one. A team passes results in hand-off messages that carry the latest
//!   result plus `handoff` earlier ones; a worker missing a result it needs works it out
//!   again from the task statement (re-solving those steps itself, with the same chance of
//!   error). Independent agents pass nothing: each works the chain out alone up to the end
//!   of its share. With `handoff` large enough to carry the whole state, hand-offs lose
//!   nothing.

use serde::{Deserialize, Serialize};

use super::work::{Job, Reviewers, final_answer, parts_correct, solve_reviewed};
use super::{Mechanism, check_one_of};
use crate::engine::Ctx;
use crate::event::AgentId;
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, check_count};
use crate::tasks::{Structure, normalize};

pub struct Architectures;

pub const ARCHITECTURES: &[&str] = &["single", "independent", "centralized", "decentralized", "hybrid"];

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    pub architecture: String,
    /// Earlier results a hand-off message carries beyond the latest one.
    pub handoff: u32,
    /// Review stages run (self-check for single, the architecture's checks for teams).
    pub review: bool,
}

impl Default for Params {
    fn default() -> Self {
        Self { architecture: "centralized".into(), handoff: 0, review: true }
    }
}

impl Mechanism for Architectures {
    const NAME: &'static str = "architectures";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_one_of("architecture", &p.architecture, ARCHITECTURES)?;
        check_count("handoff", p.handoff, 0, 32)?;
        if s.task.kind != "multistep" {
            return Err(ScenarioError(format!("mechanism \"architectures\" needs task \"multistep\", not \"{}\"", s.task.kind)));
        }
        Ok(())
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let n = ctx.n() as AgentId;
        let t = ctx.task().clone();
        let m = t.parts.len();
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
                "{arch}: {m} part(s), {}, {} worker(s){}.",
                if sequential { "sequential" } else { "parallel" },
                workers.len(),
                lead.map(|l| format!(", orchestrator {}", ctx.name(l))).unwrap_or_default()
            ),
        );
        // Who reviews a job.
        let graph = ctx.graph().clone();
        let lead_review = move |j: &Job| -> Vec<AgentId> { lead.filter(|&l| l != j.agent).into_iter().collect() };
        // Peers who see the author's messages review it; when the topology gives none
        // (a star's leaves), the next worker does.
        let peer_review = |j: &Job| -> Vec<AgentId> {
            let mut v: Vec<AgentId> = graph.seen_by(j.agent).iter().copied().filter(|x| workers.contains(x) && Some(*x) != lead).collect();
            if v.is_empty() && workers.len() > 1 {
                let k = workers.iter().position(|&w| w == j.agent).unwrap_or(0);
                v.push(workers[(k + 1) % workers.len()]);
            }
            v.truncate(2);
            v
        };
        let self_review = |j: &Job| -> Vec<AgentId> { vec![j.agent] };
        let stages: Vec<Reviewers<'_>> = match (arch, p.review) {
            (_, false) | ("independent", _) => vec![],
            ("single", _) => vec![&self_review],
            ("centralized", _) => vec![&lead_review],
            ("decentralized", _) => vec![&peer_review],
            _ => vec![&peer_review, &lead_review],
        };
        // Round-robin ownership of parts (contiguous blocks for a chain, so hand-offs are
        // between blocks).
        let owner: Vec<AgentId> = if sequential {
            (0..m).map(|i| workers[(i * workers.len() / m.max(1)).min(workers.len() - 1)]).collect()
        } else {
            (0..m).map(|i| workers[i % workers.len()]).collect()
        };
        let answers = if !sequential {
            parallel(&ctx, arch, &owner, lead, &stages).await
        } else if arch == "independent" {
            independent_chain(&ctx, &owner).await
        } else if arch == "single" {
            chain(&ctx, &owner, None, usize::MAX, &stages).await
        } else {
            chain(&ctx, &owner, lead, p.handoff as usize, &stages).await
        };
        ctx.metric(m as u32, "parts_correct", parts_correct(&ctx, &answers));
        let fin = final_answer(&ctx, &answers);
        if let Some(l) = lead {
            for w in workers.iter().filter(|&&w| w != l) {
                ctx.message(m as u32, *w, vec![l], "result", "done");
            }
        }
        ctx.decide(m as u32, &fin, &format!("{arch} aggregate"), true);
        Ok(())
    }
}

/// Parallel parts: the single agent solves each part holding the whole task (every part's
/// material) in its context; workers hold only their own part.
async fn parallel(ctx: &Ctx, arch: &str, owner: &[AgentId], lead: Option<AgentId>, stages: &[Reviewers<'_>]) -> Vec<String> {
    let whole = ctx.task().main.text.clone();
    let jobs: Vec<Job> = owner
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            let instruction = if arch == "single" {
                format!("You are solving this whole task: {whole}\nNow give the result of part {}.", i + 1)
            } else {
                "Solve your part.".to_string()
            };
            Job::new(w, i, None, instruction)
        })
        .collect();
    solve_reviewed(ctx, 0, lead, &jobs, stages).await
}

/// A chain worked step by step. Each step's owner gets the previous result and, for a
/// linked step, the earlier result it adds, if it holds it: its own earlier results, and
/// what hand-off messages carried (the latest result plus `handoff` earlier ones). A
/// missing result is worked out again from the task statement by the owner itself. The
/// single agent (`handoff` = all) holds every result and the chain so far in its context.
pub(super) async fn chain(ctx: &Ctx, owner: &[AgentId], lead: Option<AgentId>, handoff: usize, stages: &[Reviewers<'_>]) -> Vec<String> {
    let t = ctx.task().clone();
    let m = t.parts.len();
    let single = handoff == usize::MAX;
    // What each agent knows: (step, value) pairs.
    let mut known: Vec<Vec<(usize, i64)>> = vec![Vec::new(); ctx.n()];
    let mut results: Vec<Option<i64>> = vec![None; m];
    let mut answers: Vec<String> = Vec::with_capacity(m);
    let mut input = Some(t.start);
    for i in 0..m {
        let w = owner[i];
        let mut linked = None;
        if let Some(j) = t.steps[i].link {
            linked = match known[w as usize].iter().find(|(s, _)| *s == j) {
                Some(&(_, v)) => Some(v),
                None => {
                    // Not handed over: work the chain out again up to step j.
                    ctx.note(i as u32, format!("{} does not have step {}'s result and works it out again.", ctx.name(w), j + 1));
                    let v = redo_prefix(ctx, i as u32, w, j).await;
                    if let Some(v) = v {
                        known[w as usize].push((j, v));
                    }
                    v
                }
            };
        }
        let instruction = if single {
            let so_far: Vec<String> = results.iter().take(i).enumerate().map(|(k, r)| format!("step {}: {}", k + 1, r.map_or("?".into(), |v| v.to_string()))).collect();
            format!("You are working through this task: {}\nSo far: {}. Do step {} now.", t.main.text, if so_far.is_empty() { "nothing yet".into() } else { so_far.join(", ") }, i + 1)
        } else {
            "Do this step with the values you were given.".to_string()
        };
        let job = Job { linked, ..Job::new(w, i, input, instruction) };
        let a = solve_reviewed(ctx, i as u32, lead, &[job], stages).await.remove(0);
        let value = normalize(&a).parse::<i64>().ok();
        results[i] = value;
        if let Some(v) = value {
            known[w as usize].push((i, v));
        }
        // Hand the state to the next step's owner.
        if i + 1 < m && owner[i + 1] != w {
            let next = owner[i + 1];
            let from = lead.unwrap_or(w);
            let mut carried: Vec<(usize, i64)> = value.map(|v| vec![(i, v)]).unwrap_or_default();
            for k in (0..i).rev().take(handoff) {
                if let Some(v) = results[k] {
                    carried.push((k, v));
                }
            }
            let text = carried.iter().map(|(k, v)| format!("step {}: {v}", k + 1)).collect::<Vec<_>>().join(", ");
            ctx.message(i as u32, from, vec![next], "handoff", format!("results so far: {text}"));
            for c in carried {
                if !known[next as usize].contains(&c) {
                    known[next as usize].push(c);
                }
            }
        }
        input = value;
        answers.push(a);
    }
    answers
}

/// Steps 0..=`j` re-solved by `agent` from the task statement (one ask per step, each
/// with the values it just worked out). Returns its value for step `j`.
async fn redo_prefix(ctx: &Ctx, round: u32, agent: AgentId, j: usize) -> Option<i64> {
    let t = ctx.task().clone();
    let mut worked: Vec<Option<i64>> = Vec::with_capacity(j + 1);
    let mut x = Some(t.start);
    for k in 0..=j {
        let linked = t.steps[k].link.and_then(|l| worked.get(l).copied().flatten());
        let job = Job { linked, ..Job::new(agent, k, x, "Work this earlier step out again from the task statement.") };
        let a = solve_reviewed(ctx, round, None, &[job], &[]).await.remove(0);
        x = normalize(&a).parse::<i64>().ok();
        worked.push(x);
    }
    x
}

/// Independent agents on a chain: nobody passes results, so each works the chain out
/// alone from the start to the end of its share; the last share's result is the answer.
async fn independent_chain(ctx: &Ctx, owner: &[AgentId]) -> Vec<String> {
    let t = ctx.task().clone();
    let m = t.parts.len();
    let mut block_end: Vec<(AgentId, usize)> = Vec::new();
    for (i, &w) in owner.iter().enumerate() {
        match block_end.iter_mut().find(|(a, _)| *a == w) {
            Some(b) => b.1 = i,
            None => block_end.push((w, i)),
        }
    }
    let mut mine: Vec<Vec<String>> = vec![Vec::new(); block_end.len()];
    let mut values: Vec<Vec<Option<i64>>> = vec![Vec::new(); block_end.len()];
    for i in 0..m {
        let active: Vec<usize> = (0..block_end.len()).filter(|&k| block_end[k].1 >= i).collect();
        let jobs: Vec<Job> = active
            .iter()
            .map(|&k| {
                let input = if i == 0 { Some(t.start) } else { values[k][i - 1] };
                let linked = t.steps[i].link.and_then(|l| values[k][l]);
                Job { linked, ..Job::new(block_end[k].0, i, input, "Work alone from the task statement.") }
            })
            .collect();
        let res = solve_reviewed(ctx, i as u32, None, &jobs, &[]).await;
        for (&k, a) in active.iter().zip(res) {
            values[k].push(normalize(&a).parse::<i64>().ok());
            mine[k].push(a);
        }
    }
    // Each step's recorded answer is its owner's.
    (0..m).map(|i| {
        let k = block_end.iter().position(|(a, _)| *a == owner[i]).expect("owner has a block");
        mine[k][i].clone()
    }).collect()
}
