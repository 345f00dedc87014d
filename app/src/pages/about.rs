//! About: what Council is, how determinism works, and every paper the built-ins cite.

use leptos::prelude::*;

#[component]
pub fn About() -> impl IntoView {
    let mut cards: Vec<(String, u32, String, String)> = council_core::builtin::builtins()
        .into_iter()
        .filter_map(|s| s.card.map(|c| (c.paper, c.year, c.link, s.title)))
        .collect();
    cards.sort();
    cards.dedup_by(|a, b| a.0 == b.0);
    view! {
        <section class="about" data-testid="about">
            <h2>"About Council"</h2>
            <p>"Council is a playground for the ways AI agents collaborate: debate, round tables, conductors, swarms. Everything runs in this page. Simulated agents are small seeded models of answering, judging and changing one's mind, so each mechanism's effect can be seen in seconds and reproduced exactly."</p>
            <h3>"Determinism"</h3>
            <ul>
                <li><b>"exact"</b>": simulated agents; the same scenario and seed give the same event log, byte for byte, in every browser and natively."</li>
                <li><b>"best-effort"</b>": a local model; greedy or seeded sampling on one device."</li>
                <li><b>"recorded"</b>": a remote API; replays use the recorded answers."</li>
            </ul>
            <h3>"Papers"</h3>
            <ul class="papers" data-testid="papers">
                {cards.into_iter().map(|(paper, year, link, title)| view! {
                    <li>{match crate::csp::safe_link(&link) {
                        Some(href) => view! { <a href=href.to_string() rel="noopener noreferrer" target="_blank">{paper}</a> }.into_any(),
                        None => view! { <span>{paper}</span> }.into_any(),
                    }}{format!(" ({year}) — used by “{title}”")}</li>
                }).collect_view()}
            </ul>
        </section>
    }
}
