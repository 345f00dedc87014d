//! Conductor / meta-prompting: an orchestrator writes a plan — which workers, in which
//! topology, with which instructions — and may hand a sub-problem back to itself
//! (recursion). After Suzgun & Kalai, *Meta-Prompting* (2024), and *Learning to
//! Orchestrate Agents in Natural Language with the Conductor* (2025).
//!
//! The conductor (agent 0) cannot see its workers' skills. It learns what it can observe
//! first: each worker answers `probes` items from a calibration set of the task's kind
//! (items the environment knows the answers to, the same items for every worker), and the
//! conductor sees only who got which right: a track record per worker. From those records
//! it plans with a heuristic policy: it keeps sequential chains in one pair of hands
//! (hand-offs lose state), fans parallel parts out in a star to the best-recorded
//! workers, and splits any slice larger than `split_threshold` again, down to
//! `max_depth`. With no probes it has no records and its choice of workers is a draw.
//! It states the plan as text in a `plan` ask; an LLM conductor's plan is parsed from the
//! same format (`<worker name>: parts 1,3`), falling back to the drafted plan (and logging
//! an error) when it cannot be read. A worker given several parts holds them all in one
//! context.
//!
//! Events: Score ("track record") per worker after probing, Choice ("topology"), Graph
//! (the plan's star or chain), Message (plan, assignments, results), Decision.

use serde::{Deserialize, Serialize};

use super::work::{Job, Reviewers, final_answer, parts_correct, solve_reviewed};
use super::{Mechanism, Opinion, check_count, plurality};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::tasks::Structure;
use crate::scenario::Scenario;
use crate::spec::ScenarioError;

pub struct Conductor;

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// How many times the conductor may call itself on a sub-problem.
    pub max_depth: u32,
    /// Workers per plan (0: up to 3).
    pub workers: u32,
    /// The conductor checks each result and has flagged ones redone.
    pub verify: bool,
    /// Slices with more parts than this are split again (if depth allows).
    pub split_threshold: u32,
    // ---- learned orchestration (issue 17): a separate path, see planned.rs ----
    /// Name of a driver-supplied policy to plan with instead of the heuristic (empty:
    /// the heuristic). The other params above do not apply to a policy's plan.
    pub policy: String,
    /// Calibration items each worker answers before the plan (its track record), for the
    /// heuristic and for a policy alike.
    pub probes: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self { max_depth: 1, workers: 0, verify: true, split_threshold: 2, policy: String::new(), probes: 2 }
    }
}

impl Mechanism for Conductor {
    const NAME: &'static str = "conductor";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_count("max_depth", p.max_depth, 0, 4)?;
        check_count("workers", p.workers, 0, s.agents.len() as u32)?;
        check_count("split_threshold", p.split_threshold, 1, 32)?;
        check_count("probes", p.probes, 0, 10)?;
        if p.policy.len() > 64 || p.policy.chars().any(char::is_control) {
            return Err(ScenarioError("mechanism.params.policy: a name of at most 64 characters".into()));
        }
        if !p.policy.is_empty() && s.task.kind == "dag" {
            return Err(ScenarioError("mechanism.params.policy: a trained policy plans single, parallel and sequential tasks, not task dag".into()));
        }
        Ok(())
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        if !p.policy.is_empty() {
            // Learned orchestration: the named policy plans, planned.rs carries it out.
            return super::planned::run(ctx, &p.policy, p.probes).await;
        }
        let conductor: AgentId = 0;
        let t = ctx.task().clone();
        let domain = t.main.domain.clone();
        // Workers ranked by profile skill in this domain (ties by position).
        let mut pool: Vec<AgentId> = (1..ctx.n() as AgentId).collect();
        if pool.is_empty() {
            pool.push(conductor);
        }
        // Workers ranked by observed track record; ties (and no records) in a seeded draw.
        let record = track_records(&ctx, &pool, p.probes).await;
        let skill = |a: AgentId| record.iter().find(|(w, _)| *w == a).map_or(0.5, |(_, r)| *r);
        ctx.rng("conductor order").shuffle(&mut pool);
        pool.sort_by(|a, b| skill(*b).total_cmp(&skill(*a)));
        let k = if p.workers == 0 { pool.len().min(3) } else { (p.workers as usize).min(pool.len()) };
        let review_by_conductor = |j: &Job| -> Vec<AgentId> { if j.agent != conductor { vec![conductor] } else { vec![] } };
        let stages: Vec<Reviewers<'_>> = if p.verify { vec![&review_by_conductor] } else { vec![] };

