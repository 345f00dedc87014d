//! The ground floor of scenario checking: the one-line error type, the `{kind, params}`
//! pair that mechanisms and tasks are configured with, the size limits every decoded
//! scenario is held to, and the small range checks the modules above share.
//!
//! Nothing here knows what a mechanism, task or agent is, so every module can use it
//! without importing the scenario model (which would close an import circle).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Hard limits checked by validation (they keep decoded links and sweeps cheap).
/// 128 agents so the playground can run (not only replay) a 100-agent society; a full
/// mesh of 128 agents (16,256 edges) still fits `MAX_EDGES`.
pub const MAX_AGENTS: usize = 128;
pub const MAX_TEXT: usize = 4_000;
pub const MAX_EDGES: usize = 20_000;

/// A scenario that failed to parse or validate; `Display` is one line.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for ScenarioError {}

/// `Err(ScenarioError(msg))`.
pub fn err<T>(msg: impl Into<String>) -> Result<T, ScenarioError> {
    Err(ScenarioError(msg.into()))
}

/// A `{kind, params}` pair for mechanisms and tasks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub kind: String,
    #[serde(default = "empty_object", skip_serializing_if = "is_empty_object")]
    pub params: Value,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}
fn is_empty_object(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.is_empty())
}

impl Spec {
    pub fn new(kind: &str, params: Value) -> Self {
        Self { kind: kind.into(), params }
    }
}

/// `name value out of [0,1]` unless `v` is a number in [0, 1].
pub fn check_unit(name: &str, v: f64) -> Result<(), ScenarioError> {
    if !(0.0..=1.0).contains(&v) {
        return err(format!("{name} {v} out of [0,1]"));
    }
    Ok(())
}

/// `name value out of [lo,hi]` unless `lo <= v <= hi`.
pub fn check_range(name: &str, v: f64, lo: f64, hi: f64) -> Result<(), ScenarioError> {
    if !(lo..=hi).contains(&v) {
        return err(format!("{name} {v} out of [{lo},{hi}]"));
    }
    Ok(())
}

/// `mechanism.params.name value out of [lo,hi]` for whole-number mechanism params.
pub fn check_count(name: &str, v: u32, lo: u32, hi: u32) -> Result<(), ScenarioError> {
    if v < lo || v > hi {
        return err(format!("mechanism.params.{name} {v} out of [{lo},{hi}]"));
    }
    Ok(())
}

/// `mechanism.params.name "v" is not one of ...` unless `v` is allowed.
pub fn check_one_of(name: &str, v: &str, allowed: &[&str]) -> Result<(), ScenarioError> {
    if !allowed.contains(&v) {
        return err(format!("mechanism.params.{name} \"{v}\" is not one of {}", allowed.join(", ")));
    }
    Ok(())
}

/// Parses a `{kind, params}` params object into `T`, naming the path on error.
pub fn parse_params<T: serde::de::DeserializeOwned>(what: &str, params: &Value) -> Result<T, ScenarioError> {
    serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ScenarioError(format!("{what}.params: {inner}"))
        } else {
            ScenarioError(format!("{what}.params.{path}: {inner}"))
        }
    })
}
