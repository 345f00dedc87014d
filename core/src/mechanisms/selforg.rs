//! SelfOrg (*Stochastic Self-Organization in Multi-Agent Systems*, Tastan, Horváth &
//! Nandakumar, 2025): agents answer on their own; each round the mechanism estimates every
//! agent's contribution with an approximate Shapley value computed from the responses
//! alone, and builds a DAG along which responses flow from high contributors to the rest.
//! The graph is rebuilt from each round's responses.
//!
//! - **Contribution.** A response is embedded as its answer plus the words of its
//!   reasoning (a bag of words, each half scaled to unit length: no model, so it works the
//!   same for simulated and LLM replies). A coalition's value is how well the sum of its
//!   members' embeddings points the way of the whole team's sum (cosine similarity), and an
//!   agent's contribution is its mean marginal value over `samples` random orders (Monte
//!   Carlo Shapley). Responses that agree with many others and share their reasoning
//!   contribute most; an outlier contributes little or less than nothing. Nobody is asked
//!   to rate anyone, and nobody reads the answer key.
//! - **The DAG.** Agents are ranked by contribution; each hears the `fan_in` top-ranked
//!   agents above it (the top one hears nobody and reflects on its own answer). Agents
//!   revise in rank order, so each hears its sources' answers of this round.
//! - **Arms** (`graph`): `selforg` as above; `random`, the same DAG shape over a random
//!   order each round (the null: structure without the contribution signal); `fixed`, a
//!   debate over the scenario's own topology, everyone revising at once. Every arm makes
//!   one call per agent per round and decides by plurality of the last answers.
//!
//! Events: `Score{contribution}` per agent each round; a `Graph` event with the round's
//! DAG (selforg and random); `Message`s along its edges; metrics `round_accuracy`,
//! `round_agreement`, and `flow_correct` (scored against the key: share of the rounds'
//! edges whose source held a right answer, to set beside `round_accuracy`); the final
//! `Decision`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Mechanism, Opinion, Show, broadcast, check_agents, check_count, check_one_of, initial_answers, plurality, revise_round, round_metrics};
use crate::engine::Ctx;
use crate::event::{AgentId, EventKind};
use crate::scenario::Scenario;
use crate::spec::ScenarioError;
use crate::tasks::normalize;

pub struct SelfOrg;

#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    pub rounds: u32,
    /// `selforg` (contribution-ranked DAG), `random` (same shape, random order) or `fixed`
    /// (the scenario's topology).
    pub graph: String,
    /// Random orders in the Shapley estimate.
    pub samples: u32,
    /// How many higher-ranked agents each agent hears.
    pub fan_in: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self { rounds: 2, graph: "selforg".into(), samples: 32, fan_in: 2 }
    }
}

const INSTRUCTION: &str = "Here are the answers of the agents whose responses best represent the group so far. Check their reasoning, then give your answer with a one-line justification.";

impl Mechanism for SelfOrg {
    const NAME: &'static str = "selforg";
    type Params = Params;

    fn check(p: &Params, s: &Scenario) -> Result<(), ScenarioError> {
        check_agents(s, 2)?;
        check_count("rounds", p.rounds, 1, 10)?;
        check_one_of("graph", &p.graph, &["selforg", "random", "fixed"])?;
        check_count("samples", p.samples, 1, 1024)?;
        check_count("fan_in", p.fan_in, 1, 16)
    }

