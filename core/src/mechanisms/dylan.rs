//! DyLAN, the Dynamic LLM-Agent Network (*Dynamic LLM-Agent Network: An LLM-agent
//! Collaboration Framework with Agent Team Optimization*, Liu, Zhang, Li, Liu & Yang,
//! 2023): agents answer in layers, each layer seeing the previous one; the team stops as
//! soon as a layer mostly agrees; after the first revision the agents whose responses
//! the others endorsed least are dropped; and an Agent Importance Score, propagated back
//! from the final answer through the agents' endorsements, says who mattered.
//!
//! - **Endorsements** are read from what agents do, not asked for: an agent that answers
//!   X in layer t endorses every response of layer t − 1 that said X (its own included),
//!   splitting one unit among them. No extra calls, and an LLM's reply works the same way.
//! - **Agent selection** (`keep` > 0): after layer 1, only the `keep` agents whose layer-0
//!   responses gathered the most endorsement go on (`select = importance`); the null
//!   `select = random` keeps `keep` agents drawn at random.
//! - **Early stopping** (`stop_at` > 0): the network stops after any layer in which at
//!   least that share of the active agents agrees.
//! - **Importance.** The agents holding the final answer share one unit; each passes its
//!   share back to the responses it endorsed, layer by layer; an agent's importance is
//!   the sum over its layers. It is computed after every layer as if that layer were the
//!   last, so node sizes grow and shrink as the run goes.
//!
//! With `keep = 0` and `stop_at = 0` this is a plain layered debate of every agent for
//! `rounds` rounds: the baseline DyLAN claims to match at fewer calls.
//!
//! Events: `Score{importance}` per agent after every layer; `Active{false}` for agents
//! dropped by selection; `Message`s from each layer's responses to the next layer's
//! agents; metrics `round_accuracy`, `round_agreement`, `layers`; the final `Decision`.

use serde::{Deserialize, Serialize};

use super::{Mechanism, Opinion, Show, check_agents, check_count, check_one_of, initial_answers, plurality, round_metrics};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::scenario::Scenario;
use crate::spec::{ScenarioError, check_unit};
use crate::tasks::normalize;

pub struct Dylan;

#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// Layers after the first answers (at most).
    pub rounds: u32,
    /// Agents kept at selection after layer 1 (0: no selection).
    pub keep: u32,
    /// `importance` (most endorsed) or `random`.
    pub select: String,
    /// Share of active agents that must agree to stop early (0: never stop early).
    pub stop_at: f64,
}

impl Default for Params {
    fn default() -> Self {
        Self { rounds: 3, keep: 3, select: "importance".into(), stop_at: 0.67 }
    }
}

const REVISE: &str = "Here are the previous layer's responses. Check their reasoning, then give your answer with a one-line justification.";

/// One layer: who answered and what.
struct Layer {
    agents: Vec<AgentId>,
    ops: Vec<Opinion>,
}

