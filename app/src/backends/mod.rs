//! LLM backends in the page: remote chat APIs (OpenAI-compatible, Anthropic, Ollama)
//! with streaming, retries, timeouts and cancel; local GGUF models (see `crate::models`);
//! the driver loop that answers a run's asks with them; the settings where the user's
//! profiles live (localStorage) and their keys, sealed with WebCrypto (`keys`); the live
//! panel and the consent gate.
//!
//! # What the page shows (selectors for the browser tests)
//!
//! | what | selector |
//! |---|---|
//! | live panel of a run with LLM agents | `[data-testid=live-panel]` (`data-running` true/false) |
//! | one ask of the current wave | `[data-testid=live-ask][data-agent="<i>"][data-state=waiting/streaming/retrying/done/error]` |
//! | its streamed text / prompt / error | `[data-testid=live-text]`, `[data-testid=live-prompt]`, `[data-testid=live-error]` |
//! | stop the run | `[data-testid=live-stop]` |
//! | driver status line | `[data-testid=live-status]` |
//! | remote calls used / cap | `[data-testid=remote-calls]` |
//! | per-agent tokens and cost | `[data-testid=agent-usage][data-agent="<i>"]` (`data-error` when it failed) |
//! | settings page `#/models` | profiles `[data-testid=profile-row][data-profile="<name>"]` with `[data-testid=profile-key-place]` (`data-place` none/tab/device), form fields `profile-name`, `profile-kind`, `profile-url`, `profile-key`, `profile-remember`, `profile-model`, `profile-max-tokens`, `profile-price-in`, `profile-price-out`, `profile-save`, `profile-delete`; limits `max-remote-calls`, `timeout-s`, `limits-save`; `storage-explainer`, `key-protection`, `keys-forget-all` |
//! | consent details in the link gate | `[data-testid=gate-details]`, items `[data-testid=gate-item]`, missing setup `[data-testid=gate-missing]` |
//!
//! Determinism: simulated agents are exact; local models are best-effort (greedy); remote
//! replies are recorded in the event log (`answer.raw`), so replays and HTML exports never
//! call an API.

pub mod driver;
pub mod gate;
pub mod http;
pub mod keys;
pub mod protocol;
pub mod settings;
pub mod settings_view;
pub mod view;

use std::sync::Arc;

use council_core::scenario::Scenario;
use leptos::prelude::*;

pub use driver::{Live, stop};

use crate::run::RunData;
use crate::AppCtx;

/// Whether a scenario needs this driver (any agent not simulated).
pub fn needs_driver(s: &Scenario) -> bool {
    s.agents.iter().any(|a| !a.backend.is_sim())
}

/// A `RunData` for a (partial or finished) log of `s`.
pub fn run_data(s: &Scenario, seed: u64, id: &str, created_ms: f64, log: council_core::event::EventLog, stopped: bool) -> RunData {
    let mut scenario = s.clone();
    scenario.seed = seed;
    let title = if s.title.is_empty() { "Untitled" } else { &s.title };
    RunData {
        name: format!("{title} · seed {seed}{}", if stopped { " · stopped" } else { "" }),
        id: id.to_string(),
        scenario: scenario.to_value(),
        seed,
        determinism: crate::engine::determinism(s).into(),
        cast: crate::engine::cast_of(s, seed),
        metrics: council_core::metrics::compute(&log).0.into_iter().collect(),
        log,
        created_ms,
    }
}

/// Starts driving `s` in the background: `current` follows the log as it grows (the
/// views show it live), the run joins `history` at once, and is saved to IndexedDB when
/// it ends (finished, stopped, or failed part-way: the log so far is kept).
pub fn start(ctx: AppCtx, live: Live, s: Scenario, seed: u64, history: RwSignal<Vec<Arc<RunData>>>, current: RwSignal<Option<Arc<RunData>>>) {
    let mut settings = settings::load();
    let missing = driver::missing(&s, &settings);
    if !missing.is_empty() {
        ctx.fail(format!("This run cannot start: {}.", missing.join("; ")));
        return;
    }
    if live.running.get_untracked() {
        ctx.fail("A run with LLM agents is still going; stop it first.");
        return;
    }
    let now = crate::engine::now_ms();
    let id = crate::engine::new_run_id(now);
    let s2 = s.clone();
    let id2 = id.clone();
    leptos::task::spawn_local(async move {
        // Keys are unsealed only now, and only those this run uses, into its own copy of
        // the settings.
        let used: Vec<&str> = s2.agents.iter().filter_map(|a| a.backend.remote()).collect();
        if let Err(e) = keys::reveal(&mut settings, &used).await {
            ctx.fail(format!("This run cannot start: {e}"));
            return;
        }
        let first = Arc::new(run_data(&s2, seed, &id2, now, council_core::event::EventLog::new(), false));
        history.update(|h| h.push(first.clone()));
        current.set(Some(first));
        let on_log = {
            let s = s2.clone();
            let id = id2.clone();
            move |log: council_core::event::EventLog| {
                let r = Arc::new(run_data(&s, seed, &id, now, log, false));
                history.update(|h| {
                    if let Some(x) = h.iter_mut().find(|x| x.id == r.id) {
                        *x = r.clone();
                    }
                });
                if current.try_with_untracked(|c| c.as_ref().is_some_and(|c| c.id == r.id)).unwrap_or(false) {
                    current.set(Some(r));
                }
            }
        };
        match driver::drive(s2.clone(), seed, id2.clone(), settings, live, on_log).await {
            Ok((log, stopped)) => {
                let r = Arc::new(run_data(&s2, seed, &id2, now, log, stopped));
                history.update(|h| {
                    if let Some(x) = h.iter_mut().find(|x| x.id == r.id) {
                        *x = r.clone();
                    }
                });
                if current.try_with_untracked(|c| c.as_ref().is_some_and(|c| c.id == r.id)).unwrap_or(false) {
                    current.set(Some(r.clone()));
                }
                crate::store::save_run(ctx, r);
            }
            Err(e) => {
                live.running.set(false);
                live.status.set(format!("the run stopped: {e}"));
                ctx.fail(format!("The run stopped: {e}"));
                if let Some(r) = current.try_get_untracked().flatten().filter(|c| c.id == id2) {
                    crate::store::save_run(ctx, r);
                }
            }
        }
    });
}
