//! The "Models & keys" page (`#/models`): local models — the bundled list, what is
//! stored (size, state, delete), downloads with byte progress and speed that resume,
//! add by URL or from a file — and the remote profiles.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::catalog::{self, CATALOG};
use super::download::{self, DlState};
use crate::AppCtx;

/// sessionStorage key: a download to start once the page has reloaded to allow its host.
const RESUME_KEY: &str = "council.download-after-reload";

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

fn start_download(ctx: AppCtx, id: String, label: String, url: String, sha: Option<String>) {
    // The page's connect-src was fixed when it loaded: a host it does not list yet is
    // recorded, and the page reloads so the new policy lists it; the download then starts.
    // (Only for a URL with a readable host: anything else fails plainly, never reloads.)
    if crate::csp::origin_of(&url).is_some() && !crate::csp::page_allows(&url) {
        if let Err(e) = download::remember(&id, &label, &url, sha) {
            return ctx.fail(e);
        }
        if let Some(s) = session() {
            let _ = s.set_item(RESUME_KEY, &id);
        }
        let host = crate::csp::origin_of(&url).unwrap_or_default();
        crate::notice_after_reload(&format!("The page reloaded so that it may download from {host}; {id} is downloading."));
        return crate::csp::reload();
    }
    fetch_now(ctx, id, label, url, sha);
}

fn fetch_now(ctx: AppCtx, id: String, label: String, url: String, sha: Option<String>) {
    spawn_local(async move {
        match download::download(id.clone(), label, url, sha).await {
            Ok(()) => ctx.notify(format!("Model {id} is stored and verified.")),
            Err(e) => ctx.fail(format!("Download of {id} stopped: {e}")),
        }
    });
}

