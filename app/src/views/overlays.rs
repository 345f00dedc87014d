//! What the agent graph draws of a team's structure (the player's `structure` at the
//! cursor), for any mechanism that reports it: working groups as labelled hulls under the
//! nodes, and the communication graph of the latest `Graph` event as arrows, its rewiring
//! animated (new edges fade in, dropped ones fade out).

use crate::layout::Pos;
use crate::overlay;
use crate::run::Player;
use crate::views::plot::color;
use leptos::prelude::*;

/// Hulls around each group of the latest `Groups` event, labelled "<label> <k>".
#[component]
pub fn GroupHulls(#[prop(into)] pos: Signal<Vec<Pos>>) -> impl IntoView {
    let p = expect_context::<Player>();
    let groups = Memo::new(move |_| p.structure.with(|s| s.groups.clone()));
    move || {
        let g = groups.get()?;
        let names: Vec<String> = p.run.with_untracked(|r| r.cast.agents.iter().map(|a| a.name.clone()).collect());
        let n = names.len();
        let hulls = g
            .groups
            .iter()
            .enumerate()
            .filter_map(|(k, members)| {
                let members: Vec<usize> = members.iter().map(|m| *m as usize).filter(|m| *m < n).collect();
                if members.is_empty() {
                    return None;
                }
                let name = format!("{} {}", g.label, k + 1);
                let who = members.iter().map(|m| names[*m].as_str()).collect::<Vec<_>>().join(", ");
                let ids = members.iter().map(usize::to_string).collect::<Vec<_>>().join(" ");
                let pts = {
                    let members = members.clone();
                    move || pos.with(|v| members.iter().filter_map(|m| v.get(*m).copied()).collect::<Vec<Pos>>())
                };
                let pts2 = pts.clone();
                let at = Memo::new(move |_| overlay::hull_label_at(&pts2(), 36.0).unwrap_or_default());
                Some(view! {
                    <g class="hull" data-testid="hull" data-group=k data-members=ids
                        style:--hull=color(k) role="img" aria-label=format!("{name}: {who}")>
                        <title>{format!("{name}: {who}")}</title>
                        <path d=move || overlay::hull_path(&pts()) />
                        <text x=move || at.get().0 y=move || at.get().1 text-anchor="middle">{name.clone()}</text>
                    </g>
                })
            })
            .collect_view();
        Some(view! { <g class="hulls" data-label=g.label.clone()>{hulls}</g> })
    }
}

/// The graph of the latest `Graph` event as arrows; `gap(b)` is how far short of node `b`
/// an arrow stops (its radius). Edges the rewiring added or removed get their own layers,
/// re-created at each rewiring so their fade animations play once.
#[component]
pub fn RewiredEdges(#[prop(into)] pos: Signal<Vec<Pos>>, #[prop(into)] radius: Signal<Vec<f64>>) -> impl IntoView {
    let p = expect_context::<Player>();
    let graph = Memo::new(move |_| p.structure.with(|s| s.graph.clone()));
    let initial = Memo::new(move |_| p.run.with(|r| r.cast.edges.clone()));
    let layer = move |class: &'static str, edges: Vec<(u32, u32)>| {
        let d = Memo::new(move |_| {
            pos.with(|v| radius.with(|r| overlay::arrow_paths(v, &edges, |b| r.get(b as usize).copied().unwrap_or(15.0) + 3.0)))
        });
        view! {
            <g class=class>
                <path class="line" d=move || d.with(|d| d.0.clone()) />
                <path class="head" d=move || d.with(|d| d.1.clone()) />
            </g>
        }
    };
    move || {
        let g = graph.get()?;
        let rw = initial.with_untracked(|c| g.rewiring(c));
        let (added, removed) = (overlay::edges_text(&rw.added), overlay::edges_text(&rw.removed));
        let label = format!(
            "Communication graph: {} links{}",
            g.edges.len(),
            if rw.added.is_empty() && rw.removed.is_empty() {
                String::new()
            } else {
                format!(", {} new and {} dropped at the last rewiring", rw.added.len(), rw.removed.len())
            }
        );
        Some(view! {
            <g class="rewired" data-testid="graph-edges" data-seq=g.seq
                data-edges=overlay::edges_text(&g.edges) data-added=added
                data-removed=removed role="img" aria-label=label>
                {layer("kept", rw.kept)}
                {layer("enter", rw.added)}
                {layer("leave", rw.removed)}
            </g>
        })
    }
}
