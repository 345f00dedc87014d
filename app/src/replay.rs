//! Replay: what the run looks like after the first `cursor` events of its log.
//!
//! Every view (graph, timeline markers, transcript, metrics plots) reads these pure
//! functions of the event log, so scrubbing and replay show exactly what the run did.
//! `cursor` counts applied events: 0 shows nothing, `events.len()` shows the whole run.

use council_core::event::{AgentId, Event, EventKind};
use std::collections::BTreeMap;

/// One agent as seen at a point of the replay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentState {
    pub answer: Option<String>,
    pub confidence: Option<f64>,
    /// Weight of the agent's latest vote (reputation / influence where the mechanism has it).
    pub weight: Option<f64>,
    /// The agent's last reply could not be parsed, or it reported an error.
    pub trouble: bool,
}

/// A message in flight, for the graph's animation.
#[derive(Debug, Clone, PartialEq)]
pub struct Flight {
    pub seq: u64,
    pub from: AgentId,
    pub to: Vec<AgentId>,
    pub kind: String,
}

/// The state after applying `events[..cursor]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    pub agents: Vec<AgentState>,
    pub round: u32,
    /// The latest collective decision: answer and whether it was right (when known).
    pub decision: Option<(String, Option<bool>)>,
    /// Agent the current event is about (asked, answering, sending, voting).
    pub active: Option<AgentId>,
    /// Messages among the last `trail` events, newest last.
    pub flights: Vec<Flight>,
}

/// How many trailing events keep their message dots on screen.
pub const TRAIL: usize = 4;

/// The agent an event concerns, if any.
pub fn actor(kind: &EventKind) -> Option<AgentId> {
    match kind {
        EventKind::Ask { agent, .. }
        | EventKind::Answer { agent, .. }
        | EventKind::Vote { agent, .. }
        | EventKind::Rank { agent, .. } => Some(*agent),
        EventKind::Message { from, .. } => Some(*from),
        EventKind::Error { agent, .. } => *agent,
        _ => None,
    }
}

/// Applies `events[..cursor]` to a fresh frame of `n_agents` agents. Ids outside the cast
/// are ignored (a hand-edited log must not crash the view).
pub fn frame_at(events: &[Event], n_agents: usize, cursor: usize) -> Frame {
    let cursor = cursor.min(events.len());
    let mut f = Frame { agents: vec![AgentState::default(); n_agents], ..Frame::default() };
    for e in &events[..cursor] {
        apply(&mut f, e);
    }
    if cursor > 0 {
        let cur = &events[cursor - 1];
        f.active = actor(&cur.kind).filter(|a| (*a as usize) < n_agents);
        for e in &events[cursor.saturating_sub(TRAIL)..cursor] {
            if let EventKind::Message { from, to, msg_kind, .. } = &e.kind
                && (*from as usize) < n_agents
            {
                let to: Vec<_> = to.iter().copied().filter(|t| (*t as usize) < n_agents).collect();
                f.flights.push(Flight { seq: e.seq, from: *from, to, kind: msg_kind.clone() });
            }
        }
    }
    f
}

fn apply(f: &mut Frame, e: &Event) {
    f.round = e.round;
    let slot = |f: &mut Frame, a: AgentId| -> Option<usize> {
        let i = a as usize;
        (i < f.agents.len()).then_some(i)
    };
    match &e.kind {
        EventKind::Answer { agent, answer, confidence, .. } => {
            if let Some(i) = slot(f, *agent) {
                let s = &mut f.agents[i];
                s.trouble = answer.is_none();
                if answer.is_some() {
                    s.answer = answer.clone();
                    s.confidence = *confidence;
                }
            }
        }
        EventKind::Vote { agent, weight, .. } => {
            if let Some(i) = slot(f, *agent) {
                f.agents[i].weight = Some(*weight);
            }
        }
        EventKind::Error { agent: Some(agent), .. } => {
            if let Some(i) = slot(f, *agent) {
                f.agents[i].trouble = true;
            }
        }
        EventKind::Decision { answer, correct, .. } => {
            f.decision = Some((answer.clone(), *correct));
        }
        _ => {}
    }
}

