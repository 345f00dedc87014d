//! AgentNet (*AgentNet: Decentralized Evolutionary Coordination for LLM-based Multi-Agent
//! Systems*, Yang, Chai, Shao et al., 2025): no orchestrator; a stream of tasks arrives at
//! whichever agent it reaches, and each agent either does the task or passes it to one of
//! the agents it links to, judging from what it knows of itself and of them. Agents that
//! keep doing a kind of task well keep being sent it (they specialise), and agents drop
//! links to neighbours that do badly and try new ones (the graph rewires).
//!
//! - **The stream.** `items` tasks of the scenario's task kind (multiple-domain items:
//!   each agent's skill differs by domain); the last one is the run's own item, the others
//!   are drawn with seeds derived from the run's (see `items`). Each task is decided as it
//!   is solved, and the environment grades it afterwards (a user accepting or rejecting the
//!   result); that grade is the only feedback anyone learns from.
//! - **Memory.** Every agent keeps its record per domain (tasks done, tasks right) and
//!   shows it to the agents that link to it, as a profile. Nature does not change an
//!   agent's skill with experience here: specialisation is who gets sent what.
//! - **Routing** (`decentralized`): the task arrives at a random live agent; the holder
//!   compares its own profile for the task's domain with those of its out-neighbours not yet
//!   on the task's path (an optimistic estimate: mean plus an exploration bonus) and does
//!   the task or passes it on, at most `max_hops` times; a path never revisits an agent.
//!   Links to dead agents are found when used and replaced at once; every `rewire_every`
//!   tasks each agent replaces its worst-rated out-link with a link to a random other agent.
//! - **The baseline** (`centralized`): every task arrives at agent 0, the orchestrator,
//!   which sees every worker's profile and sends the task to the most promising one.
//!   Without the orchestrator nobody routes: a task stays with whichever worker gets it.
//! - **Failure** (`fail`): after `fail_at` of the stream, one agent stops answering:
//!   `hub` (the orchestrator, or in the decentralized net the agent most tasks went
//!   through) or `node` (a random agent other than the orchestrator).
//!
//! Events: a `Graph` event for the initial links and after every rewiring or repair;
//! `Message`s for each hand-on (`route`); `Active{false}` for the failed agent;
//! `Score{specialty.<domain>}` for the solver after each task (the share of its tasks in
//! each domain); a final `Decision` per task (accuracy is over the whole stream); metrics
//! `accuracy_before_failure` and `accuracy_after_failure` (the tasks before and from the
//! failure point, defined with `fail = none` too, for paired comparisons), `hops`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::items;
use super::{Mechanism, Opinion, check_agents, check_count, check_one_of};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, check_unit};
use crate::tasks::Problem;

pub struct AgentNet;

#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// `decentralized` (agents route among themselves) or `centralized` (agent 0 routes).
    pub mode: String,
    /// Tasks in the stream.
    pub items: u32,
    /// `none`, `node` (a random agent other than the orchestrator) or `hub` (the
    /// orchestrator; in the decentralized net the agent most tasks went through).
    pub fail: String,
    /// Share of the stream done before the failure.
    pub fail_at: f64,
    /// Out-links per agent in the decentralized net.
    pub degree: u32,
    /// Tasks between rewirings (0: links change only when one is found dead).
    pub rewire_every: u32,
    /// Most hand-ons per task.
    pub max_hops: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self { mode: "decentralized".into(), items: 40, fail: "none".into(), fail_at: 0.5, degree: 3, rewire_every: 2, max_hops: 3 }
    }
}

/// Weight of the exploration bonus in a routing estimate.
const EXPLORE: f64 = 0.35;

/// What each agent has shown of itself: per domain, (tasks right, tasks done).
type Profile = BTreeMap<String, (u32, u32)>;

