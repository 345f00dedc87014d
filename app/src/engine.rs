//! The app's bridge to the core engine: runs a scenario, and turns the result into the
//! `RunData` the views replay and the history stores.

use crate::cast::{AgentInfo, Cast};
use crate::run::RunData;
use council_core::scenario::Scenario;

/// "exact" for simulated agents only, "best-effort" with a local model, "recorded" with a
/// remote API (a replay then uses the recorded answers).
pub fn determinism(s: &Scenario) -> &'static str {
    if s.agents.iter().any(|a| a.backend.remote().is_some()) {
        "recorded"
    } else if s.agents.iter().any(|a| a.backend.local().is_some()) {
        "best-effort"
    } else {
        "exact"
    }
}

/// Backends a scenario would use other than simulated agents (what a link gate shows).
pub fn non_sim_backends(s: &Scenario) -> Vec<String> {
    let mut v: Vec<String> = s.agents.iter().filter(|a| !a.backend.is_sim()).map(|a| a.backend.to_string()).collect();
    v.sort();
    v.dedup();
    v
}

pub fn cast_of(s: &Scenario, seed: u64) -> Cast {
    let graph = council_core::topology::build(&s.topology, s.agents.len(), seed);
    let layered = matches!(s.topology.kind.as_str(), "chain" | "tree")
        || ["pipeline", "conductor", "centralized", "hierarchical"].iter().any(|k| s.mechanism.kind.contains(k));
    Cast {
        agents: s
            .agents
            .iter()
            .map(|a| AgentInfo { name: a.name.clone(), role: a.role.clone(), backend: a.backend.to_string() })
            .collect(),
        edges: graph.edges,
        layered,
    }
}

/// A run id unique in this browser: time plus a random suffix (never used by the run).
pub fn new_run_id(now_ms: f64) -> String {
    let r = (js_sys::Math::random() * 1e9) as u64;
    format!("{:x}-{r:x}", now_ms as u64)
}

pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Runs `s` with `seed` using simulated agents (the only backend this build drives in the
/// browser; LLM backends are gated before this is called).
pub fn run(s: &Scenario, seed: u64, id: String, created_ms: f64) -> Result<RunData, String> {
    run_with_policies(s, seed, id, created_ms, Default::default())
}

/// `run`, with named conductor policies the scenario may follow (loaded from storage by
/// the caller; see `policy_name`).
pub fn run_with_policies(s: &Scenario, seed: u64, id: String, created_ms: f64, policies: council_core::policy::Policies) -> Result<RunData, String> {
    let mut r = council_core::Run::with_policies(s, seed, policies).map_err(|e| e.to_string())?;
    council_core::engine::drive_simulated(&mut r);
    let res = r.result();
    let mut scenario = s.clone();
    scenario.seed = seed;
    Ok(RunData {
        name: format!("{} · seed {seed}", if s.title.is_empty() { "Untitled" } else { &s.title }),
        id,
        scenario: scenario.to_value(),
        seed,
        determinism: determinism(s).into(),
        cast: cast_of(s, seed),
        metrics: res.metrics.0.into_iter().collect(),
        log: res.log,
        created_ms,
    })
}

/// The trained policy a scenario's conductor is told to follow, if any.
pub fn policy_name(s: &Scenario) -> Option<String> {
    (s.mechanism.kind == "conductor").then(|| s.mechanism.params.get("policy")?.as_str().map(str::to_string)).flatten().filter(|n| !n.is_empty())
}

/// Metrics of one simulated run, for sweeps (no cast or log kept).
pub fn run_metrics(s: &Scenario, seed: u64) -> Result<Vec<(String, f64)>, String> {
    let res = council_core::run_simulated_seed(s, seed).map_err(|e| e.to_string())?;
    Ok(res.metrics.0.into_iter().collect())
}