/// Landmarks of a log for the timeline: where rounds start, the first disagreement,
/// consensus, decisions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Landmarks {
    /// (round, cursor that shows the round's first event).
    pub rounds: Vec<(u32, usize)>,
    /// Cursor at which two agents first hold different answers.
    pub first_disagreement: Option<usize>,
    /// Cursor at which every agent first holds the same answer, after all have answered.
    pub consensus: Option<usize>,
    pub decisions: Vec<usize>,
}

pub fn landmarks(events: &[Event], n_agents: usize) -> Landmarks {
    let mut lm = Landmarks::default();
    let mut answers: Vec<Option<&str>> = vec![None; n_agents];
    for (i, e) in events.iter().enumerate() {
        if lm.rounds.last().is_none_or(|(r, _)| *r != e.round) {
            lm.rounds.push((e.round, i + 1));
        }
        match &e.kind {
            EventKind::Answer { agent, answer: Some(a), .. } if (*agent as usize) < n_agents => {
                answers[*agent as usize] = Some(a.as_str());
                let mut present = answers.iter().flatten();
                let first = present.next();
                let differs = present.any(|a| Some(a) != first);
                if differs && lm.first_disagreement.is_none() {
                    lm.first_disagreement = Some(i + 1);
                }
                if !differs && lm.consensus.is_none() && answers.iter().all(Option::is_some) {
                    lm.consensus = Some(i + 1);
                }
            }
            EventKind::Decision { .. } => lm.decisions.push(i + 1),
            _ => {}
        }
    }
    lm
}

/// Figures a run's log gives directly (the core's metrics add the mechanism's own).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub events: usize,
    pub rounds: u32,
    pub asks: usize,
    pub answers: usize,
    pub unparsed: usize,
    pub messages: usize,
    pub tokens: u64,
    pub errors: usize,
    /// Times an agent's answer changed from its previous one.
    pub changes: usize,
    pub decision: Option<(String, Option<bool>)>,
}

pub fn totals(events: &[Event]) -> Totals {
    let mut t = Totals { events: events.len(), ..Totals::default() };
    let mut last: BTreeMap<AgentId, String> = BTreeMap::new();
    for e in events {
        t.rounds = t.rounds.max(e.round);
        match &e.kind {
            EventKind::Ask { .. } => t.asks += 1,
            EventKind::Answer { agent, answer, tokens, .. } => {
                t.answers += 1;
                t.tokens += u64::from(*tokens);
                match answer {
                    None => t.unparsed += 1,
                    Some(a) => {
                        if last.insert(*agent, a.clone()).is_some_and(|prev| &prev != a) {
                            t.changes += 1;
                        }
                    }
                }
            }
            EventKind::Message { .. } => t.messages += 1,
            EventKind::Error { .. } => t.errors += 1,
            EventKind::Decision { answer, correct, .. } => t.decision = Some((answer.clone(), *correct)),
            _ => {}
        }
    }
    t
}

/// Each agent's confidence at the end of every round it answered in: `[agent] -> [(round, c)]`.
pub fn confidence_series(events: &[Event], n_agents: usize) -> Vec<Vec<(u32, f64)>> {
    let mut out = vec![Vec::<(u32, f64)>::new(); n_agents];
    for e in events {
        if let EventKind::Answer { agent, confidence: Some(c), answer: Some(_), .. } = &e.kind
            && let Some(s) = out.get_mut(*agent as usize)
        {
            match s.last_mut() {
                Some(last) if last.0 == e.round => last.1 = *c,
                _ => s.push((e.round, *c)),
            }
        }
    }
    out
}

/// Named metric events as series over rounds (last value per round wins).
pub fn metric_series(events: &[Event]) -> BTreeMap<String, Vec<(u32, f64)>> {
    let mut out: BTreeMap<String, Vec<(u32, f64)>> = BTreeMap::new();
    for e in events {
        if let EventKind::Metric { name, value } = &e.kind {
            if !value.is_finite() {
                continue;
            }
            let s = out.entry(name.clone()).or_default();
            match s.last_mut() {
                Some(last) if last.0 == e.round => last.1 = *value,
                _ => s.push((e.round, *value)),
            }
        }
    }
    out
}