        if t.structure == Structure::Single {
            // A panel of the k best-suited workers; skill-weighted vote; optional check.
            let panel: Vec<AgentId> = pool[..k].to_vec();
            let plan = format!(
                "topology: star\n{}\nverify: {}",
                panel.iter().map(|&a| format!("{}: answer as the {domain} expert", ctx.name(a))).collect::<Vec<_>>().join("\n"),
                if p.verify { "yes" } else { "no" }
            );
            let panel = ask_plan(&ctx, 0, &plan, &pool, 1).await.map(|a| a.into_iter().map(|(w, _)| w).collect()).unwrap_or(panel);
            for &a in &panel {
                ctx.message(0, conductor, vec![a], "plan", format!("answer as the {domain} expert"));
            }
            let reqs = panel.iter().map(|&a| ctx.request(a, "answer", 1, &t.main)).collect();
            let ops: Vec<Opinion> = ctx.ask_all(reqs).await.iter().map(Opinion::from_reply).collect();
            for (o, &a) in ops.iter().zip(&panel) {
                ctx.message(1, a, vec![conductor], "answer", format!("{}, confidence {:.2}", o.answer, o.confidence));
                ctx.vote(1, a, &o.answer, skill(a));
            }
            let votes: Vec<(String, f64)> = ops.iter().zip(&panel).map(|(o, &a)| (o.answer.clone(), skill(a))).collect();
            let mut answer = plurality(&votes).unwrap_or_else(|| "?".into());
            if p.verify && !panel.contains(&conductor) {
                let mut r = ctx.request(conductor, "check", 2, &t.main);
                r.peers = vec![Opinion { answer: answer.clone(), confidence: 0.5, explanation: String::new(), trace: None }.view(&ctx, panel[0], super::Show::ANSWERS)];
                let verdict = ctx.ask(r).await;
                if verdict.answer.as_deref() == Some("wrong") {
                    let rest: Vec<(String, f64)> = votes.iter().filter(|v| v.0 != answer).cloned().collect();
                    if let Some(alt) = plurality(&rest) {
                        ctx.note(2, format!("The conductor doubts {answer} and falls back to {alt}."));
                        answer = alt;
                    }
                }
            }
            ctx.decide(2, &answer, "conductor", true);
            return Ok(());
        }

