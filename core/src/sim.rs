//! Simulated agents: small seeded stochastic models, not string templates.
//!
//! Each trait exists because a paper's effect depends on it:
//! - `accuracy` × item difficulty → chance of a right first answer (IRT-style,
//!   p = σ(logit(accuracy) − 4·(difficulty − 0.5))). Weak agents and hard items are where
//!   *Revisiting Multi-Agent Debate* finds debate pays off.
//! - wrong answers cluster on the item's lure, more on hard items: errors correlate, so
//!   more votes cannot fix everything (self-consistency saturates).
//! - `calibration` (informative / overconfident / random): ReConcile's confidence-weighted
//!   vote only helps when confidence carries information.
//! - `conformity` and `stubbornness`, weighted by peers' stated confidence: MachineSoM's
//!   easy-going vs overconfident agents, conformity and majority rule.
//! - `judge_accuracy`, separate from answering: recognising a right argument in debate,
//!   orchestrators checking workers (Science of Scaling's centralized error containment),
//!   judges and rankers.
//! - `error_recall` / `false_alarm`: self-error detection for reflection and escalation.
//! - `adversary` (fixed wrong answer, collusion): robustness scenarios.
//!
//! The reply to an ask is a pure function of (traits, request, run seed): its random
//! stream is derived from the ask id, so replies do not depend on resolution order.

use crate::exchange::{AgentReply, AskRequest, PeerView};
use crate::rng::{Rng, logit, sigmoid};
use crate::scenario::{Adversary, Calibration, Traits};
use crate::tasks::normalize;

/// Chance of a right first answer for skill `accuracy` at `difficulty`.
pub fn p_correct(accuracy: f64, difficulty: f64) -> f64 {
    sigmoid(logit(accuracy) - 4.0 * (difficulty - 0.5))
}

/// The simulated agent's reply to `req`.
pub fn reply(traits: &Traits, req: &AskRequest, seed: u64) -> AgentReply {
    let mut rng = Rng::derive(seed, &[req.id, u64::from(req.agent), 0xa11ce]);
    let (answer, confidence, reason) = match req.purpose.as_str() {
        "revise" => revise(traits, req, &mut rng),
        "reflect" => reflect(traits, req, &mut rng),
        "judge" => judge(traits, req, &mut rng),
        "check" => check(traits, req, &mut rng),
        "bid" => bid(traits, req, &mut rng),
        "plan" => (req.sim.scripted.clone().unwrap_or_else(|| "solo".into()), 0.8, "plan".to_string()),
        _ => {
            let (a, c) = attempt(traits, req, &mut rng);
            (a, c, pick(&mut rng, REASONS_FRESH).to_string())
        }
    };
    let text = if req.purpose == "plan" {
        answer.clone()
    } else {
        format!("{answer}, confidence {confidence:.2}: {reason}")
    };
    let tokens = req.estimated_prompt_tokens() + (text.len() / 4) as u32 + reasoning_tokens(req);
    AgentReply { answer: Some(answer), confidence: Some(round2(confidence)), text, tokens }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Hidden "thinking" a real model would spend, so simulated costs compare sensibly.
fn reasoning_tokens(req: &AskRequest) -> u32 {
    match req.purpose.as_str() {
        "answer" | "solve" => 120,
        "revise" => 80,
        "reflect" => 50,
        "judge" | "check" => 40,
        "plan" => 60,
        _ => 10,
    }
}

const REASONS_FRESH: &[&str] = &[
    "I worked it through step by step.",
    "a quick check of each option rules out the others.",
    "this matches my estimate.",
    "I recomputed it a second way and got the same.",
    "the other options fail a sanity check.",
];

fn pick<'a>(rng: &mut Rng, list: &[&'a str]) -> &'a str {
    list[rng.index(list.len())]
}

fn skill(traits: &Traits, req: &AskRequest) -> f64 {
    traits.skill(&req.sim.domain)
}

/// A wrong answer: the lure with probability `lure`, otherwise another distractor.
fn wrong_answer(req: &AskRequest, rng: &mut Rng) -> String {
    let d = &req.sim.distractors;
    if d.is_empty() {
        return "?".into();
    }
    if d.len() == 1 || rng.chance(req.sim.lure) {
        d[0].clone()
    } else {
        d[1 + rng.index(d.len() - 1)].clone()
    }
}

