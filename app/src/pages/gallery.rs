//! The gallery (home): built-in scenarios as cards grouped by family, each with its hook,
//! a tiny preview of its topology and its paper. One click opens and runs it.

use crate::layout;
use council_core::scenario::Scenario;
use leptos::prelude::*;

/// Families in gallery order, with a heading.
pub const FAMILIES: [(&str, &str); 4] = [
    ("deliberation", "Deliberation: agents talk until they agree"),
    ("architectures", "Architectures: who reports to whom"),
    ("orchestration", "Orchestration: someone plans the work"),
    ("engine", "Inside the engine: models share the work token by token"),
];

/// A small SVG of a scenario's topology (circle layout, as the run would build it).
#[component]
pub fn TopologyPreview(scenario: Scenario) -> impl IntoView {
    let n = scenario.agents.len();
    let g = council_core::topology::build(&scenario.topology, n, scenario.seed);
    let pos = layout::circle(n);
    let sx = |x: f64| x / layout::W * 120.0;
    let sy = |y: f64| y / layout::H * 80.0;
    let mut d = String::new();
    for &(a, b) in g.edges.iter().take(2000) {
        let (p, q) = (pos[a as usize], pos[b as usize]);
        d.push_str(&format!("M{:.1} {:.1}L{:.1} {:.1}", sx(p.0), sy(p.1), sx(q.0), sy(q.1)));
    }
    view! {
        <svg class="preview" viewBox="0 0 120 80" aria-hidden="true">
            <path d=d class="edges" />
            {pos.iter().take(300).map(|&(x, y)| view! { <circle cx=sx(x) cy=sy(y) r="3.5" /> }).collect_view()}
        </svg>
    }
}

#[component]
pub fn Gallery() -> impl IntoView {
    let all = council_core::builtin::builtins();
    let groups = FAMILIES
        .iter()
        .map(|(fam, heading)| (fam.to_string(), heading.to_string(), all.iter().filter(|s| s.family == *fam).cloned().collect::<Vec<_>>()))
        .chain(std::iter::once((
            "other".to_string(),
            "More".to_string(),
            all.iter().filter(|s| !FAMILIES.iter().any(|(f, _)| *f == s.family)).cloned().collect(),
        )))
        .filter(|(_, _, v)| !v.is_empty())
        .collect::<Vec<_>>();
    view! {
        <section class="gallery" data-testid="gallery">
            <p class="intro">"Pick a mechanism and watch simulated agents run it, right here in your browser: no key, no download. Every run is exactly reproducible from its seed."</p>
            {groups.into_iter().map(|(fam, heading, items)| view! {
                <section class="family" data-family=fam>
                    <h2>{heading}</h2>
                    <div class="cards">
                        {items.into_iter().map(|s| {
                            let href = format!("#/s/{}", s.id);
                            let card = s.card.clone();
                            view! {
                                <a class="card" href=href data-scenario-id=s.id.clone()
                                    aria-label=format!("Run {}", s.title)>
                                    <TopologyPreview scenario=s.clone() />
                                    <h3>{s.title.clone()}</h3>
                                    <p class="hook">{s.hook.clone()}</p>
                                    {card.map(|c| view! { <p class="paper">{format!("{} ({})", c.paper, c.year)}</p> })}
                                    <span class="go">"Run " <crate::views::icons::IconSvg icon=crate::views::icons::Icon::Play /></span>
                                </a>
                            }
                        }).collect_view()}
                    </div>
                </section>
            }).collect_view()}
        </section>
    }
}
