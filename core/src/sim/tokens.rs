//! Two simulated agents writing one reply together, with the steps of an argument as the
//! tokens: speculative drafting (a drafter proposes steps, the verifier keeps the longest
//! prefix it would have written itself) and token-level fusion (per step a router lets
//! the more confident agent write it, with the other's belief as a complement).
//!
//! Both decode greedily, as the LLM paths do at temperature 0: at each step an agent
//! writes the next step of the answer it believes most among those whose argument starts
//! with what has been written so far. Nothing here sees which answer is right; agents
//! agree where their beliefs agree, which nature makes likelier for copies of one model
//! and for stronger agents.

use super::{Mind, Said, stated};
use crate::argument::Trace;
use crate::event::{AgentId, Piece, PieceStatus};
use crate::rng::Rng;
use crate::scenario::Traits;

/// An adversary's instructions weigh like a certainty.
const PUSHED: f64 = 50.0;

/// What an agent could write: each answer with its steps and its log-weight of belief.
struct Options<'a> {
    answers: Vec<&'a str>,
    steps: Vec<&'a [String]>,
    weights: Vec<f64>,
    traces: Vec<&'a Trace>,
}

impl<'a> Options<'a> {
    fn of(mind: &'a Mind) -> Self {
        let c = mind.candidates();
        let mut weights: Vec<f64> = c.iter().map(|x| x.weight).collect();
        if let Some(t) = mind.target {
            weights[t] += PUSHED;
        }
        Options {
            answers: c.iter().map(|x| x.answer.as_str()).collect(),
            steps: c.iter().map(|x| x.trace.steps()).collect(),
            weights,
            traces: c.iter().map(|x| &x.trace).collect(),
        }
    }

    /// Answers whose argument starts with `prefix` and goes on past it.
    fn consistent(&self, prefix: &[String]) -> Vec<usize> {
        (0..self.answers.len()).filter(|&i| self.steps[i].len() > prefix.len() && self.steps[i].starts_with(prefix)).collect()
    }

    /// The answer this agent writes on from `prefix` (greedy: the most believed of those
    /// consistent with it; ties go to the first).
    fn greedy(&self, prefix: &[String]) -> Option<usize> {
        self.consistent(prefix).into_iter().fold(None, |best, i| match best {
            Some(b) if self.weights[b] >= self.weights[i] => Some(b),
            _ => Some(i),
        })
    }

    /// Belief over `among`, normalized (softmax of the weights).
    fn probabilities(&self, among: &[usize]) -> Vec<f64> {
        let max = among.iter().map(|&i| self.weights[i]).fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = among.iter().map(|&i| libm::exp(self.weights[i] - max)).collect();
        let total: f64 = e.iter().sum();
        e.iter().map(|x| x / total).collect()
    }

    fn index_of(&self, answer: &str) -> Option<usize> {
        self.answers.iter().position(|a| *a == answer)
    }

    fn mass(&self, i: usize) -> f64 {
        let all: Vec<usize> = (0..self.answers.len()).collect();
        self.probabilities(&all)[i]
    }
}

/// What two agents wrote together: the reply as the asked agent states it, and who wrote
/// each step.
pub(super) struct Joint {
    pub said: Said,
    pub pieces: Vec<Piece>,
}