impl Mechanism for Dylan {
    const NAME: &'static str = "dylan";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 2)?;
        check_count("rounds", p.rounds, 1, 10)?;
        check_count("keep", p.keep, 0, s.agents.len() as u32)?;
        check_one_of("select", &p.select, &["importance", "random"])?;
        check_unit("mechanism.params.stop_at", p.stop_at)
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let n = ctx.n();
        let all: Vec<AgentId> = (0..n as AgentId).collect();
        ctx.note(0, "Layer 0: every agent answers on its own.");
        let ops = initial_answers(&ctx, &all, "Answer with a one-line justification.").await;
        round_metrics(&ctx, 0, &ops);
        let mut layers = vec![Layer { agents: all.clone(), ops }];
        let mut active = all;
        emit_importance(&ctx, 0, &layers, n);
        let mut t = 0u32;
        while t < p.rounds && !agrees(&layers[t as usize].ops, p.stop_at) {
            t += 1;
            let prev = &layers[t as usize - 1];
            let reqs = active
                .iter()
                .map(|&a| {
                    let mut r = ctx.request(a, "revise", t, &ctx.task().main);
                    r.instruction = REVISE.into();
                    if let Some(k) = prev.agents.iter().position(|&x| x == a) {
                        r.own = Some(prev.ops[k].own(&ctx, a));
                    }
                    // Only the responses of agents that went on flow forward.
                    r.peers = prev.agents.iter().zip(&prev.ops).filter(|(x, _)| **x != a && active.contains(x)).map(|(&x, o)| o.view(&ctx, x, Show::REASONING)).collect();
                    r
                })
                .collect();
            for (&x, o) in prev.agents.iter().zip(&prev.ops).filter(|(x, _)| active.contains(x)) {
                ctx.message(t, x, active.iter().copied().filter(|&a| a != x).collect(), "answer", o.message(Show::REASONING));
            }
            let ops: Vec<Opinion> = ctx.ask_all(reqs).await.iter().map(Opinion::from_reply).collect();
            round_metrics(&ctx, t, &ops);
            layers.push(Layer { agents: active.clone(), ops });
            emit_importance(&ctx, t, &layers, n);
            if t == 1 && p.keep > 0 && (p.keep as usize) < active.len() {
                active = select(&ctx, &p, &layers);
                for &a in layers[1].agents.iter().filter(|a| !active.contains(a)) {
                    let reason = if p.select == "random" { "dropped at random".to_string() } else { "dropped: its response was endorsed least".to_string() };
                    ctx.emit(t, EventKind::Active { agent: a, active: false, reason });
                }
                ctx.note(t, format!("Agent selection keeps {}.", active.iter().map(|&a| ctx.name(a)).collect::<Vec<_>>().join(", ")));
            }
        }
        let last = layers.last().expect("layer 0");
        if (t as usize) < p.rounds as usize {
            ctx.note(t, format!("Layer {t} agrees: the network stops early."));
        }
        ctx.metric(t, "layers", f64::from(t + 1));
        for (&a, o) in last.agents.iter().zip(&last.ops) {
            ctx.vote(t, a, &o.answer, 1.0);
        }
        let answer = plurality(&last.ops.iter().map(|o| (o.answer.clone(), 1.0)).collect::<Vec<_>>()).unwrap_or_else(|| "?".into());
        ctx.decide(t, &answer, "plurality of the last layer", true);
        Ok(())
    }
}

/// Whether at least `share` of a layer holds its plurality answer (never, for 0).
fn agrees(ops: &[Opinion], share: f64) -> bool {
    if share <= 0.0 {
        return false;
    }
    let (top, _) = super::agreement(ops);
    top >= share - 1e-9
}

/// `endorse[i][j]`: how much agent `i` of layer `t` endorses response `j` of layer `t − 1`
/// (one unit split among the earlier responses it saw, those of agents that went on, that
/// said what `i` says now).
fn endorsements(prev: &Layer, cur: &Layer) -> Vec<Vec<f64>> {
    cur.ops
        .iter()
        .map(|o| {
            let key = normalize(&o.answer);
            let same: Vec<bool> = prev.agents.iter().zip(&prev.ops).map(|(x, q)| cur.agents.contains(x) && normalize(&q.answer) == key).collect();
            let k = same.iter().filter(|s| **s).count();
            same.iter().map(|&s| if s { 1.0 / k as f64 } else { 0.0 }).collect()
        })
        .collect()
}

/// Agent Importance Scores with `layers`' last layer taken as final: the holders of its
/// plurality answer share one unit, passed back through the endorsements.
fn importance(layers: &[Layer], n: usize) -> Vec<f64> {
    let last = layers.last().expect("layer 0");
    let answer = plurality(&last.ops.iter().map(|o| (o.answer.clone(), 1.0)).collect::<Vec<_>>()).map(|a| normalize(&a));
    let holders = last.ops.iter().filter(|o| Some(normalize(&o.answer)) == answer).count().max(1);
    let mut share: Vec<f64> = last.ops.iter().map(|o| if Some(normalize(&o.answer)) == answer { 1.0 / holders as f64 } else { 0.0 }).collect();
    let mut score = vec![0.0; n];
    for t in (0..layers.len()).rev() {
        for (&a, s) in layers[t].agents.iter().zip(&share) {
            score[a as usize] += s;
        }
        if t == 0 {
            break;
        }
        let e = endorsements(&layers[t - 1], &layers[t]);
        let mut back = vec![0.0; layers[t - 1].ops.len()];
        for (i, row) in e.iter().enumerate() {
            for (j, w) in row.iter().enumerate() {
                back[j] += share[i] * w;
            }
        }
        share = back;
    }
    score
}

