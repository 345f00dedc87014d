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
        // serde keeps the last of two equal keys inside `params`; links refuse them, so
        // files do too (the typed parse below already refuses repeated struct fields).
        if let Err(e) = crate::strict_json::parse(text)
            && e.to_string().starts_with("duplicate key")
        {
            return err(format!("scenario: {}", strip_position(&e.to_string())));
        }
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
        check_line("title", &self.title, MAX_LINE)?;
        check_line("hook", &self.hook, MAX_LINE)?;
        check_text("description", &self.description, MAX_TEXT)?;
        check_line("id", &self.id, 64)?;
        if let Some(card) = &self.card {
            card.validate()?;
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
        if self.ui.locked.len() > 64 {
            return err("ui.locked: at most 64 paths");
        }
        for path in &self.ui.locked {
            check_line("ui.locked", path, 200)?;
        }
        check_line("ui.view", &self.ui.view, 32)?;
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

/// Longest one-line text (title, hook, paper title).
pub const MAX_LINE: usize = 300;
/// Longest paper-card link.
pub const MAX_URL: usize = 2_048;

/// A one-line field: at most `max` bytes and no control characters at all (names and
/// titles end up in terminals, where ESC sequences would act, and in one-line layouts).
pub fn check_line(name: &str, text: &str, max: usize) -> Result<(), ScenarioError> {
    if text.len() > max {
        return err(format!("{name}: longer than {max} bytes"));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return err(format!("{name}: control character {} is not allowed", c.escape_unicode()));
    }
    Ok(())
}

/// A multi-line field: at most `max` bytes; newlines and tabs, but no other control
/// characters (ESC, CR, DEL, the C1 range).
pub fn check_text(name: &str, text: &str, max: usize) -> Result<(), ScenarioError> {
    if text.len() > max {
        return err(format!("{name}: longer than {max} bytes"));
    }
    if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n' && c != '\t') {
        return err(format!("{name}: control character {} is not allowed", c.escape_unicode()));
    }
    Ok(())
}

impl PaperCard {
    /// Every field bounded and free of control characters; the link is an absolute
    /// `http(s)://` URL (it becomes an `<a href>` in the page: no `javascript:`, `data:`
    /// or relative links).
    pub fn validate(&self) -> Result<(), ScenarioError> {
        check_line("card.paper", &self.paper, MAX_LINE)?;
        if self.paper.trim().is_empty() {
            return err("card.paper: empty");
        }
        if !(1900..=2200).contains(&self.year) {
            return err(format!("card.year {} out of [1900,2200]", self.year));
        }
        check_url("card.link", &self.link)?;
        check_text("card.summary", &self.summary, MAX_TEXT)?;
        check_text("card.look_for", &self.look_for, MAX_TEXT)?;
        check_text("card.simulation", &self.simulation, MAX_TEXT)?;
        Ok(())
    }
}

/// An absolute `http://` or `https://` URL with a host, without spaces, control
/// characters, quotes or angle brackets.
pub fn check_url(name: &str, url: &str) -> Result<(), ScenarioError> {
    check_line(name, url, MAX_URL)?;
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        let shown: String = url.chars().take(24).collect();
        return err(format!("{name}: \"{shown}\" is not an http:// or https:// link"));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.starts_with('@') || host.starts_with(':') {
        return err(format!("{name}: the link has no host"));
    }
    if let Some(c) = url.chars().find(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\')) {
        return err(format!("{name}: character {} is not allowed in a link", c.escape_debug()));
    }
    Ok(())
}

