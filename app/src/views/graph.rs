//! The agent graph: nodes (name, role, backend badge, current answer and confidence, a ring
//! for vote weight / reputation), the topology's edges, and message dots flying from sender
//! to receivers, coloured by kind. Layouts: force, circle, layered, or drag nodes by hand.
//! Above `DENSITY_THRESHOLD` agents it switches to a density view (one cell per agent plus
//! an answer histogram) so big societies stay responsive.
//! A team's structure (see `overlays`) draws over it: the logged communication graph and
//! its rewiring, group hulls, node size from importance, faded inactive agents.

use crate::cast::Cast;
use crate::layout::{self, H, Layout, Pos, W};
use crate::overlay;
use crate::run::Player;
use crate::views::overlays::{GroupHulls, RewiredEdges};
use crate::views::plot::color;
use leptos::prelude::*;
use std::collections::BTreeMap;
use wasm_bindgen::JsCast;

pub const DENSITY_THRESHOLD: usize = 200;
/// Most message dots drawn for one message.
const MAX_DOTS: usize = 40;

/// Stable colours for answers: by order of first appearance in the log.
pub fn answer_colors(events: &[council_core::event::Event]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for e in events {
        if let council_core::event::EventKind::Answer { answer: Some(a), .. } = &e.kind {
            let n = m.len();
            m.entry(a.clone()).or_insert(n);
        }
    }
    m
}

/// One SVG path for all edges (a single DOM node, however many edges).
fn edges_path(pos: &[Pos], edges: &[(u32, u32)]) -> String {
    let mut d = String::new();
    for &(a, b) in edges {
        if let (Some(p), Some(q)) = (pos.get(a as usize), pos.get(b as usize)) {
            d.push_str(&format!("M{:.1} {:.1}L{:.1} {:.1}", p.0, p.1, q.0, q.1));
        }
    }
    d
}

#[component]
pub fn GraphView() -> impl IntoView {
    let p = expect_context::<Player>();
    let n = Memo::new(move |_| p.run.with(|r| r.cast.agents.len()));
    view! {
        {move || if n.get() > DENSITY_THRESHOLD {
            view! { <DensityView /> }.into_any()
        } else {
            view! { <NodeLinkView /> }.into_any()
        }}
    }
}

