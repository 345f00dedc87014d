//! Fortytwo swarm inference (*Fortytwo: Swarm Inference with Peer-Ranked Consensus*,
//! 2025): every node answers; nodes judge pairs of differing answers; a Bradley–Terry
//! model turns the pairwise judgments, each weighted by its judge's reputation, into a
//! ranking of the answers, and the top one is the swarm's answer. A node joins only after
//! a calibration test.
//!
//! - **Calibration (the Sybil gate).** Each node first answers `probes` probe items, fresh
//!   items of the scenario's task kind that the environment grades (see `items`); they
//!   look like any other query, so a node cannot tell a test from real work. A node below
//!   `pass_mark` is gated out (it never answers or judges the query). Its record is also
//!   its reputation: the Beta(1, 1) posterior mean of its share of right probe answers.
//!   Without the gate nobody is tested, so every node, a freshly made Sybil identity
//!   included, starts with the same reputation: reputation built on a track record cannot
//!   protect a swarm from identities that have none.
//! - **Ranking.** Each admitted node judges `comparisons` pairs of other nodes whose
//!   answers differ, reading both answers' reasoning (a `judge` ask with the two answers as
//!   candidates). Bradley–Terry strengths of the distinct answers are fitted to the
//!   reputation-weighted wins (Hunter's MM iterations, with a small symmetric prior so an
//!   answer that wins every comparison keeps a finite strength).
//! - **Majority** (`aggregate = majority`), the baseline at equal calls: the judging
//!   calls are spent on more answers instead (each node answers `1 + comparisons` times)
//!   and the plurality of all answers wins. In ranking runs the metric `majority_correct`
//!   also scores the plurality of the same first answers (equal answers, fewer calls).
//!
//! Ranking beats the majority when a right answer held by a minority can be recognised by
//! its reasoning: when judging (checking an argument) is easier than answering. Colluding
//! Sybil nodes push one wrong answer in their answers and in every judgment they make.
//!
//! Events: `Score{reputation}` per node after each probe (once, at 0.5, without the gate);
//! `Active{false}` for each node that fails the calibration; `Judgment` for every pairwise
//! comparison; `Score{strength}` per node (the Bradley–Terry share of its answer); `Vote`
//! per node (weight = reputation); metrics `admitted`, `adversaries_admitted`,
//! `majority_correct`, and, scored against the key, `answering_accuracy` (share of the
//! query's answers that are right) and `judging_accuracy` (share of judgments between a
//! right and a wrong answer that picked the right one); the final `Decision`.

use serde::{Deserialize, Serialize};

use super::items;
use super::{Mechanism, Opinion, Show, check_agents, check_count, check_one_of, plurality};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::scenario::{Adversary, Scenario};
use crate::spec::{ScenarioError, check_unit};
use crate::tasks::{Problem, letter, normalize};

pub struct Fortytwo;

#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// `ranking` (pairwise judgments, Bradley–Terry) or `majority` (plurality at equal calls).
    pub aggregate: String,
    /// Pairs each node judges (majority: extra answers each node gives instead).
    pub comparisons: u32,
    /// Probe items in the calibration test.
    pub probes: u32,
    /// Nodes must pass the calibration test to join (off: nobody is tested).
    pub gate: bool,
    /// Share of probes a node must get right to join.
    pub pass_mark: f64,
    /// Judgments count by the judge's reputation (off: all count the same).
    pub reputation: bool,
}

impl Default for Params {
    fn default() -> Self {
        Self { aggregate: "ranking".into(), comparisons: 3, probes: 4, gate: true, pass_mark: 0.25, reputation: true }
    }
}

/// Iterations of the Bradley–Terry fit (a handful of answers converge in far fewer).
const BT_ITERATIONS: usize = 200;
/// Pseudo-wins each way between every two answers, as a share of the mean judgment
/// weight: keeps strengths finite when one answer wins every comparison.
const BT_PRIOR: f64 = 0.1;

