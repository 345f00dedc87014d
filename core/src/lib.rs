//! Council's coordination core: pure Rust, no IO, no clocks, no global RNG.
//!
//! Everything here compiles to native and to wasm32 and gives bit-identical results on
//! both (all transcendental math goes through `libm`, all maps are `BTreeMap`s, all
//! randomness is `rng::Rng` seeded from the scenario).
//!
//! # Public API (what the app and the CLI build against)
//!
//! Scenarios
//! - [`Scenario`] (serde, versioned): `Scenario::from_json(&str)`, `from_value`,
//!   `validate()`, `to_json_pretty()`. Errors are one line ([`ScenarioError`]), e.g.
//!   `unknown mechanism "x"`, `agent 3: accuracy 1.7 out of [0,1]`.
//! - Built-ins: [`builtin_ids()`], [`builtin(id)`](builtin), [`builtins()`],
//!   [`builtin_hashes()`] → `Vec<(id, log_hash)>` for the cross-target test.
//! - Registries: [`mechanism_kinds()`], [`task_kinds()`], [`topology::TOPOLOGY_KINDS`].
//! - Graph of a scenario: `topology::build(&scenario.topology, n_agents, seed) -> Graph`
//!   (`graph.edges`, `graph.sees(a)`, `graph.seen_by(a)`).
//!
//! Running (driver-facing; one `Run` per run, single-threaded, not `Send`)
//! - `let mut run = Run::new(&scenario)?;` (or `Run::with_seed(&scenario, seed)`)
//! - loop: `if run.is_done() { break }`; `run.pending_asks() -> &[AskRequest]`; resolve
//!   each ask (simulated: `run.simulate(i)`; LLM/remote: build a prompt from the
//!   [`AskRequest`] fields — never from `req.sim`, which holds the ground truth) and hand
//!   replies back with `run.answer(Vec<AgentReply>)` (request order) or
//!   `run.answer_at(i, reply)` as each arrives. `run.resolve_simulated()` does all of it
//!   with simulated agents.
//! - Progress for the UI: `run.log_len()`, `run.events_since(n)`, `run.log()`.
//! - End: `run.result() -> RunResult { log, log_hash, metrics, summary }`,
//!   `run.metrics()`, `run.summary()`.
//! - One call: [`run_simulated(&scenario)`](run_simulated),
//!   [`run_simulated_seed(&scenario, seed)`](run_simulated_seed).
//!
//! Event log ([`event`]): `Event { seq, round, kind }` with kinds ask, answer, message
//! {from, to[]}, vote, rank, decision, metric, note, error. `EventLog::to_jsonl`,
//! `from_jsonl`, `hash`. Replay = re-reading the log; every view is a function of it.
//! Structure ([`structure`]): `Structure::at(events, cursor)` folds the structure events
//! (score, graph, active, groups, judgment, choice) and metrics into what the views draw;
//! `structure::curves(events)` gives each metric's series with a stable x axis.
//!
//! Metrics ([`metrics`]): `metrics::compute(&log) -> Metrics` (a sorted name → value
//! map: accuracy, consensus, rounds_to_consensus, calls, tokens, messages,
//! error_amplification, redundancy, overhead, conformity, `influence.<agent>`, ...).
//!
//! Sweeps ([`sweep`]): `sweep::parse_set("mechanism.params.rounds=1,2,3")`,
//! `sweep::configs(&scenario, &sets) -> Vec<SweepConfig>` (one scenario per grid
//! point), `sweep::run_config_seed(&config.scenario, seed) -> Metrics` (what a web
//! worker calls per run), `sweep::seed_for(&scenario, i)`, `sweep::summarize(&runs) ->
//! BTreeMap<name, Stat{mean, lo, hi}>`, and `sweep::run_sweep(...)` for the whole loop.
//!
//! Share links ([`link`]): `link::encode(&scenario) -> Result<"#s=1.<payload>", LinkError>`,
//! `link::decode(text) -> Result<Scenario, LinkError>` (accepts a full URL, `#s=...`,
//! `s=...` or the bare payload).
//!
//! Large societies ([`society`]): `Society::random(n, degree, p_one, p_stubborn, seed)`,
//! `society.round() -> RoundStats` — one opinion-update round over CSR arrays (time it in
//! wasm with `performance.now()`; natively `council bench society`).
//!
//! Simulated agents ([`sim`]): `sim::reply(&traits, &ask, seed)` — what `Run::simulate`
//! uses; the traits and the paper effect each serves are documented there and in
//! docs/scenario-format.md.
//!
//! Cross-target check: [`builtin_hashes()`](builtin::builtin_hashes) in wasm must equal `council builtin-hashes`
//! (or `council run builtin:<id> --json`'s `log_hash`) natively.

// Modules from the ground floor up; each imports only modules listed before it
// (checked by core/tests/module_layers.rs).
pub mod determinism;
pub mod rng;
pub mod strict_json;
pub mod spec;
pub mod event;
pub mod structure;
pub mod backend;
pub mod tasks;
pub mod policy;
pub mod topology;
pub mod society;
pub mod argument;
pub mod exchange;
pub mod prompt;
pub mod parse;
pub mod scenario;
pub mod sim;
pub mod nature;
pub mod metrics;
pub mod engine;
pub mod mechanisms;
pub mod registry;
pub mod builtin;
pub mod sweep;
pub mod link;

pub use backend::Backend;
pub use builtin::{builtin, builtin_hashes, builtin_ids, builtins};
pub use engine::{Ctx, Run, RunResult, Summary};
pub use event::{AgentId, Event, EventKind, EventLog};
pub use exchange::{AgentReply, AskRequest, PeerView};
pub use mechanisms::Mechanism;
pub use metrics::Metrics;
pub use registry::{mechanism_kinds, run_simulated, run_simulated_seed};
pub use scenario::{Agent, Scenario, Traits};
pub use spec::{ScenarioError, Spec};
pub use tasks::{TaskInstance, task_kinds};
pub use topology::Topology;
