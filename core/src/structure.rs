//! A team's structure at a point of its log: the fold of the structure events (scores,
//! communication graph, active set, groups, pairwise judgments, choices, metric series)
//! over the first `cursor` events.
//!
//! Every mechanism reports its structure through the same event kinds, so one fold serves
//! every view (the app's graph and structure panel, the HTML export, the CLI): a mechanism
//! that emits `Score { name: "importance", .. }` gets node sizes without any view knowing it.
//! Agent ids are kept as logged; views skip ids outside their cast.

use crate::event::{AgentId, Event, EventKind};
use std::collections::{BTreeMap, BTreeSet};

/// The structure after applying `events[..cursor]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Structure {
    /// The communication graph set by the latest `Graph` event, if any yet; `(a, b)` means
    /// b sees a. Before the first one, views draw the scenario's topology.
    pub graph: Option<GraphState>,
    /// Agents currently out of the team, with the reason they gave (pruned, failed, ...).
    pub inactive: BTreeMap<AgentId, String>,
    /// Latest value per score name and agent.
    pub scores: BTreeMap<String, BTreeMap<AgentId, f64>>,
    /// The working groups set by the latest `Groups` event.
    pub groups: Option<GroupsState>,
    /// How often `judge` preferred `winner` over `loser`, keyed `(judge, winner, loser)`.
    pub judgments: BTreeMap<(AgentId, AgentId, AgentId), u32>,
    /// Choices so far, in log order.
    pub choices: Vec<ChoiceAt>,
    /// Named metric values so far, in log order, per name.
    pub metrics: BTreeMap<String, Vec<MetricAt>>,
}

/// The graph since a `Graph` event, and the one it replaced (for drawing the rewiring).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphState {
    pub edges: Vec<(AgentId, AgentId)>,
    /// Edges of the previous `Graph` event; `None` for the first one, which replaces the
    /// scenario's topology (views pass that to [`GraphState::rewiring`]).
    pub previous: Option<Vec<(AgentId, AgentId)>>,
    /// Sequence number of the event that set `edges`.
    pub seq: u64,
}

/// What the latest rewiring did to the edges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rewiring {
    pub kept: Vec<(AgentId, AgentId)>,
    pub added: Vec<(AgentId, AgentId)>,
    pub removed: Vec<(AgentId, AgentId)>,
}

