//! Metrics computed from the event log alone (so replays and exports agree with the
//! live view).
//!
//! Definitions (per run):
//! - `accuracy`: share of final decisions that are correct (1 or 0 for one problem).
//! - `consensus`: 1 if every agent's latest answer to the main question agrees at the end.
//! - `agreement`: share of agents holding the plurality answer at the end.
//! - `rounds_to_consensus`: first round in which all agents agreed (absent if never).
//! - `calls`, `tokens`, `messages` (message events), `deliveries` (message × recipients).
//! - `unparsed`: replies whose answer could not be read (kept raw in the log).
//! - `error_amplification`: final error rate ÷ mean error rate of agents' first answers
//!   (how much the organisation multiplies individual errors; absent if no first answer
//!   was wrong).
//! - `redundancy`: share of answers in a round that repeat an answer already given in
//!   that round for the same purpose (duplicated work).
//! - `overhead`: share of tokens spent on coordination (asks other than answer/solve).
//! - `conformity`: share of revisions in which an agent dropped its answer for the
//!   previous round's plurality answer.
//! - `right_to_wrong`, `wrong_to_right`: answer changes across rounds.
//! - `yield_to_wrong_majority`: of the revisions where an agent held the right answer
//!   while the previous round's plurality held a wrong one, the share in which it switched
//!   to that wrong plurality (conformity against the evidence).
//! - `influence.<agent>`: share of answer changes that adopted an answer this agent held
//!   in the round before (credit split among its holders).
//! - Any `metric` event a mechanism emitted: its last value, under its own name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{EventKind, EventLog};
use crate::tasks::normalize;

/// Named figures of one run; a `BTreeMap` so iteration order is stable everywhere.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Metrics(pub BTreeMap<String, f64>);

impl Metrics {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }
}

/// Purposes whose answers are an agent's opinion on the main question.
fn is_opinion(purpose: &str) -> bool {
    matches!(purpose, "answer" | "revise" | "reflect")
}

pub fn compute(log: &EventLog) -> Metrics {
    let mut m = BTreeMap::new();
    let mut finals = (0u32, 0u32);
    let (mut calls, mut tokens, mut coord_tokens, mut messages, mut deliveries) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut unparsed = 0u64;
    // Opinions per round per agent (last one in the round wins).
    let mut rounds: BTreeMap<u32, BTreeMap<u32, String>> = BTreeMap::new();
    let mut first_answer: BTreeMap<u32, bool> = BTreeMap::new();
    let mut groups: BTreeMap<(u32, String), Vec<String>> = BTreeMap::new();
    for e in log.events() {
        match &e.kind {
            EventKind::Ask { .. } => calls += 1,
            EventKind::Answer { agent, answer, tokens: t, correct, purpose, .. } => {
                tokens += u64::from(*t);
                unparsed += u64::from(answer.is_none());
                if purpose != "answer" && purpose != "solve" {
                    coord_tokens += u64::from(*t);
                }
                if (purpose == "answer" || purpose == "solve") && !first_answer.contains_key(agent)
                    && let Some(c) = correct {
                        first_answer.insert(*agent, *c);
                    }
                if let Some(a) = answer {
                    groups.entry((e.round, purpose.clone())).or_default().push(normalize(a));
                    if is_opinion(purpose) {
                        rounds.entry(e.round).or_default().insert(*agent, normalize(a));
                    }
                }
            }
            EventKind::Message { to, .. } => {
                messages += 1;
                deliveries += to.len() as u64;
            }
            EventKind::Decision { correct, is_final: true, .. } => {
                finals.1 += 1;
                if *correct == Some(true) {
                    finals.0 += 1;
                }
            }
            EventKind::Metric { name, value } => {
                m.insert(name.clone(), *value);
            }
            _ => {}
        }
    }
    let acc = if finals.1 > 0 { Some(f64::from(finals.0) / f64::from(finals.1)) } else { None };
    if let Some(a) = acc {
        m.insert("accuracy".into(), a);
    }
    m.insert("calls".into(), calls as f64);
    m.insert("tokens".into(), tokens as f64);
    m.insert("messages".into(), messages as f64);
    m.insert("deliveries".into(), deliveries as f64);
    m.insert("unparsed".into(), unparsed as f64);
    if tokens > 0 {
        m.insert("overhead".into(), coord_tokens as f64 / tokens as f64);
    }
    if let Some(a) = acc {
        let wrong_first = first_answer.values().filter(|c| !**c).count() as f64;
        if wrong_first > 0.0 {
            let individual = wrong_first / first_answer.len() as f64;
            m.insert("error_amplification".into(), (1.0 - a) / individual);
        }
    }
    let (mut dup, mut total) = (0usize, 0usize);
    for answers in groups.values() {
        let mut seen: Vec<&String> = Vec::new();
        for a in answers {
            total += 1;
            if seen.contains(&a) {
                dup += 1;
            } else {
                seen.push(a);
            }
        }
    }
    if total > 0 {
        m.insert("redundancy".into(), dup as f64 / total as f64);
    }
    opinion_dynamics(&rounds, log, &mut m);
    Metrics(m)
}

fn plurality_of(ops: &BTreeMap<u32, String>) -> Option<String> {
    let mut counts: Vec<(&String, usize)> = Vec::new();
    for a in ops.values() {
        match counts.iter_mut().find(|c| c.0 == a) {
            Some(c) => c.1 += 1,
            None => counts.push((a, 1)),
        }
    }
    let max = counts.iter().map(|c| c.1).max()?;
    let top: Vec<&(&String, usize)> = counts.iter().filter(|c| c.1 == max).collect();
    if top.len() == 1 { Some(top[0].0.clone()) } else { None }
}

