//! The environment a conductor policy learns in: pools of simulated workers with uneven
//! per-domain skill, a stream of tasks, and each episode run by core's conductor.
//!
//! An episode is one task: core's `conductor` mechanism runs it with the policy under
//! test (its `policy` param names it), so the plan's costs and gains are the ones Council
//! simulates everywhere (context strain when one agent holds a whole task, checks and
//! redos, hand-offs that lose results). The reward is the task outcome as the engine
//! scores it (1 when the final answer is right) minus `call_cost` per call (every ask,
//! checks and redos included).
//!
//! What a policy learns from: the reward, and track records. After each episode the
//! environment reveals how each handed-in piece was graded (the same grading the reward
//! comes from, per worker and domain); the driver keeps these per pool as the workers'
//! track records, which the next episodes' observations show. Skills and answer keys are
//! never shown. A pool serves `episodes_per_pool` tasks, then a fresh pool is drawn and
//! its records start empty.

use std::collections::BTreeMap;
use std::rc::Rc;

use council_core::Run;
use council_core::engine::drive_simulated;
use council_core::event::EventKind;
use council_core::policy::{Policies, Policy, Record, TrackRecords};
use council_core::rng::Rng;
use council_core::scenario::{Agent, Scenario, Traits, SCENARIO_VERSION};
use council_core::spec::Spec;
use council_core::tasks::Structure;
use serde_json::json;

/// The name the conductor's `policy` param gives the policy under test.
pub const POLICY_NAME: &str = "learned";
/// Worker names (a pool uses the first n).
const NAMES: [&str; 8] = ["Ana", "Bo", "Cid", "Dot", "Eve", "Fay", "Gus", "Hal"];
/// Skill domains a pool draws per worker.
pub const DOMAINS: [&str; 4] = ["math", "sequences", "units", "logic"];

/// Where a pool's skills come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skills {
    /// Training pools: mostly able generalists, some specialists.
    Training,
    /// Held-out pools with shifted skills: weaker on average, more uneven across domains,
    /// more specialists. A policy that learned to read track records should carry over; one
    /// that memorised who tends to be good should not.
    Shifted,
}

/// A conductor and its workers.
#[derive(Debug, Clone, PartialEq)]
pub struct Pool {
    pub agents: Vec<Agent>,
}

impl Pool {
    /// Draws a pool of 3 to 6 workers.
    pub fn draw(rng: &mut Rng, skills: Skills) -> Pool {
        let n = 3 + rng.index(4);
        let (lo, hi, spread, specialists) = match skills {
            Skills::Training => (0.45, 0.9, 0.12, 0.3),
            Skills::Shifted => (0.3, 0.8, 0.2, 0.5),
        };
        let mut agents = vec![Agent {
            name: "Conductor".into(),
            role: "Plans, assigns and checks.".into(),
            backend: Default::default(),
            model: "conductor".into(),
            traits: Traits { accuracy: 0.6, judge_accuracy: Some(0.8), ..Traits::default() },
        }];
        for name in NAMES.iter().take(n) {
            let level = rng.range_f64(lo, hi);
            let mut expertise = BTreeMap::new();
            for d in DOMAINS {
                expertise.insert(d.to_string(), (level + spread * rng.normal()).clamp(0.15, 0.97));
            }
            if rng.chance(specialists) {
                let home = DOMAINS[rng.index(DOMAINS.len())];
                for (d, s) in expertise.iter_mut() {
                    *s = if d == home { rng.range_f64(0.85, 0.97) } else { (*s - 0.15).max(0.15) };
                }
            }
            agents.push(Agent {
                name: name.to_string(),
                role: "Worker.".into(),
                backend: Default::default(),
                // Different underlying models: their mistakes are their own.
                model: format!("model-{name}"),
                traits: Traits { accuracy: level, expertise, ..Traits::default() },
            });
        }
        Pool { agents }
    }
}

/// One task of the stream: its spec and the seed that generates it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDraw {
    pub task: Spec,
    pub seed: u64,
}

/// Draws a task: a multiple-choice item in one of the four domains (40%), independent
/// parts to sum (30%), or a chain of steps (30%); 3 to 6 parts.
pub fn draw_task(rng: &mut Rng) -> TaskDraw {
    let u = rng.f64();
    let steps = 3 + rng.index(4);
    let task = if u < 0.4 {
        let d = DOMAINS[rng.index(DOMAINS.len())];
        Spec::new("multiple_choice", json!({"domains": [d], "difficulty_range": [0.2, 0.8]}))
    } else if u < 0.7 {
        Spec::new("multistep", json!({"mode": "parallel", "steps": steps, "difficulty_range": [0.2, 0.7]}))
    } else {
        Spec::new("multistep", json!({"mode": "sequential", "steps": steps, "difficulty_range": [0.2, 0.7]}))
    };
    TaskDraw { task, seed: rng.next_u64() >> 11 }
}

/// The scenario of one episode: the pool, the conductor with `mechanism_params`, the task.
pub fn scenario(pool: &Pool, draw: &TaskDraw, mechanism_params: serde_json::Value) -> Scenario {
    Scenario {
        version: SCENARIO_VERSION,
        id: String::new(),
        title: "Learned orchestration episode".into(),
        description: String::new(),
        family: "orchestration".into(),
        hook: String::new(),
        card: None,
        agents: pool.agents.clone(),
        topology: council_core::topology::Topology { kind: "star".into(), ..Default::default() },
        mechanism: Spec::new("conductor", mechanism_params),
        task: draw.task.clone(),
        seed: draw.seed,
        ui: Default::default(),
        prompts: BTreeMap::new(),
    }
}

