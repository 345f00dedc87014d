//! The scenario view: header (title, determinism badge, seed, Run, share, export, import)
//! and tabs: Watch (the run views), Edit, Sweep, Paper, History (this session's runs).
//! Built-ins from the gallery run at once; shared links open in the editor and wait.

use crate::engine;
use crate::export;
use crate::link;
use crate::pages::editor::Editor;
use crate::pages::sweep_view::SweepView;
use crate::run::RunData;
use crate::store;
use crate::views::run_view::RunView;
use crate::AppCtx;
use council_core::event::EventLog;
use council_core::scenario::Scenario;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;
use wasm_bindgen::JsCast;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Watch,
    Edit,
    Sweep,
    Paper,
    History,
}

impl Tab {
    const ALL: [Tab; 5] = [Tab::Watch, Tab::Edit, Tab::Sweep, Tab::Paper, Tab::History];
    fn name(self) -> &'static str {
        match self {
            Tab::Watch => "watch",
            Tab::Edit => "edit",
            Tab::Sweep => "sweep",
            Tab::Paper => "paper",
            Tab::History => "history",
        }
    }
}

#[component]
pub fn BuiltinPage(id: String) -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    match council_core::builtin::builtin(&id) {
        Ok(s) => view! { <ScenarioPage initial=s autorun=true start=Tab::Watch /> }.into_any(),
        Err(e) => {
            ctx.fail(e.to_string());
            view! { <crate::pages::gallery::Gallery /> }.into_any()
        }
    }
}

#[component]
pub fn SharedPage(link: String) -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    match link::decode(&link) {
        Ok(s) => {
            let backends = engine::non_sim_backends(&s);
            let accepted = RwSignal::new(backends.is_empty());
            view! {
                {move || if accepted.get() {
                    view! { <ScenarioPage initial=s.clone() autorun=false start=Tab::Edit /> }.into_any()
                } else {
                    let list = backends.join(", ");
                    view! {
                        <section class="gate" data-testid="link-gate">
                            <h2>{s.title.clone()}</h2>
                            <p>"This shared scenario asks for these backends: "<b>{list}</b>"."</p>
                            <crate::backends::gate::GateDetails scenario=s.clone() />
                            <button data-testid="link-continue" aria-label="Open the shared scenario" on:click=move |_| accepted.set(true)>"Open it"</button>
                            " " <a href="#/">"Back to the gallery"</a>
                        </section>
                    }.into_any()
                }}
            }
            .into_any()
        }
        Err(e) => {
            ctx.fail(format!("This link cannot be opened: {e}"));
            view! { <crate::pages::gallery::Gallery /> }.into_any()
        }
    }
}

/// Replaces the address bar's hash without adding a history entry or firing hashchange.
pub fn replace_hash(hash: &str) {
    if let Some(w) = web_sys::window()
        && let Ok(h) = w.history()
    {
        let _ = h.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(hash));
    }
}

async fn read_file(input: &web_sys::HtmlInputElement) -> Result<(String, String), String> {
    let file = input.files().and_then(|f| f.get(0)).ok_or("no file chosen")?;
    if file.size() > 64.0 * 1024.0 * 1024.0 {
        return Err("file is larger than 64 MB".into());
    }
    let text = wasm_bindgen_futures::JsFuture::from(file.text()).await.map_err(|_| "cannot read the file")?;
    Ok((file.name(), text.as_string().unwrap_or_default()))
}