/// Speculative drafting: `drafter` proposes up to `draft_len` steps ahead from what has
/// been written; the verifier keeps the longest prefix equal to what it would write itself,
/// then writes one step itself (the correction after a rejected draft, or the next step
/// after a fully accepted one). The steps written are exactly the verifier's greedy
/// argument, whatever the drafter proposes; `draft_len` 0 is the verifier alone.
pub(super) fn speculate(traits: &Traits, verifier: &Mind, me: AgentId, drafter: &Mind, by: AgentId, draft_len: usize, rng: &mut Rng) -> Joint {
    let v = Options::of(verifier);
    let d = Options::of(drafter);
    let own = v.greedy(&[]).unwrap_or(0);
    let target: &[String] = v.steps[own];
    let mut written: Vec<String> = Vec::with_capacity(target.len());
    let mut pieces = Vec::new();
    let piece = |text: &str, by, status| Piece { text: text.to_string(), by, status };
    while written.len() < target.len() {
        let mut draft: Vec<String> = Vec::new();
        let mut prefix = written.clone();
        while draft.len() < draft_len {
            let Some(i) = d.greedy(&prefix) else { break };
            let step = d.steps[i][prefix.len()].clone();
            prefix.push(step.clone());
            draft.push(step);
        }
        let kept = draft.iter().zip(&target[written.len()..]).take_while(|(a, b)| a == b).count();
        for (k, step) in draft.iter().enumerate() {
            pieces.push(piece(step, by, if k < kept { PieceStatus::Accepted } else { PieceStatus::Rejected }));
        }
        written.extend(draft.into_iter().take(kept));
        if written.len() < target.len() {
            let step = target[written.len()].clone();
            pieces.push(piece(&step, me, PieceStatus::Written));
            written.push(step);
        }
    }
    let said = Said {
        answer: v.answers[own].to_string(),
        confidence: stated(traits, v.mass(own), rng),
        why: written.join("; "),
        trace: Some(v.traces[own].clone()),
    };
    Joint { said, pieces }
}

/// How a fusion router picks the agent that writes a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Router {
    /// The more confident agent at each step.
    Token,
    /// The more confident agent at the first step, for the whole reply.
    Sequence,
    /// Always the asked agent.
    First,
    /// Always the partner.
    Second,
}

impl Router {
    pub fn parse(name: &str) -> Router {
        match name {
            "sequence" => Router::Sequence,
            "first" => Router::First,
            "second" => Router::Second,
            _ => Router::Token,
        }
    }
}