impl Mechanism for Fortytwo {
    const NAME: &'static str = "fortytwo";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 3)?;
        check_one_of("aggregate", &p.aggregate, &["ranking", "majority"])?;
        check_count("comparisons", p.comparisons, 1, 16)?;
        check_count("probes", p.probes, 0, 16)?;
        check_unit("mechanism.params.pass_mark", p.pass_mark)
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let n = ctx.n();
        let all: Vec<AgentId> = (0..n as AgentId).collect();
        let tested = p.gate && p.probes > 0;
        let (admitted, reputation) = if tested { calibrate(&ctx, &p, &all).await } else { untested(&ctx, &all) };
        let weight = |a: AgentId| if p.reputation { reputation[a as usize] } else { 1.0 };
        ctx.metric(0, "admitted", admitted.len() as f64);
        let adversaries = admitted.iter().filter(|&&a| ctx.scenario().agents[a as usize].traits.adversary != Adversary::None).count();
        ctx.metric(0, "adversaries_admitted", adversaries as f64);

        let round = if tested { p.probes } else { 0 };
        let main = ctx.task().main.clone();
        ctx.note(round, format!("The query goes to the {} admitted node(s); every one answers.", admitted.len()));
        let reqs = admitted
            .iter()
            .map(|&a| {
                let mut r = ctx.request(a, "answer", round, &main);
                r.instruction = "Answer with a one-line justification.".into();
                r
            })
            .collect();
        let ops: Vec<Opinion> = ctx.ask_all(reqs).await.iter().map(Opinion::from_reply).collect();
        let plain = plurality(&ops.iter().map(|o| (o.answer.clone(), 1.0)).collect::<Vec<_>>()).unwrap_or_else(|| "?".into());
        // Scoring only: how often a node's answer is right.
        let right = ops.iter().filter(|o| main.is_correct(&o.answer)).count();
        ctx.metric(round, "answering_accuracy", right as f64 / ops.len().max(1) as f64);

        if p.aggregate == "majority" {
            let reqs = admitted
                .iter()
                .flat_map(|&a| (0..p.comparisons).map(move |_| a))
                .map(|a| {
                    let mut r = ctx.request(a, "answer", round + 1, &main);
                    r.instruction = "Answer with a one-line justification.".into();
                    r
                })
                .collect();
            let more = ctx.ask_all(reqs).await;
            let mut votes = Vec::with_capacity(ops.len() + more.len());
            for (o, &a) in ops.iter().zip(&admitted) {
                ctx.vote(round + 1, a, &o.answer, 1.0);
                votes.push((o.answer.clone(), 1.0));
            }
            for (r, a) in more.iter().zip(admitted.iter().flat_map(|&a| (0..p.comparisons).map(move |_| a))) {
                let o = Opinion::from_reply(r);
                ctx.vote(round + 1, a, &o.answer, 1.0);
                votes.push((o.answer, 1.0));
            }
            let answer = plurality(&votes).unwrap_or_else(|| "?".into());
            ctx.decide(round + 1, &answer, "majority of all answers", true);
            return Ok(());
        }

        ctx.metric(round, "majority_correct", f64::from(u8::from(main.is_correct(&plain))));
        let distinct = distinct_answers(&ops);
        if distinct.len() <= 1 {
            ctx.note(round, "The nodes give no two different answers: nothing to rank.");
            for (o, &a) in ops.iter().zip(&admitted) {
                ctx.vote(round, a, &o.answer, weight(a));
            }
            let only = ops.iter().find(|o| answered(o)).map_or(plain, |o| o.answer.clone());
            ctx.decide(round, &only, "peer ranking (unanimous)", true);
            return Ok(());
        }