#[component]
fn NodeLinkView() -> impl IntoView {
    let p = expect_context::<Player>();
    let cast = Memo::new(move |_| p.run.with(|r| r.cast.clone()));
    let colors = Memo::new(move |_| p.run.with(|r| answer_colors(r.log.events())));
    // Laid out over every edge the run ever draws, so rewiring moves no node.
    let layout_edges = Memo::new(move |_| p.run.with(|r| overlay::layout_edges(&r.cast.edges, r.log.events())));
    // Force layouts read best for small connected teams; without edges (or for big casts)
    // repulsion alone pushes every node to the border, so those start as a circle.
    let layout_sel = RwSignal::new(cast.with_untracked(|c| {
        if c.layered {
            Layout::Layered
        } else if layout_edges.with_untracked(Vec::is_empty) || c.agents.len() > 40 {
            Layout::Circle
        } else {
            Layout::Force
        }
    }));
    let manual: RwSignal<Option<Vec<Pos>>> = RwSignal::new(None);
    let computed = Memo::new(move |_| {
        let l = layout_sel.get();
        let n = cast.with(|c| c.agents.len());
        layout_edges.with(|e| layout::compute(l, n, e))
    });
    let pos = Memo::new(move |_| manual.get().unwrap_or_else(|| computed.get()));
    // Once the run logs its own communication graph, `RewiredEdges` draws that instead.
    let logged_graph = Memo::new(move |_| p.structure.with(|s| s.graph.is_some()));
    let edges_d = Memo::new(move |_| if logged_graph.get() { String::new() } else { cast.with(|c| pos.with(|p| edges_path(p, &c.edges))) });
    let scales = Memo::new(move |_| {
        let n = cast.with(|c| c.agents.len());
        p.structure.with(|s| overlay::node_scales(s, n))
    });
    let radius = Signal::derive(move || {
        let base = if cast.with(|c| c.agents.len()) > 60 { 7.0 } else { 15.0 };
        scales.with(|k| k.iter().map(|k| base * k).collect::<Vec<f64>>())
    });
    let dragging: RwSignal<Option<usize>> = RwSignal::new(None);
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();

    let to_svg = move |ev: &web_sys::PointerEvent| -> Option<Pos> {
        let svg: web_sys::Element = svg_ref.get()?.unchecked_into();
        let r = svg.get_bounding_client_rect();
        let s = (r.width() / W).min(r.height() / H);
        if s <= 0.0 {
            return None;
        }
        let ox = r.left() + (r.width() - W * s) / 2.0;
        let oy = r.top() + (r.height() - H * s) / 2.0;
        Some((((ev.client_x() as f64 - ox) / s).clamp(10.0, W - 10.0), ((ev.client_y() as f64 - oy) / s).clamp(10.0, H - 10.0)))
    };
    let on_move = move |ev: web_sys::PointerEvent| {
        if let (Some(i), Some(xy)) = (dragging.get_untracked(), to_svg(&ev)) {
            let mut v = pos.get_untracked();
            if i < v.len() {
                v[i] = xy;
                manual.set(Some(v));
            }
        }
    };
    let dur = move || format!("{:.2}s", (1.6 / p.speed.get()).clamp(0.12, 0.9));

    let nodes = move || {
        let n = cast.with(|c| c.agents.len());
        // Above 60 agents the labels would overlap and cost layout: names and answers stay
        // in each node's tooltip and aria-label, the colour shows the answer.
        let compact = n > 60;
        (0..n)
            .map(|i| {
                let info = cast.with_untracked(|c| c.agents[i].clone());
                let badge = Cast::badge(&info.backend);
                let st = Memo::new(move |_| p.frame.with(|f| f.agents.get(i).cloned().unwrap_or_default()));
                let xy = move || pos.with(|v| v.get(i).copied().unwrap_or((0.0, 0.0)));
                let scale = move || scales.with(|k| k.get(i).copied().unwrap_or(1.0));
                let out = Memo::new(move |_| p.structure.with(|s| s.inactive.get(&(i as u32)).cloned()));
                let label = {
                    let info = info.clone();
                    move || {
                        let s = st.get();
                        format!(
                            "{} ({}, {}): answer {}{}",
                            info.name,
                            info.role,
                            info.backend,
                            s.answer.as_deref().unwrap_or("none yet"),
                            s.confidence.map(|c| format!(", confidence {c:.2}")).unwrap_or_default()
                        ) + &out.with(|o| o.as_ref().map(|r| format!("; out of the team: {r}")).unwrap_or_default())
                    }
                };
                let fill = move || {
                    st.with(|s| match &s.answer {
                        Some(a) => colors.with(|c| color(c.get(a).copied().unwrap_or(9))).to_string(),
                        None => "var(--node-empty)".to_string(),
                    })
                };
                view! {
                    <g class="node" data-agent=i tabindex="0" role="img" aria-label=label
                        class:active=move || p.frame.with(|f| f.active == Some(i as u32))
                        class:trouble=move || st.with(|s| s.trouble)
                        class:inactive=move || out.with(Option::is_some)
                        data-scale=move || format!("{:.3}", scale())
                        transform=move || { let (x, y) = xy(); let k = scale(); if k == 1.0 { format!("translate({x:.1},{y:.1})") } else { format!("translate({x:.1},{y:.1}) scale({k:.3})") } }
                        on:pointerdown=move |ev: web_sys::PointerEvent| {
                            if let Some(t) = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                                let _ = t.set_pointer_capture(ev.pointer_id());
                            }
                            dragging.set(Some(i));
                        }
                        on:pointerup=move |_| dragging.set(None)>
                        <title>{let t = format!("{} — {}", info.name, info.role); move || match out.get() { Some(r) => format!("{t} (out: {r})"), None => t.clone() }}</title>
                        {move || st.with(|s| s.weight).map(|w| view! {
                            <circle class="ring" r=format!("{:.1}", 17.0 + 8.0 * w.clamp(0.0, 1.5)) />
                        })}
                        <circle class="body" r=if compact { "7" } else { "15" } fill=fill />
                        {(!compact).then(|| view! {
                        <text class="ans" y="4" text-anchor="middle">
                            {move || st.with(|s| s.answer.clone().map(|a| a.chars().take(4).collect::<String>()).unwrap_or_default())}
                        </text>
                        <rect class="conf-bg" x="-15" y="19" width="30" height="3" />
                        <rect class="conf" x="-15" y="19" height="3"
                            width=move || format!("{:.1}", 30.0 * st.with(|s| s.confidence.unwrap_or(0.0)).clamp(0.0, 1.0)) />
                        <text class="name" y="34" text-anchor="middle">{info.name.clone()}</text>
                        <text class="badge" x="13" y="-12">{badge}</text>
                        })}
                    </g>
                }
            })
            .collect_view()
    };

    let flights = move || p.frame.with(|f| f.flights.clone());
    view! {
        <div class="graph-pane">
            <div class="graph-tools" role="group" aria-label="Graph layout">
                {Layout::ALL.into_iter().map(|l| view! {
                    <button class:on=move || layout_sel.get() == l && manual.with(Option::is_none)
                        data-testid=format!("layout-{}", l.name())
                        aria-label=format!("{} layout", l.name())
                        on:click=move |_| { manual.set(None); layout_sel.set(l); }>{l.name()}</button>
                }).collect_view()}
                <span class="muted hint">"drag nodes to arrange"</span>
            </div>
            // Message dots fly on their own layer above the graph, so their animation
            // repaints only the dots, not the whole node-link drawing each frame.
            <div class="graph-stack">
            <svg node_ref=svg_ref class="graph" viewBox=format!("0 0 {W} {H}") data-testid="graph"
                role="group" aria-label="Agent graph"
                on:pointermove=on_move on:pointerleave=move |_| dragging.set(None)>
                <GroupHulls pos=pos />
                <path class="edges" d=move || edges_d.get() />
                <RewiredEdges pos=pos radius=radius />
                {nodes}
            </svg>
            <svg class="graph flights" viewBox=format!("0 0 {W} {H}") aria-hidden="true" style:--dur=dur>
                <For each=flights key=|f| f.seq let:f>
                    {
                        let cls = format!("flight k-{}", kind_class(&f.kind));
                        let p0 = pos.with_untracked(|v| v.get(f.from as usize).copied().unwrap_or_default());
                        // A broadcast to a big society draws a sample of its receivers: the
                        // motion reads the same and 100-agent runs stay smooth.
                        let stride = f.to.len().div_ceil(MAX_DOTS).max(1);
                        f.to.iter().step_by(stride).filter_map(|t| pos.with_untracked(|v| v.get(*t as usize).copied())).map(|p1| {
                            // Positions go through the CSSOM (custom properties), never a
                            // `style` attribute: the page's CSP allows no inline styles.
                            view! {
                                <g class=cls.clone()>
                                    <line x1=p0.0 y1=p0.1 x2=p1.0 y2=p1.1 />
                                    <circle class="dot" r="5"
                                        style:--x0=format!("{:.1}px", p0.0) style:--y0=format!("{:.1}px", p0.1)
                                        style:--x1=format!("{:.1}px", p1.0) style:--y1=format!("{:.1}px", p1.1) />
                                </g>
                            }
                        }).collect_view()
                    }
                </For>
            </svg>
            </div>
        </div>
    }
}