/// What an adversary pushes: colluders share the lure; a lone saboteur its own pick.
fn adversary_answer(traits: &Traits, req: &AskRequest) -> Option<String> {
    let d = &req.sim.distractors;
    match traits.adversary {
        Adversary::None => None,
        Adversary::Collude => Some(d.first().cloned().unwrap_or_else(|| "?".into())),
        Adversary::FixedWrong => Some(d.get(req.agent as usize % d.len().max(1)).cloned().unwrap_or_else(|| "?".into())),
    }
}

fn confidence(traits: &Traits, correct: bool, rng: &mut Rng) -> f64 {
    match traits.calibration {
        Calibration::Informative => {
            if correct {
                rng.range_f64(0.55, 0.95)
            } else {
                rng.range_f64(0.25, 0.7)
            }
        }
        Calibration::Overconfident => rng.range_f64(0.85, 1.0),
        Calibration::Random => rng.range_f64(0.2, 1.0),
    }
}

/// A fresh attempt at the problem.
fn attempt(traits: &Traits, req: &AskRequest, rng: &mut Rng) -> (String, f64) {
    if let Some(a) = adversary_answer(traits, req) {
        return (a, 0.95);
    }
    let correct = rng.chance(p_correct(skill(traits, req), req.sim.difficulty));
    let answer = if correct { req.sim.truth.clone() } else { wrong_answer(req, rng) };
    (answer, confidence(traits, correct, rng))
}

fn is_truth(req: &AskRequest, a: &str) -> bool {
    normalize(a) == normalize(&req.sim.truth)
}

/// Revising after seeing peers: recognise a right argument (judging skill), or yield to
/// confidence-weighted social pressure (conformity against stubbornness).
fn revise(traits: &Traits, req: &AskRequest, rng: &mut Rng) -> (String, f64, String) {
    let Some(own) = req.own.clone() else {
        let (a, c) = attempt(traits, req, rng);
        return (a, c, pick(rng, REASONS_FRESH).into());
    };
    if let Some(a) = adversary_answer(traits, req) {
        return (a, 0.95, "I am sure; the others are mistaken.".into());
    }
    if req.peers.is_empty() {
        return (own.answer, own.confidence, "nobody else to compare with, I keep my answer.".into());
    }
    let own_right = is_truth(req, &own.answer);
    let d = req.sim.difficulty.clamp(0.0, 1.5);
    // 1. A peer holds the right answer and its argument convinces.
    let truth_share = req.peers.iter().filter(|p| is_truth(req, &p.answer)).count() as f64 / req.peers.len() as f64;
    if !own_right && truth_share > 0.0 {
        let q = traits.judge_accuracy * libm::sqrt(truth_share) * (1.0 - 0.4 * d) * (1.0 - 0.5 * traits.stubbornness);
        if rng.chance(q.max(0.0)) {
            let backers = names_for(&req.peers, &req.sim.truth);
            let c = 0.5 * confidence(traits, true, rng) + 0.5 * mean_conf(&req.peers, &req.sim.truth);
            return (req.sim.truth.clone(), c, format!("the case made by {backers} convinced me."));
        }
    }
    // 2. Social pressure, weighted by stated confidence.
    let mut groups: Vec<(String, f64)> = Vec::new();
    for p in &req.peers {
        let key = normalize(&p.answer);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some(g) => g.1 += p.confidence,
            None => groups.push((key, p.confidence)),
        }
    }
    let own_key = normalize(&own.answer);
    let own_mass = (0.5 + 2.0 * traits.stubbornness) * own.confidence
        + groups.iter().find(|(k, _)| *k == own_key).map_or(0.0, |g| g.1);
    let best = groups
        .iter()
        .filter(|(k, _)| *k != own_key)
        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
    if let Some((best_key, best_mass)) = best
        && *best_mass > own_mass {
            let mut p_switch = traits.conformity * (best_mass - own_mass) / (best_mass + own_mass);
            // A good judge resists a wrong majority when it is right.
            if own_right {
                p_switch *= 1.0 - 0.5 * traits.judge_accuracy;
            }
            if rng.chance(p_switch) {
                let answer = req.peers.iter().find(|p| normalize(&p.answer) == *best_key).map(|p| p.answer.clone()).expect("group");
                let right = is_truth(req, &answer);
                let c = 0.5 * confidence(traits, right, rng) + 0.5 * mean_conf(&req.peers, &answer);
                let backers = names_for(&req.peers, &answer);
                return (answer, c, format!("switching: {backers} agree and sound sure."));
            }
        }
    let agree = req.peers.iter().filter(|p| normalize(&p.answer) == own_key).count() as f64 / req.peers.len() as f64;
    let c = (own.confidence + 0.1 * agree).min(0.99);
    let reason = if agree >= 0.5 { "most of us agree, I keep it." } else { "I keep my answer; the objections do not hold up." };
    (own.answer, c, reason.into())
}