    async fn run(ctx: Ctx, p: Params) -> Result<(), String> {
        let n = ctx.n();
        let agents: Vec<AgentId> = (0..n as AgentId).collect();
        ctx.note(0, "Everyone answers on their own first.");
        let mut ops = initial_answers(&ctx, &agents, "Answer with a one-line justification.").await;
        ctx.note(0, "Responses are in; their contributions decide who hears whom.");
        round_metrics(&ctx, 0, &ops);
        let mut rng = ctx.rng("selforg order");
        let mut flow = (0usize, 0usize);
        for round in 1..=p.rounds {
            let phi = contributions(&ops, p.samples, &mut ctx.rng(&format!("selforg shapley {round}")));
            for (a, v) in phi.iter().enumerate() {
                ctx.emit(round, EventKind::Score { name: "contribution".into(), agent: a as AgentId, value: *v });
            }
            if p.graph == "fixed" {
                for &(a, b) in &ctx.graph().edges {
                    if a != b {
                        flow.1 += 1;
                        flow.0 += usize::from(ctx.task().main.is_correct(&ops[a as usize].answer));
                    }
                }
                ops = revise_round(&ctx, round, &ops, "revise", INSTRUCTION, Show::REASONING).await;
                broadcast(&ctx, round, &ops, "answer", Show::REASONING);
            } else {
                let mut order: Vec<usize> = (0..n).collect();
                if p.graph == "selforg" {
                    order.sort_by(|&a, &b| phi[b].total_cmp(&phi[a]).then(a.cmp(&b)));
                } else {
                    rng.shuffle(&mut order);
                }
                let fan_in = p.fan_in as usize;
                let parents = |k: usize| -> Vec<usize> { order[..k.min(fan_in)].to_vec() };
                let edges: Vec<(AgentId, AgentId)> =
                    (1..n).flat_map(|k| parents(k).into_iter().map(|s| (s as AgentId, order[k] as AgentId)).collect::<Vec<_>>()).collect();
                for &(a, _) in &edges {
                    flow.1 += 1;
                    flow.0 += usize::from(ctx.task().main.is_correct(&ops[a as usize].answer));
                }
                ctx.emit(round, EventKind::Graph { edges });
                ctx.note(round, format!("{} contributes most; responses flow down from the top {fan_in}.", ctx.name(order[0] as AgentId)));
                // Revise in rank order: the top ranks one at a time, then everyone who hears
                // only them, at once.
                let mut k = 0;
                while k < n {
                    let batch: Vec<usize> = if k < fan_in { vec![k] } else { (k..n).collect() };
                    let reqs = batch
                        .iter()
                        .map(|&r| {
                            let a = order[r];
                            let id = a as AgentId;
                            let src = parents(r);
                            let mut q = ctx.request(id, if src.is_empty() { "reflect" } else { "revise" }, round, &ctx.task().main);
                            q.own = Some(ops[a].own(&ctx, id));
                            q.peers = src.iter().map(|&s| ops[s].view(&ctx, s as AgentId, Show::REASONING)).collect();
                            q.instruction = if src.is_empty() { "Your response represents the group best so far. Check it once more and answer.".into() } else { INSTRUCTION.into() };
                            q
                        })
                        .collect();
                    let replies = ctx.ask_all(reqs).await;
                    for (&r, reply) in batch.iter().zip(&replies) {
                        let a = order[r];
                        ops[a] = Opinion::from_reply(reply);
                        for &s in &parents(r) {
                            ctx.message(round, s as AgentId, vec![a as AgentId], "answer", ops[s].message(Show::REASONING));
                        }
                    }
                    k += batch.len();
                }
            }
            round_metrics(&ctx, round, &ops);
        }
        if flow.1 > 0 {
            ctx.metric(p.rounds, "flow_correct", flow.0 as f64 / flow.1 as f64);
        }
        let phi = contributions(&ops, p.samples, &mut ctx.rng("selforg shapley final"));
        for (a, v) in phi.iter().enumerate() {
            ctx.emit(p.rounds, EventKind::Score { name: "contribution".into(), agent: a as AgentId, value: *v });
        }
        for (i, o) in ops.iter().enumerate() {
            ctx.vote(p.rounds, i as AgentId, &o.answer, 1.0);
        }
        let answer = plurality(&ops.iter().map(|o| (o.answer.clone(), 1.0)).collect::<Vec<_>>()).unwrap_or_else(|| "?".into());
        ctx.decide(p.rounds, &answer, &format!("plurality after {} ({})", p.rounds, p.graph), true);
        Ok(())
    }
}

/// The words of a text, lower-cased (letters and digits).
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase)
}

