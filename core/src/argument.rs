//! Arguments that can be checked: the simulated reasoning behind an answer.
//!
//! A simulated agent's answer comes with a [`Trace`], a chain of steps written out as
//! text (the transcript shows it, and an LLM peer reads it like any explanation). A trace
//! that reaches a right answer is sound; one that reaches a wrong answer contains a flaw at
//! some step, more or less subtle. Whether a trace is sound is a fact about the argument,
//! set when nature writes it; an agent learns it only by checking, with its own skill:
//! [`Trace::inspect`] finds a flaw with a probability that falls with the flaw's subtlety
//! and rises with the checker's skill, and it sometimes objects to a sound step (a false
//! alarm). That is the one channel through which arguments carry information between
//! agents, and why explanations can change minds without anyone reading the answer key.

use serde::{Deserialize, Serialize};

use crate::rng::{Rng, logit, sigmoid};

/// A chain of reasoning steps towards one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    steps: Vec<String>,
    /// The wrong step and how hard it is to spot (0 obvious .. 1 very subtle); none for a
    /// sound argument. Private: agents learn it only through `inspect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    flaw: Option<Flaw>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Flaw {
    step: usize,
    subtlety: f64,
}

/// What one check of a trace found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// Every step checked out.
    Sound,
    /// The checker objects to this step (a real flaw, or a false alarm).
    Objection(usize),
}

/// How well an agent checks reasoning: its chance to spot a flaw of medium subtlety, and
/// its chance to object to a sound step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckSkill {
    pub detect: f64,
    pub false_alarm: f64,
}

/// How much believing an answer hides the flaws in an argument for it (share of the
/// detection chance lost at full belief).
pub const BLIND_SPOT: f64 = 0.6;
/// How much extra a checker objects to sound arguments for answers it does not believe
/// (share of the remaining chance, at zero belief).
pub const DEFENSIVENESS: f64 = 0.2;

impl CheckSkill {
    /// The same checker reading an argument for an answer it believes with probability
    /// `belief`: what one believes is harder to fault, and an argument against one's own
    /// view draws more objections. The checker does not know it leans (it weighs what it
    /// finds by its nominal skill), which is why agents who share a mistake rarely talk
    /// each other out of it.
    pub fn leaning(&self, belief: f64) -> CheckSkill {
        let b = belief.clamp(0.0, 1.0);
        CheckSkill {
            detect: self.detect * (1.0 - BLIND_SPOT * b),
            false_alarm: self.false_alarm + (1.0 - self.false_alarm) * DEFENSIVENESS * (1.0 - b),
        }
    }

    /// The chance to spot a flaw of `subtlety` (0.5 = medium: exactly `detect`).
    pub fn detection(&self, subtlety: f64) -> f64 {
        sigmoid(logit(self.detect) - 3.0 * (subtlety - 0.5)).clamp(0.01, 0.99)
    }

    /// How much a finding should move a checker who knows its own skill and expects flaws
    /// of `subtlety`: the log-likelihood ratio of "this argument is sound" given the
    /// finding (positive: evidence for the answer the trace argues).
    pub fn evidence(&self, finding: Finding, subtlety: f64) -> f64 {
        let det = self.detection(subtlety);
        let fa = self.false_alarm.clamp(0.01, 0.99);
        match finding {
            Finding::Sound => libm::log((1.0 - fa) / (1.0 - det)),
            Finding::Objection(_) => libm::log(fa / det),
        }
    }
}

impl Trace {
    /// A sound chain of steps.
    pub fn sound(steps: Vec<String>) -> Self {
        Trace { steps, flaw: None }
    }

    /// A chain whose step `step` is wrong, with the given subtlety in [0, 1].
    pub fn flawed(steps: Vec<String>, step: usize, subtlety: f64) -> Self {
        let step = step.min(steps.len().saturating_sub(1));
        Trace { steps, flaw: Some(Flaw { step, subtlety: subtlety.clamp(0.0, 1.0) }) }
    }

    /// The steps as written.
    pub fn steps(&self) -> &[String] {
        &self.steps
    }

    /// The steps joined as one line of text.
    pub fn text(&self) -> String {
        self.steps.join("; ")
    }

    /// Checks the argument once with `skill`: a flaw is found with the skill's detection
    /// chance at the flaw's subtlety; otherwise (or for a sound argument) a false alarm
    /// objects to a random step with the skill's false-alarm rate.
    pub fn inspect(&self, skill: CheckSkill, rng: &mut Rng) -> Finding {
        if let Some(f) = self.flaw
            && rng.chance(skill.detection(f.subtlety))
        {
            return Finding::Objection(f.step);
        }
        if !self.steps.is_empty() && rng.chance(skill.false_alarm) {
            return Finding::Objection(rng.index(self.steps.len()));
        }
        Finding::Sound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(t: &Trace, skill: CheckSkill) -> f64 {
        let mut rng = Rng::new(5);
        (0..20_000).filter(|_| t.inspect(skill, &mut rng) != Finding::Sound).count() as f64 / 20_000.0
    }

    #[test]
    fn skill_finds_flaws_and_subtle_flaws_hide() {
        let steps = vec!["a".to_string(), "b".to_string(), "c".to_string()];
        let good = CheckSkill { detect: 0.8, false_alarm: 0.05 };
        let poor = CheckSkill { detect: 0.3, false_alarm: 0.05 };
        let obvious = Trace::flawed(steps.clone(), 1, 0.2);
        let subtle = Trace::flawed(steps.clone(), 1, 0.9);
        let sound = Trace::sound(steps);
        assert!(rate(&obvious, good) > rate(&obvious, poor) + 0.3);
        assert!(rate(&obvious, good) > rate(&subtle, good) + 0.2);
        assert!((rate(&sound, good) - 0.05).abs() < 0.01, "false alarms only");
        let medium = Trace::flawed(vec!["x".into()], 0, 0.5);
        let r = rate(&medium, good);
        // 0.8 found, plus false alarms on the rest: 0.8 + 0.2 * 0.05.
        assert!((r - 0.81).abs() < 0.015, "{r}");
    }

    #[test]
    fn evidence_points_the_right_way_and_grows_with_skill() {
        let good = CheckSkill { detect: 0.8, false_alarm: 0.05 };
        let poor = CheckSkill { detect: 0.3, false_alarm: 0.2 };
        assert!(good.evidence(Finding::Sound, 0.5) > 0.0);
        assert!(good.evidence(Finding::Objection(0), 0.5) < 0.0);
        assert!(good.evidence(Finding::Sound, 0.5) > poor.evidence(Finding::Sound, 0.5));
        assert!(good.evidence(Finding::Objection(0), 0.5) < poor.evidence(Finding::Objection(0), 0.5));
    }
}
