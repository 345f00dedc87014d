//! Symphony-Coord routing: which agent takes the next task is an online contextual bandit
//! (LinUCB), so who does what emerges from the rewards the team observes. After
//! *Symphony-Coord: Emergent Coordination in Decentralized Agent Systems* (Guan et al., 2026).
//!
//! A stream of `tasks` multiple-choice items arrives, one at a time. Each task's features
//! are what anyone reading it can see: its domain (one-hot) and a rough difficulty read off
//! the question's surface (how big its numbers are). The router keeps, per agent, a ridge
//! regression of reward on those features and sends the task to the agent with the highest
//! upper confidence bound; the reward is the environment's verdict on the answer (1 right,
//! 0 wrong or no reply). The router never sees anyone's skill: roles emerge from rewards.
//!
//! - **Forgetting.** `discount` < 1 shrinks old evidence each task, so the router keeps
//!   re-checking what it believes and can notice change; 1 is plain LinUCB.
//! - **Beacons** (`screen` > 0): the two-stage protocol. The agent that handled the last
//!   task sends a beacon to the `screen` agents with the best bounds; those still working
//!   acknowledge; the task goes to the best of them. Beacons are messages, not model calls.
//! - **Failure.** Agent `fail_agent` stops answering from task `fail_at` on (the
//!   environment's doing; the router only sees that no reply or acknowledgement comes).
//! - **Shift.** From task `shift_at` on, tasks come from the domains in `shift_to`.
//! - `routing: random` sends each task to an agent drawn uniformly (the null).
//!
//! Metrics may read the truth: `regret` is the cumulative expected regret against the
//! oracle that sends each task to the working agent most likely to get it right (from the
//! agents' true per-domain skill and the item's difficulty).
//!
//! Events: per task a `Choice {name: "route", value: <agent name>}`, the ask and answer, a
//! `Decision` (every task's decision is final; accuracy is the share right), a
//! `Metric {name: "regret"}` (cumulative), and a `Score {name: "share"}` per agent (its
//! share of the last 20 tasks); beacon and acknowledgement `Message`s; an
//! `Active {active: false}` when the agent fails and a `Note` when the mix shifts. At the
//! end: metrics `regret_half` (regret after half the tasks), `regret_growth`
//! (log2 of regret(T) / regret(T/2): 1 for linear growth, below 1 sublinear),
//! `dead_routes` (tasks sent to the failed agent after it failed) and `recovery_tasks`
//! (tasks from the failure until a stretch of 20 tasks none of which goes to it begins).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::stream::{decide_on, task_at};
use super::{Mechanism, check_agents, check_count, check_one_of};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, check_range};
use crate::tasks::{DOMAINS, Problem};

pub struct Symphony;

/// Most tasks one run may stream (each is one call, plus beacons).
pub const MAX_TASKS: u32 = 2_000;
/// Tasks over which the routing shares are counted.
const SHARE_WINDOW: usize = 20;
/// Consecutive tasks without a route to the failed agent that count as recovered.
const RECOVERED: u32 = 20;
/// Ridge regularisation of each agent's reward model.
const RIDGE: f64 = 1.0;
/// What the router expects of an agent it knows nothing about (or has not tried for a
/// long time, with forgetting).
const PRIOR_REWARD: f64 = 0.5;

#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    pub tasks: u32,
    /// `linucb` or `random`.
    pub routing: String,
    /// Width of the confidence bound (exploration).
    pub alpha: f64,
    /// Weight kept by old evidence per task (1: never forget).
    pub discount: f64,
    /// Agents beaconed per task (0: no beacons, route on the model alone).
    pub screen: u32,
    /// The agent that stops answering, and from which task.
    pub fail_agent: Option<u32>,
    pub fail_at: u32,
    /// From this task on, tasks come from `shift_to`.
    pub shift_at: Option<u32>,
    pub shift_to: Vec<String>,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            tasks: 300,
            routing: "linucb".into(),
            alpha: 0.3,
            discount: 0.98,
            screen: 0,
            fail_agent: None,
            fail_at: 150,
            shift_at: None,
            shift_to: vec![],
        }
    }
}

