//! The scenario model: everything a run needs, as versioned serde JSON.
//!
//! A scenario is also what a share link carries, so every field has a default that is
//! skipped when serializing (short links) and `validate` bounds every size and value
//! (a decoded link can never ask for a huge allocation). The format is documented with
//! an example per field in docs/scenario-format.md.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The scenario format version this build writes. It reads every earlier version too,
/// upgrading it on the way in (`Scenario::upgrade`).
pub const SCENARIO_VERSION: u32 = 2;

/// Mechanism params that version 1 had and version 2 dropped: simulated costs that were
/// knobs and now emerge from what agents hold and check (see the mechanisms' docs).
const DROPPED_IN_V2: &[(&str, &[&str])] = &[
    ("architectures", &["load_penalty", "handoff_penalty", "merge_error"]),
    ("multirobot", &["context_penalty", "local_penalty", "conflict_penalty"]),
    ("conductor", &["load_penalty"]),
];

pub use crate::backend::Backend;
pub use crate::spec::{MAX_AGENTS, MAX_EDGES, MAX_TEXT, ScenarioError, Spec, check_range, check_unit, parse_params};
pub use crate::topology::Topology;
use crate::rng::{logit, sigmoid};
use crate::spec::err;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default = "version_one")]
    pub version: u32,
    /// Built-in id (`debate`, ...) when the scenario is or derives from a built-in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Gallery grouping: `deliberation`, `architectures`, `orchestration` or `engine`
    /// (models sharing the work inside the inference engine, token by token).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub family: String,
    /// One line for the gallery tile.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hook: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<PaperCard>,
    pub agents: Vec<Agent>,
    #[serde(default, skip_serializing_if = "Topology::is_default")]
    pub topology: Topology,
    pub mechanism: Spec,
    pub task: Spec,
    #[serde(default)]
    pub seed: u64,
    #[serde(default, skip_serializing_if = "UiHints::is_empty")]
    pub ui: UiHints,
    /// Prompt template overrides for LLM agents, by key (`system`, a purpose, or
    /// `<mechanism>.<purpose>`); see `prompt`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prompts: BTreeMap<String, String>,
}

fn version_one() -> u32 {
    SCENARIO_VERSION
}

/// What the paper did and what to look for, in the project's own words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperCard {
    pub paper: String,
    pub year: u32,
    pub link: String,
    /// What the paper did.
    pub summary: String,
    /// What to look for in this scenario.
    pub look_for: String,
    /// What Council's simulation of it reproduces, how big the effect comes out, and what
    /// the simulation leaves out.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub simulation: String,
}

/// One agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub name: String,
    /// Role or persona text (goes into LLM prompts; shown in the UI).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub role: String,
    /// Backend profile: `sim`, `local:<model-id>` or `remote:<profile>`.
    #[serde(default, skip_serializing_if = "Backend::is_sim")]
    pub backend: Backend,
    /// Which underlying model a simulated agent is a copy of: agents with the same name
    /// (or none) share most of their mistakes; different names err independently.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    #[serde(default, skip_serializing_if = "Traits::is_default")]
    pub traits: Traits,
}

/// How a simulated agent's stated confidence relates to being right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Calibration {
    /// Higher when right, lower when wrong.
    #[default]
    Informative,
    /// High whether right or wrong.
    Overconfident,
    /// Unrelated to being right.
    Random,
}

/// Adversarial behaviour of a simulated agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Adversary {
    #[default]
    None,
    /// Always pushes its own wrong answer with high confidence and never moves.
    FixedWrong,
    /// Like `fixed_wrong`, but all colluders push the same wrong answer.
    Collude,
}

/// How much easier checking a worked answer is than producing one, in log-odds.
pub const VERIFY_ADVANTAGE: f64 = 0.5;

/// Traits of a simulated agent (ignored by LLM backends). Each exists for a paper effect;
/// see `sim` and docs/scenario-format.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Traits {
    /// Probability that the agent's best guess on an item of medium difficulty (0.5) is
    /// right; harder items lower it (see `nature`).
    pub accuracy: f64,
    /// How its stated confidence relates to its belief in its answer.
    pub calibration: Calibration,
    /// Pull towards answers peers hold (weighted by their stated confidence), 0..1:
    /// social pressure, apart from whatever their arguments show.
    pub conformity: f64,
    /// Commitment to its own previous answer when revising, 0..1.
    pub stubbornness: f64,
    /// Chance to spot a flaw of medium subtlety in another agent's argument (judging,
    /// ranking, reviewing, being convinced). Unset: follows the agent's skill in the
    /// item's domain, a step easier than answering (`Traits::judging`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge_accuracy: Option<f64>,
    /// Chance to spot a flaw of medium subtlety in its own argument (reflection,
    /// self-checks). Unset: the agent's skill in the item's domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_recall: Option<f64>,
    /// Chance to object to a sound step when checking (its own or another's).
    pub false_alarm: f64,
    pub adversary: Adversary,
    /// Extra difficulty per doubling of the context it must hold beyond 250 tokens: long
    /// prompts (a whole task in one context, many peers' arguments) dilute attention.
    pub context_load: f64,
    /// How far this agent's mistakes depart from those of other copies of its model
    /// (persona prompting, sampling settings), 0..1: 0 shares them fully.
    pub diversity: f64,
    /// Per-domain accuracy overriding `accuracy` (e.g. {"math": 0.9}).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub expertise: BTreeMap<String, f64>,
}