#[component]
pub fn ScenarioPage(initial: Scenario, autorun: bool, start: Tab) -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let scenario = RwSignal::new(initial.clone());
    let seed = RwSignal::new(initial.seed);
    let tab = RwSignal::new(start);
    // The sweep view mounts on its first visit and then stays (hidden on other tabs), so a
    // running sweep, its form and its last result survive watching or editing meanwhile.
    let sweep_opened = Memo::new(move |was: Option<&bool>| was.copied().unwrap_or(false) || tab.get() == Tab::Sweep);
    let history: RwSignal<Vec<Arc<RunData>>> = RwSignal::new(Vec::new());
    let current: RwSignal<Option<Arc<RunData>>> = RwSignal::new(None);
    let share: RwSignal<Option<String>> = RwSignal::new(None);
    let locked = Memo::new(move |_| scenario.with(|s| s.ui.locked.clone()));

    let live = crate::backends::Live::new();
    let run_now = move || {
        let s = scenario.get_untracked();
        if crate::backends::needs_driver(&s) {
            tab.set(Tab::Watch);
            return crate::backends::start(ctx, live, s, seed.get_untracked(), history, current);
        }
        let finish = move |res: Result<RunData, String>| match res {
            Ok(r) => {
                let r = Arc::new(r);
                history.update(|h| h.push(r.clone()));
                current.set(Some(r.clone()));
                tab.set(Tab::Watch);
                store::save_run(ctx, r);
            }
            Err(e) => ctx.fail(format!("The run could not start: {e}")),
        };
        let now = engine::now_ms();
        let sd = seed.get_untracked();
        match engine::policy_name(&s) {
            // The conductor follows a trained policy: load it from storage first.
            Some(name) => spawn_local(async move {
                let res = async {
                    let db = store::open(move |m| ctx.fail(m)).await?;
                    let net = store::load_policy(&db, &name).await?.net()?;
                    let policy = council_core::policy::NetPolicy::greedy(net, Default::default());
                    let policies = council_core::policy::Policies::from([(name.clone(), std::rc::Rc::new(policy) as std::rc::Rc<dyn council_core::policy::Policy>)]);
                    engine::run_with_policies(&s, sd, engine::new_run_id(now), now, policies)
                }
                .await;
                finish(res);
            }),
            None => finish(engine::run(&s, sd, engine::new_run_id(now), now)),
        }
    };
    // A built-in with LLM agents waits for Run: it may spend a key or need a download.
    if autorun && !crate::backends::needs_driver(&initial) {
        run_now();
    }

    // Edits show in the address bar as a share link (replaceState: no history flooding).
    Effect::new(move |prev: Option<()>| {
        let s = scenario.get();
        let sd = seed.get();
        if prev.is_some() {
            let mut s = s;
            s.seed = sd;
            if let Ok(l) = link::encode(&s) {
                replace_hash(&format!("#s={l}"));
            }
        }
    });

    let copy_link = move |_| {
        let mut s = scenario.get_untracked();
        s.seed = seed.get_untracked();
        match link::encode(&s) {
            Ok(l) => {
                let hash = format!("#s={l}");
                replace_hash(&hash);
                let url = web_sys::window()
                    .and_then(|w| w.location().href().ok())
                    .map(|h| format!("{}{hash}", h.split('#').next().unwrap_or("")))
                    .unwrap_or(hash);
                if let Some(w) = web_sys::window() {
                    let _ = w.navigator().clipboard().write_text(&url);
                }
                share.set(Some(url));
                ctx.notify("Link copied: it holds the scenario and seed, no keys and no run data.");
            }
            Err(e) => ctx.fail(format!("Cannot make a link: {e}")),
        }
    };
    let export_scenario = move |_| {
        let mut s = scenario.get_untracked();
        s.seed = seed.get_untracked();
        if let Err(e) = export::download(&format!("{}.json", export::file_stem(&s.title)), "application/json", &s.to_json_pretty()) {
            ctx.fail(e);
        }
    };
    let export_jsonl = move |_| {
        if let Some(r) = current.get_untracked()
            && let Err(e) = export::download(&format!("{}-seed{}.jsonl", export::file_stem(&r.title()), r.seed), "application/x-ndjson", &r.log.to_jsonl())
        {
            ctx.fail(e);
        }
    };
    let export_html = move |_| {
        if let Some(r) = current.get_untracked()
            && let Err(e) = export::download(&format!("{}-seed{}.html", export::file_stem(&r.title()), r.seed), "text/html", &export::run_html(&r))
        {
            ctx.fail(e);
        }
    };
    let on_import = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        spawn_local(async move {
            let (name, text) = match read_file(&input).await {
                Ok(x) => x,
                Err(e) => return ctx.fail(e),
            };
            input.set_value("");
            let trimmed = text.trim_start();
            if name.ends_with(".jsonl") || (trimmed.starts_with('{') && trimmed.contains("\"seq\"") && trimmed.lines().count() > 1) {
                match EventLog::from_jsonl(&text) {
                    Ok(log) => {
                        let s = scenario.get_untracked();
                        let max_id = export::cast_for_log(&log).agents.len();
                        let cast = if max_id <= s.agents.len() { engine::cast_of(&s, seed.get_untracked()) } else { export::cast_for_log(&log) };
                        let now = engine::now_ms();
                        let r = Arc::new(RunData {
                            id: engine::new_run_id(now),
                            name: format!("imported {name}"),
                            scenario: s.to_value(),
                            seed: seed.get_untracked(),
                            determinism: "recorded".into(),
                            cast,
                            metrics: council_core::metrics::compute(&log).0.into_iter().collect(),
                            log,
                            created_ms: now,
                        });
                        history.update(|h| h.push(r.clone()));
                        current.set(Some(r.clone()));
                        tab.set(Tab::Watch);
                        store::save_run(ctx, r);
                        ctx.notify(format!("Imported the event log {name}."));
                    }
                    Err(e) => ctx.fail(format!("{name} is not a Council event log: {e}")),
                }
            } else {
                match Scenario::from_json(&text) {
                    Ok(s) => {
                        seed.set(s.seed);
                        scenario.set(s);
                        tab.set(Tab::Edit);
                        ctx.notify(format!("Loaded the scenario {name}; press Run to run it."));
                    }
                    Err(e) => ctx.fail(format!("{name} is not a valid scenario: {e}")),
                }
            }
        });
    };

    let has_run = Memo::new(move |_| current.with(Option::is_some));
    let fallback = StoredValue::new(None::<Arc<RunData>>);
    let watch = move || {
        if has_run.get() {
            let run = Signal::derive(move || {
                let r = current.get().or_else(|| fallback.get_value()).expect("has_run");
                fallback.set_value(Some(r.clone()));
                r
            });
            view! { <RunView run=run /> }.into_any()
        } else {
            view! {
                <div class="empty-run">
                    <p>"No run yet. Press "<b>"Run"</b>" to watch the agents."</p>
                </div>
            }
            .into_any()
        }
    };

    view! {
        <section class="scenario" data-testid="scenario" data-scenario=move || scenario.with(|s| s.id.clone())>
            <div class="scenario-head">
                <div class="title">
                    <h2>{move || scenario.with(|s| if s.title.is_empty() { "Untitled scenario".to_string() } else { s.title.clone() })}</h2>
                    <span class=move || format!("badge det-{}", scenario.with(engine::determinism))
                        data-testid="determinism"
                        title="How reproducible a run is: exact (simulated), best-effort (local model), recorded (remote API)">
                        {move || scenario.with(engine::determinism)}
                    </span>
                    {move || (!locked.get().is_empty()).then(|| view! { <span class="badge lock" title="Some controls are locked by the link">"classroom"</span> })}
                </div>
                <p class="desc">{move || scenario.with(|s| s.description.clone())}</p>
                <div class="actions">
                    <label>"seed "
                        <input type="number" min="0" data-testid="seed" aria-label="Seed"
                            disabled=move || locked.with(|l| l.iter().any(|p| p == "seed"))
                            prop:value=move || seed.get().to_string()
                            on:change=move |ev| {
                                match event_target_value(&ev).trim().parse::<u64>() {
                                    Ok(v) => seed.set(v),
                                    Err(_) => ctx.fail("The seed must be a whole number ≥ 0."),
                                }
                            } />
                    </label>
                    <button data-testid="new-seed" aria-label="New random seed"
                        disabled=move || locked.with(|l| l.iter().any(|p| p == "seed"))
                        on:click=move |_| seed.set((js_sys::Math::random() * 1e9) as u64)>"New seed"</button>
                    <button class="primary" data-testid="run" aria-label="Run the scenario" on:click=move |_| run_now()><crate::views::icons::IconSvg icon=crate::views::icons::Icon::Play />" Run"</button>
                    <button data-testid="copy-link" aria-label="Copy a share link" on:click=copy_link>"Copy link"</button>
                    <button data-testid="export-scenario" aria-label="Export the scenario as JSON" on:click=export_scenario>"Scenario JSON"</button>
                    <button data-testid="export-jsonl" aria-label="Export the run's event log as JSONL" disabled=move || !has_run.get() on:click=export_jsonl>"Log JSONL"</button>
                    <button data-testid="export-html" aria-label="Export the run as a self-contained HTML file" disabled=move || !has_run.get() on:click=export_html>"Run HTML"</button>
                    <label class="import">"Import "
                        <input type="file" accept=".json,.jsonl,application/json" data-testid="import-file"
                            aria-label="Import a scenario JSON or a run JSONL" on:change=on_import />
                    </label>
                </div>
                {move || share.get().map(|u| view! {
                    <input class="share-link" readonly data-testid="share-link" aria-label="Share link" prop:value=u />
                })}
            </div>
            <nav class="tabs" role="tablist" aria-label="Scenario views">
                {Tab::ALL.into_iter().map(|t| view! {
                    <button role="tab" data-testid=format!("tab-{}", t.name()) aria-selected=move || (tab.get() == t).to_string()
                        class:on=move || tab.get() == t on:click=move |_| tab.set(t)>{t.name()}</button>
                }).collect_view()}
            </nav>
            <crate::backends::view::LivePanel live=live />
            <div class="tab-body">
                <div class:hidden=move || tab.get() != Tab::Watch>{watch}</div>
                {move || sweep_opened.get().then(|| view! {
                    <div class:hidden=move || tab.get() != Tab::Sweep><SweepView scenario=scenario seed=seed /></div>
                })}
                {move || match tab.get() {
                    Tab::Watch | Tab::Sweep => ().into_any(),
                    Tab::Edit => view! { <Editor scenario=scenario seed=seed /> }.into_any(),
                    Tab::Paper => view! { <PaperCard scenario=scenario /> }.into_any(),
                    Tab::History => view! { <SessionHistory history=history current=current tab=tab /> }.into_any(),
                }}
            </div>
        </section>
    }
}