fn emit_importance(ctx: &Ctx, round: u32, layers: &[Layer], n: usize) {
    for (a, v) in importance(layers, n).into_iter().enumerate() {
        ctx.emit(round, EventKind::Score { name: "importance".into(), agent: a as AgentId, value: v });
    }
}

/// The agents that go on after layer 1: the `keep` whose layer-0 responses the layer-1
/// agents endorsed most (ties: earlier agent), or `keep` at random.
fn select(ctx: &Ctx, p: &Params, layers: &[Layer]) -> Vec<AgentId> {
    let (l0, l1) = (&layers[0], &layers[1]);
    let mut ranked: Vec<(AgentId, f64)> = if p.select == "random" {
        let mut rng = ctx.rng("dylan selection");
        l1.agents.iter().map(|&a| (a, rng.f64())).collect()
    } else {
        let e = endorsements(l0, l1);
        l1.agents
            .iter()
            .map(|&a| {
                let j = l0.agents.iter().position(|&x| x == a).expect("layer 0 has everyone");
                (a, e.iter().map(|row| row[j]).sum())
            })
            .collect()
    };
    ranked.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    let mut kept: Vec<AgentId> = ranked.into_iter().take(p.keep as usize).map(|(a, _)| a).collect();
    kept.sort();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(agents: &[AgentId], answers: &[&str]) -> Layer {
        Layer {
            agents: agents.to_vec(),
            ops: answers.iter().map(|a| Opinion { answer: a.to_string(), confidence: 0.5, explanation: String::new(), trace: None }).collect(),
        }
    }

    #[test]
    fn selection_fades_the_dropped_agents_and_they_are_not_asked_again() {
        let mut s = crate::builtin("dylan").unwrap();
        s.mechanism.params = serde_json::json!({"rounds": 3, "keep": 3, "stop_at": 0});
        let log = crate::run_simulated(&s).unwrap().log;
        let dropped: Vec<u32> = log.events().iter().filter_map(|e| match &e.kind {
            EventKind::Active { agent, active: false, .. } => Some(*agent),
            _ => None,
        }).collect();
        assert_eq!(dropped.len(), 3);
        let asked_later = log.events().iter().any(|e| e.round >= 2 && matches!(&e.kind, EventKind::Ask { agent, .. } if dropped.contains(agent)));
        assert!(!asked_later, "dropped agents are not asked again");
        let importance = log.events().iter().filter(|e| matches!(&e.kind, EventKind::Score { name, .. } if name == "importance")).count();
        assert_eq!(importance, 6 * 4, "every agent's importance after every layer");
    }

    #[test]
    fn importance_flows_back_from_the_final_answer_through_endorsements() {
        // Layer 0: 0 says A, 1 says B, 2 says B. Layer 1: everyone says A (0's answer).
        let layers = [layer(&[0, 1, 2], &["A", "B", "B"]), layer(&[0, 1, 2], &["A", "A", "A"])];
        let s = importance(&layers, 3);
        // Each layer-1 agent holds 1/3 and passes it all to agent 0's layer-0 response.
        assert!((s[0] - (1.0 / 3.0 + 1.0)).abs() < 1e-12, "{s:?}");
        assert!((s[1] - 1.0 / 3.0).abs() < 1e-12 && (s[2] - 1.0 / 3.0).abs() < 1e-12, "{s:?}");
        assert!((s.iter().sum::<f64>() - 2.0).abs() < 1e-12, "one unit per layer");
    }
}