        let parts: Vec<usize> = (0..t.parts.len()).collect();
        let mut assignments: Vec<(AgentId, Vec<usize>)> = Vec::new();
        if t.structure == Structure::Sequential {
            // Hand-offs cost: keep the chain with the best worker.
            let plan = format!("topology: chain\n{}: parts {}\nverify: {}", ctx.name(pool[0]), list(&parts), yes(p.verify));
            assignments = ask_plan(&ctx, 0, &plan, &pool, parts.len()).await.unwrap_or_else(|| vec![(pool[0], parts.clone())]);
        } else {
            // Work queue of (depth, parts, sub-pool): split while allowed, else assign.
            let mut queue = vec![(0u32, parts.clone(), pool.clone())];
            while let Some((depth, slice, sub)) = queue.pop() {
                let can_split = slice.len() > p.split_threshold as usize && sub.len() > 1 && depth <= p.max_depth;
                if !can_split {
                    assignments.push((sub[0], slice));
                    continue;
                }
                let ways = if depth == 0 { k.min(sub.len()) } else { sub.len().min(2) };
                let chunks: Vec<Vec<usize>> = (0..ways).map(|w| slice.iter().copied().skip(w).step_by(ways).collect()).collect();
                let pools: Vec<Vec<AgentId>> = (0..ways).map(|w| sub.iter().copied().skip(w).step_by(ways).collect()).collect();
                let plan = format!(
                    "topology: star (depth {depth})\n{}\nverify: {}",
                    chunks.iter().zip(&pools).map(|(c, pl)| format!("{}: parts {}", ctx.name(pl[0]), list(c))).collect::<Vec<_>>().join("\n"),
                    yes(p.verify)
                );
                if depth > 0 {
                    ctx.note(depth, format!("The conductor calls itself on parts {} (depth {depth}).", list(&slice)));
                }
                let heuristic: Vec<(AgentId, Vec<usize>)> = chunks.iter().zip(&pools).map(|(c, pl)| (pl[0], c.clone())).collect();
                let plan_now = ask_plan(&ctx, depth, &plan, &sub, slice.len()).await.map(|a| remap(a, &slice)).unwrap_or(heuristic);
                for (w, c) in plan_now {
                    if depth >= p.max_depth {
                        assignments.push((w, c));
                    } else {
                        // The worker's sub-pool: the pool it led in the heuristic split, or itself.
                        let sub_pool = pools.iter().find(|pl| pl.first() == Some(&w)).cloned().unwrap_or_else(|| vec![w]);
                        queue.push((depth + 1, c, sub_pool));
                    }
                }
            }
        }
        assignments.sort_by_key(|(_, c)| c.first().copied());
        let mut jobs: Vec<Job> = Vec::new();
        for (w, c) in &assignments {
            // One message with all of a worker's parts: they share its context.
            let brief: Vec<String> = c.iter().map(|&i| t.parts[i].text.clone()).collect();
            for &part in c {
                let instruction = if c.len() > 1 {
                    format!("The conductor gave you these parts: {}\nNow give the result of part {}.", brief.join(" "), part + 1)
                } else {
                    "Solve the part the conductor gave you.".to_string()
                };
                jobs.push(Job::new(*w, part, None, instruction));
            }
        }
        let mut edges: Vec<(AgentId, AgentId)> = Vec::new();
        for (w, _) in &assignments {
            if *w != conductor && !edges.contains(&(conductor, *w)) {
                edges.push((conductor, *w));
                edges.push((*w, conductor));
            }
        }
        ctx.emit(0, EventKind::Graph { edges });
        ctx.emit(0, EventKind::Choice { name: "topology".into(), value: if t.structure == Structure::Sequential { "chain".into() } else { format!("star over {} worker(s)", assignments.iter().map(|a| a.0).collect::<std::collections::BTreeSet<_>>().len()) } });
        let answers = if t.structure == Structure::Sequential {
            let mut input = Some(t.start);
            let mut out = Vec::new();
            for mut j in jobs {
                j.input = input;
                let a = solve_reviewed(&ctx, 1 + j.part as u32, Some(conductor), &[j], &stages).await.remove(0);
                input = super::work::as_number(&a);
                out.push(a);
            }
            out
        } else {
            let mut by_part = vec![String::new(); t.parts.len()];
            let res = solve_reviewed(&ctx, 1, Some(conductor), &jobs, &stages).await;
            for (j, a) in jobs.iter().zip(res) {
                by_part[j.part] = a;
            }
            by_part
        };
        ctx.metric(2, "parts_correct", parts_correct(&ctx, &answers));
        ctx.metric(2, "plan_workers", assignments.iter().map(|a| a.0).collect::<std::collections::BTreeSet<_>>().len() as f64);
        let fin = final_answer(&ctx, &answers);
        ctx.decide(2, &fin, "conductor", true);
        Ok(())
    }
}