impl Mechanism for Symphony {
    const NAME: &'static str = "symphony";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 2)?;
        check_count("tasks", p.tasks, 1, MAX_TASKS)?;
        check_one_of("routing", &p.routing, &["linucb", "random"])?;
        check_range("mechanism.params.alpha", p.alpha, 0.0, 10.0)?;
        check_range("mechanism.params.discount", p.discount, 0.5, 1.0)?;
        check_count("screen", p.screen, 0, s.agents.len() as u32)?;
        if let Some(a) = p.fail_agent {
            check_count("fail_agent", a, 0, s.agents.len() as u32 - 1)?;
        }
        check_count("fail_at", p.fail_at, 0, p.tasks)?;
        if let Some(t) = p.shift_at {
            check_count("shift_at", t, 0, p.tasks)?;
        }
        if p.shift_to.len() > DOMAINS.len() {
            return Err(ScenarioError(format!("mechanism.params.shift_to: at most {} domains", DOMAINS.len())));
        }
        for d in &p.shift_to {
            check_one_of("shift_to", d, DOMAINS)?;
        }
        if s.task.kind != "multiple_choice" {
            return Err(ScenarioError(format!("mechanism \"symphony\" needs task \"multiple_choice\" (items with a domain), not \"{}\"", s.task.kind)));
        }
        Ok(())
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let n = ctx.n();
        let spec_params = ctx.scenario().task.params.clone();
        let base: Vec<String> = match spec_params.get("domains").and_then(Value::as_array) {
            Some(list) if !list.is_empty() => list.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            _ => DOMAINS.iter().map(|d| d.to_string()).collect(),
        };
        // Feature layout: bias, one slot per domain the stream can bring, surface difficulty.
        let domains: Vec<&str> = DOMAINS.iter().copied().filter(|d| base.iter().chain(&p.shift_to).any(|x| x == d)).collect();
        let dim = domains.len() + 2;
        let mut router = LinUcb::new(n, dim, p.alpha, p.discount);
        let mut pick_rng = ctx.rng("symphony.random");
        let mut alive = vec![true; n];
        let mut recent: std::collections::VecDeque<AgentId> = std::collections::VecDeque::new();
        let mut regret = 0.0;
        let mut regret_half = 0.0;
        let mut dead_routes: Vec<u32> = Vec::new();
        let mut forwarder: AgentId = 0;
        let shifted = |i: u32| p.shift_at.is_some_and(|s| i >= s) && !p.shift_to.is_empty();
        ctx.note(0, format!("{} tasks arrive one by one; the router learns who to send each to ({}).", p.tasks, p.routing));
        for i in 0..p.tasks {
            if p.fail_agent.is_some_and(|_| i == p.fail_at) {
                let a = p.fail_agent.expect("checked") as usize;
                alive[a] = false;
                ctx.emit(i, EventKind::Active { agent: a as AgentId, active: false, reason: "stops answering".into() });
            }
            if p.shift_at == Some(i) && shifted(i) {
                ctx.note(i, format!("The task mix shifts: tasks now come from {}.", p.shift_to.join(", ")));
            }
            let params = if shifted(i) {
                let mut v = spec_params.clone();
                v["domains"] = Value::from(p.shift_to.clone());
                Some(v)
            } else {
                None
            };
            let task = task_at(&ctx, i, params.as_ref());
            let item = task.main;
            let x = features(&item, &domains);
            let chosen = if p.routing == "random" {
                Some(pick_rng.index(n) as AgentId)
            } else {
                let scores: Vec<f64> = (0..n).map(|a| router.bound(a, &x)).collect();
                if p.screen == 0 {
                    Some(argmax(&scores, &(0..n).collect::<Vec<_>>()) as AgentId)
                } else {
                    beacon(&ctx, i, forwarder, &scores, p.screen as usize, &alive)
                }
            };
            let Some(chosen) = chosen else {
                ctx.emit(i, EventKind::Error { agent: None, message: "no agent acknowledged the beacon; the task is dropped".into() });
                decide_on(&ctx, i, &item, "?", "dropped");
                regret += best_chance(&ctx, &item, &alive);
                ctx.metric(i, "regret", regret);
                continue;
            };
            ctx.emit(i, EventKind::Choice { name: "route".into(), value: ctx.name(chosen).to_string() });
            let answer = if alive[chosen as usize] {
                let mut r = ctx.request(chosen, "solve", i, &item);
                r.instruction = format!("This {} task was routed to you.", item.domain);
                ctx.ask(r).await.answer.unwrap_or_else(|| "?".into())
            } else {
                dead_routes.push(i);
                ctx.emit(i, EventKind::Error { agent: Some(chosen), message: format!("no reply: {} has stopped answering", ctx.name(chosen)) });
                "?".into()
            };
            let right = decide_on(&ctx, i, &item, &answer, &format!("routed to {}", ctx.name(chosen)));
            router.update(chosen as usize, &x, f64::from(u8::from(right)));
            forwarder = if alive[chosen as usize] { chosen } else { forwarder };

            regret += best_chance(&ctx, &item, &alive) - if alive[chosen as usize] { chance(&ctx, chosen, &item) } else { 0.0 };
            ctx.metric(i, "regret", regret);
            if i + 1 == p.tasks / 2 {
                regret_half = regret;
            }
            recent.push_back(chosen);
            if recent.len() > SHARE_WINDOW {
                recent.pop_front();
            }
            for a in 0..n as AgentId {
                let share = recent.iter().filter(|&&c| c == a).count() as f64 / recent.len() as f64;
                ctx.emit(i, EventKind::Score { name: "share".into(), agent: a, value: share });
            }
        }
        let end = p.tasks.saturating_sub(1);
        ctx.metric(end, "regret_half", regret_half);
        if regret_half > 0.0 && p.tasks >= 2 {
            ctx.metric(end, "regret_growth", libm::log2(regret / regret_half));
        }
        ctx.metric(end, "regret_per_task", regret / f64::from(p.tasks));
        if p.fail_agent.is_some() && p.fail_at < p.tasks {
            ctx.metric(end, "dead_routes", dead_routes.len() as f64);
            ctx.metric(end, "recovery_tasks", f64::from(recovery(&dead_routes, p.fail_at, p.tasks)));
        }
        Ok(())
    }
}