impl Mechanism for AgentNet {
    const NAME: &'static str = "agentnet";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 3)?;
        check_one_of("mode", &p.mode, &["decentralized", "centralized"])?;
        check_count("items", p.items, 1, 500)?;
        check_one_of("fail", &p.fail, &["none", "node", "hub"])?;
        check_unit("mechanism.params.fail_at", p.fail_at)?;
        check_count("degree", p.degree, 1, (s.agents.len() - 1) as u32)?;
        check_count("rewire_every", p.rewire_every, 0, 500)?;
        check_count("max_hops", p.max_hops, 0, 16)
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let n = ctx.n();
        let central = p.mode == "centralized";
        let mut net = Net::new(&ctx, &p);
        if central {
            ctx.note(0, format!("{} routes every task to the worker whose record looks best.", ctx.name(0)));
            ctx.emit(0, EventKind::Graph { edges: (1..n as AgentId).map(|w| (0, w)).collect() });
        } else {
            ctx.note(0, "No orchestrator: each task arrives at a random agent, who does it or passes it on.");
            net.show(&ctx, 0);
        }
        let fail_point = if p.fail == "none" { u32::MAX } else { ((f64::from(p.items) * p.fail_at).round() as u32).min(p.items - 1) };
        let split = ((f64::from(p.items) * p.fail_at).round() as u32).min(p.items);
        let mut arrivals = ctx.rng("agentnet arrivals");
        let mut outcome = [(0u32, 0u32); 2];
        let mut hops = 0u32;
        for i in 0..p.items {
            if i == fail_point {
                let victim = net.victim(&ctx, &p, central);
                net.alive[victim as usize] = false;
                let reason = if central && victim == 0 { "the orchestrator fails".to_string() } else { "fails and stops answering".to_string() };
                ctx.emit(i, EventKind::Active { agent: victim, active: false, reason });
                if central && victim == 0 {
                    ctx.note(i, "Nobody routes any more: each task stays with whichever worker receives it.");
                }
            }
            let problem = if i + 1 == p.items { ctx.task().main.clone() } else { items::item(&ctx, "stream", i) };
            let path = if central { net.central_path(&problem, &mut arrivals) } else { net.route(&ctx, i, &p, &problem, &mut arrivals) };
            hops += (path.len() - 1) as u32;
            for w in path.windows(2) {
                ctx.message(i, w[0], vec![w[1]], "route", format!("a {} task for you", problem.domain));
            }
            let solver = *path.last().expect("a path has a solver");
            let mut r = ctx.request(solver, "solve", i, &problem);
            r.instruction = "Solve this task; give the answer with a one-line justification.".into();
            let op = Opinion::from_reply(&ctx.ask(r).await);
            let right = items::decide(&ctx, i, &problem, &op.answer, if central { "the orchestrator's routing" } else { "the net's routing" });
            outcome[usize::from(i >= split)].0 += u32::from(right);
            outcome[usize::from(i >= split)].1 += 1;
            net.learn(solver, &problem.domain, right);
            for &a in &path {
                net.through[a as usize] += 1;
            }
            net.solved[solver as usize].entry(problem.domain.clone()).and_modify(|c| *c += 1).or_insert(1);
            let total: u32 = net.solved[solver as usize].values().sum();
            for (d, c) in &net.solved[solver as usize] {
                ctx.emit(i, EventKind::Score { name: format!("specialty.{d}"), agent: solver, value: f64::from(*c) / f64::from(total) });
            }
            if !central && p.rewire_every > 0 && (i + 1) % p.rewire_every == 0 && i + 1 < p.items && net.rewire(&ctx, i) {
                net.show(&ctx, i);
            }
        }
        for (name, (right, done)) in [("accuracy_before_failure", outcome[0]), ("accuracy_after_failure", outcome[1])] {
            if done > 0 {
                ctx.metric(p.items - 1, name, f64::from(right) / f64::from(done));
            }
        }
        ctx.metric(p.items - 1, "hops", f64::from(hops) / f64::from(p.items));
        Ok(())
    }
}

/// The network's state: who is alive, who links to whom, what each agent has shown.
struct Net {
    n: usize,
    alive: Vec<bool>,
    out: Vec<Vec<AgentId>>,
    profile: Vec<Profile>,
    /// Tasks each agent handled or passed on (the decentralized hub is the busiest).
    through: Vec<u32>,
    solved: Vec<BTreeMap<String, u32>>,
    rng: Rng,
}

impl Net {
    fn new(ctx: &Ctx, p: &Params) -> Self {
        let n = ctx.n();
        let mut rng = ctx.rng("agentnet links");
        let out = (0..n)
            .map(|a| {
                let mut others: Vec<AgentId> = (0..n as AgentId).filter(|&b| b as usize != a).collect();
                rng.shuffle(&mut others);
                others.truncate(p.degree as usize);
                others.sort();
                others
            })
            .collect();
        Net { n, alive: vec![true; n], out, profile: vec![Profile::new(); n], through: vec![0; n], solved: vec![BTreeMap::new(); n], rng }
    }

    fn show(&self, ctx: &Ctx, round: u32) {
        let edges = (0..self.n).flat_map(|a| self.out[a].iter().map(move |&b| (a as AgentId, b))).collect();
        ctx.emit(round, EventKind::Graph { edges });
    }