        // Judging: each node compares pairs of other nodes whose answers differ.
        let judging = round + 1;
        let pairs = draw_pairs(&ctx, &admitted, &ops, p.comparisons as usize);
        let reqs = pairs
            .iter()
            .map(|&(j, x, y)| {
                let (ox, oy) = (&ops[x], &ops[y]);
                let mut r = ctx.request(admitted[j], "judge", judging, &main);
                r.options = vec![ox.answer.clone(), oy.answer.clone()];
                r.peers = vec![ox.view(&ctx, admitted[x], Show::REASONING), oy.view(&ctx, admitted[y], Show::REASONING)];
                r.instruction = judge_instruction(&main, &r.options);
                r
            })
            .collect();
        let verdicts = ctx.ask_all(reqs).await;
        let mut wins = vec![vec![0.0; distinct.len()]; distinct.len()];
        let mut total = 0.0;
        // Scoring only: judgments between a right and a wrong answer, and how many picked the right one.
        let mut decisive = (0u32, 0u32);
        for (&(j, x, y), v) in pairs.iter().zip(&verdicts) {
            let Some(pick) = v.answer.as_deref().map(normalize) else { continue };
            let (kx, ky) = (group_of(&distinct, &ops[x].answer), group_of(&distinct, &ops[y].answer));
            let (winner, w, l) = if pick == normalize(&ops[x].answer) {
                (x, kx, ky)
            } else if pick == normalize(&ops[y].answer) {
                (y, ky, kx)
            } else {
                continue;
            };
            if main.is_correct(&ops[x].answer) != main.is_correct(&ops[y].answer) {
                decisive.1 += 1;
                decisive.0 += u32::from(main.is_correct(&ops[winner].answer));
            }
            let judge = admitted[j];
            ctx.emit(judging, EventKind::Judgment { judge, a: admitted[x], b: admitted[y], winner: admitted[winner] });
            wins[w][l] += weight(judge);
            total += weight(judge);
        }
        if decisive.1 > 0 {
            ctx.metric(judging, "judging_accuracy", f64::from(decisive.0) / f64::from(decisive.1));
        }
        let strength = bradley_terry(&wins, total);
        let share: f64 = strength.iter().sum();
        for (o, &a) in ops.iter().zip(&admitted).filter(|(o, _)| answered(o)) {
            let k = group_of(&distinct, &o.answer);
            ctx.emit(judging, EventKind::Score { name: "strength".into(), agent: a, value: strength[k] / share });
            ctx.vote(judging, a, &o.answer, weight(a));
        }
        let shown = |k: usize| ops.iter().find(|o| normalize(&o.answer) == distinct[k]).map_or(distinct[k].clone(), |o| o.answer.clone());
        let table: Vec<String> = (0..distinct.len()).map(|k| format!("{} {:.2}", shown(k), strength[k] / share)).collect();
        ctx.note(judging, format!("Bradley–Terry strengths from {} comparison(s): {}.", pairs.len(), table.join(", ")));
        // Best strength; ties go to the answer more nodes hold, then to the first seen.
        let holders = |k: usize| ops.iter().filter(|o| normalize(&o.answer) == distinct[k]).count();
        let best = (0..distinct.len()).fold(0, |b, k| {
            if strength[k] > strength[b] + 1e-12 || ((strength[k] - strength[b]).abs() <= 1e-12 && holders(k) > holders(b)) { k } else { b }
        });
        let answer = shown(best);
        ctx.decide(judging, &answer, "peer ranking (Bradley–Terry)", true);
        Ok(())
    }
}

/// The calibration test: every node answers the probes, one probe per round; the
/// environment grades them. Returns the admitted nodes and every node's reputation.
async fn calibrate(ctx: &Ctx, p: &Params, all: &[AgentId]) -> (Vec<AgentId>, Vec<f64>) {
    let n = all.len();
    ctx.note(0, format!("Calibration: every node answers {} probe item(s) before it may join.", p.probes));
    let mut right = vec![0u32; n];
    let mut reputation = vec![0.5; n];
    for k in 0..p.probes {
        let probe = items::item(ctx, "probe", k);
        let reqs = all
            .iter()
            .map(|&a| {
                let mut r = ctx.request(a, "probe", k, &probe);
                r.instruction = "Answer with a one-line justification.".into();
                r
            })
            .collect();
        let replies = ctx.ask_all(reqs).await;
        for (i, r) in replies.iter().enumerate() {
            if r.answer.as_deref().is_some_and(|a| items::graded(&probe, a)) {
                right[i] += 1;
            }
            reputation[i] = f64::from(1 + right[i]) / f64::from(2 + k + 1);
            ctx.emit(k, EventKind::Score { name: "reputation".into(), agent: all[i], value: reputation[i] });
        }
    }
    let passes = |i: usize| f64::from(right[i]) >= p.pass_mark * f64::from(p.probes) - 1e-9;
    let mut admitted: Vec<AgentId> = (0..n).filter(|&i| passes(i)).map(|i| all[i]).collect();
    if admitted.len() < 2 {
        // A swarm needs two nodes to compare anything: admit the best records.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| right[b].cmp(&right[a]).then(a.cmp(&b)));
        admitted = order[..2].iter().map(|&i| all[i]).collect();
        admitted.sort();
        ctx.note(p.probes - 1, "Fewer than two nodes passed; the two best records join.");
    }
    for i in 0..n {
        if !admitted.contains(&all[i]) {
            let reason = format!("failed the calibration test ({} of {} right)", right[i], p.probes);
            ctx.emit(p.probes - 1, EventKind::Active { agent: all[i], active: false, reason });
        }
    }
    (admitted, reputation)
}

