//! What a scenario opened from a link would call or download, listed before anything
//! happens (the link gate waits for a click): each remote profile with the URL it goes to
//! (or that it is not set up here), each local model with its download size or that it
//! is already stored.

use council_core::Backend;
use council_core::scenario::Scenario;
use leptos::prelude::*;

use super::settings;

/// One line per backend the scenario uses other than simulated agents.
pub fn items(s: &Scenario) -> Vec<(String, bool)> {
    let settings = settings::load();
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut seen: Vec<&Backend> = Vec::new();
    for a in &s.agents {
        if a.backend.is_sim() || seen.contains(&&a.backend) {
            continue;
        }
        seen.push(&a.backend);
        let users: Vec<&str> = s.agents.iter().filter(|x| x.backend == a.backend).map(|x| x.name.as_str()).collect();
        let who = users.join(", ");
        if let Backend::Remote(name) = &a.backend {
            match settings.profile(name) {
                Some(p) => out.push((
                    format!("{who}: calls your remote profile \"{name}\" ({}, model {}) at {} — up to {} calls per run, spending that profile's key", p.kind.name(), if p.model.is_empty() { "default" } else { &p.model }, p.url, settings.max_remote_calls),
                    true,
                )),
                None => out.push((format!("{who}: remote profile \"{name}\" is not set up in this browser; add it on the Models & keys page or switch these agents to sim"), false)),
            }
        } else if let Backend::Local(model) = &a.backend {
            out.push((format!("{who}: {}", crate::models::gate_line(model)), true));
        }
    }
    out
}

#[component]
pub fn GateDetails(scenario: Scenario) -> impl IntoView {
    let items = items(&scenario);
    view! {
        <div class="gate-details" data-testid="gate-details">
            <p>"Nothing has been sent or downloaded yet. If you open and run it:"</p>
            <ul>
                {items.into_iter().map(|(text, ok)| view! {
                    <li data-testid=if ok { "gate-item" } else { "gate-missing" } class:warn=!ok>{text}</li>
                }).collect_view()}
            </ul>
            <p class="muted">"Calls start only when you press Run; a remote reply is recorded in the run's log, so replays and exports never call the API again."</p>
        </div>
    }
}
