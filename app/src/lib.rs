//! Council's playground UI (Leptos CSR): gallery, scenario view (graph + timeline +
//! transcript + metrics on one replay cursor), editor, sweeps, run history (IndexedDB),
//! share links, exports. Views are functions of the core's event log, so replay is exact.
//!
//! # Selectors and hooks for the browser tests
//!
//! Routes (hash): `#/` gallery, `#/s/<id>` built-in scenario (runs at once), `#/runs`,
//! `#/about`, `#s=<version>.<payload>` shared scenario (opens in the editor, not run).
//!
//! | what | selector |
//! |---|---|
//! | gallery card | `[data-scenario-id="<id>"]` (a link; click runs it) |
//! | run button | `[data-testid=run]` |
//! | new seed / seed input | `[data-testid=new-seed]`, `[data-testid=seed]` |
//! | determinism badge | `[data-testid=determinism]` (text exact / best-effort / recorded) |
//! | tabs | `[data-testid=tab-watch]`, `tab-edit`, `tab-sweep`, `tab-paper`, `tab-history` |
//! | timeline | `[data-testid=play]`, `step-forward`, `step-back`, `scrub` (range input), `speed`, `cursor` (text "i / n"), `jump-disagreement`, `jump-consensus`, `jump-decision` |
//! | graph | `[data-testid=graph]` (SVG), nodes `g[data-agent="<i>"]` (aria-label has answer), `layout-force` / `layout-circle` / `layout-layered`; above 200 agents `[data-testid=graph-density]` |
//! | transcript | `[data-testid=transcript] li[data-seq="<seq>"]`, filter `[data-testid=transcript-filter]` |
//! | metrics | `[data-testid=metrics] [data-metric="<name>"] dd` |
//! | structure (graph) | logged edges `[data-testid=graph-edges]` (`data-edges` / `data-added` / `data-removed` = "a-b ..."), node `data-scale` (from the `importance` score) and class `inactive`, hulls `[data-testid=hull][data-group="<k>"]` (`data-members`) |
//! | structure panel | `[data-testid=structure]` (only for logs with structure events; its blocks carry `data-cursor` once drawn), `score-bars[data-score="<name>"] li[data-agent][data-value]`, `judgment-matrix td[data-row][data-col][data-wins]`, `judge-filter`, `judgment-shares`, `curve[data-metric][data-points]`, `choices li` (`.current`), `choice-tally`, `groups`, `inactive`; the HTML export's `#st` section uses the same selectors |
//! | share | `[data-testid=copy-link]`, the link text `[data-testid=share-link]` |
//! | export | `[data-testid=export-scenario]`, `export-jsonl`, `export-html`; import `[data-testid=import-file]` (file input) |
//! | editor | `[data-testid=editor]`, errors `[data-testid=editor-error]`, `add-agent`, agent rows `[data-agent-row="<i>"]` |
//! | editor graph | `[data-testid=graph-edit-svg]` (`data-edges` = drawn links "a-b ..."), nodes `g[data-edit-agent="<i>"]` (drag to another to toggle a link; Enter, Enter; Delete), links `line[data-edge="a-b"]`, `graph-add-agent`, `graph-remove-agent`, status `graph-edit-status` |
//! | sweeps | `[data-testid=sweep-start]`, `sweep-cancel`, `sweep-progress` (progress element), `sweep-csv`, `sweep-time` (attributes `data-runs`, `data-worker-ms`; runs happen in the sweep worker, `sweep_worker`) |
//! | runs page | items `[data-testid=run-item][data-run-id]`, `run-open`, `run-rename`, `run-delete`, `run-compare` (checkbox), `[data-testid=compare]` |
//! | banners | `[data-testid=error-banner]` (role=alert), `[data-testid=info-banner]`, link gate `[data-testid=link-gate]` + `[data-testid=link-continue]` |
//! | help | `?` toggles `[data-testid=help]` |
//! | training (`#/train`) | see `pages::train` (start, stop, progress, curve, probe rows, topology graphs, stored policies) |
//!
//! JS hooks (`window.wasmBindings`, see `test_hooks.rs`): `current_log_hash()`,
//! `current_cursor()`, `current_log_len()` (read from the run view's `data-log-hash`,
//! `data-cursor`, `data-log-len` attributes, so no global state), and
//! `builtin_log_hash(id, seed)` (runs a built-in in wasm; compare with the CLI). The LLM engine
//! hooks run in the worker bundle instead (`engine_hooks`), so the main wasm carries no engine.
//! Graph nodes above 60 agents drop their text labels (answer and name stay in the node's
//! `aria-label`); message dots live in a second SVG layered over `[data-testid=graph]`.
//! Browser tests: `tests/browser/app-playground.test.mjs`; the XSS corpus in `app-xss.test.mjs`;
//! the Content-Security-Policy (see `csp`) in `app-csp.test.mjs`; graph editing in
//! `app-graph-edit.test.mjs`; API keys at rest in `app-keys.test.mjs`.
//! Structure views (any mechanism's scores, graph, active set, groups, judgments, choices):
//! `app-structure.test.mjs`.

pub mod backends;
pub mod cast;
pub mod csp;
pub mod engine;
pub mod engine_hooks;
pub mod export;
pub mod fixture;
pub mod layout;
pub mod link;
pub mod markup;
pub mod markdown;
pub mod models;
pub mod overlay;
pub mod pages;
pub mod replay;
pub mod route;
pub mod run;
pub mod store;
pub mod structure_parts;
pub mod sweep;
pub mod sweep_client;
pub mod sweep_worker;
pub mod test_hooks;
pub mod train_client;
pub mod views;

