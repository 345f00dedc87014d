//! Nature: what each simulated agent privately comes to believe about an item.
//!
//! This is the one place outside the metrics that reads an item's answer key, and it
//! uses it only to decide how good each agent's knowledge is: a [`Mind`] per agent and
//! item, drawn once from the seed, that the agent's decisions (`sim`) then work from
//! without ever seeing the key.
//!
//! The model, and why:
//! - **Skill × difficulty.** One attempt by an agent is right with probability
//!   p = σ(logit(skill) − 4·(difficulty − 0.5)) (`p_correct`): weak agents and hard items
//!   are where *Revisiting Multi-Agent Debate* finds discussion pays.
//! - **One latent draw per attempt**, x = √ρᵢ·zᵢ + √ρₘ·zₘ + √ρₐ·zₐ + √ρₛ·zₛ, right when
//!   x < Φ⁻¹(p), so every attempt is right with probability exactly p while the parts are
//!   shared: zᵢ by everyone asked the item (some questions fool everyone, more so when
//!   hard: ρᵢ = 0.2 + 0.4·difficulty), zₘ by copies of one model (they share most of their
//!   mistakes), zₐ by one agent's attempts (its persona), and zₛ is fresh per attempt
//!   (sampling: ρₛ = 0.35). `diversity` moves weight from the model's part to the
//!   agent's. Agents without a `model` name are copies of one default model.
//! - **The belief is the distribution of the agent's attempts** given its shared parts:
//!   the right answer gets Φ((Φ⁻¹(p) − xₐ)/√ρₛ), where xₐ leaves out the fresh part, and
//!   the rest goes to the wrong answers, most to the item's tempting one (the lure) by a
//!   share that copies of a model also share, so they make the *same* mistakes. Asking
//!   the agent again draws again from that belief: samples are correlated through it, so
//!   self-consistency gains when the belief leans right and cannot fix what the whole
//!   model gets wrong. The belief's strength is the agent's confidence: informative
//!   without being read off the key, and sometimes confidently wrong.
//! - **Arguments.** Each answer comes with the task's derivation of it: sound for the
//!   right answer, flawed at the slip for a wrong one, the flaw's subtlety drawn around
//!   the item's difficulty (the same for every agent arguing that answer).
//! - **Adversaries** are told which wrong answer to push: colluders share the lure, a
//!   lone saboteur gets its own.

use crate::argument::Trace;
use crate::rng::{Rng, logit, normal_cdf, normal_quantile, sigmoid};
use crate::scenario::{Adversary, Agent};
use crate::sim::{Candidate, Mind};
use crate::tasks::Problem;

/// Chance that an agent of skill `accuracy` has the right answer as its best guess on an
/// item of `difficulty`.
pub fn p_correct(accuracy: f64, difficulty: f64) -> f64 {
    sigmoid(logit(accuracy) - 4.0 * (difficulty - 0.5))
}

/// Share of an attempt's latent draw common to every agent on an item.
pub fn item_correlation(difficulty: f64) -> f64 {
    0.2 + 0.4 * difficulty.clamp(0.0, 1.0)
}

/// Share of an attempt's latent draw that is fresh each time (sampling noise).
pub const SAMPLING_SHARE: f64 = 0.35;
/// Share of an attempt's latent draw private to one agent when its model's copies are
/// not diversified.
pub const AGENT_SHARE: f64 = 0.05;

/// The shares (item, model, agent, sample) of an attempt's latent draw.
pub fn shares(difficulty: f64, diversity: f64) -> [f64; 4] {
    let item = item_correlation(difficulty);
    let shared_model = 1.0 - item - SAMPLING_SHARE - AGENT_SHARE;
    let moved = shared_model * diversity.clamp(0.0, 1.0);
    [item, shared_model - moved, AGENT_SHARE + moved, SAMPLING_SHARE]
}

/// A stable number for an item (its text), so every agent asked about the same item
/// shares the item's draws.
fn item_key(problem: &Problem) -> u64 {
    // FNV-1a: the same on every target.
    problem.text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn model_key(model: &str) -> u64 {
    model.bytes().fold(0x8422_2325_cbf2_9ce4u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The private mind of `agent` (index `index` in the scenario) about `problem`, for a
/// run with `seed`. `strain` raises the item's difficulty for this agent (e.g. a long
/// context it has to hold); 0 for none.
pub fn mind(problem: &Problem, agent: &Agent, index: u32, seed: u64, strain: f64) -> Mind {
    let traits = &agent.traits;
    let d = (problem.difficulty + strain).clamp(0.0, 2.0);
    let p = p_correct(traits.skill(&problem.domain), d);
    let (item, model, who) = (item_key(problem), model_key(&agent.model), u64::from(index));
    let [ri, rm, ra, rs] = shares(d.min(1.0), traits.diversity);
    let z = |tag: u64, part: &[u64]| Rng::derive(seed, &[&[item, tag][..], part].concat()).normal();
    // The agent's lasting position on the item: everything but the fresh sampling part.
    let x_agent = libm::sqrt(ri) * z(10, &[1]) + libm::sqrt(rm) * z(10, &[2, model]) + libm::sqrt(ra) * z(10, &[3, model, who]);
    let right = normal_cdf((normal_quantile(p) - x_agent) / libm::sqrt(rs));

    let candidates = problem.candidates();
    let k = candidates.len();
    // How the wrong share splits: the lure's part leans the same way for copies of a model.
    let lean = 0.8 * z(20, &[2, model]) + 0.3 * z(20, &[3, model, who]);
    let lure_share = if k == 2 { 1.0 } else { normal_cdf(normal_quantile(problem.lure.clamp(0.01, 0.99)) + lean) };
    let mass: Vec<f64> = (0..k)
        .map(|i| match i {
            0 => right,
            1 => (1.0 - right) * lure_share,
            _ => (1.0 - right) * (1.0 - lure_share) / (k - 2) as f64,
        })
        .collect();

    let mut out: Vec<Candidate> = candidates
        .iter()
        .zip(&mass)
        .enumerate()
        .map(|(i, (answer, &m))| {
            let dv = problem.derivation(answer);
            let trace = match dv.flaw {
                None => Trace::sound(dv.steps),
                Some(step) => {
                    // The same slip is equally subtle for everyone who makes it.
                    let subtlety = d.min(1.0) + 0.2 * Rng::derive(seed, &[item, 40, i as u64]).normal();
                    Trace::flawed(dv.steps, step, subtlety)
                }
            };
            Candidate { answer: answer.clone(), weight: libm::log(m.max(1e-9)), trace }
        })
        .collect();
    let wrong = k.saturating_sub(1);
    let target = match traits.adversary {
        Adversary::None => None,
        Adversary::Collude if k > 1 => Some(1),
        Adversary::FixedWrong if k > 1 => Some(1 + (Rng::derive(seed, &[item, 50, who]).below(wrong as u64) as usize)),
        _ => None,
    };
    // Present the answers in a fixed order that says nothing about which is right.
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| out[a].answer.cmp(&out[b].answer));
    let target = target.map(|t| order.iter().position(|&o| o == t).expect("permutation"));
    let mut sorted = Vec::with_capacity(k);
    for &o in &order {
        sorted.push(std::mem::replace(&mut out[o], Candidate { answer: String::new(), weight: 0.0, trace: Trace::sound(vec![]) }));
    }
    Mind::new(sorted, problem.difficulty.clamp(0.0, 1.0), target)
}

#[cfg(test)]
mod tests;
