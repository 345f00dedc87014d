//! The settings form for remote profiles and per-run limits. Keys are typed into a
//! password field, sealed (`super::keys`) for this tab only unless "remember" is ticked,
//! and never shown again (the list says where each one is kept); leaving the key empty
//! when editing keeps the saved one. The view says what is stored where, and what the
//! sealing does and does not protect against.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::keys::{self, Place};
use super::protocol::{ApiKind, Profile};
use super::settings::{self, Settings};
use crate::models::EnginePref;
use crate::AppCtx;

#[component]
pub fn BackendSettings() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let saved = RwSignal::new(settings::load());
    let ex = settings::example_profile(ApiKind::Openai);
    let name = RwSignal::new(ex.name.clone());
    let kind = RwSignal::new(ex.kind.name().to_string());
    let url = RwSignal::new(ex.url.clone());
    let key = RwSignal::new(String::new());
    let model = RwSignal::new(ex.model.clone());
    let max_tokens = RwSignal::new(ex.max_tokens.to_string());
    let price_in = RwSignal::new("0".to_string());
    let price_out = RwSignal::new("0".to_string());
    let max_calls = RwSignal::new(saved.get_untracked().max_remote_calls.to_string());
    let timeout_s = RwSignal::new(saved.get_untracked().timeout_s.to_string());
    let local_tokens = RwSignal::new(saved.get_untracked().local_max_tokens.to_string());
    let local_engine = RwSignal::new(saved.get_untracked().local_engine.name().to_string());
    let remember = RwSignal::new(false);
    // Bumped when a key is stored, moved or dropped, so the list re-reads where keys are.
    let keys_version = RwSignal::new(0u32);

    let store = move |s: Settings, msg: String| match settings::save(&s) {
        Ok(()) => {
            saved.set(s);
            ctx.notify(msg);
        }
        Err(e) => ctx.fail(e),
    };
    let save_profile = move |_| {
        let mut s = saved.get_untracked();
        let n = name.get_untracked().trim().to_string();
        let k = key.get_untracked().trim().to_string();
        let parse_f = |v: String| v.trim().parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0);
        let (Some(pi), Some(po)) = (parse_f(price_in.get_untracked()), parse_f(price_out.get_untracked())) else {
            return ctx.fail("Prices are USD per million tokens, a number ≥ 0.");
        };
        let Ok(mt) = max_tokens.get_untracked().trim().parse::<u32>() else { return ctx.fail("Max tokens must be a whole number.") };
        let p = Profile {
            name: n.clone(),
            kind: ApiKind::parse(&kind.get_untracked()).unwrap_or_default(),
            url: url.get_untracked().trim().to_string(),
            // Only for the checks: the key itself is sealed apart, never saved in settings.
            key: k.clone(),
            model: model.get_untracked().trim().to_string(),
            max_tokens: mt,
            temperature: None,
            price_in: pi,
            price_out: po,
        };
        if let Err(e) = p.validate() {
            return ctx.fail(e);
        }
        let reachable = crate::csp::page_allows(&p.url);
        let host = crate::csp::origin_of(&p.url).unwrap_or_default();
        s.upsert(Profile { key: String::new(), ..p });
        let keep = remember.get_untracked();
        key.set(String::new());
        spawn_local(async move {
            let sealed = if k.is_empty() { keys::move_to(&n, keep).await } else { keys::store(&n, &k, keep).await };
            if let Err(e) = sealed {
                return ctx.fail(format!("The key was not saved: {e}"));
            }
            keys_version.update(|v| *v += 1);
            let place = keys::place(&n);
            let where_ = match place {
                Place::None => "no key".to_string(),
                p => format!("its key {}", p.label()),
            };
            let msg = format!("Saved the profile \"{n}\" in this browser ({where_}). Scenarios use it as remote:{n}.");
            if reachable {
                store(s, msg);
            } else if settings::save(&s).is_ok() {
                // The page's connect-src was fixed at load: reload so it lists the new host.
                crate::notice_after_reload(&format!("{msg} The page reloaded so that it may connect to {host}."));
                crate::csp::reload();
            } else {
                store(s, msg);
            }
        });
    };
    let save_limits = move |_| {
        let mut s = saved.get_untracked();
        match (max_calls.get_untracked().trim().parse(), timeout_s.get_untracked().trim().parse(), local_tokens.get_untracked().trim().parse()) {
            (Ok(c), Ok(t), Ok(l)) => {
                s.max_remote_calls = c;
                s.timeout_s = t;
                s.local_max_tokens = l;
                s.local_engine = EnginePref::parse(&local_engine.get_untracked()).unwrap_or_default();
                store(s, "Saved the limits.".into());
            }
            _ => ctx.fail("Limits must be whole numbers."),
        }
    };
    let field = |label: &'static str, testid: &'static str, sig: RwSignal<String>, kind_attr: &'static str| {
        view! {
            <label>{label}
                <input type=kind_attr data-testid=testid aria-label=label autocomplete="off" prop:value=move || sig.get()
                    on:input=move |ev| sig.set(event_target_value(&ev)) />
            </label>
        }
    };
    view! {
        <section class="backend-settings" data-testid="backend-settings">
            <h2>"Remote models"</h2>
            <p class="muted">"Profiles and keys stay in this browser. They are never put in links, exports or run logs, and requests go only to the profile's own URL. Agents use a profile by its name: backend remote:<name>."</p>
            <table>
                <thead><tr><th>"name"</th><th>"API"</th><th>"URL"</th><th>"model"</th><th>"key"</th><th></th></tr></thead>
                <tbody>
                    {move || saved.get().profiles.into_iter().map(|p| {
                        let p2 = p.clone();
                        let n = p.name.clone();
                        view! {
                            <tr data-testid="profile-row" data-profile=p.name.clone()>
                                <td>{p.name.clone()}</td>
                                <td>{p.kind.name()}</td>
                                <td>{p.url.clone()}</td>
                                <td>{p.model.clone()}</td>
                                <td data-testid="profile-key-place" data-place={ let n = p.name.clone(); move || { keys_version.track(); format!("{:?}", keys::place(&n)).to_lowercase() } }>
                                    { let n = p.name.clone(); move || { keys_version.track(); keys::place(&n).label() } }
                                </td>
                                <td>
                                    <button data-testid="profile-edit" aria-label=format!("Edit {}", p.name) on:click=move |_| {
                                        name.set(p2.name.clone());
                                        kind.set(p2.kind.name().into());
                                        url.set(p2.url.clone());
                                        key.set(String::new());
                                        remember.set(keys::place(&p2.name) == Place::Device);
                                        model.set(p2.model.clone());
                                        max_tokens.set(p2.max_tokens.to_string());
                                        price_in.set(p2.price_in.to_string());
                                        price_out.set(p2.price_out.to_string());
                                    }>"edit"</button>
                                    <button data-testid="profile-delete" aria-label=format!("Delete {}", p.name) on:click=move |_| {
                                        let mut s = saved.get_untracked();
                                        s.profiles.retain(|x| x.name != n);
                                        if let Err(e) = keys::forget(&n) {
                                            return ctx.fail(e);
                                        }
                                        keys_version.update(|v| *v += 1);
                                        store(s, format!("Deleted the profile \"{n}\" and its key."));
                                    }>"delete"</button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <fieldset class="profile-form">
                <legend>"Add or update a profile"</legend>
                {field("name", "profile-name", name, "text")}
                <label>"API"
                    <select data-testid="profile-kind" aria-label="API kind" prop:value=move || kind.get()
                        on:change=move |ev| {
                            let k = event_target_value(&ev);
                            if let Some(kk) = ApiKind::parse(&k) {
                                let ex = settings::example_profile(kk);
                                url.set(ex.url);
                                model.set(ex.model);
                            }
                            kind.set(k);
                        }>
                        {ApiKind::ALL.into_iter().map(|k| view! { <option value=k.name()>{k.label()}</option> }).collect_view()}
                    </select>
                </label>
                {field("URL", "profile-url", url, "url")}
                {field("key (empty: keep the saved one)", "profile-key", key, "password")}
                <label class="check">
                    <input type="checkbox" data-testid="profile-remember" aria-label="Remember this key on this device"
                        prop:checked=move || remember.get() on:change=move |ev| remember.set(event_target_checked(&ev)) />
                    "remember the key on this device (otherwise it is kept for this tab only)"
                </label>
                {field("model", "profile-model", model, "text")}
                {field("max tokens", "profile-max-tokens", max_tokens, "number")}
                {field("USD / M prompt tokens", "profile-price-in", price_in, "number")}
                {field("USD / M reply tokens", "profile-price-out", price_out, "number")}
                <button class="primary" data-testid="profile-save" on:click=save_profile>"Save profile"</button>
            </fieldset>
            <fieldset class="limits">
                <legend>"Limits"</legend>
                {field("remote calls per run (cap)", "max-remote-calls", max_calls, "number")}
                {field("timeout (s)", "timeout-s", timeout_s, "number")}
                {field("local model: max reply tokens", "local-max-tokens", local_tokens, "number")}
                <label>"local model: engine"
                    <select data-testid="local-engine" aria-label="local model engine" prop:value=move || local_engine.get()
                        on:change=move |ev| local_engine.set(event_target_value(&ev))>
                        {EnginePref::ALL.into_iter().map(|k| view! { <option value=k.name()>{k.label()}</option> }).collect_view()}
                    </select>
                </label>
                <button data-testid="limits-save" on:click=save_limits>"Save limits"</button>
            </fieldset>
            <StorageExplainer keys_version=keys_version />
        </section>
    }
}

/// "What is stored where": every place this page keeps something, and what sealing the
/// keys does and does not protect against.
#[component]
fn StorageExplainer(keys_version: RwSignal<u32>) -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let forget_all = move |_| {
        spawn_local(async move {
            match keys::forget_all().await {
                Ok(()) => ctx.notify("Forgot every API key and the key that sealed them."),
                Err(e) => ctx.fail(e),
            }
            keys_version.update(|v| *v += 1);
        });
    };
    view! {
        <section class="storage-explainer" data-testid="storage-explainer">
            <h3>"What is stored where"</h3>
            <table>
                <thead><tr><th>"what"</th><th>"where"</th><th>"how"</th></tr></thead>
                <tbody>
                    <tr><td>"remote profiles (name, API, URL, model, prices) and limits"</td><td>"localStorage"</td><td>"plain text; no keys in it"</td></tr>
                    <tr data-testid="store-tab-keys"><td>"API keys, this tab only (the default)"</td><td>"sessionStorage"</td><td>"sealed (AES-GCM); the browser drops them when this tab closes; a reload keeps them"</td></tr>
                    <tr data-testid="store-device-keys"><td>"API keys you chose to remember"</td><td>"localStorage"</td><td>"sealed (AES-GCM) until you delete the profile or forget all keys"</td></tr>
                    <tr><td>"the key that seals them"</td><td>"IndexedDB (council-secrets)"</td><td>"a WebCrypto key made non-extractable: the page can use it, but its bytes cannot be read out"</td></tr>
                    <tr><td>"runs"</td><td>"IndexedDB (council)"</td><td>"scenario, seed and event log; never a key"</td></tr>
                    <tr><td>"downloaded models"</td><td>"the origin's private file system (OPFS)"</td><td>"the GGUF files, listed in localStorage"</td></tr>
                </tbody>
            </table>
            <p data-testid="key-protection">
                "Sealing means no key is ever written as plain text: not on disk, not in the browser's storage panes, backups or sync. "
                "It cannot stop a script running inside this page (an extension, or injected code) from asking the browser to unseal a key, as Council itself does before a run. "
                "Against that the page has a strict Content-Security-Policy: only Council's own scripts run, and it connects only to this site, model hosts, local servers and the profile URLs you saved."
            </p>
            <button data-testid="keys-forget-all" on:click=forget_all>"Forget all keys"</button>
        </section>
    }
}
