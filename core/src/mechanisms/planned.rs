//! The conductor following a policy's plan: which workers, in which order and shape.
//!
//! A driver-supplied policy (named by the conductor's `policy` param) sees the task's
//! visible structure and each worker's track record, and answers with a [`Plan`]. This
//! file carries the plan out with the same work, checks and hand-offs the architectures
//! use, so a plan's costs and gains are the ones the rest of Council simulates:
//!
//! | shape | one item | independent parts | a chain of steps |
//! |---|---|---|---|
//! | parallel | each worker answers; plurality | parts dealt round-robin; summed unchecked | each worker works the whole chain alone; plurality of final results |
//! | sequential | the first answers, each next one revises seeing the previous answer and argument | the first solves every part holding the whole task; each next one checks all results and redoes what it flags | contiguous blocks, hand-offs carry the latest result only |
//! | hierarchical | each answers; the conductor checks the plurality answer and falls back when it flags it | parts dealt round-robin; the conductor checks each result and flagged ones are redone | contiguous blocks; the conductor relays every result and checks each step |
//!
//! With `probes` > 0 the conductor first has each worker answer that many graded probe
//! items in the task's domain (items it generated, so it knows their answers: a
//! calibration set, the only answer keys read here), and shows the policy the results
//! as track records. A policy that calls no worker leaves the task to the conductor.

use super::architectures::chain;
use super::work::{Job, Reviewers, check, final_answer, parts_correct, solve, solve_reviewed};
use super::{Opinion, Show, plurality};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::policy::{Plan, Record, Shape, WorkerView, observe};
use crate::rng::Rng;
use crate::spec::Spec;
use crate::tasks::{Structure, normalize};

const CONDUCTOR: AgentId = 0;

/// Runs the task by the plan of policy `name` (the conductor's `policy` param).
pub(super) async fn run(ctx: Ctx, name: &str, probes: u32) -> Result<(), String> {
    let policy = ctx.policy(name).ok_or_else(|| format!("policy \"{name}\" is not loaded: open it in the training view or pass it to the run"))?;
    let t = ctx.task().clone();
    let pool: Vec<AgentId> = (1..ctx.n() as AgentId).collect();
    let graded = if probes > 0 { probe(&ctx, &pool, &t.main.domain, probes).await } else { vec![Record::default(); pool.len()] };
    let workers = pool.iter().zip(&graded).map(|(&a, &r)| WorkerView { agent: a, name: ctx.name(a).to_string(), probes: r }).collect();
    let obs = observe(&t, workers);
    let plan = policy.plan(&obs);
    let team = checked_team(&plan, &pool)?;
    announce(&ctx, name, &plan, &team);
    let answers = match t.structure {
        Structure::Single => vec![single(&ctx, &team, plan.shape).await],
        Structure::Parallel => parallel_parts(&ctx, &team, plan.shape).await,
        Structure::Sequential => steps(&ctx, &team, plan.shape).await,
        Structure::Graph => return Err("a trained policy plans single, parallel and sequential tasks, not dependency graphs".into()),
    };
    let last = 2 + t.parts.len() as u32;
    ctx.metric(last, "parts_correct", parts_correct(&ctx, &answers));
    ctx.metric(last, "plan_workers", if team == [CONDUCTOR] { 0.0 } else { team.len() as f64 });
    let fin = final_answer(&ctx, &answers);
    ctx.decide(last, &fin, &format!("conductor ({name}, {})", plan.shape.name()), true);
    Ok(())
}

/// The plan's workers, checked: each in the pool, none twice. No workers: the conductor.
fn checked_team(plan: &Plan, pool: &[AgentId]) -> Result<Vec<AgentId>, String> {
    let mut team: Vec<AgentId> = Vec::with_capacity(plan.workers.len());
    for &w in &plan.workers {
        if !pool.contains(&w) {
            return Err(format!("the policy named agent {w}, which is not a worker here"));
        }
        if !team.contains(&w) {
            team.push(w);
        }
    }
    if team.is_empty() {
        team.push(CONDUCTOR);
    }
    Ok(team)
}

/// Shows the plan: the choices, the plan as a graph (the conductor's edges to and from
/// its workers, a chain for a pipeline) and a note.
fn announce(ctx: &Ctx, name: &str, plan: &Plan, team: &[AgentId]) {
    let names: Vec<&str> = team.iter().map(|&a| ctx.name(a)).collect();
    ctx.emit(0, EventKind::Choice { name: "topology".into(), value: plan.shape.name().into() });
    ctx.emit(0, EventKind::Choice { name: "workers".into(), value: names.join(", ") });
    let mut edges: Vec<(AgentId, AgentId)> = Vec::new();
    if team != [CONDUCTOR] {
        match plan.shape {
            Shape::Sequential => {
                edges.push((CONDUCTOR, team[0]));
                edges.extend(team.windows(2).map(|w| (w[0], w[1])));
                edges.push((team[team.len() - 1], CONDUCTOR));
            }
            Shape::Parallel | Shape::Hierarchical => {
                for &w in team {
                    edges.push((CONDUCTOR, w));
                    edges.push((w, CONDUCTOR));
                }
            }
        }
    }
    ctx.emit(0, EventKind::Graph { edges });
    ctx.note(0, format!("Policy {name} plans: {} with {}.", plan.shape.name(), if team == [CONDUCTOR] { "the conductor alone".to_string() } else { names.join(", ") }));
}