/// Per-round share of agents whose current answer is correct. Uses the correctness the
/// log records on answers; for older logs, the answer of a decision marked correct.
/// `None` when the log cannot tell.
pub fn accuracy_by_round(events: &[Event], n_agents: usize) -> Option<Vec<(u32, f64)>> {
    if n_agents == 0 {
        return None;
    }
    let marked = events.iter().any(|e| matches!(e.kind, EventKind::Answer { correct: Some(_), .. }));
    let truth = events.iter().find_map(|e| match &e.kind {
        EventKind::Decision { answer, correct: Some(true), .. } => Some(answer.clone()),
        _ => None,
    });
    if !marked && truth.is_none() {
        return None;
    }
    let mut right: Vec<bool> = vec![false; n_agents];
    let mut out: Vec<(u32, f64)> = Vec::new();
    for e in events {
        if let EventKind::Answer { agent, answer, correct, .. } = &e.kind {
            let Some(slot) = right.get_mut(*agent as usize) else { continue };
            if marked {
                match correct {
                    Some(c) => *slot = *c,
                    None => continue, // a plan or bid: not an opinion on the question
                }
            } else {
                *slot = answer.is_some() && answer.as_deref() == truth.as_deref();
            }
            let acc = right.iter().filter(|r| **r).count() as f64 / n_agents as f64;
            match out.last_mut() {
                Some(last) if last.0 == e.round => last.1 = acc,
                _ => out.push((e.round, acc)),
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn frames_replay_answers_and_flights_in_order() {
        let (cast, log) = fixture::debate();
        let ev = log.events();
        let n = cast.agents.len();
        assert_eq!(frame_at(ev, n, 0), Frame { agents: vec![AgentState::default(); n], ..Frame::default() });
        let end = frame_at(ev, n, ev.len());
        assert!(end.agents.iter().all(|a| a.answer.as_deref() == Some("B")));
        assert_eq!(end.decision, Some(("B".into(), Some(true))));
        // Replaying is a pure function of (log, cursor): same input, same frame.
        for c in 0..=ev.len() {
            assert_eq!(frame_at(ev, n, c), frame_at(ev, n, c));
        }
        let with_flight = (1..=ev.len()).find(|&c| matches!(ev[c - 1].kind, EventKind::Message { .. })).unwrap();
        assert_eq!(frame_at(ev, n, with_flight).flights.last().unwrap().seq, (with_flight - 1) as u64);
    }

    #[test]
    fn landmarks_find_disagreement_then_consensus() {
        let (cast, log) = fixture::debate();
        let lm = landmarks(log.events(), cast.agents.len());
        let d = lm.first_disagreement.expect("the fixture starts split");
        let c = lm.consensus.expect("the fixture converges");
        assert!(d < c);
        assert_eq!(lm.rounds.first().map(|r| r.0), Some(0));
        assert!(lm.rounds.len() >= 2);
        assert_eq!(lm.decisions.len(), 1);
    }

    #[test]
    fn out_of_range_agents_are_ignored_not_fatal() {
        let mut log = council_core::event::EventLog::new();
        log.push(0, EventKind::Answer { agent: 99, answer: Some("A".into()), confidence: None, raw: "A".into(), tokens: 1, correct: None, purpose: String::new() });
        log.push(0, EventKind::Message { from: 99, to: vec![0], msg_kind: "answer".into(), text: "A".into() });
        let f = frame_at(log.events(), 2, 2);
        assert!(f.flights.is_empty() && f.agents.iter().all(|a| a.answer.is_none()));
        assert_eq!(landmarks(log.events(), 2).consensus, None);
    }

    #[test]
    fn totals_and_series_count_what_happened() {
        let (cast, log) = fixture::debate();
        let t = totals(log.events());
        assert!(t.tokens > 0 && t.messages > 0 && t.changes >= 1);
        let acc = accuracy_by_round(log.events(), cast.agents.len()).unwrap();
        assert!(acc.first().unwrap().1 < acc.last().unwrap().1, "{acc:?}");
        assert_eq!(acc.last().unwrap().1, 1.0);
        let conf = confidence_series(log.events(), cast.agents.len());
        assert!(conf.iter().all(|s| !s.is_empty()));
    }
}
