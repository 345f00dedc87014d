//! The structure panel: what a mechanism reports of its team as the run goes, at the
//! player's cursor. Groups and who is out, score bars per score name (reputation,
//! contribution, share, ...), the pairwise judgment matrix with a judge filter, live
//! metric curves (e.g. regret) and the choices made per task.
//!
//! Generic over mechanisms: everything is read from the structure events of the log, and
//! the panel only appears when a log has some. The blocks are the trees of
//! `structure_parts` (the HTML export shows the same ones), mounted by [`Markup`].

use crate::markup::{self, Node};
use crate::run::Player;
use crate::structure_parts::{self as parts, Axes};
use crate::views::plot::{LinePlot, Series};
use council_core::event::AgentId;
use council_core::structure;
use leptos::prelude::*;

/// Mounts an element tree, replacing it whenever `tree` changes; `data-cursor` says which
/// cursor the tree on screen stands for (tests wait on it).
#[component]
fn Markup(tree: Memo<Vec<Node>>, #[prop(into)] class: String) -> impl IntoView {
    let p = expect_context::<Player>();
    let host = NodeRef::<leptos::html::Div>::new();
    // The cursor moves more often than the tree changes: redraw only a changed tree.
    let shown: StoredValue<Option<Vec<Node>>> = StoredValue::new(None);
    Effect::new(move |_| {
        let c = p.cursor.get();
        let Some(h) = host.get() else { return };
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
        tree.with(|t| {
            if shown.with_value(|s| s.as_ref() != Some(t)) {
                let nodes = js_sys::Array::new();
                for n in t {
                    if let Some(d) = markup::to_dom(n, &doc, false) {
                        nodes.push(&d);
                    }
                }
                h.replace_children_with_node(&nodes);
                shown.set_value(Some(t.clone()));
            }
        });
        let _ = h.set_attribute("data-cursor", &c.to_string());
    });
    view! { <div node_ref=host class=class></div> }
}

#[component]
pub fn StructurePanel() -> impl IntoView {
    let p = expect_context::<Player>();
    let shown = Memo::new(move |_| p.run.with(|r| structure::has_structure(r.log.events())));
    move || shown.get().then(|| view! { <Panel /> })
}

#[component]
fn Panel() -> impl IntoView {
    let p = expect_context::<Player>();
    let axes: Memo<Axes> = Memo::new(move |_| p.run.with(|r| parts::axes(r.log.events())));
    let names = Memo::new(move |_| p.run.with(|r| r.cast.agents.iter().map(|a| a.name.clone()).collect::<Vec<_>>()));
    let judge: RwSignal<Option<AgentId>> = RwSignal::new(None);
    let shares = RwSignal::new(false);
    let top = Memo::new(move |_| {
        p.structure.with(|s| {
            names.with(|n| {
                let mut v: Vec<Node> = parts::membership(s, n).into_iter().collect();
                v.extend(axes.with(|a| parts::score_blocks(a, s, n)));
                v
            })
        })
    });
    let table = Memo::new(move |_| {
        let (j, sh) = (judge.get(), shares.get());
        p.structure.with(|s| names.with(|n| axes.with(|a| parts::judgment_table(a, s, n, j, sh).into_iter().collect())))
    });
    let picks = Memo::new(move |_| p.structure.with(|s| parts::choices(s).into_iter().collect()));
    let judges = move || {
        axes.with(|a| a.judges.clone())
            .into_iter()
            .map(|j| view! { <option value=j.to_string()>{names.with(|n| parts::agent_name(n, j))}</option> })
            .collect_view()
    };
    view! {
        <section class="structure-pane" data-testid="structure" aria-labelledby="structure-title">
            <h3 id="structure-title">"Structure"</h3>
            <Markup tree=top class="structure-top" />
            <Show when=move || axes.with(|a| !a.judged.is_empty())>
                <div class="judgments">
                    <div class="pane-head">
                        <h4>"Pairwise judgments"</h4>
                        <label>"judge "
                            <select data-testid="judge-filter" aria-label="Show the judgments of"
                                on:change=move |ev| judge.set(event_target_value(&ev).parse().ok())>
                                <option value="all">"every judge"</option>
                                {judges}
                            </select>
                        </label>
                        <button data-testid="judgment-shares" aria-pressed=move || shares.get().to_string()
                            on:click=move |_| shares.update(|v| *v = !*v)>
                            {move || if shares.get() { "show counts" } else { "show win shares" }}
                        </button>
                    </div>
                    <Markup tree=table class="matrix-scroll" />
                </div>
            </Show>
            <Curves />
            <Markup tree=picks class="structure-choices" />
        </section>
    }
}

/// Every metric the run reports more than once, drawn up to the cursor on the axes of the
/// whole run (the curve grows as the run plays).
#[component]
fn Curves() -> impl IntoView {
    let p = expect_context::<Player>();
    let curves = Memo::new(move |_| p.run.with(|r| structure::curves(r.log.events())));
    let shown = Memo::new(move |_| {
        let c = p.cursor.get();
        curves.with(|cs| cs.iter().map(|cv| cv.upto(c).count()).collect::<Vec<_>>())
    });
    move || {
        let counts = shown.get();
        let plots = curves.with(|cs| {
            cs.iter()
                .zip(counts)
                .map(|(cv, k)| {
                    let xs = cv.points.iter().map(|p| p.1);
                    let ys = cv.points.iter().map(|p| p.2);
                    let x_range = (xs.clone().fold(f64::INFINITY, f64::min), xs.fold(f64::NEG_INFINITY, f64::max));
                    let (lo, hi) = (ys.clone().fold(f64::INFINITY, f64::min), ys.fold(f64::NEG_INFINITY, f64::max));
                    let y_range = if hi - lo < 1e-12 { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
                    let points: Vec<(f64, f64)> = cv.points.iter().take(k).map(|p| (p.1, p.2)).collect();
                    let series = vec![Series { label: cv.name.clone(), points, band: None }];
                    view! {
                        <div class="curve" data-testid="curve" data-metric=cv.name.clone() data-points=k>
                            <LinePlot series=series title=cv.name.clone() x_range=x_range y_range=y_range x_label=cv.x_label />
                        </div>
                    }
                })
                .collect_view()
        });
        view! { <div class="plots">{plots}</div> }
    }
}