/// Each worker answers `n` generated probe items in `domain`; their graded results.
async fn probe(ctx: &Ctx, pool: &[AgentId], domain: &str, n: u32) -> Vec<Record> {
    let domain = if crate::tasks::CHOICE_DOMAINS.contains(&domain) { domain } else { "math" };
    let spec = Spec::new("multiple_choice", serde_json::json!({"domains": [domain], "difficulty_range": [0.3, 0.7]}));
    let mut seeds = Rng::named(ctx.seed(), "conductor-probes");
    let mut out = vec![Record::default(); pool.len()];
    for _ in 0..n {
        let item = crate::tasks::generate(&spec, seeds.next_u64(), 1).main;
        let reqs = pool.iter().map(|&a| ctx.request(a, "probe", 0, &item)).collect();
        for (r, reply) in out.iter_mut().zip(ctx.ask_all(reqs).await) {
            r.tries += 1;
            // The conductor made this item, so it may grade it: probes are a calibration set.
            r.right += u32::from(reply.answer.as_deref().is_some_and(|a| item.is_correct(a)));
        }
    }
    for (&a, r) in pool.iter().zip(&out) {
        ctx.emit(0, EventKind::Score { name: "probe_rate".into(), agent: a, value: f64::from(r.right) / f64::from(r.tries.max(1)) });
    }
    out
}

/// One item (no parts).
async fn single(ctx: &Ctx, team: &[AgentId], shape: Shape) -> String {
    let main = ctx.task().main.clone();
    if shape == Shape::Sequential {
        let mut prev: Option<(AgentId, Opinion)> = None;
        for (i, &w) in team.iter().enumerate() {
            let round = 1 + i as u32;
            let mut r = ctx.request(w, if prev.is_some() { "revise" } else { "answer" }, round, &main);
            if let Some((pa, po)) = &prev {
                ctx.message(round, *pa, vec![w], "handoff", po.message(Show::REASONING));
                r.instruction = format!("{} answered before you; check it and give your answer.", ctx.name(*pa));
                r.peers = vec![po.view(ctx, *pa, Show::REASONING)];
            }
            prev = Some((w, Opinion::from_reply(&ctx.ask(r).await)));
        }
        return prev.map(|(_, o)| o.answer).unwrap_or_else(|| "?".into());
    }
    let reqs = team.iter().map(|&a| ctx.request(a, "answer", 1, &main)).collect();
    let ops: Vec<Opinion> = ctx.ask_all(reqs).await.iter().map(Opinion::from_reply).collect();
    for (o, &a) in ops.iter().zip(team) {
        if a != CONDUCTOR {
            ctx.message(1, a, vec![CONDUCTOR], "answer", o.message(Show::ANSWERS));
        }
        ctx.vote(1, a, &o.answer, 1.0);
    }
    // Ties go to the answer of the worker the policy ranked first.
    let votes: Vec<(String, f64)> = ops.iter().map(|o| (o.answer.clone(), 1.0)).collect();
    let mut answer = plurality(&votes).unwrap_or_else(|| "?".into());
    if shape == Shape::Hierarchical && team != [CONDUCTOR] {
        let k = ops.iter().position(|o| normalize(&o.answer) == normalize(&answer)).unwrap_or(0);
        let mut r = ctx.request(CONDUCTOR, "check", 2, &main);
        r.instruction = format!("Check the team's answer {answer}. Reply `ok` or `wrong`.");
        r.peers = vec![ops[k].view(ctx, team[k], Show::REASONING)];
        if ctx.ask(r).await.answer.as_deref() == Some("wrong") {
            let rest: Vec<(String, f64)> = votes.iter().filter(|v| normalize(&v.0) != normalize(&answer)).cloned().collect();
            if let Some(alt) = plurality(&rest) {
                ctx.note(2, format!("The conductor doubts {answer} and takes {alt} instead."));
                answer = alt;
            }
        }
    }
    answer
}