fn names_for(peers: &[PeerView], answer: &str) -> String {
    let names: Vec<&str> = peers.iter().filter(|p| normalize(&p.answer) == normalize(answer)).map(|p| p.name.as_str()).collect();
    match names.len() {
        0 => "someone".into(),
        1 => names[0].into(),
        2 => format!("{} and {}", names[0], names[1]),
        _ => format!("{} and {} others", names[0], names.len() - 1),
    }
}

fn mean_conf(peers: &[PeerView], answer: &str) -> f64 {
    let v: Vec<f64> = peers.iter().filter(|p| normalize(&p.answer) == normalize(answer)).map(|p| p.confidence).collect();
    if v.is_empty() { 0.5 } else { v.iter().sum::<f64>() / v.len() as f64 }
}

/// Reflecting alone: notice one's own error (recall) or doubt a right answer (false
/// alarm), then re-solve.
fn reflect(traits: &Traits, req: &AskRequest, rng: &mut Rng) -> (String, f64, String) {
    let Some(own) = req.own.clone() else {
        let (a, c) = attempt(traits, req, rng);
        return (a, c, pick(rng, REASONS_FRESH).into());
    };
    if let Some(a) = adversary_answer(traits, req) {
        return (a, 0.95, "on reflection I am still sure.".into());
    }
    let doubt = if is_truth(req, &own.answer) { traits.false_alarm } else { traits.error_recall };
    if rng.chance(doubt) {
        let (a, c) = attempt(traits, req, rng);
        let why = if normalize(&a) == normalize(&own.answer) { "I re-checked and got the same." } else { "I found a slip and corrected it." };
        return (a, c, why.into());
    }
    (own.answer, (own.confidence + 0.05).min(0.99), "on reflection my answer stands.".into())
}

/// Picking the best among candidate answers (the options).
fn judge(traits: &Traits, req: &AskRequest, rng: &mut Rng) -> (String, f64, String) {
    let cands = &req.options;
    if cands.is_empty() {
        let (a, c) = attempt(traits, req, rng);
        return (a, c, "no candidates, I answered myself.".into());
    }
    if let Some(a) = adversary_answer(traits, req) {
        return (a, 0.95, "this is the best one.".into());
    }
    let has_truth = cands.iter().any(|c| is_truth(req, c));
    let right = has_truth && rng.chance(traits.judge_accuracy);
    let choice = if right {
        cands.iter().find(|c| is_truth(req, c)).cloned().expect("has truth")
    } else {
        let wrong: Vec<&String> = cands.iter().filter(|c| !is_truth(req, c)).collect();
        if wrong.is_empty() { cands[0].clone() } else { wrong[rng.index(wrong.len())].clone() }
    };
    (choice, confidence(traits, right, rng), "its argument is the most careful.".into())
}

/// Checking an answer (`own` = self-check, else the first peer's): replies `wrong` or `ok`.
fn check(traits: &Traits, req: &AskRequest, rng: &mut Rng) -> (String, f64, String) {
    let (target, is_self) = match (&req.own, req.peers.first()) {
        (Some(o), _) => (o.answer.clone(), true),
        (None, Some(p)) => (p.answer.clone(), false),
        (None, None) => return ("ok".into(), 0.5, "nothing to check.".into()),
    };
    if traits.adversary != Adversary::None {
        return ("ok".into(), 0.9, "looks fine to me.".into());
    }
    let wrong = !is_truth(req, &target);
    let (recall, false_alarm) = if is_self {
        (traits.error_recall, traits.false_alarm)
    } else {
        (traits.judge_accuracy, (1.0 - traits.judge_accuracy) * 0.3)
    };
    let flag = rng.chance(if wrong { recall } else { false_alarm });
    let c = rng.range_f64(0.5, 0.9);
    if flag {
        ("wrong".into(), c, format!("{target} does not check out."))
    } else {
        ("ok".into(), c, format!("{target} checks out."))
    }
}