    fn learn(&mut self, solver: AgentId, domain: &str, right: bool) {
        let e = self.profile[solver as usize].entry(domain.to_string()).or_insert((0, 0));
        e.0 += u32::from(right);
        e.1 += 1;
    }

    /// How promising `agent` looks for a `domain` task, among candidates who have done
    /// `seen` such tasks between them: its Beta(1, 1) mean plus an exploration bonus.
    fn promise(&self, agent: AgentId, domain: &str, seen: u32) -> f64 {
        let (right, done) = self.profile[agent as usize].get(domain).copied().unwrap_or((0, 0));
        let mean = f64::from(right + 1) / f64::from(done + 2);
        mean + EXPLORE * libm::sqrt(libm::log(f64::from(seen) + 2.0) / f64::from(done + 1))
    }

    /// The most promising of `candidates` (ties: the first).
    fn best(&self, candidates: &[AgentId], domain: &str) -> AgentId {
        let seen: u32 = candidates.iter().map(|&c| self.profile[c as usize].get(domain).map_or(0, |x| x.1)).sum();
        let score: Vec<f64> = candidates.iter().map(|&c| self.promise(c, domain, seen)).collect();
        let k = (0..candidates.len()).fold(0, |b, k| if score[k] > score[b] + 1e-12 { k } else { b });
        candidates[k]
    }

    fn random_alive(&mut self, except: &[AgentId]) -> Option<AgentId> {
        let pool: Vec<AgentId> = (0..self.n as AgentId).filter(|a| self.alive[*a as usize] && !except.contains(a)).collect();
        (!pool.is_empty()).then(|| pool[self.rng.index(pool.len())])
    }

    /// The orchestrator's route: itself, then the most promising live worker; without it,
    /// the task stays with a random live worker.
    fn central_path(&self, problem: &Problem, arrivals: &mut Rng) -> Vec<AgentId> {
        let workers: Vec<AgentId> = (1..self.n as AgentId).filter(|&w| self.alive[w as usize]).collect();
        if self.alive[0] {
            vec![0, self.best(&workers, &problem.domain)]
        } else {
            vec![workers[arrivals.index(workers.len())]]
        }
    }

    /// A task's path through the decentralized net: it arrives at a random live agent and
    /// moves on while a neighbour looks more promising than the holder.
    fn route(&mut self, ctx: &Ctx, round: u32, p: &Params, problem: &Problem, arrivals: &mut Rng) -> Vec<AgentId> {
        let live: Vec<AgentId> = (0..self.n as AgentId).filter(|&a| self.alive[a as usize]).collect();
        let mut holder = live[arrivals.index(live.len())];
        let mut path = vec![holder];
        for _ in 0..p.max_hops {
            self.repair(ctx, round, holder);
            let mut candidates = vec![holder];
            candidates.extend(self.out[holder as usize].iter().copied().filter(|b| !path.contains(b)));
            let next = self.best(&candidates, &problem.domain);
            if next == holder {
                break;
            }
            path.push(next);
            holder = next;
        }
        path
    }

    /// `agent` finds which of its links lead to dead agents and replaces each with a link to
    /// a random live agent it does not link to yet.
    fn repair(&mut self, ctx: &Ctx, round: u32, agent: AgentId) {
        let dead: Vec<AgentId> = self.out[agent as usize].iter().copied().filter(|b| !self.alive[*b as usize]).collect();
        if dead.is_empty() {
            return;
        }
        for d in dead {
            let mut except = self.out[agent as usize].clone();
            except.push(agent);
            let fresh = self.random_alive(&except);
            let links = &mut self.out[agent as usize];
            links.retain(|&b| b != d);
            if let Some(f) = fresh {
                links.push(f);
                links.sort();
            }
            ctx.note(round, format!("{} finds {} gone and links to {} instead.", ctx.name(agent), ctx.name(d), fresh.map_or("nobody", |f| ctx.name(f))));
        }
        self.show(ctx, round);
    }