impl Default for Traits {
    fn default() -> Self {
        Self {
            accuracy: 0.7,
            calibration: Calibration::Informative,
            conformity: 0.5,
            stubbornness: 0.3,
            judge_accuracy: None,
            error_recall: None,
            false_alarm: 0.1,
            adversary: Adversary::None,
            context_load: 0.05,
            diversity: 0.0,
            expertise: BTreeMap::new(),
        }
    }
}

impl Traits {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// Accuracy for an item of `domain`.
    pub fn skill(&self, domain: &str) -> f64 {
        self.expertise.get(domain).copied().unwrap_or(self.accuracy)
    }

    /// Chance to spot a medium flaw in someone else's argument in `domain`: the set value,
    /// or the domain skill made a step easier (checking a worked answer is easier than
    /// producing one: +1 in log-odds, so 0.5 → 0.73, 0.7 → 0.86, 0.3 → 0.54).
    pub fn judging(&self, domain: &str) -> f64 {
        self.judge_accuracy.unwrap_or_else(|| sigmoid(logit(self.skill(domain)) + VERIFY_ADVANTAGE))
    }

    /// Chance to spot a medium flaw in its own argument in `domain`: the set value, or the
    /// domain skill.
    pub fn self_checking(&self, domain: &str) -> f64 {
        self.error_recall.unwrap_or_else(|| self.skill(domain))
    }
}

/// Hints for the UI; `locked` names controls a classroom link keeps fixed
/// (paths as in sweeps, e.g. `mechanism.params.rounds`, or `agents`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiHints {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locked: Vec<String>,
    /// Initial view: `graph`, `timeline`, `transcript`, `metrics`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub view: String,
}

impl UiHints {
    fn is_empty(&self) -> bool {
        self.locked.is_empty() && self.view.is_empty()
    }
}

impl Scenario {
    /// Reads JSON text into a scenario without validating it (`Scenario::from_json`, in
    /// `registry`, validates too). Errors name the JSON path.
    pub fn deserialize_json(text: &str) -> Result<Self, ScenarioError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let s: Scenario = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let msg = strip_position(&inner.to_string());
            if path == "." || path.is_empty() {
                ScenarioError(format!("scenario: {msg}"))
            } else {
                ScenarioError(format!("{path}: {msg}"))
            }
        })?;
        s.upgrade()
    }

    /// Reads a JSON value into a scenario without validating it.
    pub fn deserialize_value(value: Value) -> Result<Self, ScenarioError> {
        let s: Scenario = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            ScenarioError(format!("{path}: {}", e.into_inner()))
        })?;
        s.upgrade()
    }

    /// Brings a scenario of an earlier format version to this one (files and links made by
    /// earlier builds keep opening); a version from the future is an error.
    pub fn upgrade(mut self) -> Result<Self, ScenarioError> {
        if self.version == 0 || self.version > SCENARIO_VERSION {
            return err(format!(
                "scenario version {} is not supported (this build reads versions 1 to {SCENARIO_VERSION})",
                self.version
            ));
        }
        if self.version < 2
            && let Some((_, dropped)) = DROPPED_IN_V2.iter().find(|(kind, _)| *kind == self.mechanism.kind)
            && let Some(params) = self.mechanism.params.as_object_mut()
        {
            for key in *dropped {
                params.remove(*key);
            }
        }
        self.version = SCENARIO_VERSION;
        Ok(self)
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("scenarios always serialize")
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("scenarios always serialize")
    }

    /// Checks every value and size that does not depend on the mechanism (whose params
    /// only the mechanism registry can read: `Scenario::validate` in `registry` runs both).
    pub fn check_shape(&self) -> Result<(), ScenarioError> {
        if self.version != SCENARIO_VERSION {
            return err(format!(
                "scenario version {} is not supported (this build reads version {SCENARIO_VERSION})",
                self.version
            ));
        }
        for (name, text) in [("title", &self.title), ("description", &self.description), ("hook", &self.hook)] {
            if text.len() > MAX_TEXT {
                return err(format!("{name}: longer than {MAX_TEXT} bytes"));
            }
        }
        if !self.family.is_empty() && !["deliberation", "architectures", "orchestration", "engine"].contains(&self.family.as_str()) {
            return err(format!(
                "unknown family \"{}\" (expected deliberation, architectures, orchestration or engine)",
                self.family
            ));
        }
        if self.agents.is_empty() {
            return err("agents: at least one agent is needed");
        }
        if self.agents.len() > MAX_AGENTS {
            return err(format!("agents: {} agents, at most {MAX_AGENTS}", self.agents.len()));
        }
        for (i, a) in self.agents.iter().enumerate() {
            validate_agent(i, a)?;
        }
        crate::topology::validate(&self.topology, self.agents.len())?;
        crate::tasks::validate(&self.task)?;
        for path in &self.ui.locked {
            if path.len() > 200 {
                return err("ui.locked: path longer than 200 bytes");
            }
        }
        if self.ui.locked.len() > 64 {
            return err("ui.locked: at most 64 paths");
        }
        crate::prompt::validate_overrides(&self.prompts).map_err(ScenarioError)?;
        Ok(())
    }
}