/// Embeds each response: its answer (one-hot) and the words of its reasoning (counts),
/// each part scaled to unit length.
fn embed(ops: &[Opinion]) -> Vec<Vec<f64>> {
    let mut vocab: BTreeMap<String, usize> = BTreeMap::new();
    let mut intern = |k: String| {
        let next = vocab.len();
        *vocab.entry(k).or_insert(next)
    };
    let parts: Vec<(usize, Vec<usize>)> = ops
        .iter()
        .map(|o| (intern(format!("answer={}", normalize(&o.answer))), words(&o.explanation).map(|w| intern(format!("w={w}"))).collect()))
        .collect();
    let dim = vocab.len();
    parts
        .into_iter()
        .map(|(a, ws)| {
            let mut v = vec![0.0; dim];
            v[a] = 1.0;
            let mut t = vec![0.0; dim];
            for w in ws {
                t[w] += 1.0;
            }
            let norm = libm::sqrt(t.iter().map(|x| x * x).sum::<f64>());
            if norm > 0.0 {
                for (x, y) in v.iter_mut().zip(&t) {
                    *x += y / norm;
                }
            }
            v
        })
        .collect()
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = libm::sqrt(a.iter().map(|x| x * x).sum::<f64>());
    let nb = libm::sqrt(b.iter().map(|x| x * x).sum::<f64>());
    if na > 0.0 && nb > 0.0 { dot / (na * nb) } else { 0.0 }
}

/// Monte Carlo Shapley values of the responses for the coalition value "cosine between the
/// coalition's summed embedding and the whole team's" (they sum to about 1).
pub(crate) fn contributions(ops: &[Opinion], samples: u32, rng: &mut crate::rng::Rng) -> Vec<f64> {
    let e = embed(ops);
    let n = e.len();
    let dim = e.first().map_or(0, Vec::len);
    let mut total = vec![0.0; dim];
    for v in &e {
        for (t, x) in total.iter_mut().zip(v) {
            *t += x;
        }
    }
    let mut phi = vec![0.0; n];
    let mut order: Vec<usize> = (0..n).collect();
    for _ in 0..samples {
        rng.shuffle(&mut order);
        let mut sum = vec![0.0; dim];
        let mut before = 0.0;
        for &i in &order {
            for (s, x) in sum.iter_mut().zip(&e[i]) {
                *s += x;
            }
            let after = cosine(&sum, &total);
            phi[i] += after - before;
            before = after;
        }
    }
    phi.iter().map(|x| x / f64::from(samples)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(answer: &str, why: &str) -> Opinion {
        Opinion { answer: answer.into(), confidence: 0.5, explanation: why.into(), trace: None }
    }

    #[test]
    fn each_round_scores_contributions_and_draws_the_dag_from_the_top() {
        let s = crate::builtin("selforg").unwrap();
        let log = crate::run_simulated(&s).unwrap().log;
        let n = s.agents.len();
        for round in 1..=2 {
            let scores: Vec<(u32, f64)> = log.events().iter().filter(|e| e.round == round).filter_map(|e| match &e.kind {
                EventKind::Score { name, agent, value } if name == "contribution" => Some((*agent, *value)),
                _ => None,
            }).take(n).collect();
            assert_eq!(scores.len(), n, "round {round}");
            let edges = log.events().iter().find_map(|e| match &e.kind {
                EventKind::Graph { edges } if e.round == round => Some(edges.clone()),
                _ => None,
            }).expect("a graph per round");
            // Two sources per agent but the top two; every edge runs from a higher to a lower score.
            assert_eq!(edges.len(), 1 + 2 * (n - 2));
            let score = |a: u32| scores.iter().find(|s| s.0 == a).unwrap().1;
            assert!(edges.iter().all(|&(a, b)| score(a) >= score(b)), "{edges:?} {scores:?}");
        }
    }

    #[test]
    fn agreeing_responses_contribute_more_than_an_outlier() {
        let ops = vec![
            op("A", "7 × 8 = 56"),
            op("A", "7 × 8 = 56"),
            op("B", "7 × 8 = 66"),
            op("A", "eight sevens are 56"),
            op("C", "the answer is clearly 48 by guessing"),
        ];
        let phi = contributions(&ops, 200, &mut crate::rng::Rng::new(1));
        assert!((phi.iter().sum::<f64>() - 1.0).abs() < 1e-9, "efficiency: {phi:?}");
        assert!(phi[0] > phi[2] && phi[0] > phi[4], "{phi:?}");
        assert!(phi[2] > phi[4], "a near miss shares reasoning with the majority: {phi:?}");
    }
}