/// Tasks from the failure at `from` until the first stretch of `RECOVERED` tasks none of
/// which went to the failed agent begins (`total - from` when no such stretch fits).
fn recovery(dead_routes: &[u32], from: u32, total: u32) -> u32 {
    let mut start = from;
    while start + RECOVERED <= total {
        match dead_routes.iter().find(|&&d| d >= start && d < start + RECOVERED) {
            None => return start - from,
            Some(&d) => start = d + 1,
        }
    }
    total - from
}

/// Beacons to the `screen` agents with the best bounds; the working ones acknowledge and
/// the best of those gets the task. If none does, the beacon goes to everyone else.
fn beacon(ctx: &Ctx, round: u32, from: AgentId, scores: &[f64], screen: usize, alive: &[bool]) -> Option<AgentId> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    for wave in [&order[..screen.min(order.len())], &order[screen.min(order.len())..]] {
        if wave.is_empty() {
            continue;
        }
        let to: Vec<AgentId> = wave.iter().map(|&a| a as AgentId).filter(|&a| a != from).collect();
        ctx.message(round, from, to, "beacon", "who can take this task?");
        let acks: Vec<usize> = wave.iter().copied().filter(|&a| alive[a]).collect();
        for &a in &acks {
            if a as AgentId != from {
                ctx.message(round, a as AgentId, vec![from], "ack", "available");
            }
        }
        if !acks.is_empty() {
            return Some(argmax(scores, &acks) as AgentId);
        }
    }
    None
}

/// The candidate with the highest score (ties: the lowest index).
fn argmax(scores: &[f64], candidates: &[usize]) -> usize {
    let mut best = candidates[0];
    for &a in &candidates[1..] {
        if scores[a] > scores[best] {
            best = a;
        }
    }
    best
}