#[component]
fn PaperCard(scenario: RwSignal<Scenario>) -> impl IntoView {
    move || match scenario.with(|s| s.card.clone()) {
        Some(c) => view! {
            <article class="paper-card" data-testid="paper-card">
                <h3>
                    // Only http(s) links become links: a card from a shared link could carry
                    // a javascript: URL, which would run in this page when opened.
                    {match crate::csp::safe_link(&c.link) {
                        Some(href) => view! { <a href=href.to_string() target="_blank" rel="noopener noreferrer" data-testid="paper-link">{c.paper.clone()}</a> }.into_any(),
                        None => view! { <span data-testid="paper-title">{c.paper.clone()}</span> }.into_any(),
                    }}
                    {format!(" ({})", c.year)}
                </h3>
                {crate::csp::safe_link(&c.link).is_none().then(|| view! {
                    <p class="muted" data-testid="paper-link-refused">"The paper's address is not an http(s) link, so it is not shown as one: " <code>{c.link.chars().take(200).collect::<String>()}</code></p>
                })}
                <h4>"What the paper did"</h4><p>{c.summary.clone()}</p>
                <h4>"What to look for here"</h4><p>{c.look_for.clone()}</p>
                {(!c.simulation.is_empty()).then(|| view! { <h4>"What the simulation shows, and what it leaves out"</h4><p data-testid="card-simulation">{c.simulation.clone()}</p> })}
            </article>
        }
        .into_any(),
        None => view! { <p class="muted">"This scenario has no paper card."</p> }.into_any(),
    }
}

#[component]
fn SessionHistory(history: RwSignal<Vec<Arc<RunData>>>, current: RwSignal<Option<Arc<RunData>>>, tab: RwSignal<Tab>) -> impl IntoView {
    view! {
        <div class="session-history">
            <p class="muted">"Runs of this visit (all runs are also kept on the Runs page)."</p>
            <ol>
                {move || history.get().into_iter().rev().map(|r| {
                    let r2 = r.clone();
                    let acc = r.metrics.iter().find(|(k, _)| k == "accuracy").map(|(_, v)| format!(" · accuracy {v:.2}")).unwrap_or_default();
                    view! {
                        <li data-run-id=r.id.clone()>
                            <button on:click=move |_| { current.set(Some(r2.clone())); tab.set(Tab::Watch); }>
                                {format!("{}{acc} · {} events", r.name, r.log.len())}
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ol>
        </div>
    }
}