fn opinion_dynamics(rounds: &BTreeMap<u32, BTreeMap<u32, String>>, log: &EventLog, m: &mut BTreeMap<String, f64>) {
    if rounds.is_empty() {
        return;
    }
    // Latest opinion per agent after each round (agents that skip a round keep theirs).
    let mut current: BTreeMap<u32, String> = BTreeMap::new();
    let mut prev: Option<BTreeMap<u32, String>> = None;
    let mut reached: Option<u32> = None;
    let (mut revisions, mut conform, mut r2w, mut w2r) = (0u32, 0u32, 0u32, 0u32);
    let (mut pulled, mut yielded) = (0u32, 0u32);
    let mut influence: BTreeMap<u32, f64> = BTreeMap::new();
    let mut changes = 0u32;
    let truth_of = truth_lookup(log);
    for (&round, ops) in rounds {
        for (&agent, a) in ops {
            if let Some(p) = &prev
                && let Some(old) = p.get(&agent) {
                    revisions += 1;
                    if let (Some(t), Some(top)) = (&truth_of, plurality_of(p))
                        && old == t && top != *t
                    {
                        pulled += 1;
                        yielded += u32::from(*a == top);
                    }
                    if old != a {
                        changes += 1;
                        if plurality_of(p).as_ref() == Some(a) {
                            conform += 1;
                        }
                        if let Some(t) = &truth_of {
                            if old == t && a != t {
                                r2w += 1;
                            }
                            if old != t && a == t {
                                w2r += 1;
                            }
                        }
                        let holders: Vec<u32> = p.iter().filter(|(g, x)| **g != agent && *x == a).map(|(g, _)| *g).collect();
                        for h in &holders {
                            *influence.entry(*h).or_default() += 1.0 / holders.len() as f64;
                        }
                    }
                }
            current.insert(agent, a.clone());
        }
        let first = current.values().next();
        if reached.is_none() && current.len() > 1 && current.values().all(|a| Some(a) == first) {
            reached = Some(round);
        }
        prev = Some(current.clone());
    }
    let n = current.len();
    if n > 0 {
        let top = plurality_of(&current);
        let holders = top.as_ref().map_or(0, |t| current.values().filter(|a| *a == t).count());
        let all = current.values().all(|a| Some(a) == current.values().next());
        m.insert("agreement".into(), holders.max(if n == 1 { 1 } else { 0 }) as f64 / n as f64);
        m.insert("consensus".into(), if all { 1.0 } else { 0.0 });
    }
    if let Some(r) = reached {
        m.insert("rounds_to_consensus".into(), f64::from(r));
    }
    if pulled > 0 {
        m.insert("yield_to_wrong_majority".into(), f64::from(yielded) / f64::from(pulled));
    }
    if revisions > 0 {
        m.insert("conformity".into(), f64::from(conform) / f64::from(revisions));
        m.insert("right_to_wrong".into(), f64::from(r2w));
        m.insert("wrong_to_right".into(), f64::from(w2r));
    }
    if changes > 0 {
        for (agent, v) in influence {
            m.insert(format!("influence.{agent}"), v / f64::from(changes));
        }
    }
}

/// The main question's truth, recovered from a correct opinion or decision in the log
/// (None if nobody was ever right, in which case no change is right↔wrong).
fn truth_lookup(log: &EventLog) -> Option<String> {
    log.events().iter().find_map(|e| match &e.kind {
        EventKind::Answer { answer: Some(a), correct: Some(true), purpose, .. } if is_opinion(purpose) => Some(normalize(a)),
        EventKind::Decision { answer, correct: Some(true), .. } => Some(normalize(answer)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;

    fn answer(log: &mut EventLog, round: u32, agent: u32, a: &str, right: bool, purpose: &str) {
        log.push(round, EventKind::Ask { agent, purpose: purpose.into(), prompt: String::new() });
        log.push(round, EventKind::Answer {
            agent,
            answer: Some(a.into()),
            confidence: Some(0.5),
            raw: String::new(),
            tokens: 10,
            correct: Some(right),
            purpose: purpose.into(),
        });
    }

    #[test]
    fn opinion_metrics_follow_the_log() {
        let mut log = EventLog::new();
        answer(&mut log, 0, 0, "A", true, "answer");
        answer(&mut log, 0, 1, "B", false, "answer");
        answer(&mut log, 0, 2, "B", false, "answer");
        answer(&mut log, 1, 0, "B", false, "revise");
        answer(&mut log, 1, 1, "B", false, "revise");
        answer(&mut log, 1, 2, "B", false, "revise");
        log.push(1, EventKind::Decision { answer: "B".into(), method: "majority".into(), correct: Some(false), is_final: true });
        let m = compute(&log);
        assert_eq!(m.get("accuracy"), Some(0.0));
        assert_eq!(m.get("consensus"), Some(1.0));
        assert_eq!(m.get("rounds_to_consensus"), Some(1.0));
        assert_eq!(m.get("calls"), Some(6.0));
        assert_eq!(m.get("tokens"), Some(60.0));
        assert_eq!(m.get("right_to_wrong"), Some(1.0));
        assert!((m.get("conformity").unwrap() - 1.0 / 3.0).abs() < 1e-12);
        // Agent 0 switched to B, held by agents 1 and 2 before.
        assert_eq!(m.get("influence.1"), Some(0.5));
        // 2 of 3 first answers wrong, final wrong: 1 / (2/3).
        assert!((m.get("error_amplification").unwrap() - 1.5).abs() < 1e-12);
        assert!((m.get("overhead").unwrap() - 0.5).abs() < 1e-12);
        // Round 0: B repeated once; round 1: B repeated twice → 3 of 6.
        assert!((m.get("redundancy").unwrap() - 0.5).abs() < 1e-12);
    }
}