use leptos::ev;
use leptos::prelude::*;
use route::Route;

/// App-wide state, passed by context (no globals).
#[derive(Clone, Copy)]
pub struct AppCtx {
    pub route: RwSignal<Route>,
    /// An error sentence for the banner.
    pub error: RwSignal<Option<String>>,
    /// A transient notice (saved, copied...).
    pub info: RwSignal<Option<String>>,
    pub help: RwSignal<bool>,
    /// Bumped whenever the stored history changes, so lists reload.
    pub history_version: RwSignal<u32>,
}

impl AppCtx {
    pub fn fail(&self, msg: impl Into<String>) {
        self.error.set(Some(msg.into()));
    }
    pub fn notify(&self, msg: impl Into<String>) {
        self.info.set(Some(msg.into()));
    }
}

/// sessionStorage key of a notice to show once after a reload the app asked for.
const NOTICE_KEY: &str = "council.notice";

/// Shows `msg` in the info banner after the page reloads (the app reloads itself when the
/// page's connect-src must list a new host; see `csp`).
pub fn notice_after_reload(msg: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = s.set_item(NOTICE_KEY, msg);
    }
}

fn take_notice() -> Option<String> {
    let s = web_sys::window()?.session_storage().ok()??;
    let msg = s.get_item(NOTICE_KEY).ok()??;
    let _ = s.remove_item(NOTICE_KEY);
    Some(msg)
}

fn current_hash() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

#[component]
pub fn App() -> impl IntoView {
    let ctx = AppCtx {
        route: RwSignal::new(route::parse(&current_hash())),
        error: RwSignal::new(None),
        info: RwSignal::new(take_notice()),
        help: RwSignal::new(false),
        history_version: RwSignal::new(0),
    };
    provide_context(ctx);
    let hc = window_event_listener(ev::hashchange, move |_| {
        ctx.error.set(None);
        ctx.route.set(route::parse(&current_hash()));
    });
    let keys = window_event_listener(ev::keydown, move |e| {
        let in_field = e
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if e.key() == "?" && !in_field {
            ctx.help.update(|h| *h = !*h);
        } else if e.key() == "Escape" {
            ctx.help.set(false);
        }
    });
    on_cleanup(move || {
        hc.remove();
        keys.remove();
    });
    let page = move || match ctx.route.get() {
        Route::Gallery => view! { <pages::gallery::Gallery /> }.into_any(),
        Route::Unknown(h) => {
            ctx.fail(format!("There is no page at #{h}; here is the gallery."));
            view! { <pages::gallery::Gallery /> }.into_any()
        }
        Route::Scenario(id) => view! { <pages::scenario::BuiltinPage id=id /> }.into_any(),
        Route::Shared(link) => view! { <pages::scenario::SharedPage link=link /> }.into_any(),
        Route::Runs => view! { <pages::runs::RunsPage /> }.into_any(),
        Route::About => view! { <pages::about::About /> }.into_any(),
        Route::Models => view! { <models::page::ModelsPage /> }.into_any(),
        Route::Train => view! { <pages::train::TrainPage /> }.into_any(),
    };
    view! {
        <header class="top">
            <a class="brand" href="#/" aria-label="Council gallery"><h1>"Council"</h1></a>
            <p class="tag">"Watch, tweak and compare how AI agents collaborate."</p>
            <nav aria-label="Main">
                <a href="#/" data-testid="nav-gallery">"Gallery"</a>
                <a href="#/runs" data-testid="nav-runs">"Runs"</a>
                <a href="#/models" data-testid="nav-models">"Models & keys"</a>
                <a href="#/train" data-testid="nav-train">"Train"</a>
                <a href="#/about" data-testid="nav-about">"About"</a>
                <button class="help-btn" aria-label="Keyboard shortcuts (?)" on:click=move |_| ctx.help.update(|h| *h = !*h)>"?"</button>
            </nav>
        </header>
        {move || ctx.error.get().map(|m| view! {
            <div class="banner error" role="alert" data-testid="error-banner">
                <span>{m}</span>
                <button aria-label="Dismiss error" on:click=move |_| ctx.error.set(None)>"×"</button>
            </div>
        })}
        {move || ctx.info.get().map(|m| view! {
            <div class="banner info" role="status" data-testid="info-banner">
                <span>{m}</span>
                <button aria-label="Dismiss notice" on:click=move |_| ctx.info.set(None)>"×"</button>
            </div>
        })}
        {move || ctx.help.get().then(|| view! {
            <div class="help" role="dialog" aria-label="Keyboard shortcuts" data-testid="help">
                <h2>"Keyboard"</h2>
                <dl>
                    <dt>"space"</dt><dd>"play / pause"</dd>
                    <dt>"← →"</dt><dd>"step back / forward one event"</dd>
                    <dt>"Home / End"</dt><dd>"start / end of the run"</dd>
                    <dt>"?"</dt><dd>"this help"</dd>
                    <dt>"Esc"</dt><dd>"close"</dd>
                </dl>
                <button on:click=move |_| ctx.help.set(false) aria-label="Close help">"Close"</button>
            </div>
        })}
        <main>{page}</main>
    }
}
