//! A small hand-made debate log, used by unit tests of the views' pure logic and as the
//! demo run when no engine result is at hand. Three agents split between A and B, talk
//! for two rounds and agree on B (the correct answer).

use crate::cast::{AgentInfo, Cast};
use council_core::event::{EventKind, EventLog};

pub fn debate() -> (Cast, EventLog) {
    let names = ["Ada", "Basil", "Cleo"];
    let cast = Cast {
        agents: names
            .iter()
            .map(|n| AgentInfo { name: (*n).into(), role: "debater".into(), backend: "sim".into() })
            .collect(),
        edges: vec![(0, 1), (1, 0), (1, 2), (2, 1), (0, 2), (2, 0)],
        layered: false,
    };
    let mut log = EventLog::new();
    let rounds: [[(&str, f64); 3]; 3] =
        [[("A", 0.6), ("B", 0.8), ("B", 0.5)], [("B", 0.55), ("B", 0.85), ("B", 0.7)], [("B", 0.8), ("B", 0.9), ("B", 0.85)]];
    for (r, answers) in rounds.iter().enumerate() {
        let r = r as u32;
        log.push(r, EventKind::Note { text: format!("Round {r}") });
        for (i, (ans, conf)) in answers.iter().enumerate() {
            let i = i as u32;
            log.push(r, EventKind::Ask { agent: i, purpose: if r == 0 { "answer" } else { "revise" }.into(), prompt: "Which is larger, 2^10 or 10^3?\nA) 10^3  B) 2^10".into() });
            log.push(r, EventKind::Answer {
                agent: i,
                answer: Some((*ans).into()),
                confidence: Some(*conf),
                raw: format!("I pick **{ans}** (confidence {conf}) because 1024 > 1000."),
                tokens: 12 + i,
                correct: Some(*ans == "B"),
                purpose: if r == 0 { "answer" } else { "revise" }.into(),
            });
            let to: Vec<u32> = (0..3).filter(|j| *j != i).collect();
            log.push(r, EventKind::Message { from: i, to, msg_kind: if r == 0 { "answer" } else { "critique" }.into(), text: format!("My answer: {ans}") });
        }
        log.push(r, EventKind::Metric { name: "consensus".into(), value: if r == 0 { 0.67 } else { 1.0 } });
    }
    for i in 0..3u32 {
        log.push(2, EventKind::Vote { agent: i, answer: "B".into(), weight: [0.8, 0.9, 0.85][i as usize] });
    }
    log.push(2, EventKind::Decision { answer: "B".into(), method: "majority".into(), correct: Some(true), is_final: true });
    (cast, log)
}

/// The debate with a team structure on top: a graph rewired once, importance scores, a
/// pruned agent, groups, pairwise judgments, choices and a regret curve. `text` goes into
/// every free-text field (names of scores, reasons, labels, choices), for escaping tests.
#[cfg(test)]
pub fn structured(text: &str) -> (Cast, EventLog) {
    let (cast, mut log) = debate();
    log.push(0, EventKind::Graph { edges: vec![(0, 1), (1, 2)] });
    log.push(0, EventKind::Score { name: "importance".into(), agent: 0, value: 0.2 });
    log.push(0, EventKind::Score { name: "importance".into(), agent: 1, value: 0.9 });
    log.push(0, EventKind::Score { name: text.into(), agent: 2, value: -0.5 });
    log.push(0, EventKind::Judgment { judge: 2, a: 0, b: 1, winner: 1 });
    log.push(0, EventKind::Judgment { judge: 0, a: 1, b: 2, winner: 2 });
    log.push(1, EventKind::Graph { edges: vec![(1, 2), (2, 0)] });
    log.push(1, EventKind::Active { agent: 0, active: false, reason: text.into() });
    log.push(1, EventKind::Groups { groups: vec![vec![0, 1], vec![2]], label: text.into() });
    for (t, r) in [0.4, 0.7, 0.8].into_iter().enumerate() {
        log.push(2, EventKind::Choice { name: "topology".into(), value: if t == 2 { text.into() } else { "parallel".into() } });
        log.push(2, EventKind::Metric { name: "regret".into(), value: r });
    }
    (cast, log)
}