/// serde_json appends " at line X column Y"; for one-line errors the path is enough.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn validate_agent(i: usize, a: &Agent) -> Result<(), ScenarioError> {
    if a.name.trim().is_empty() {
        return err(format!("agent {i}: name is empty"));
    }
    if a.name.len() > 64 {
        return err(format!("agent {i}: name longer than 64 bytes"));
    }
    if a.role.len() > MAX_TEXT {
        return err(format!("agent {i}: role longer than {MAX_TEXT} bytes"));
    }
    if a.model.len() > 64 {
        return err(format!("agent {i}: model name longer than 64 bytes"));
    }
    let t = &a.traits;
    for (name, v) in [
        ("accuracy", t.accuracy),
        ("conformity", t.conformity),
        ("stubbornness", t.stubbornness),
        ("judge_accuracy", t.judge_accuracy.unwrap_or(0.5)),
        ("error_recall", t.error_recall.unwrap_or(0.5)),
        ("false_alarm", t.false_alarm),
        ("diversity", t.diversity),
        ("context_load", t.context_load),
    ] {
        check_unit(&format!("agent {i}: {name}"), v)?;
    }
    if t.expertise.len() > 32 {
        return err(format!("agent {i}: expertise has more than 32 domains"));
    }
    for (d, v) in &t.expertise {
        if d.len() > 64 {
            return err(format!("agent {i}: expertise domain name longer than 64 bytes"));
        }
        check_unit(&format!("agent {i}: expertise \"{d}\""), *v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Value {
        serde_json::json!({
            "agents": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
            "mechanism": {"kind": "debate", "params": {"rounds": 2}},
            "task": {"kind": "multiple_choice"},
            "seed": 7
        })
    }

    #[test]
    fn minimal_scenario_parses_with_defaults() {
        let s = Scenario::from_value(base()).unwrap();
        assert_eq!(s.version, SCENARIO_VERSION);
        assert_eq!(s.agents[1].backend, Backend::Sim);
        assert_eq!(s.topology.kind, "mesh");
        assert_eq!(s.agents[0].traits, Traits::default());
    }

    #[test]
    fn errors_name_the_field() {
        let mut v = base();
        v["mechanism"]["kind"] = "x".into();
        assert!(Scenario::from_value(v).unwrap_err().0.starts_with("unknown mechanism \"x\" (expected one of "));

        let mut v = base();
        v["agents"][2]["traits"] = serde_json::json!({"accuracy": 1.7});
        assert_eq!(Scenario::from_value(v).unwrap_err().0, "agent 2: accuracy 1.7 out of [0,1]");

        let mut v = base();
        v["agents"][0]["traits"] = serde_json::json!({"calibration": "psychic"});
        let e = Scenario::from_json(&v.to_string()).unwrap_err().0;
        assert!(e.starts_with("agents[0].traits.calibration: unknown variant `psychic`"), "{e}");

        let mut v = base();
        v["agents"][0]["backend"] = "gpt".into();
        let e = Scenario::from_value(v).unwrap_err().0;
        assert!(e.starts_with("agents[0].backend: backend \"gpt\" is not sim"), "{e}");

        let mut v = base();
        v["mechanism"]["params"]["rouds"] = 3.into();
        let e = Scenario::from_value(v).unwrap_err().0;
        assert!(e.contains("mechanism.params") && e.contains("rouds"), "{e}");

        let mut v = base();
        v["version"] = 9.into();
        assert!(Scenario::from_value(v).unwrap_err().0.contains("version 9 is not supported"));
    }

    #[test]
    fn a_hundred_agents_run_and_the_cap_is_named() {
        let mut v = base();
        v["agents"] = (0..100).map(|i| serde_json::json!({"name": format!("A{i}")})).collect::<Vec<_>>().into();
        v["topology"] = serde_json::json!({"kind": "ring"});
        let s = Scenario::from_value(v.clone()).unwrap();
        assert!(crate::registry::run_simulated_seed(&s, 1).is_ok());
        v["agents"] = (0..=MAX_AGENTS).map(|i| serde_json::json!({"name": format!("A{i}")})).collect::<Vec<_>>().into();
        assert_eq!(Scenario::from_value(v).unwrap_err().0, format!("agents: {} agents, at most {MAX_AGENTS}", MAX_AGENTS + 1));
    }

    #[test]
    fn serialization_skips_defaults_and_round_trips() {
        let s = Scenario::from_value(base()).unwrap();
        let text = serde_json::to_string(&s).unwrap();
        assert!(!text.contains("traits") && !text.contains("backend"), "{text}");
        assert_eq!(Scenario::from_json(&text).unwrap(), s);
    }
}