/// What anyone can see of a task: its domain, and how hard it looks from the size of the
/// numbers in the question (one digit easy .. four digits hard).
fn features(item: &Problem, domains: &[&str]) -> Vec<f64> {
    let mut x = vec![0.0; domains.len() + 2];
    x[0] = 1.0;
    if let Some(k) = domains.iter().position(|d| *d == item.domain) {
        x[1 + k] = 1.0;
    }
    x[domains.len() + 1] = surface_difficulty(&item.text);
    x
}

/// Digits of the largest number in `text`, mapped to 0 (one digit) .. 1 (four or more).
fn surface_difficulty(text: &str) -> f64 {
    let longest = text.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    (longest.saturating_sub(1) as f64 / 3.0).min(1.0)
}

/// Chance that `agent` gets `item` right (metrics only: reads true skill).
fn chance(ctx: &Ctx, agent: AgentId, item: &Problem) -> f64 {
    let skill = ctx.scenario().agents[agent as usize].traits.skill(&item.domain);
    crate::nature::p_correct(skill, item.difficulty)
}

/// The oracle's chance on `item`: the best working agent's.
fn best_chance(ctx: &Ctx, item: &Problem, alive: &[bool]) -> f64 {
    (0..alive.len()).filter(|&a| alive[a]).map(|a| chance(ctx, a as AgentId, item)).fold(0.0, f64::max)
}

/// Disjoint LinUCB with discounting: per agent, a ridge regression of reward on features.
struct LinUcb {
    dim: usize,
    alpha: f64,
    discount: f64,
    /// Per agent: the Gram matrix (row-major) and the reward-weighted feature sum.
    gram: Vec<Vec<f64>>,
    target: Vec<Vec<f64>>,
}

impl LinUcb {
    fn new(arms: usize, dim: usize, alpha: f64, discount: f64) -> Self {
        let mut eye = vec![0.0; dim * dim];
        for k in 0..dim {
            eye[k * dim + k] = RIDGE;
        }
        LinUcb { dim, alpha, discount, gram: vec![eye; arms], target: vec![prior_target(dim); arms] }
    }

    /// Estimated reward plus `alpha` times its standard error, for agent `arm` on `x`.
    fn bound(&self, arm: usize, x: &[f64]) -> f64 {
        let (mean, se) = self.estimate(arm, x);
        mean + self.alpha * se
    }

    /// Estimated reward of agent `arm` on `x` and its standard error.
    fn estimate(&self, arm: usize, x: &[f64]) -> (f64, f64) {
        let z = solve(&self.gram[arm], x, self.dim);
        let mean: f64 = self.target[arm].iter().zip(&z).map(|(b, z)| b * z).sum();
        let var: f64 = x.iter().zip(&z).map(|(x, z)| x * z).sum();
        (mean, libm::sqrt(var.max(0.0)))
    }

    /// Learns from `reward` for `arm` on `x`; every agent's old evidence fades by `discount`
    /// (towards the prior, so an agent not tried for a while is uncertain again).
    fn update(&mut self, arm: usize, x: &[f64], reward: f64) {
        let (d, g) = (self.dim, self.discount);
        for a in 0..self.gram.len() {
            if g < 1.0 {
                for r in 0..d {
                    for c in 0..d {
                        let prior = if r == c { (1.0 - g) * RIDGE } else { 0.0 };
                        self.gram[a][r * d + c] = g * self.gram[a][r * d + c] + prior;
                    }
                    self.target[a][r] = g * self.target[a][r] + (1.0 - g) * prior_target(d)[r];
                }
            }
        }
        for r in 0..d {
            for c in 0..d {
                self.gram[arm][r * d + c] += x[r] * x[c];
            }
            self.target[arm][r] += reward * x[r];
        }
    }
}

/// The prior's reward-weighted sum: with the ridge it makes the prior estimate
/// `PRIOR_REWARD` on every task (through the bias feature).
fn prior_target(dim: usize) -> Vec<f64> {
    let mut t = vec![0.0; dim];
    t[0] = RIDGE * PRIOR_REWARD;
    t
}