/// No calibration: everyone joins with the same reputation.
fn untested(ctx: &Ctx, all: &[AgentId]) -> (Vec<AgentId>, Vec<f64>) {
    ctx.note(0, "No calibration test: every node joins with the same reputation.");
    for &a in all {
        ctx.emit(0, EventKind::Score { name: "reputation".into(), agent: a, value: 0.5 });
    }
    (all.to_vec(), vec![0.5; all.len()])
}

/// Whether a node gave an answer at all (an unreadable reply is shown as `?`).
fn answered(o: &Opinion) -> bool {
    o.answer != "?"
}

/// The distinct answers given (normal form), in first-seen order.
fn distinct_answers(ops: &[Opinion]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for o in ops.iter().filter(|o| answered(o)) {
        let k = normalize(&o.answer);
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

fn group_of(distinct: &[String], answer: &str) -> usize {
    let k = normalize(answer);
    distinct.iter().position(|d| *d == k).expect("every answer has a group")
}

/// `(judge, x, y)` (indices into the admitted nodes): for each judge, up to `k` pairs of
/// other nodes whose (readable) answers differ, drawn without replacement (the judge's own answer
/// is in a pair only when no other pair is left to judge).
fn draw_pairs(ctx: &Ctx, admitted: &[AgentId], ops: &[Opinion], k: usize) -> Vec<(usize, usize, usize)> {
    let m = admitted.len();
    let differ = |x: usize, y: usize| answered(&ops[x]) && answered(&ops[y]) && normalize(&ops[x].answer) != normalize(&ops[y].answer);
    let mut rng = ctx.rng("fortytwo pairs");
    let mut out = Vec::with_capacity(m * k);
    for j in 0..m {
        let mut pairs: Vec<(usize, usize)> = (0..m).flat_map(|x| (x + 1..m).map(move |y| (x, y))).filter(|&(x, y)| differ(x, y) && x != j && y != j).collect();
        if pairs.is_empty() {
            pairs = (0..m).flat_map(|x| (x + 1..m).map(move |y| (x, y))).filter(|&(x, y)| differ(x, y)).collect();
        }
        rng.shuffle(&mut pairs);
        out.extend(pairs.into_iter().take(k).map(|(x, y)| (j, x, y)));
    }
    out
}

/// What a judge is told: the question's options and which candidate is which (the
/// candidates are option letters, which mean nothing to a model without the options).
fn judge_instruction(problem: &Problem, candidates: &[String]) -> String {
    if problem.format != "option" || problem.options.is_empty() {
        return "Two nodes answered differently. Check each one's reasoning and pick the candidate that is right.".into();
    }
    let options: Vec<String> = problem.options.iter().enumerate().map(|(i, o)| format!("{}) {o}", letter(i))).collect();
    let which: Vec<String> = candidates
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let value = (0..problem.options.len()).find(|&i| letter(i).eq_ignore_ascii_case(c.trim())).map(|i| format!(" ({})", problem.options[i])).unwrap_or_default();
            format!("candidate {} is option {c}{value}", k + 1)
        })
        .collect();
    format!(
        "The options were: {}. Two nodes answered differently: {}. Check each one's reasoning and pick the candidate that is right.",
        options.join(", "),
        which.join(", ")
    )
}