#[component]
pub fn ModelsPage() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let progress = download::progress();
    let version = download::version();
    let stored = Memo::new(move |_| {
        version.track();
        download::list()
    });
    let new_id = RwSignal::new(String::new());
    let new_url = RwSignal::new(String::new());
    let file_id = RwSignal::new(String::new());
    // A download asked for just before the page reloaded to allow its host.
    if let Some(id) = session().and_then(|s| {
        let v = s.get_item(RESUME_KEY).ok().flatten();
        let _ = s.remove_item(RESUME_KEY);
        v
    }) && let Some(m) = download::get(&id)
    {
        fetch_now(ctx, m.id, m.label, m.url, m.sha256);
    }
    let on_file = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(f) = input.files().and_then(|l| l.get(0)) else { return };
        let id = { let i = file_id.get_untracked(); if i.trim().is_empty() { f.name().trim_end_matches(".gguf").to_lowercase() } else { i.trim().to_string() } };
        spawn_local(async move {
            match download::add_file(id.clone(), f).await {
                Ok(()) => ctx.notify(format!("Stored {id} from the file.")),
                Err(e) => ctx.fail(e),
            }
        });
    };
    view! {
        <section class="models-page" data-testid="models-page">
            <h2>"Local models"</h2>
            <p class="muted">"Small GGUF chat models run inside this page (a worker; WebGPU when it passes a self-test, else the CPU). Scenarios use one as backend local:<id>. Files are kept in this browser's private storage; downloads resume after a reload or a cut connection."</p>
            <h3>"Stored in this browser"</h3>
            <table data-testid="stored-models">
                <thead><tr><th>"id"</th><th>"source"</th><th>"size"</th><th>"state"</th><th></th></tr></thead>
                <tbody>
                    {move || stored.get().into_iter().map(|m| {
                        let id = m.id.clone();
                        let id2 = m.id.clone();
                        let (label, url, sha) = (m.label.clone(), m.url.clone(), m.sha256.clone());
                        let complete = m.complete;
                        // Plain closures over the page-wide signal (no memos owned by this
                        // row: a row rebuilt while progress ticks must not read a disposed one).
                        let key: std::sync::Arc<str> = id.clone().into();
                        let prog = move || progress.with(|p| p.get(&*key).cloned());
                        let state = { let prog = prog.clone(); move || match prog() {
                            Some(p) => p.state.name().to_string(),
                            None if complete => "done".into(),
                            None => "paused".into(),
                        } };
                        view! {
                            <tr data-testid="model-row" data-model=m.id.clone() data-state=state.clone()>
                                <td><code>{m.id.clone()}</code></td>
                                <td class="muted">{m.url.split('/').next_back().unwrap_or("").to_string()}</td>
                                <td data-testid="model-size">{ let prog = prog.clone(); move || {
                                    match prog() {
                                        Some(p) if !matches!(p.state, DlState::Done) => format!("{} / {}", catalog::human_bytes(p.bytes as u64), catalog::human_bytes(p.total as u64)),
                                        _ => catalog::human_bytes(m.size as u64),
                                    }
                                }}</td>
                                <td>
                                    { let prog = prog.clone(); move || prog().map(|p| {
                                        let detail = match &p.state {
                                            DlState::Paused(e) | DlState::Failed(e) => e.clone(),
                                            DlState::Downloading => format!("{:.1} MB/s", p.speed / 1e6),
                                            _ => String::new(),
                                        };
                                        view! {
                                            <progress data-testid="download-progress" max=p.total.max(1.0) value=p.bytes
                                                data-bytes=p.bytes.to_string() data-total=p.total.to_string() data-resumed-from=p.resumed_from.to_string()></progress>
                                            <span class="muted" data-testid="download-detail">{detail}</span>
                                        }
                                    })}
                                    { let state = state.clone(); move || state() }
                                </td>
                                <td>
                                    <button data-testid="model-resume" aria-label=format!("Resume {}", m.id)
                                        disabled={ let state = state.clone(); move || matches!(state().as_str(), "done" | "downloading" | "verifying") }
                                        on:click={ let id = m.id.clone(); move |_| start_download(ctx, id.clone(), label.clone(), url.clone(), sha.clone()) }>"resume"</button>
                                    <button data-testid="model-delete" aria-label=format!("Delete {}", m.id)
                                        disabled={ let state = state.clone(); move || state() == "downloading" }
                                        on:click=move |_| { let id = id2.clone(); spawn_local(async move {
                                            match download::delete(&id).await { Ok(()) => ctx.notify(format!("Deleted {id}.")), Err(e) => ctx.fail(e) }
                                        }); }>"delete"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <fieldset>
                <legend>"Add a model by URL"</legend>
                <label>"id " <input data-testid="model-id" aria-label="Model id" prop:value=move || new_id.get() on:input=move |e| new_id.set(event_target_value(&e)) /></label>
                <label>"GGUF URL " <input data-testid="model-url" type="url" aria-label="Model URL" prop:value=move || new_url.get() on:input=move |e| new_url.set(event_target_value(&e)) /></label>
                <button data-testid="model-add" on:click=move |_| {
                    let id = new_id.get_untracked().trim().to_string();
                    start_download(ctx, id.clone(), id, new_url.get_untracked().trim().to_string(), None);
                }>"Download"</button>
            </fieldset>
            <fieldset>
                <legend>"Add a model from a file"</legend>
                <label>"id " <input data-testid="model-file-id" aria-label="Model id for the file" prop:value=move || file_id.get() on:input=move |e| file_id.set(event_target_value(&e)) /></label>
                <input type="file" accept=".gguf" data-testid="model-file" aria-label="GGUF file" on:change=on_file />
            </fieldset>
            <h3>"Bundled list"</h3>
            <table>
                <thead><tr><th>"id"</th><th>"model"</th><th>"from"</th><th></th></tr></thead>
                <tbody>
                    {CATALOG.iter().map(|m| view! {
                        <tr data-testid="catalog-row" data-model=m.id>
                            <td><code>{m.id}</code></td>
                            <td>{m.label}</td>
                            <td>{m.host().to_string()}</td>
                            <td><button data-testid="catalog-download" on:click=move |_| start_download(ctx, m.id.into(), m.label.into(), m.url.into(), m.sha256.map(str::to_string))>"download"</button></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <crate::backends::settings_view::BackendSettings />
        </section>
    }
}