/// Solves `m z = v` for a symmetric positive-definite `m` (dim × dim, row-major) by
/// Cholesky factorisation.
fn solve(m: &[f64], v: &[f64], dim: usize) -> Vec<f64> {
    let mut l = vec![0.0; dim * dim];
    for i in 0..dim {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * dim + k] * l[j * dim + k]).sum();
            if i == j {
                l[i * dim + i] = libm::sqrt((m[i * dim + i] - s).max(1e-12));
            } else {
                l[i * dim + j] = (m[i * dim + j] - s) / l[j * dim + j];
            }
        }
    }
    let mut y = vec![0.0; dim];
    for i in 0..dim {
        let s: f64 = (0..i).map(|k| l[i * dim + k] * y[k]).sum();
        y[i] = (v[i] - s) / l[i * dim + i];
    }
    let mut z = vec![0.0; dim];
    for i in (0..dim).rev() {
        let s: f64 = (i + 1..dim).map(|k| l[k * dim + i] * z[k]).sum();
        z[i] = (y[i] - s) / l[i * dim + i];
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::run_simulated;

    fn with(sets: &[(&str, serde_json::Value)]) -> Scenario {
        let mut v = crate::builtin("symphony").unwrap().to_value();
        for (k, x) in sets {
            v["mechanism"]["params"][*k] = x.clone();
        }
        Scenario::from_value(v).unwrap()
    }

    #[test]
    fn the_log_shows_routes_shares_the_failure_and_the_shift() {
        let s = crate::builtin("symphony").unwrap();
        let r = run_simulated(&s).unwrap();
        let ev = r.log.events();
        let count = |f: &dyn Fn(&EventKind) -> bool| ev.iter().filter(|e| f(&e.kind)).count();
        assert_eq!(count(&|k| matches!(k, EventKind::Choice { name, .. } if name == "route")), 300);
        assert_eq!(count(&|k| matches!(k, EventKind::Score { name, .. } if name == "share")), 300 * 5);
        assert_eq!(count(&|k| matches!(k, EventKind::Decision { is_final: true, .. })), 300);
        let failed: Vec<_> = ev.iter().filter(|e| matches!(e.kind, EventKind::Active { agent: 0, active: false, .. })).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].round, 100);
        assert!(ev.iter().any(|e| e.round == 200 && matches!(&e.kind, EventKind::Note { text } if text.contains("shifts"))));
        // The silent agent is never asked again; each task routed to it is an error.
        assert_eq!(count(&|k| matches!(k, EventKind::Ask { agent: 0, .. })) as u32, ev.iter().filter(|e| e.round < 100).filter(|e| matches!(e.kind, EventKind::Ask { agent: 0, .. })).count() as u32);
        let dead = count(&|k| matches!(k, EventKind::Error { agent: Some(0), .. }));
        assert_eq!(Some(dead as f64), r.metrics.get("dead_routes"));
        // After the shift, every task comes from the new domains.
        for e in ev.iter().filter(|e| e.round >= 200) {
            if let EventKind::Ask { prompt, .. } = &e.kind {
                assert!(prompt.contains("(logic)") || prompt.contains("(sequences)"), "{prompt}");
            }
        }
        // The regret curve never falls, and accuracy is the share of tasks right.
        let regret: Vec<f64> = ev.iter().filter_map(|e| match &e.kind { EventKind::Metric { name, value } if name == "regret" => Some(*value), _ => None }).collect();
        assert_eq!(regret.len(), 300);
        assert!(regret.windows(2).all(|w| w[1] >= w[0] - 1e-12));
        let right = count(&|k| matches!(k, EventKind::Decision { correct: Some(true), .. }));
        assert!((r.metrics.get("accuracy").unwrap() - right as f64 / 300.0).abs() < 1e-12);
    }

    #[test]
    fn random_routing_spreads_tasks_and_learns_nothing() {
        let s = with(&[("routing", "random".into()), ("fail_agent", serde_json::Value::Null), ("shift_at", serde_json::Value::Null)]);
        let r = run_simulated(&s).unwrap();
        let mut per = [0usize; 5];
        for e in r.log.events() {
            if let EventKind::Ask { agent, .. } = e.kind {
                per[agent as usize] += 1;
            }
        }
        assert!(per.iter().all(|&k| k > 40), "{per:?}");
        let linucb = run_simulated(&with(&[("fail_agent", serde_json::Value::Null), ("shift_at", serde_json::Value::Null)])).unwrap();
        assert!(linucb.metrics.get("regret").unwrap() < r.metrics.get("regret").unwrap());
    }

    #[test]
    fn params_are_bounded() {
        let bad = |k: &str, x: serde_json::Value| {
            let mut v = crate::builtin("symphony").unwrap().to_value();
            v["mechanism"]["params"][k] = x;
            Scenario::from_value(v).unwrap_err().0
        };
        assert!(bad("tasks", 2001.into()).contains("tasks 2001 out of [1,2000]"));
        assert!(bad("fail_agent", 5.into()).contains("fail_agent 5 out of [0,4]"));
        assert!(bad("shift_to", serde_json::json!(["cooking"])).contains("\"cooking\" is not one of"));
        assert!(bad("discount", 0.1.into()).contains("discount 0.1 out of [0.5,1]"));
        let mut v = crate::builtin("symphony").unwrap().to_value();
        v["task"] = serde_json::json!({"kind": "arithmetic"});
        assert!(Scenario::from_value(v).unwrap_err().0.contains("needs task \"multiple_choice\""));
    }

    #[test]
    fn cholesky_solves_and_linucb_learns_the_better_arm() {
        let m = [4.0, 2.0, 0.0, 2.0, 3.0, 1.0, 0.0, 1.0, 2.0];
        let z = solve(&m, &[2.0, 5.0, 3.0], 3);
        let back: Vec<f64> = (0..3).map(|r| (0..3).map(|c| m[r * 3 + c] * z[c]).sum()).collect();
        for (b, v) in back.iter().zip([2.0, 5.0, 3.0]) {
            assert!((b - v).abs() < 1e-9, "{back:?}");
        }
        // Arm 1 pays on context A, arm 0 on context B; after some rounds each context goes
        // to its own arm.
        let mut u = LinUcb::new(2, 3, 0.5, 1.0);
        let (a, b) = ([1.0, 1.0, 0.0], [1.0, 0.0, 1.0]);
        for _ in 0..30 {
            u.update(1, &a, 1.0);
            u.update(0, &a, 0.0);
            u.update(0, &b, 1.0);
            u.update(1, &b, 0.0);
        }
        assert!(u.bound(1, &a) > u.bound(0, &a));
        assert!(u.bound(0, &b) > u.bound(1, &b));
        // Forgetting: without fresh evidence the bound of an arm widens again.
        let mut f = LinUcb::new(2, 3, 0.5, 0.9);
        for _ in 0..30 {
            f.update(0, &a, 1.0);
        }
        let before = f.estimate(0, &a).1;
        for _ in 0..30 {
            f.update(1, &a, 1.0);
        }
        assert!(f.estimate(0, &a).1 > 2.0 * before, "an arm left alone grows uncertain again");
        let mut keep = LinUcb::new(2, 3, 0.5, 1.0);
        for _ in 0..30 {
            keep.update(0, &a, 1.0);
        }
        let fixed = keep.estimate(0, &a).1;
        for _ in 0..30 {
            keep.update(1, &a, 1.0);
        }
        assert!((keep.estimate(0, &a).1 - fixed).abs() < 1e-12, "without forgetting it does not");
    }

    #[test]
    fn recovery_is_the_start_of_the_first_clean_stretch() {
        assert_eq!(recovery(&[], 100, 300), 0);
        assert_eq!(recovery(&[100, 103, 110], 100, 300), 11);
        assert_eq!(recovery(&[100, 125], 100, 300), 1, "a retry after a clean stretch does not count");
        assert_eq!(recovery(&[100, 115, 130], 100, 140), 40, "no clean stretch fits: censored at the end");
    }

    #[test]
    fn surface_difficulty_reads_number_sizes() {
        assert_eq!(surface_difficulty("What is 7 × 8?"), 0.0);
        assert!((surface_difficulty("What is 123 × 8?") - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(surface_difficulty("no numbers"), 0.0);
    }
}