fn validate_agent(i: usize, a: &Agent) -> Result<(), ScenarioError> {
    if a.name.trim().is_empty() {
        return err(format!("agent {i}: name is empty"));
    }
    check_line(&format!("agent {i}: name"), &a.name, 64)?;
    check_text(&format!("agent {i}: role"), &a.role, MAX_TEXT)?;
    check_line(&format!("agent {i}: model"), &a.model, 64)?;
    check_line(&format!("agent {i}: backend"), &a.backend.to_string(), crate::backend::MAX_BACKEND_NAME)?;
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
        check_line(&format!("agent {i}: expertise domain"), d, 64)?;
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
    fn card_links_are_http_only_and_every_card_field_is_bounded() {
        let card = |link: &str| {
            let mut v = base();
            v["card"] = serde_json::json!({"paper": "A paper", "year": 2023, "link": link, "summary": "s", "look_for": "l"});
            Scenario::from_value(v)
        };
        for ok in ["https://arxiv.org/abs/2305.14325", "http://example.org", "HTTPS://Example.org/a?b=c#d"] {
            assert!(card(ok).is_ok(), "{ok}");
        }
        for bad in ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,x", "//evil.example",
            "/relative", "https://", "https:///path", "https://@x", "ftp://x.org", "https://x.org/\"onmouseover=\"x", "https://x.org/<b>", "https://x.org/a b"] {
            assert!(card(bad).is_err(), "{bad} accepted");
        }
        assert!(card("javascript:alert(1)").unwrap_err().0.contains("is not an http:// or https:// link"));
        let big = |field: &str, text: String| {
            let mut v = base();
            v["card"] = serde_json::json!({"paper": "P", "year": 2023, "link": "https://x.org", "summary": "s", "look_for": "l"});
            v["card"][field] = text.into();
            Scenario::from_value(v).map(|_| ()).map_err(|e| e.0)
        };
        assert_eq!(big("summary", "x".repeat(7_000_000)).unwrap_err(), format!("card.summary: longer than {MAX_TEXT} bytes"));
        assert_eq!(big("look_for", "x".repeat(MAX_TEXT + 1)).unwrap_err(), format!("card.look_for: longer than {MAX_TEXT} bytes"));
        assert_eq!(big("paper", "x".repeat(MAX_LINE + 1)).unwrap_err(), format!("card.paper: longer than {MAX_LINE} bytes"));
        assert_eq!(big("link", format!("https://x.org/{}", "a".repeat(MAX_URL))).unwrap_err(), format!("card.link: longer than {MAX_URL} bytes"));
        assert!(big("summary", "two\nlines\tand a tab".into()).is_ok());
        assert!(big("summary", "bell \u{7}".into()).unwrap_err().contains("control character"));
        let mut v = base();
        v["card"] = serde_json::json!({"paper": "P", "year": 99999, "link": "https://x.org", "summary": "s", "look_for": "l"});
        assert!(Scenario::from_value(v).unwrap_err().0.contains("card.year 99999"));
    }

    #[test]
    fn names_and_titles_refuse_control_characters() {
        let with = |path: &[&str], text: &str| {
            let mut v = base();
            let mut node = &mut v;
            for p in &path[..path.len() - 1] {
                node = match p.parse::<usize>() {
                    Ok(i) => &mut node[i],
                    Err(_) => &mut node[*p],
                };
            }
            node[path[path.len() - 1]] = text.into();
            Scenario::from_value(v).map(|_| ()).map_err(|e| e.0)
        };
        let esc = "red \u{1b}[31m text";
        assert_eq!(with(&["agents", "0", "name"], esc).unwrap_err(), "agent 0: name: control character \\u{1b} is not allowed");
        assert!(with(&["title"], esc).unwrap_err().starts_with("title: control character"));
        assert!(with(&["title"], "line\nbreak").unwrap_err().starts_with("title: control character"));
        assert!(with(&["hook"], "\u{9b}31m").unwrap_err().starts_with("hook: control character"), "C1 CSI too");
        assert!(with(&["description"], esc).unwrap_err().starts_with("description: control character"));
        assert!(with(&["description"], "carriage\rreturn").is_err());
        assert!(with(&["description"], "Two\nparagraphs\n\n\tindented").is_ok());
        assert!(with(&["agents", "1", "role"], esc).unwrap_err().starts_with("agent 1: role: control character"));
        assert!(with(&["agents", "1", "backend"], "local:\u{1b}x").unwrap_err().starts_with("agent 1: backend: control character \\u{1b}"));
        assert!(with(&["title"], &"t".repeat(MAX_LINE + 1)).unwrap_err().contains("longer than"));
        assert!(with(&["title"], "Ünïcode titles — fine ✓").is_ok());
    }

    #[test]
    fn serialization_skips_defaults_and_round_trips() {
        let s = Scenario::from_value(base()).unwrap();
        let text = serde_json::to_string(&s).unwrap();
        assert!(!text.contains("traits") && !text.contains("backend"), "{text}");
        assert_eq!(Scenario::from_json(&text).unwrap(), s);
    }
}