    /// Every live agent drops one out-link that it never has reason to use (a neighbour,
    /// with two or more tasks on record, that looks no better than the agent itself or
    /// another neighbour in any domain), for a link to a random other agent. Returns
    /// whether any link changed.
    fn rewire(&mut self, ctx: &Ctx, round: u32) -> bool {
        let mean = |profile: &Profile, d: &str| profile.get(d).map_or(0.5, |&(r, n)| f64::from(r + 1) / f64::from(n + 2));
        let mut changed = false;
        for a in 0..self.n {
            if !self.alive[a] {
                continue;
            }
            let mut domains: Vec<&String> = self.profile.iter().flat_map(|p| p.keys()).collect();
            domains.sort();
            domains.dedup();
            // How far a neighbour leads the agent's other options in its best domain.
            let lead = |b: AgentId| {
                let others: Vec<usize> = std::iter::once(a).chain(self.out[a].iter().filter(|&&x| x != b).map(|&x| x as usize)).collect();
                domains
                    .iter()
                    .map(|d| mean(&self.profile[b as usize], d) - others.iter().map(|&o| mean(&self.profile[o], d)).fold(f64::MIN, f64::max))
                    .fold(f64::MIN, f64::max)
            };
            let tried = |b: AgentId| self.profile[b as usize].values().map(|x| x.1).sum::<u32>() >= 2;
            let worst = self.out[a].iter().copied().filter(|&b| tried(b)).map(|b| (b, lead(b))).filter(|x| x.1 <= 0.0).fold(None, |w: Option<(AgentId, f64)>, x| match w {
                Some(y) if y.1 <= x.1 => Some(y),
                _ => Some(x),
            });
            let Some((w, _)) = worst else { continue };
            let mut except = self.out[a].clone();
            except.push(a as AgentId);
            let Some(fresh) = self.random_alive(&except) else { continue };
            self.out[a].retain(|&b| b != w);
            self.out[a].push(fresh);
            self.out[a].sort();
            changed = true;
        }
        if changed {
            ctx.note(round, "Agents drop their weakest links and try new ones.");
        }
        changed
    }

    /// Who fails: the orchestrator or the busiest agent (`hub`), or a random agent other
    /// than the orchestrator (`node`).
    fn victim(&mut self, ctx: &Ctx, p: &Params, central: bool) -> AgentId {
        match (p.fail.as_str(), central) {
            ("hub", true) => 0,
            ("hub", false) => (0..self.n).fold(0, |b, a| if self.through[a] > self.through[b] { a } else { b }) as AgentId,
            _ => {
                let mut rng = ctx.rng("agentnet failure");
                1 + rng.index(self.n - 1) as AgentId
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::event::EventKind;

    fn run(params: serde_json::Value) -> crate::event::EventLog {
        let mut s = crate::builtin("agentnet").unwrap();
        s.mechanism.params = params;
        crate::run_simulated(&s).unwrap().log
    }

    #[test]
    fn a_dead_link_is_repaired_and_every_task_is_decided() {
        let log = run(serde_json::json!({"fail": "hub", "items": 30}));
        let decisions = log.events().iter().filter(|e| matches!(&e.kind, EventKind::Decision { is_final: true, .. })).count();
        assert_eq!(decisions, 30);
        let dead = log.events().iter().find_map(|e| match &e.kind {
            EventKind::Active { agent, active: false, .. } => Some((*agent, e.round)),
            _ => None,
        });
        let (dead, at) = dead.expect("the hub fails");
        assert_eq!(at, 15);
        // After it fails nobody routes to it or asks it, and the last graph has no link to it.
        assert!(!log.events().iter().any(|e| e.round >= at && matches!(&e.kind, EventKind::Ask { agent, .. } if *agent == dead)));
        assert!(!log.events().iter().any(|e| e.round >= at && matches!(&e.kind, EventKind::Message { to, .. } if to.contains(&dead))));
        let last = log.events().iter().rev().find_map(|e| match &e.kind {
            EventKind::Graph { edges } => Some(edges.clone()),
            _ => None,
        });
        assert!(last.unwrap().iter().all(|&(_, b)| b != dead));
        assert!(log.events().iter().any(|e| matches!(&e.kind, EventKind::Score { name, .. } if name.starts_with("specialty."))));
    }

    #[test]
    fn without_its_orchestrator_a_centralized_team_stops_routing() {
        let log = run(serde_json::json!({"mode": "centralized", "fail": "hub", "items": 20}));
        let routes_after = log.events().iter().filter(|e| e.round >= 10 && matches!(&e.kind, EventKind::Message { msg_kind, .. } if msg_kind == "route")).count();
        let routes_before = log.events().iter().filter(|e| e.round < 10 && matches!(&e.kind, EventKind::Message { msg_kind, .. } if msg_kind == "route")).count();
        assert_eq!((routes_before, routes_after), (10, 0));
    }
}