/// Token-level fusion: at each step both agents weigh the answers consistent with what
/// has been written; the router gives the step to one of them (by `router`), whose belief
/// plus `complement` × the other's (log-linear) picks the answer whose next step is
/// written. The asked agent states the result with its calibration.
#[allow(clippy::too_many_arguments)]
pub(super) fn fuse(traits: &Traits, first: &Mind, me: AgentId, second: &Mind, other: AgentId, router: Router, complement: f64, rng: &mut Rng) -> Joint {
    let a = Options::of(first);
    let b = Options::of(second);
    let mut written: Vec<String> = Vec::new();
    let mut pieces = Vec::new();
    let mut fixed: Option<bool> = None;
    // On a tie (a step both are sure of) the router keeps the agent that wrote the last one.
    let mut previous = true;
    let mut last = 0usize;
    let mut last_mass = 1.0;
    loop {
        let among = a.consistent(&written);
        if among.is_empty() {
            break;
        }
        // The same answers for both (they weigh the same item's answers), matched by text.
        let among_b: Vec<usize> = among.iter().map(|&i| b.index_of(a.answers[i]).unwrap_or(i)).collect();
        let (pa, pb) = (a.probabilities(&among), b.probabilities(&among_b));
        let top = |p: &[f64]| p.iter().copied().fold(0.0, f64::max);
        let surer = |prev: bool| if top(&pa) == top(&pb) { prev } else { top(&pa) > top(&pb) };
        let first_writes = match router {
            Router::First => true,
            Router::Second => false,
            Router::Sequence => *fixed.get_or_insert(surer(true)),
            Router::Token => surer(previous),
        };
        previous = first_writes;
        let (own, rest) = if first_writes { (&pa, &pb) } else { (&pb, &pa) };
        let pooled: Vec<f64> = own.iter().zip(rest).map(|(x, y)| libm::log(x.max(1e-300)) + complement * libm::log(y.max(1e-300))).collect();
        let argmax = |v: &[f64]| (0..v.len()).fold(0, |m, k| if v[k] > v[m] { k } else { m });
        let (k, alone) = (argmax(&pooled), argmax(own));
        let i = among[k];
        let step = a.steps[i][written.len()].clone();
        let own_step = &a.steps[among[alone]][written.len()];
        let status = if *own_step == step { PieceStatus::Chosen } else { PieceStatus::Complemented };
        pieces.push(Piece { text: step.clone(), by: if first_writes { me } else { other }, status });
        written.push(step);
        // Softmax of the pooled scores: how sure the pair is of the answer it writes.
        let max = pooled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = pooled.iter().map(|x| libm::exp(x - max)).sum();
        last_mass = libm::exp(pooled[k] - max) / total;
        last = i;
        if a.steps[i].len() == written.len() {
            break;
        }
    }
    let said = Said { answer: a.answers[last].to_string(), confidence: stated(traits, last_mass, rng), why: written.join("; "), trace: Some(a.traces[last].clone()) };
    Joint { said, pieces }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Candidate;

    fn mind(weights: &[(&str, f64, &[&str])]) -> Mind {
        let c = weights
            .iter()
            .map(|(a, w, steps)| Candidate { answer: a.to_string(), weight: *w, trace: Trace::sound(steps.iter().map(|s| s.to_string()).collect()) })
            .collect();
        Mind::new(c, 0.5, None)
    }

    /// Answers "1" and "2" share their first step and part at the second; "3" parts at once.
    fn item(w1: f64, w2: f64, w3: f64) -> Mind {
        mind(&[("1", w1, &["a", "b", "c1"]), ("2", w2, &["a", "x", "c2"]), ("3", w3, &["z", "y", "c3"])])
    }

    #[test]
    fn speculation_writes_exactly_the_verifiers_argument() {
        let verifier = item(2.0, 0.0, -1.0);
        for (drafter, accepted, rejected) in [(item(2.0, 0.0, 0.0), 3, 0), (item(0.0, 2.0, 0.0), 2, 2), (item(0.0, 0.0, 2.0), 2, 3)] {
            let j = speculate(&Traits::default(), &verifier, 0, &drafter, 1, 4, &mut Rng::new(1));
            assert_eq!(j.said.answer, "1");
            let kept: Vec<&str> = j.pieces.iter().filter(|p| p.status != PieceStatus::Rejected).map(|p| p.text.as_str()).collect();
            assert_eq!(kept, ["a", "b", "c1"]);
            let count = |s| j.pieces.iter().filter(|p| p.status == s).count();
            assert_eq!((count(PieceStatus::Accepted), count(PieceStatus::Rejected)), (accepted, rejected), "{:?}", j.pieces);
        }
        // Alone: every step written by the verifier.
        let j = speculate(&Traits::default(), &verifier, 0, &item(0.0, 0.0, 2.0), 1, 0, &mut Rng::new(1));
        assert!(j.pieces.iter().all(|p| p.status == PieceStatus::Written && p.by == 0) && j.pieces.len() == 3);
    }

    #[test]
    fn the_drafter_redrafts_from_the_verifiers_correction() {
        // The drafter believes "3" but, once the verifier has written "a", continues with "2".
        let verifier = item(2.0, 0.0, -1.0);
        let drafter = item(0.0, 1.0, 2.0);
        let j = speculate(&Traits::default(), &verifier, 0, &drafter, 1, 1, &mut Rng::new(1));
        let seq: Vec<(&str, PieceStatus)> = j.pieces.iter().map(|p| (p.text.as_str(), p.status)).collect();
        use PieceStatus::*;
        assert_eq!(seq, [("z", Rejected), ("a", Written), ("x", Rejected), ("b", Written), ("c1", Accepted)]);
    }

    #[test]
    fn fusion_routes_each_step_to_the_surer_agent_and_the_complement_can_overrule() {
        // First agent unsure between "1" and "2", second sure of "2".
        let first = item(1.0, 0.9, -3.0);
        let second = item(-2.0, 3.0, -3.0);
        let j = fuse(&Traits::default(), &first, 0, &second, 1, Router::Token, 0.0, &mut Rng::new(1));
        assert_eq!(j.said.answer, "2");
        assert!(j.pieces.iter().all(|p| p.by == 1), "{:?}", j.pieces);
        let j = fuse(&Traits::default(), &first, 0, &second, 1, Router::First, 0.0, &mut Rng::new(1));
        assert_eq!(j.said.answer, "1");
        assert!(j.pieces.iter().all(|p| p.by == 0 && p.status == PieceStatus::Chosen));
        let j = fuse(&Traits::default(), &first, 0, &second, 1, Router::First, 1.0, &mut Rng::new(1));
        assert_eq!(j.said.answer, "2", "the complement overrules the chosen agent's narrow preference");
        assert!(j.pieces.iter().any(|p| p.status == PieceStatus::Complemented));
    }
}
