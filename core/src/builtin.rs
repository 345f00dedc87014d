//! Built-in scenarios: JSON files under core/scenarios/, embedded at compile time.
//!
//! Each carries a paper card, a family and a one-line hook for the gallery. Adding one
//! is a JSON file plus its id in the mechanism's line of the `registered!` table
//! (core/src/mechanisms/mod.rs); the gallery shows them in that order.

use crate::registry::{builtin_sources, run_simulated};
use crate::scenario::Scenario;
use crate::spec::ScenarioError;

pub fn builtin_ids() -> Vec<&'static str> {
    builtin_sources().map(|(id, _)| id).collect()
}

/// The built-in scenario `id` (its `id` field is set to `id`).
pub fn builtin(id: &str) -> Result<Scenario, ScenarioError> {
    let (_, json) = builtin_sources()
        .find(|(i, _)| *i == id)
        .ok_or_else(|| ScenarioError(format!("unknown built-in scenario \"{id}\" (try one of {})", builtin_ids().join(", "))))?;
    let mut s = Scenario::from_json(json).map_err(|e| ScenarioError(format!("built-in {id}: {e}")))?;
    s.id = id.to_string();
    Ok(s)
}

/// All built-ins, parsed.
pub fn builtins() -> Vec<Scenario> {
    builtin_ids().into_iter().map(|id| builtin(id).expect("built-ins are valid")).collect()
}

/// (id, event-log hash) of every built-in run with simulated agents and its own seed.
/// The browser test compares these (computed in wasm) with `council run builtin:<id>`.
pub fn builtin_hashes() -> Vec<(String, String)> {
    builtins()
        .iter()
        .map(|s| (s.id.clone(), run_simulated(s).expect("built-ins are valid").log_hash))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_runs_and_has_a_card() {
        for s in builtins() {
            let card = s.card.as_ref().unwrap_or_else(|| panic!("{} has no card", s.id));
            assert!(card.link.starts_with("https://"), "{}", s.id);
            assert!(card.year >= 2020, "{}", s.id);
            assert!(!s.family.is_empty() && !s.hook.is_empty() && !s.title.is_empty(), "{}", s.id);
            let r = run_simulated(&s).unwrap();
            assert!(r.summary.error.is_none(), "{}: {:?}", s.id, r.summary.error);
            assert!(r.summary.final_answer.is_some(), "{} has no final decision", s.id);
            assert_eq!(r.log_hash, run_simulated(&s).unwrap().log_hash, "{} not repeatable", s.id);
        }
    }

    /// A card's figures are the ones docs/findings.md states (which the findings tests
    /// measure), so a card cannot quote a size the simulation no longer produces.
    #[test]
    fn cards_quote_only_measured_figures() {
        let doc = include_str!("../../docs/findings.md");
        for s in builtins() {
            let sim = &s.card.as_ref().unwrap().simulation;
            assert!(!sim.is_empty(), "{}: the card should say what the simulation shows and leaves out", s.id);
            for word in sim.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';')) {
                let w = word.trim_end_matches(['.', ':', '%', '×']);
                let figure = w.trim_start_matches(['+', '-']);
                // Figures are written like the findings rows: 0.123, +0.123, -0.123.
                if figure.len() == 5 && figure.starts_with("0.") && figure[2..].chars().all(|c| c.is_ascii_digit()) {
                    assert!(doc.contains(w), "{}: the card quotes {w}, which docs/findings.md does not state", s.id);
                }
            }
        }
    }

    #[test]
    fn unknown_builtin_lists_the_ids() {
        assert!(builtin("nope").unwrap_err().0.contains("debate"));
    }
}