/// What an episode gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub reward: f64,
    pub correct: bool,
    /// Calls made (every ask).
    pub calls: u32,
    pub structure: Structure,
    pub domain: String,
    /// Graded pieces per worker name (the feedback that becomes track records).
    pub graded: BTreeMap<String, Record>,
    /// The run's error, if it ended early (counts as a wrong answer).
    pub error: Option<String>,
}

/// Runs one episode with `policy` planning (None: the conductor's own heuristic).
pub fn episode(pool: &Pool, draw: &TaskDraw, policy: Option<Rc<dyn Policy>>, call_cost: f64) -> Outcome {
    let (params, policies) = match policy {
        // A policy plans from the track records the stream keeps (what a deployment reports),
        // so it spends no calls on probes; the heuristic conductor has no records and probes
        // each worker (its default), paying for those calls in its reward.
        Some(p) => (json!({"policy": POLICY_NAME, "probes": 0}), Policies::from([(POLICY_NAME.to_string(), p)])),
        None => (json!({}), Policies::new()),
    };
    let s = scenario(pool, draw, params);
    let mut run = Run::with_policies(&s, draw.seed, policies).expect("episode scenarios are valid");
    drive_simulated(&mut run);
    let summary = run.summary();
    let correct = summary.correct == Some(true);
    let mut graded: BTreeMap<String, Record> = BTreeMap::new();
    for e in run.log().events() {
        if let EventKind::Answer { agent, correct: Some(ok), purpose, .. } = &e.kind
            && *agent != 0
            && matches!(purpose.as_str(), "answer" | "solve" | "revise")
        {
            let r = graded.entry(pool.agents[*agent as usize].name.clone()).or_default();
            r.tries += 1;
            r.right += u32::from(*ok);
        }
    }
    Outcome {
        reward: f64::from(u8::from(correct)) - call_cost * f64::from(summary.asks),
        correct,
        calls: summary.asks,
        structure: run.task().structure,
        domain: run.task().main.domain.clone(),
        graded,
        error: summary.error,
    }
}

/// Adds an episode's graded pieces to the pool's track records.
pub fn remember(records: &mut TrackRecords, outcome: &Outcome) {
    for (name, r) in &outcome.graded {
        records.entry(name.clone()).or_default().entry(outcome.domain.clone()).or_default().add(*r);
    }
}

/// A stream of pools and tasks: pool `k` serves tasks `k·per_pool ..`, each with its own
/// track records. Held-out evaluation replays the same stream for every method.
#[derive(Debug, Clone)]
pub struct Stream {
    rng: Rng,
    skills: Skills,
    per_pool: usize,
    pub pool: Pool,
    pub records: TrackRecords,
    /// Tasks served by the current pool.
    pub served: usize,
}

impl Stream {
    pub fn new(seed: u64, skills: Skills, per_pool: usize) -> Self {
        let mut rng = Rng::named(seed, "stream");
        let pool = Pool::draw(&mut rng, skills);
        Stream { rng, skills, per_pool: per_pool.max(1), pool, records: TrackRecords::new(), served: 0 }
    }

    /// The next task (drawing a fresh pool, with empty records, when this one is done).
    pub fn next_task(&mut self) -> TaskDraw {
        if self.served >= self.per_pool {
            self.pool = Pool::draw(&mut self.rng, self.skills);
            self.records.clear();
            self.served = 0;
        }
        self.served += 1;
        draw_task(&mut self.rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use council_core::policy::{FixedPolicy, Shape};

    #[test]
    fn pools_differ_between_training_and_held_out() {
        let mean = |skills| {
            let mut rng = Rng::new(7);
            let mut sum = 0.0;
            let mut n = 0.0;
            for _ in 0..200 {
                for a in Pool::draw(&mut rng, skills).agents.iter().skip(1) {
                    sum += a.traits.expertise.values().sum::<f64>() / 4.0;
                    n += 1.0;
                }
            }
            sum / n
        };
        let (train, shifted) = (mean(Skills::Training), mean(Skills::Shifted));
        assert!(train - shifted > 0.08, "training {train:.3} vs shifted {shifted:.3}");
    }

    #[test]
    fn an_episode_runs_the_plan_and_grades_the_pieces() {
        let mut s = Stream::new(3, Skills::Training, 10);
        for _ in 0..12 {
            let draw = s.next_task();
            let fixed: Rc<dyn Policy> = Rc::new(FixedPolicy { shape: Shape::Hierarchical, k: 2, records: s.records.clone() });
            let o = episode(&s.pool, &draw, Some(fixed), 0.01);
            assert!(o.error.is_none(), "{:?}", o.error);
            assert!(o.calls >= 2);
            assert_eq!(o.reward, f64::from(u8::from(o.correct)) - 0.01 * f64::from(o.calls));
            let tries: u32 = o.graded.values().map(|r| r.tries).sum();
            assert!(tries >= 1 && o.graded.len() <= 2, "{:?}", o.graded);
            remember(&mut s.records, &o);
        }
        assert!(!s.records.is_empty());
        // The same task and pool give the same outcome (exact replay).
        let draw = s.next_task();
        let a = episode(&s.pool, &draw, None, 0.01);
        let b = episode(&s.pool, &draw, None, 0.01);
        assert_eq!(a, b);
    }
}
