//! The top of core's scenario handling: full validation (shape plus the mechanism's own
//! params), starting runs, and the mechanism and built-in lookups.
//!
//! It sits above the scenario model, the engine and the mechanisms, so none of those
//! imports another upwards: `Scenario::from_json`, `Scenario::validate`, `Run::new` and
//! `Run::with_seed` are defined here because they need the mechanism table.

use serde_json::Value;

use crate::engine::{Run, RunResult, StartMechanism, drive_simulated};
use crate::mechanisms::{Entry, REGISTRY};
use crate::scenario::Scenario;
use crate::spec::ScenarioError;

/// Names of all registered mechanisms, in gallery order.
pub fn mechanism_kinds() -> Vec<&'static str> {
    REGISTRY.iter().map(|e| e.name).collect()
}

fn find(kind: &str) -> Result<&'static Entry, ScenarioError> {
    REGISTRY
        .iter()
        .find(|e| e.name == kind)
        .ok_or_else(|| ScenarioError(format!("unknown mechanism \"{kind}\" (expected one of {})", mechanism_kinds().join(", "))))
}

/// How to start the mechanism `kind`.
pub fn starter(kind: &str) -> Result<StartMechanism, ScenarioError> {
    Ok(find(kind)?.start)
}

/// The params of mechanism `kind` with every default filled in.
pub fn default_params(kind: &str) -> Result<Value, ScenarioError> {
    Ok((find(kind)?.defaults)())
}

/// (id, JSON text) of every built-in scenario, in gallery order.
pub fn builtin_sources() -> impl Iterator<Item = (&'static str, &'static str)> {
    REGISTRY.iter().flat_map(|e| e.builtins.iter().copied())
}

impl Scenario {
    /// Parses and validates JSON text.
    pub fn from_json(text: &str) -> Result<Self, ScenarioError> {
        let s = Scenario::deserialize_json(text)?;
        s.validate()?;
        Ok(s)
    }

    /// Parses and validates a JSON value.
    pub fn from_value(value: Value) -> Result<Self, ScenarioError> {
        let s = Scenario::deserialize_value(value)?;
        s.validate()?;
        Ok(s)
    }

    /// Checks every value and size, the mechanism's params included; the error names
    /// the field.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.check_shape()?;
        (find(&self.mechanism.kind)?.validate)(self)
    }
}

impl Run {
    /// Starts a run with the scenario's own seed. The scenario is validated first.
    pub fn new(scenario: &Scenario) -> Result<Self, ScenarioError> {
        Self::with_seed(scenario, scenario.seed)
    }

    /// Starts a run with `seed` instead of the scenario's.
    pub fn with_seed(scenario: &Scenario, seed: u64) -> Result<Self, ScenarioError> {
        scenario.validate()?;
        Run::start(scenario, seed, starter(&scenario.mechanism.kind)?)
    }

    /// Starts a run with `seed` and named policies the mechanism may follow (the
    /// conductor's `policy` param names one); policies the scenario does not name are
    /// ignored.
    pub fn with_policies(scenario: &Scenario, seed: u64, policies: crate::policy::Policies) -> Result<Self, ScenarioError> {
        scenario.validate()?;
        Run::start_with_policies(scenario, seed, starter(&scenario.mechanism.kind)?, policies)
    }
}

/// Runs a scenario to the end with simulated agents (its own seed).
pub fn run_simulated(scenario: &Scenario) -> Result<RunResult, ScenarioError> {
    run_simulated_seed(scenario, scenario.seed)
}

/// Runs a scenario to the end with simulated agents and `seed`.
pub fn run_simulated_seed(scenario: &Scenario, seed: u64) -> Result<RunResult, ScenarioError> {
    let mut run = Run::with_seed(scenario, seed)?;
    drive_simulated(&mut run);
    Ok(run.result())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_mechanism_is_named_with_the_choices() {
        let e = find("x").err().unwrap().0;
        assert!(e.starts_with("unknown mechanism \"x\" (expected one of self_consistency, debate"), "{e}");
    }

    /// docs/scenario-format.md's mechanism table names every registered mechanism with each
    /// of its params and their defaults, so the document cannot fall behind the code.
    #[test]
    fn the_scenario_format_documents_every_mechanism_and_param() {
        let doc = include_str!("../../docs/scenario-format.md");
        for kind in mechanism_kinds() {
            let row = doc.lines().find(|l| l.starts_with(&format!("| `{kind}` |"))).unwrap_or_else(|| panic!("docs/scenario-format.md has no row for `{kind}`"));
            let defaults = default_params(kind).unwrap();
            for (name, value) in defaults.as_object().unwrap() {
                let shown = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                assert!(row.contains(&format!("`{name}`")), "`{kind}` row does not name param `{name}`: {row}");
                assert!(row.contains(&shown), "`{kind}` row does not give `{name}`'s default {shown}: {row}");
            }
        }
    }

    #[test]
    fn every_builtin_names_a_registered_mechanism_of_its_own_entry() {
        for e in REGISTRY {
            for (id, json) in e.builtins {
                let s = Scenario::from_json(json).unwrap_or_else(|err| panic!("built-in {id}: {err}"));
                assert_eq!(s.mechanism.kind, e.name, "built-in {id} is listed under {}", e.name);
            }
        }
    }
}