impl GraphState {
    /// Kept, added and removed edges against the previous graph, or against `initial`
    /// (the scenario's topology) for the first `Graph` event.
    pub fn rewiring(&self, initial: &[(AgentId, AgentId)]) -> Rewiring {
        let before: BTreeSet<_> = self.previous.as_deref().unwrap_or(initial).iter().copied().collect();
        let now: BTreeSet<_> = self.edges.iter().copied().collect();
        Rewiring {
            kept: self.edges.iter().filter(|e| before.contains(e)).copied().collect(),
            added: self.edges.iter().filter(|e| !before.contains(e)).copied().collect(),
            removed: before.iter().filter(|e| !now.contains(e)).copied().collect(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupsState {
    pub groups: Vec<Vec<AgentId>>,
    pub label: String,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceAt {
    pub seq: u64,
    pub round: u32,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricAt {
    pub seq: u64,
    pub round: u32,
    pub value: f64,
}

/// Whether an event describes structure (anything but `Metric`, which every mechanism
/// may emit without having a structure to show).
pub fn is_structure_event(kind: &EventKind) -> bool {
    matches!(
        kind,
        EventKind::Score { .. }
            | EventKind::Graph { .. }
            | EventKind::Active { .. }
            | EventKind::Groups { .. }
            | EventKind::Judgment { .. }
            | EventKind::Choice { .. }
    )
}

/// Whether a log has any structure to show (the views add their structure panel then).
pub fn has_structure(events: &[Event]) -> bool {
    events.iter().any(|e| is_structure_event(&e.kind))
}

impl Structure {
    /// The structure after `events[..cursor]` (`cursor` is clamped to the log).
    pub fn at(events: &[Event], cursor: usize) -> Self {
        let mut s = Self::default();
        for e in &events[..cursor.min(events.len())] {
            s.apply(e);
        }
        s
    }

    /// Applies one event; events that carry no structure leave it as it is.
    pub fn apply(&mut self, e: &Event) {
        match &e.kind {
            EventKind::Score { name, agent, value } if value.is_finite() => {
                self.scores.entry(name.clone()).or_default().insert(*agent, *value);
            }
            EventKind::Graph { edges } => {
                let previous = self.graph.take().map(|g| g.edges);
                self.graph = Some(GraphState { edges: edges.clone(), previous, seq: e.seq });
            }
            EventKind::Active { agent, active, reason } => {
                if *active {
                    self.inactive.remove(agent);
                } else {
                    self.inactive.insert(*agent, reason.clone());
                }
            }
            EventKind::Groups { groups, label } => {
                self.groups = Some(GroupsState { groups: groups.clone(), label: label.clone(), seq: e.seq });
            }
            EventKind::Judgment { judge, a, b, winner } => {
                // A winner that is neither compared answer is a malformed event: not counted.
                let loser = if winner == a {
                    b
                } else if winner == b {
                    a
                } else {
                    return;
                };
                if loser != winner {
                    *self.judgments.entry((*judge, *winner, *loser)).or_default() += 1;
                }
            }
            EventKind::Choice { name, value } => {
                self.choices.push(ChoiceAt { seq: e.seq, round: e.round, name: name.clone(), value: value.clone() });
            }
            EventKind::Metric { name, value } if value.is_finite() => {
                self.metrics.entry(name.clone()).or_default().push(MetricAt { seq: e.seq, round: e.round, value: *value });
            }
            _ => {}
        }
    }

    pub fn is_active(&self, agent: AgentId) -> bool {
        !self.inactive.contains_key(&agent)
    }

    /// Agents that judged at least one pair.
    pub fn judges(&self) -> BTreeSet<AgentId> {
        self.judgments.keys().map(|k| k.0).collect()
    }

    /// Agents that appear in a judgment (as winner or loser), sorted.
    pub fn judged(&self) -> Vec<AgentId> {
        let s: BTreeSet<AgentId> = self.judgments.keys().flat_map(|k| [k.1, k.2]).collect();
        s.into_iter().collect()
    }

    /// Times `winner` was preferred over `loser`, by `judge` or by every judge.
    pub fn wins(&self, judge: Option<AgentId>, winner: AgentId, loser: AgentId) -> u32 {
        match judge {
            Some(j) => self.judgments.get(&(j, winner, loser)).copied().unwrap_or(0),
            None => self.judgments.iter().filter(|((_, w, l), _)| *w == winner && *l == loser).map(|(_, n)| *n).sum(),
        }
    }

    /// Share of the comparisons between the two that `winner` won (None when never compared).
    pub fn win_share(&self, judge: Option<AgentId>, winner: AgentId, loser: AgentId) -> Option<f64> {
        let w = self.wins(judge, winner, loser);
        let total = w + self.wins(judge, loser, winner);
        (total > 0).then(|| f64::from(w) / f64::from(total))
    }

    /// The latest value of score `name` for `agent`.
    pub fn score(&self, name: &str, agent: AgentId) -> Option<f64> {
        self.scores.get(name)?.get(&agent).copied()
    }
}

/// A metric's values over the whole log, with the x each is drawn at: its round when
/// rounds strictly increase along the series (one value per round, or per task when
/// each task is a round), else its position in the series (1, 2, ...). Computed over the
/// whole log so the axis stays put while the cursor moves.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub name: String,
    /// "round" or "step".
    pub x_label: &'static str,
    /// (sequence number of the event, x, value).
    pub points: Vec<(u64, f64, f64)>,
}

impl Curve {
    /// The points logged before `cursor`.
    pub fn upto(&self, cursor: usize) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.points.iter().take_while(move |p| (p.0 as usize) < cursor).map(|p| (p.1, p.2))
    }
}

/// Every metric with at least two values in the log, as curves.
pub fn curves(events: &[Event]) -> Vec<Curve> {
    let all = Structure::at(events, events.len());
    all.metrics
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(name, v)| {
            let by_round = v.windows(2).all(|w| w[0].round < w[1].round);
            let points = v
                .iter()
                .enumerate()
                .map(|(i, m)| (m.seq, if by_round { f64::from(m.round) } else { (i + 1) as f64 }, m.value))
                .collect();
            Curve { name, x_label: if by_round { "round" } else { "step" }, points }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventLog;

    /// A log with every structure event kind: a graph that is rewired, a pruned agent,
    /// groups, judgments by two judges, scores that change, choices and a regret metric.
    fn log() -> EventLog {
        let mut l = EventLog::new();
        l.push(0, EventKind::Graph { edges: vec![(0, 1), (1, 2)] });
        l.push(0, EventKind::Score { name: "importance".into(), agent: 0, value: 0.2 });
        l.push(0, EventKind::Score { name: "importance".into(), agent: 1, value: 0.8 });
        l.push(0, EventKind::Judgment { judge: 2, a: 0, b: 1, winner: 1 });
        l.push(0, EventKind::Judgment { judge: 2, a: 1, b: 0, winner: 1 });
        l.push(0, EventKind::Judgment { judge: 0, a: 0, b: 1, winner: 0 });
        l.push(0, EventKind::Judgment { judge: 0, a: 0, b: 1, winner: 7 });
        l.push(0, EventKind::Metric { name: "regret".into(), value: 0.5 });
        l.push(0, EventKind::Choice { name: "topology".into(), value: "parallel".into() });
        l.push(1, EventKind::Graph { edges: vec![(1, 2), (2, 0)] });
        l.push(1, EventKind::Active { agent: 0, active: false, reason: "pruned: low importance".into() });
        l.push(1, EventKind::Groups { groups: vec![vec![0, 1], vec![2]], label: "subtask".into() });
        l.push(1, EventKind::Score { name: "importance".into(), agent: 0, value: f64::NAN });
        l.push(1, EventKind::Score { name: "importance".into(), agent: 1, value: 0.4 });
        l.push(1, EventKind::Metric { name: "regret".into(), value: 0.9 });
        l.push(1, EventKind::Metric { name: "regret".into(), value: 1.1 });
        l.push(2, EventKind::Active { agent: 0, active: true, reason: String::new() });
        l.push(2, EventKind::Choice { name: "topology".into(), value: "sequential".into() });
        l.push(2, EventKind::Metric { name: "accuracy".into(), value: 1.0 });
        l
    }

    #[test]
    fn nothing_before_the_first_event_everything_at_the_end() {
        let l = log();
        assert_eq!(Structure::at(l.events(), 0), Structure::default());
        let end = Structure::at(l.events(), usize::MAX);
        assert_eq!(end, Structure::at(l.events(), l.len()));
        assert_eq!(end.graph.as_ref().unwrap().edges, vec![(1, 2), (2, 0)]);
        assert!(end.is_active(0), "agent 0 rejoined");
        assert_eq!(end.choices.iter().map(|c| c.value.as_str()).collect::<Vec<_>>(), ["parallel", "sequential"]);
        assert!(has_structure(l.events()));
        assert!(!has_structure(&l.events()[7..8]), "a metric alone is no structure");
    }

    #[test]
    fn rewiring_knows_what_it_added_removed_and_kept() {
        let l = log();
        let first = Structure::at(l.events(), 1).graph.unwrap();
        assert_eq!(first.previous, None);
        let r = first.rewiring(&[(1, 2), (2, 1)]);
        assert_eq!((r.kept, r.added, r.removed), (vec![(1, 2)], vec![(0, 1)], vec![(2, 1)]), "the first graph replaces the topology");
        let g = Structure::at(l.events(), 10).graph.unwrap();
        assert_eq!(g.seq, 9);
        let r = g.rewiring(&[(2, 1)]);
        assert_eq!((r.kept, r.added, r.removed), (vec![(1, 2)], vec![(2, 0)], vec![(0, 1)]), "later ones replace the previous graph");
    }

    #[test]
    fn scores_keep_the_latest_finite_value_per_name_and_agent() {
        let l = log();
        let mid = Structure::at(l.events(), 3);
        assert_eq!(mid.score("importance", 1), Some(0.8));
        let end = Structure::at(l.events(), l.len());
        assert_eq!(end.score("importance", 0), Some(0.2), "NaN does not overwrite");
        assert_eq!(end.score("importance", 1), Some(0.4));
        assert_eq!(end.score("reputation", 1), None);
    }

    #[test]
    fn active_set_follows_prune_and_rejoin_with_the_reason() {
        let l = log();
        let s = Structure::at(l.events(), 11);
        assert!(!s.is_active(0));
        assert_eq!(s.inactive.get(&0).map(String::as_str), Some("pruned: low importance"));
        assert!(s.is_active(1));
    }

    #[test]
    fn judgments_count_per_judge_and_in_total_ignoring_bad_winners() {
        let s = Structure::at(log().events(), usize::MAX);
        assert_eq!(s.judges().into_iter().collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(s.judged(), vec![0, 1]);
        assert_eq!(s.wins(None, 1, 0), 2);
        assert_eq!(s.wins(Some(2), 1, 0), 2);
        assert_eq!(s.wins(Some(0), 1, 0), 0);
        assert_eq!(s.wins(None, 0, 1), 1, "the judgment naming agent 7 as winner is not counted");
        assert_eq!(s.win_share(None, 1, 0), Some(2.0 / 3.0));
        assert_eq!(s.win_share(Some(0), 0, 1), Some(1.0));
        assert_eq!(s.win_share(None, 0, 2), None);
    }

    #[test]
    fn groups_are_the_latest_set() {
        let l = log();
        assert!(Structure::at(l.events(), 11).groups.is_none());
        let g = Structure::at(l.events(), 12).groups.unwrap();
        assert_eq!((g.groups, g.label.as_str(), g.seq), (vec![vec![0, 1], vec![2]], "subtask", 11));
    }

    #[test]
    fn curves_use_rounds_when_they_increase_else_steps_and_cut_at_the_cursor() {
        let l = log();
        let c = curves(l.events());
        assert_eq!(c.len(), 1, "accuracy has one value: no curve");
        let regret = &c[0];
        assert_eq!(regret.name, "regret");
        // Two values in round 1: rounds do not increase along the series, so steps.
        assert_eq!(regret.x_label, "step");
        assert_eq!(regret.points.iter().map(|p| (p.1, p.2)).collect::<Vec<_>>(), vec![(1.0, 0.5), (2.0, 0.9), (3.0, 1.1)]);
        assert_eq!(regret.upto(15).count(), 2);
        assert_eq!(regret.upto(0).count(), 0);
        let mut per_round = EventLog::new();
        for r in 0..3 {
            per_round.push(r, EventKind::Metric { name: "regret".into(), value: f64::from(r) });
        }
        assert_eq!(curves(per_round.events())[0].x_label, "round");
    }
}