/// Bradley–Terry strengths for `wins[i][j]` (weighted wins of answer i over answer j),
/// by Hunter's MM iterations with `BT_PRIOR` pseudo-wins each way between all answers.
pub(crate) fn bradley_terry(wins: &[Vec<f64>], total_weight: f64) -> Vec<f64> {
    let k = wins.len();
    let judgments: f64 = wins.iter().flatten().filter(|w| **w > 0.0).count().max(1) as f64;
    let prior = BT_PRIOR * (total_weight / judgments).max(1e-9);
    let w = |i: usize, j: usize| wins[i][j] + if i == j { 0.0 } else { prior };
    let mut s = vec![1.0; k];
    for _ in 0..BT_ITERATIONS {
        let mut next = vec![0.0; k];
        for i in 0..k {
            let won: f64 = (0..k).map(|j| w(i, j)).sum();
            let denom: f64 = (0..k).filter(|&j| j != i).map(|j| (w(i, j) + w(j, i)) / (s[i] + s[j])).sum();
            next[i] = if denom > 0.0 { won / denom } else { s[i] };
        }
        // Fix the scale (strengths are defined up to a factor).
        let geo = libm::exp(next.iter().map(|x| libm::log(x.max(1e-300))).sum::<f64>() / k as f64);
        for x in &mut next {
            *x /= geo;
        }
        s = next;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn run(id: &str, sets: &[(&str, serde_json::Value)]) -> Vec<Event> {
        let mut s = crate::builtin(id).unwrap();
        for (k, v) in sets {
            s.mechanism.params[*k] = v.clone();
        }
        crate::run_simulated(&s).unwrap().log.events().to_vec()
    }

    #[test]
    fn the_gate_shuts_out_the_sybils_and_every_comparison_is_logged() {
        let log = run("fortytwo-sybil", &[]);
        let gated: Vec<u32> = log.iter().filter_map(|e| match &e.kind {
            EventKind::Active { agent, active: false, .. } => Some(*agent),
            _ => None,
        }).collect();
        assert!([7, 8, 9].iter().all(|s| gated.contains(s)), "the three Sybils fail: {gated:?}");
        let reputations = log.iter().filter(|e| matches!(&e.kind, EventKind::Score { name, .. } if name == "reputation")).count();
        assert_eq!(reputations, 10 * 4, "one reputation per node per probe");
        let judge_answers = log.iter().filter(|e| matches!(&e.kind, EventKind::Answer { purpose, answer: Some(_), .. } if purpose == "judge")).count();
        let judgments: Vec<(u32, u32, u32, u32)> = log.iter().filter_map(|e| match &e.kind {
            EventKind::Judgment { judge, a, b, winner } => Some((*judge, *a, *b, *winner)),
            _ => None,
        }).collect();
        assert!(!judgments.is_empty() && judgments.len() == judge_answers, "{} judgments for {judge_answers} judge replies", judgments.len());
        assert!(judgments.iter().all(|&(j, a, b, w)| (w == a || w == b) && a != b && !gated.contains(&j) && !gated.contains(&a)));
        // Probes stay out of the opinion metrics.
        assert!(log.iter().all(|e| !matches!(&e.kind, EventKind::Answer { purpose, .. } if purpose == "answer") || e.round == 4));
    }

    #[test]
    fn without_the_gate_everyone_joins_and_majority_spends_the_judging_calls_on_answers() {
        let open = run("fortytwo-sybil", &[("gate", false.into())]);
        assert!(!open.iter().any(|e| matches!(&e.kind, EventKind::Active { .. })));
        let asks = |log: &[Event], p: &str| log.iter().filter(|e| matches!(&e.kind, EventKind::Ask { purpose, .. } if purpose == p)).count();
        assert_eq!(asks(&open, "probe"), 0);
        let majority = run("fortytwo", &[("aggregate", "majority".into()), ("gate", false.into())]);
        assert_eq!((asks(&majority, "answer"), asks(&majority, "judge")), (7 * 4, 0), "1 + comparisons answers per node");
    }

    #[test]
    fn bradley_terry_orders_by_wins_and_stays_finite() {
        // A beats B 3 times, B beats C 3 times, A beats C once; nobody beats A.
        let wins = vec![vec![0.0, 3.0, 1.0], vec![0.0, 0.0, 3.0], vec![0.0, 0.0, 0.0]];
        let s = bradley_terry(&wins, 7.0);
        assert!(s[0] > s[1] && s[1] > s[2], "{s:?}");
        assert!(s.iter().all(|x| x.is_finite() && *x > 0.0));
        // Weights matter: one heavy judgment outweighs two light ones.
        let s = bradley_terry(&[vec![0.0, 2.0], vec![0.0, 0.0]], 2.0);
        let t = bradley_terry(&[vec![0.0, 2.0 * 0.2], vec![3.0, 0.0]], 3.4);
        assert!(s[0] > s[1] && t[1] > t[0], "{s:?} {t:?}");
    }
}
