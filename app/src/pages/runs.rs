//! The Runs page: every stored run (IndexedDB), newest first; open one to replay it,
//! rename, delete, or tick two to compare their metrics and transcripts side by side.

use crate::store::{self, RunSummary};
use crate::run::RunData;
use crate::views::metrics::fmt_value;
use crate::views::run_view::RunView;
use crate::AppCtx;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::sync::Arc;

async fn with_db<T>(ctx: AppCtx, f: impl AsyncFnOnce(&indexed_db_futures::database::Database) -> Result<T, String>) -> Option<T> {
    let res = match store::open(move |m| ctx.fail(m)).await {
        Ok(db) => f(&db).await,
        Err(e) => Err(e),
    };
    res.map_err(|e| ctx.fail(e)).ok()
}

#[component]
pub fn RunsPage() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let list: RwSignal<Option<Vec<RunSummary>>> = RwSignal::new(None);
    let open: RwSignal<Option<Arc<RunData>>> = RwSignal::new(None);
    let picked: RwSignal<Vec<String>> = RwSignal::new(Vec::new());
    let compare: RwSignal<Option<(Arc<RunData>, Arc<RunData>)>> = RwSignal::new(None);

    Effect::new(move |_| {
        ctx.history_version.track();
        spawn_local(async move {
            let l = with_db(ctx, async |db| store::list(db).await).await;
            list.set(Some(l.unwrap_or_default()));
        });
    });

    let do_open = move |id: String| {
        spawn_local(async move {
            if let Some(r) = with_db(ctx, async |db| store::load(db, &id).await).await {
                compare.set(None);
                open.set(Some(Arc::new(r)));
            }
        });
    };
    let do_delete = move |id: String| {
        spawn_local(async move {
            if with_db(ctx, async |db| store::delete(db, &id).await).await.is_some() {
                picked.update(|p| p.retain(|x| *x != id));
                if open.with_untracked(|o| o.as_ref().is_some_and(|r| r.id == id)) {
                    open.set(None);
                }
                ctx.history_version.update(|v| *v += 1);
            }
        });
    };
    let do_rename = move |id: String, name: String| {
        spawn_local(async move {
            if with_db(ctx, async |db| store::rename(db, &id, &name).await).await.is_some() {
                ctx.notify(format!("Renamed to “{name}”."));
                ctx.history_version.update(|v| *v += 1);
            }
        });
    };
    let do_compare = move |_| {
        let ids = picked.get_untracked();
        if ids.len() != 2 {
            return ctx.fail("Tick exactly two runs to compare.");
        }
        spawn_local(async move {
            let pair = with_db(ctx, async |db| Ok((store::load(db, &ids[0]).await?, store::load(db, &ids[1]).await?))).await;
            if let Some((a, b)) = pair {
                open.set(None);
                compare.set(Some((Arc::new(a), Arc::new(b))));
            }
        });
    };

    let items = move || {
        list.get().map(|l| {
            if l.is_empty() {
                return view! { <p class="muted" data-testid="runs-empty">"No runs yet: open a scenario from the gallery and press Run."</p> }.into_any();
            }
            view! {
                <ul class="runs-list">
                    {l.into_iter().map(|r| {
                        let id = r.id.clone();
                        let (id1, id2, id3, id4, id5) = (id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
                        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(r.created_ms));
                        let when = String::from(date.to_locale_string("en-GB", &wasm_bindgen::JsValue::UNDEFINED));
                        let key: Vec<String> = r.metrics.iter().filter(|(k, _)| ["accuracy", "consensus", "tokens"].contains(&k.as_str()))
                            .map(|(k, v)| format!("{k} {}", fmt_value(*v))).collect();
                        view! {
                            <li class="run-item" data-testid="run-item" data-run-id=id5>
                                <input type="checkbox" data-testid="run-compare" aria-label=format!("Compare {}", r.name)
                                    prop:checked=move || picked.with(|p| p.contains(&id1))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        let id = id2.clone();
                                        picked.update(|p| { p.retain(|x| *x != id); if on { p.push(id); } while p.len() > 2 { p.remove(0); } });
                                    } />
                                <input class="name" data-testid="run-rename" aria-label="Run name" value=r.name.clone()
                                    on:change=move |ev| do_rename(id3.clone(), event_target_value(&ev)) />
                                <span class="meta">{format!("{} · seed {} · {} · {} events · {when}", r.title, r.seed, r.determinism, r.events)}</span>
                                <span class="key">{key.join(" · ")}</span>
                                <button data-testid="run-open" aria-label=format!("Open {}", r.name) on:click=move |_| do_open(id4.clone())>"open"</button>
                                <button data-testid="run-delete" aria-label=format!("Delete {}", r.name) on:click=move |_| do_delete(id.clone())>"delete"</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
            .into_any()
        })
    };

    let opened = move || {
        let has = open.with(Option::is_some);
        has.then(|| {
            let run = Signal::derive(move || open.get().expect("shown only when open"));
            view! {
                <section class="opened">
                    <h3>{move || open.with(|o| o.as_ref().map(|r| r.name.clone()).unwrap_or_default())}</h3>
                    <RunView run=run />
                </section>
            }
        })
    };

    view! {
        <section class="runs" data-testid="runs">
            <h2>"Runs"</h2>
            <p class="muted">"Saved in this browser (IndexedDB). Each run keeps its scenario, seed, determinism level, event log and metrics."</p>
            <button data-testid="compare" aria-label="Compare the two ticked runs" on:click=do_compare
                disabled=move || picked.with(|p| p.len() != 2)>"Compare ticked runs"</button>
            {items}
            {move || compare.get().map(|(a, b)| view! { <Compare a=a b=b /> })}
            {opened}
        </section>
    }
}

#[component]
fn Compare(a: Arc<RunData>, b: Arc<RunData>) -> impl IntoView {
    let mut names: Vec<String> = a.metrics.iter().chain(b.metrics.iter()).map(|(k, _)| k.clone()).collect();
    names.sort();
    names.dedup();
    let get = |r: &RunData, k: &str| r.metrics.iter().find(|(n, _)| n == k).map(|(_, v)| fmt_value(*v)).unwrap_or_else(|| "—".into());
    let transcript = |r: &RunData| {
        r.log
            .events()
            .iter()
            .filter_map(|e| match &e.kind {
                council_core::event::EventKind::Message { from, msg_kind, text, .. } => {
                    let who = r.cast.agents.get(*from as usize).map(|a| a.name.clone()).unwrap_or_default();
                    Some(view! { <li data-seq=e.seq>{format!("R{} {who} [{msg_kind}]: {text}", e.round)}</li> }.into_any())
                }
                council_core::event::EventKind::Decision { answer, method, .. } => {
                    Some(view! { <li data-seq=e.seq class="decision">{format!("R{} decision {answer} by {method}", e.round)}</li> }.into_any())
                }
                _ => None,
            })
            .take(400)
            .collect_view()
    };
    view! {
        <section class="compare" data-testid="compare-view">
            <table class="compare-metrics">
                <tr><th>"metric"</th><th>{a.name.clone()}</th><th>{b.name.clone()}</th></tr>
                <tr><td>"seed"</td><td>{a.seed.to_string()}</td><td>{b.seed.to_string()}</td></tr>
                <tr><td>"log hash"</td><td>{a.log.hash()}</td><td>{b.log.hash()}</td></tr>
                {names.into_iter().map(|k| view! { <tr data-metric=k.clone()><td>{k.clone()}</td><td>{get(&a, &k)}</td><td>{get(&b, &k)}</td></tr> }).collect_view()}
            </table>
            <div class="compare-transcripts">
                <ol aria-label=format!("Transcript of {}", a.name)>{transcript(&a)}</ol>
                <ol aria-label=format!("Transcript of {}", b.name)>{transcript(&b)}</ol>
            </div>
        </section>
    }
}
