//! A simulated agent's private view of one item: the answers it weighs, how strongly it
//! believes each, and the argument it would write for each.
//!
//! Nature draws a `Mind` per agent and item (see `nature`); the agent decides from it,
//! from what peers said, and from what it checks with its own skill. A `Mind` carries no
//! marking of which answer is right: its beliefs are as good as the agent's skill made
//! them, and its arguments are sound or flawed in ways only checking reveals.

use crate::argument::Trace;
use crate::rng::Rng;
use crate::tasks::normalize;

/// One answer the agent weighs.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub answer: String,
    /// Log-weight of the agent's belief in it (unnormalized).
    pub weight: f64,
    /// The reasoning the agent would give for it.
    pub trace: Trace,
}

/// What one agent privately holds about one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Mind {
    candidates: Vec<Candidate>,
    /// How hard the item looks to the agent: how subtle it expects a flaw to be.
    pub apparent_difficulty: f64,
    /// For an adversarial agent, the candidate its instructions tell it to push.
    pub target: Option<usize>,
}

impl Mind {
    pub fn new(candidates: Vec<Candidate>, apparent_difficulty: f64, target: Option<usize>) -> Self {
        assert!(!candidates.is_empty(), "a mind weighs at least one answer");
        Mind { candidates, apparent_difficulty, target }
    }

    pub fn candidates(&self) -> &[Candidate] {
        &self.candidates
    }

    /// The candidate holding `answer` (compared in normal form).
    pub fn find(&self, answer: &str) -> Option<usize> {
        let key = normalize(answer);
        self.candidates.iter().position(|c| normalize(&c.answer) == key)
    }

    /// A working copy of the belief that evidence can move.
    pub fn belief(&self) -> Belief {
        Belief {
            answers: self.candidates.iter().map(|c| c.answer.clone()).collect(),
            weights: self.candidates.iter().map(|c| c.weight).collect(),
            traces: self.candidates.iter().map(|c| Some(c.trace.clone())).collect(),
        }
    }
}

/// Log-odds weight of an answer the agent had not considered at all when a peer raises it.
pub const UNCONSIDERED: f64 = -4.0;

/// A belief over answers that evidence updates, with the argument known for each.
#[derive(Debug, Clone, PartialEq)]
pub struct Belief {
    pub answers: Vec<String>,
    pub weights: Vec<f64>,
    /// The agent's own argument for each answer (None for an answer only a peer argued).
    pub traces: Vec<Option<Trace>>,
}

impl Belief {
    pub fn find(&self, answer: &str) -> Option<usize> {
        let key = normalize(answer);
        self.answers.iter().position(|a| normalize(a) == key)
    }

    /// The index of `answer`, adding it with a low weight if the agent had not weighed it.
    pub fn index_of(&mut self, answer: &str) -> usize {
        match self.find(answer) {
            Some(i) => i,
            None => {
                self.answers.push(answer.to_string());
                self.weights.push(UNCONSIDERED);
                self.traces.push(None);
                self.answers.len() - 1
            }
        }
    }

    /// Normalized probabilities (softmax of the weights).
    pub fn probabilities(&self) -> Vec<f64> {
        let max = self.weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = self.weights.iter().map(|w| libm::exp(w - max)).collect();
        let total: f64 = e.iter().sum();
        e.iter().map(|x| x / total).collect()
    }

    /// The most believed answer (ties: the first).
    pub fn mode(&self) -> usize {
        let mut best = 0;
        for i in 1..self.weights.len() {
            if self.weights[i] > self.weights[best] {
                best = i;
            }
        }
        best
    }

    /// An answer drawn in proportion to belief (what one sampled reply says).
    pub fn sample(&self, rng: &mut Rng) -> usize {
        rng.weighted(&self.probabilities())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mind() -> Mind {
        let c = |a: &str, w: f64| Candidate { answer: a.into(), weight: w, trace: Trace::sound(vec![format!("so {a}")]) };
        Mind::new(vec![c("B", 2.0), c("A", 0.0), c("C", -1.0)], 0.5, None)
    }

    #[test]
    fn belief_samples_in_proportion_and_adds_unconsidered_answers_low() {
        let m = mind();
        let b = m.belief();
        let p = b.probabilities();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(b.mode(), 0);
        let mut rng = Rng::new(3);
        let n = 20_000;
        let hits = (0..n).filter(|_| b.sample(&mut rng) == 0).count() as f64 / n as f64;
        assert!((hits - p[0]).abs() < 0.015, "{hits} vs {}", p[0]);
        let mut b = m.belief();
        let d = b.index_of("D");
        assert_eq!(d, 3);
        assert!(b.probabilities()[3] < 0.01);
        assert_eq!(b.index_of("b"), 0, "answers compare in normal form");
    }
}