/// CSS class suffix for a message kind (known kinds get their own colour).
pub fn kind_class(kind: &str) -> &'static str {
    match kind {
        "answer" => "answer",
        "critique" => "critique",
        "vote" => "vote",
        "plan" => "plan",
        "request" => "request",
        _ => "other",
    }
}

#[component]
fn DensityView() -> impl IntoView {
    let p = expect_context::<Player>();
    let colors = Memo::new(move |_| p.run.with(|r| answer_colors(r.log.events())));
    let n = p.run.with_untracked(|r| r.cast.agents.len());
    let cols = (n as f64).sqrt().ceil() as usize;
    let rows = n.div_ceil(cols.max(1));
    let cell = (W / cols.max(1) as f64).min(H / rows.max(1) as f64);
    let cells = move || {
        let f = p.frame.get();
        colors.with(|c| {
            f.agents
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let fill = s.answer.as_ref().map(|a| color(c.get(a).copied().unwrap_or(9))).unwrap_or("var(--node-empty)");
                    let x = (i % cols) as f64 * cell;
                    let y = (i / cols) as f64 * cell;
                    view! { <rect x=x y=y width=cell * 0.9 height=cell * 0.9 fill=fill /> }
                })
                .collect_view()
        })
    };
    let histogram = move || {
        let f = p.frame.get();
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for s in &f.agents {
            *counts.entry(s.answer.clone().unwrap_or_else(|| "—".into())).or_default() += 1;
        }
        colors.with(|c| {
            counts
                .into_iter()
                .map(|(a, k)| {
                    let pct = 100.0 * k as f64 / n.max(1) as f64;
                    let col = c.get(&a).map(|i| color(*i)).unwrap_or("var(--node-empty)");
                    view! {
                        <div class="bar"><span class="lbl">{a}</span>
                            <span class="fill" style:width=format!("{pct:.1}%") style:background=col></span>
                            <span class="num">{k}</span></div>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <div class="graph-pane density" data-testid="graph-density">
            <p class="muted">{format!("{n} agents: each cell is one agent, coloured by its current answer.")}</p>
            <svg class="graph" viewBox=format!("0 0 {W} {H}") role="img" aria-label="Agent density view">{cells}</svg>
            <div class="histogram" aria-label="Answers held now">{histogram}</div>
        </div>
    }
}