/// Volunteering for a request: a bid from the agent's own sense of its skill there.
fn bid(traits: &Traits, req: &AskRequest, rng: &mut Rng) -> (String, f64, String) {
    let s = p_correct(skill(traits, req), req.sim.difficulty);
    let b = match traits.calibration {
        Calibration::Informative => (s + 0.1 * rng.normal()).clamp(0.0, 1.0),
        Calibration::Overconfident => (s + 0.3 + 0.1 * rng.normal()).clamp(0.0, 1.0),
        Calibration::Random => rng.f64(),
    };
    let why = if s >= 0.75 { format!("{} is my area", req.sim.domain) } else { format!("{} is not really my area", req.sim.domain) };
    ("bid".into(), b, format!("I can try ({why})."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::SimContext;

    fn req(purpose: &str, id: u64) -> AskRequest {
        AskRequest {
            id,
            agent: 0,
            agent_name: "A".into(),
            role: String::new(),
            backend: crate::backend::Backend::Sim,
            purpose: purpose.into(),
            round: 0,
            question: "Q".into(),
            options: vec!["1".into(), "2".into(), "3".into()],
            format: "option".into(),
            instruction: String::new(),
            own: None,
            peers: vec![],
            sim: SimContext {
                truth: "A".into(),
                difficulty: 0.5,
                domain: "math".into(),
                distractors: vec!["B".into(), "C".into(), "D".into()],
                lure: 0.6,
                scripted: None,
            },
        }
    }

    fn rate(traits: &Traits, purpose: &str, mut f: impl FnMut(&mut AskRequest), ok: impl Fn(&AgentReply) -> bool) -> f64 {
        let n = 4000;
        let mut hits = 0;
        for id in 0..n {
            let mut r = req(purpose, id);
            f(&mut r);
            if ok(&reply(traits, &r, 9)) {
                hits += 1;
            }
        }
        hits as f64 / n as f64
    }

    #[test]
    fn accuracy_matches_trait_at_medium_difficulty() {
        let t = Traits { accuracy: 0.8, ..Traits::default() };
        let r = rate(&t, "answer", |_| {}, |a| a.answer.as_deref() == Some("A"));
        assert!((r - 0.8).abs() < 0.03, "{r}");
        let hard = rate(&t, "answer", |r| r.sim.difficulty = 0.9, |a| a.answer.as_deref() == Some("A"));
        assert!(hard < 0.6, "{hard}");
    }

    #[test]
    fn informative_confidence_separates_right_from_wrong() {
        let t = Traits::default();
        let (mut right, mut wrong) = (vec![], vec![]);
        for id in 0..2000 {
            let a = reply(&t, &req("answer", id), 1);
            if a.answer.as_deref() == Some("A") { right.push(a.conf()) } else { wrong.push(a.conf()) }
        }
        let m = |v: &Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
        assert!(m(&right) > m(&wrong) + 0.2);
    }

    #[test]
    fn easy_going_agents_conform_more_than_stubborn_ones() {
        let peers = vec![
            PeerView { agent: 1, name: "B".into(), answer: "B".into(), confidence: 0.8, explanation: String::new() },
            PeerView { agent: 2, name: "C".into(), answer: "B".into(), confidence: 0.8, explanation: String::new() },
        ];
        let set = |r: &mut AskRequest| {
            r.own = Some(PeerView { agent: 0, name: "A".into(), answer: "C".into(), confidence: 0.6, explanation: String::new() });
            r.peers = peers.clone();
        };
        let easy = Traits { conformity: 0.9, stubbornness: 0.1, ..Traits::default() };
        let stubborn = Traits { conformity: 0.2, stubbornness: 0.9, ..Traits::default() };
        let switched = |a: &AgentReply| a.answer.as_deref() == Some("B");
        let e = rate(&easy, "revise", set, switched);
        let s = rate(&stubborn, "revise", set, switched);
        assert!(e > s + 0.3, "easy {e} stubborn {s}");
    }

    #[test]
    fn colluders_agree_and_self_check_follows_recall() {
        let t = Traits { adversary: Adversary::Collude, ..Traits::default() };
        assert_eq!(reply(&t, &req("answer", 1), 0).answer.as_deref(), Some("B"));
        let t = Traits { error_recall: 0.9, false_alarm: 0.0, ..Traits::default() };
        let own_wrong = |r: &mut AskRequest| {
            r.own = Some(PeerView { agent: 0, name: "A".into(), answer: "C".into(), confidence: 0.6, explanation: String::new() })
        };
        let flagged = rate(&t, "check", own_wrong, |a| a.answer.as_deref() == Some("wrong"));
        assert!((flagged - 0.9).abs() < 0.03, "{flagged}");
    }

    #[test]
    fn messages_read_well() {
        let a = reply(&Traits::default(), &req("answer", 3), 0);
        assert!(a.text.contains(", confidence 0."), "{}", a.text);
        assert!(a.tokens > 100);
    }
}