/// Each pool member answers `probes` calibration items (the same items for everyone: the
/// task kind's own items drawn with seeds of their own); the environment scores them and
/// the conductor sees only the scores. Returns (worker, smoothed success rate).
async fn track_records(ctx: &Ctx, pool: &[AgentId], probes: u32) -> Vec<(AgentId, f64)> {
    if probes == 0 {
        ctx.note(0, "The conductor has no track records: it cannot tell its workers apart.");
        return pool.iter().map(|&w| (w, 0.5)).collect();
    }
    let spec = &ctx.scenario().task;
    let items: Vec<crate::tasks::Problem> = (0..probes)
        .map(|k| {
            let t = crate::tasks::generate(spec, crate::rng::mix64(ctx.seed() ^ 0x9e0b_u64.wrapping_add(u64::from(k))), ctx.n());
            if t.parts.is_empty() { t.main } else { t.parts[k as usize % t.parts.len()].clone() }
        })
        .collect();
    let mut reqs = Vec::new();
    for &w in pool {
        for item in &items {
            let mut r = ctx.request(w, "probe", 0, item);
            r.instruction = "A calibration question from the conductor.".into();
            reqs.push(r);
        }
    }
    let replies = ctx.ask_all(reqs).await;
    let mut out = Vec::with_capacity(pool.len());
    for (i, &w) in pool.iter().enumerate() {
        let hits = (0..items.len()).filter(|&k| replies[i * items.len() + k].answer.as_deref().is_some_and(|a| items[k].is_correct(a))).count();
        let rate = (hits as f64 + 1.0) / (items.len() as f64 + 2.0);
        ctx.emit(0, EventKind::Score { name: "track record".into(), agent: w, value: rate });
        ctx.message(0, w, vec![0], "probe", format!("{hits} of {} calibration items right", items.len()));
        out.push((w, rate));
    }
    out
}

fn list(parts: &[usize]) -> String {
    parts.iter().map(|p| (p + 1).to_string()).collect::<Vec<_>>().join(",")
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Keeps only parts that belong to `slice` (a parsed plan may name others).
fn remap(a: Vec<(AgentId, Vec<usize>)>, slice: &[usize]) -> Vec<(AgentId, Vec<usize>)> {
    a.into_iter().map(|(w, c)| (w, c.into_iter().filter(|p| slice.contains(p)).collect::<Vec<_>>())).filter(|(_, c)| !c.is_empty()).collect()
}

/// Asks the conductor to state the plan; returns the parsed assignment, or None when the
/// reply does not cover the parts with known workers (the heuristic plan is used then).
async fn ask_plan(ctx: &Ctx, depth: u32, plan: &str, pool: &[AgentId], n_parts: usize) -> Option<Vec<(AgentId, Vec<usize>)>> {
    let mut r = ctx.request(0, "plan", depth, &ctx.task().main);
    r.instruction = format!(
        "You are the conductor. Workers: {}. Write a plan: one line per worker `<name>: parts <numbers>`, a `topology:` line and a `verify:` line.",
        pool.iter().map(|&a| ctx.name(a)).collect::<Vec<_>>().join(", ")
    );
    r.draft = Some(plan.to_string());
    let reply = ctx.ask(r).await;
    let parsed = parse_plan(ctx, &reply.text, pool, n_parts);
    if parsed.is_none() {
        ctx.emit(depth, EventKind::Error { agent: Some(0), message: "plan could not be read; using the heuristic plan".into() });
    }
    parsed
}

/// Reads `<name>: parts 1,3` lines (or `<name>: answer ...` for panels, as part 1).
fn parse_plan(ctx: &Ctx, text: &str, pool: &[AgentId], n_parts: usize) -> Option<Vec<(AgentId, Vec<usize>)>> {
    let mut out: Vec<(AgentId, Vec<usize>)> = Vec::new();
    for line in text.lines() {
        let Some((name, rest)) = line.split_once(':') else { continue };
        let Some(&agent) = pool.iter().find(|&&a| ctx.name(a).eq_ignore_ascii_case(name.trim())) else { continue };
        let rest = rest.trim();
        let parts: Vec<usize> = if let Some(nums) = rest.strip_prefix("parts") {
            nums.split(',').filter_map(|x| x.trim().parse::<usize>().ok()).filter(|&x| (1..=64).contains(&x)).map(|x| x - 1).collect()
        } else {
            vec![0]
        };
        if !parts.is_empty() {
            out.push((agent, parts));
        }
    }
    let covered: usize = out.iter().map(|(_, c)| c.len()).sum();
    if out.is_empty() || (n_parts > 1 && covered < out.iter().map(|(_, c)| c.len()).max().unwrap_or(0)) {
        return None;
    }
    Some(out)
}