/// Independent parts (the main answer sums them).
async fn parallel_parts(ctx: &Ctx, team: &[AgentId], shape: Shape) -> Vec<String> {
    let m = ctx.task().parts.len();
    let by_conductor = |j: &Job| -> Vec<AgentId> { if j.agent != CONDUCTOR { vec![CONDUCTOR] } else { vec![j.agent] } };
    if shape != Shape::Sequential {
        let jobs: Vec<Job> = (0..m).map(|i| Job::new(team[i % team.len()], i, None, "Solve the part the conductor gave you.")).collect();
        let stages: Vec<Reviewers<'_>> = if shape == Shape::Hierarchical { vec![&by_conductor] } else { vec![] };
        return solve_reviewed(ctx, 1, Some(CONDUCTOR), &jobs, &stages).await;
    }
    // A review pipeline: the first worker drafts every part holding the whole task.
    let whole = ctx.task().main.text.clone();
    let first = team[0];
    let mut jobs: Vec<Job> = (0..m)
        .map(|i| Job::new(first, i, None, format!("You are solving this whole task: {whole}\nNow give the result of part {}.", i + 1)))
        .collect();
    let mut results: Vec<Opinion> = solve(ctx, 1, &jobs).await.iter().map(Opinion::from_reply).collect();
    for (k, &reviewer) in team.iter().enumerate().skip(1) {
        let round = 1 + k as u32;
        let author = jobs[0].agent;
        ctx.message(round, author, vec![reviewer], "handoff", format!("results so far: {}", results.iter().map(|o| o.answer.as_str()).collect::<Vec<_>>().join(", ")));
        let reviews: Vec<_> = jobs.iter().zip(&results).map(|(j, o)| (reviewer, j.agent, j.clone(), o.clone())).collect();
        let flagged = check(ctx, round, &reviews).await;
        let redo: Vec<usize> = (0..m).filter(|&i| flagged[i]).collect();
        if redo.is_empty() {
            continue;
        }
        let again: Vec<Job> = redo.iter().map(|&i| Job::new(reviewer, i, None, "The previous worker's result looked wrong; solve this part yourself.")).collect();
        for (&i, r) in redo.iter().zip(solve(ctx, round, &again).await) {
            results[i] = Opinion::from_reply(&r);
        }
        // The reviewer now holds the results it passes on.
        for j in jobs.iter_mut() {
            j.agent = reviewer;
        }
    }
    results.into_iter().map(|o| o.answer).collect()
}

/// A chain of steps (the main answer is the last result).
async fn steps(ctx: &Ctx, team: &[AgentId], shape: Shape) -> Vec<String> {
    let t = ctx.task().clone();
    let m = t.parts.len();
    // Contiguous blocks, so hand-offs happen between blocks.
    let owner: Vec<AgentId> = (0..m).map(|i| team[(i * team.len() / m.max(1)).min(team.len() - 1)]).collect();
    match shape {
        Shape::Sequential => chain(ctx, &owner, None, 0, &[]).await,
        Shape::Hierarchical => {
            let by_conductor = |j: &Job| -> Vec<AgentId> { if j.agent != CONDUCTOR { vec![CONDUCTOR] } else { vec![] } };
            chain(ctx, &owner, Some(CONDUCTOR), m, &[&by_conductor]).await
        }
        Shape::Parallel => {
            // Every worker works the whole chain alone, all at once step by step.
            let mut values: Vec<Vec<Option<i64>>> = vec![Vec::with_capacity(m); team.len()];
            let mut mine: Vec<Vec<String>> = vec![Vec::with_capacity(m); team.len()];
            for i in 0..m {
                let jobs: Vec<Job> = team
                    .iter()
                    .enumerate()
                    .map(|(k, &w)| {
                        let input = if i == 0 { Some(t.start) } else { values[k][i - 1] };
                        let linked = t.steps[i].link.and_then(|l| values[k][l]);
                        Job { linked, ..Job::new(w, i, input, "Work the whole chain yourself, step by step.") }
                    })
                    .collect();
                for (k, a) in solve_reviewed(ctx, 1 + i as u32, None, &jobs, &[]).await.into_iter().enumerate() {
                    values[k].push(normalize(&a).parse::<i64>().ok());
                    mine[k].push(a);
                }
            }
            // The final result most workers reached (ties: the policy's first choice).
            let finals: Vec<(String, f64)> = mine.iter().map(|v| (v.last().cloned().unwrap_or_else(|| "?".into()), 1.0)).collect();
            let pick = plurality(&finals).unwrap_or_else(|| "?".into());
            let k = finals.iter().position(|f| normalize(&f.0) == normalize(&pick)).unwrap_or(0);
            for (o, &w) in finals.iter().zip(team) {
                if w != CONDUCTOR {
                    ctx.message(m as u32, w, vec![CONDUCTOR], "result", o.0.clone());
                }
            }
            std::mem::take(&mut mine[k])
        }
    }
}
