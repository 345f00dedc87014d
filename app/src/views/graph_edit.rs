//! Editing the agent graph by hand, in the editor: drag from one agent to another to add
//! the link between them (or remove it when it is there), add an agent, remove one. The
//! keyboard does the same: Enter on one agent then Enter on another toggles their link,
//! Delete removes the focused agent. Every change is an edit of the scenario draft (the
//! editor validates it through the core), so the share link in the address bar follows.
//!
//! Links are hand edits on top of the topology's generator (`add_edges` / `remove_edges`);
//! removing an agent renumbers every edge list and index parameter after it.

use council_core::scenario::Scenario;
use leptos::prelude::*;
use serde_json::{Value, json};
use wasm_bindgen::JsCast;

use crate::layout::{self, H, Pos, W};
use crate::views::icons::{Icon, IconSvg};

/// Above this many agents the drawing is too dense to aim at; the JSON and the matrix stay.
pub const MAX_EDIT_AGENTS: usize = 40;

fn is_pair(e: &Value, a: u32, b: u32, directed: bool) -> bool {
    *e == json!([a, b]) || (!directed && *e == json!([b, a]))
}

/// Toggles the link a→b (both ways on an undirected topology) against the generated graph,
/// `currently_on` being whether it is there now: a hand edit that made it is undone, or
/// the opposite edit is recorded.
pub fn toggle_edge(v: &mut Value, a: u32, b: u32, currently_on: bool) -> Result<(), String> {
    if a == b {
        return Err("an agent cannot link to itself".into());
    }
    let t = &mut v["topology"];
    if !t.is_object() {
        *t = json!({"kind": "mesh"});
    }
    let directed = t["directed"].as_bool().unwrap_or(false);
    let (add_key, undo_key) = if currently_on { ("remove_edges", "add_edges") } else { ("add_edges", "remove_edges") };
    // `get_mut`, not `t[key]`: indexing a missing key would insert a null the core refuses.
    let undone = t.get_mut(undo_key).and_then(Value::as_array_mut).is_some_and(|arr| {
        let before = arr.len();
        arr.retain(|e| !is_pair(e, a, b, directed));
        before != arr.len()
    });
    if t.get(undo_key).and_then(Value::as_array).is_some_and(Vec::is_empty) {
        t.as_object_mut().expect("an object").remove(undo_key);
    }
    if !undone {
        let list = t.as_object_mut().expect("an object").entry(add_key).or_insert_with(|| json!([]));
        if !list.is_array() {
            *list = json!([]);
        }
        list.as_array_mut().expect("just set").push(json!([a, b]));
    }
    Ok(())
}

/// Adds a simulated agent with a fresh name; returns its index.
pub fn add_agent(v: &mut Value) -> Result<usize, String> {
    let arr = v["agents"].as_array_mut().ok_or("agents is not a list")?;
    let taken: Vec<String> = arr.iter().filter_map(|a| a["name"].as_str().map(str::to_string)).collect();
    let name = (arr.len() + 1..).map(|k| format!("Agent {k}")).find(|n| !taken.contains(n)).expect("unbounded");
    arr.push(json!({"name": name}));
    Ok(arr.len() - 1)
}

/// Removes agent `i` and renumbers what points at agents after it: edges that touched it
/// go, later indices shift down, a star's hub and count-bound parameters stay in range.
pub fn remove_agent(v: &mut Value, i: usize) -> Result<(), String> {
    let arr = v["agents"].as_array_mut().ok_or("agents is not a list")?;
    if i >= arr.len() {
        return Err(format!("there is no agent {i}"));
    }
    if arr.len() == 1 {
        return Err("a scenario needs at least one agent".into());
    }
    arr.remove(i);
    let n = arr.len() as u64;
    let i = i as u64;
    let t = &mut v["topology"];
    let Some(obj) = t.as_object_mut() else { return Ok(()) };
    for key in ["edges", "add_edges", "remove_edges"] {
        let Some(list) = obj.get_mut(key).and_then(Value::as_array_mut) else { continue };
        list.retain(|e| !(e[0].as_u64() == Some(i) || e[1].as_u64() == Some(i)));
        for e in list.iter_mut() {
            for k in 0..2 {
                if let Some(x) = e[k].as_u64().filter(|x| *x > i) {
                    e[k] = json!(x - 1);
                }
            }
        }
        if list.is_empty() {
            obj.remove(key);
        }
    }
    if let Some(c) = obj.get("center").and_then(Value::as_u64) {
        obj.insert("center".into(), json!(if c == i { 0 } else if c > i { c - 1 } else { c }));
    }
    for key in ["k", "m", "width"] {
        if obj.get(key).and_then(Value::as_u64).is_some_and(|x| x > n) {
            obj.insert(key.into(), json!(n.max(1)));
        }
    }
    Ok(())
}

/// The links to draw: each unordered pair once on an undirected topology, every arc when directed.
pub fn drawn_edges(edges: &[(u32, u32)], directed: bool) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = edges.iter().filter(|(a, b)| a != b).map(|&(a, b)| if directed { (a, b) } else { (a.min(b), a.max(b)) }).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The editable graph of the editor's scenario. `edit` applies a change to the draft
/// (the editor validates and commits it); `can_edges` / `can_agents` say whether the
/// classroom locks allow linking and adding/removing agents.
#[component]
pub fn GraphEditor<F>(scenario: RwSignal<Scenario>, seed: RwSignal<u64>, edit: F, #[prop(into)] can_edges: Signal<bool>, #[prop(into)] can_agents: Signal<bool>) -> impl IntoView
where
    F: Fn(&dyn Fn(&mut Value) -> Result<(), String>) + Copy + Send + Sync + 'static,
{
    let n = Memo::new(move |_| scenario.with(|s| s.agents.len()));
    let directed = Memo::new(move |_| scenario.with(|s| s.topology.directed));
    let edges = Memo::new(move |_| {
        let sd = seed.get();
        scenario.with(|s| council_core::topology::build(&s.topology, s.agents.len(), sd).edges)
    });
    let pos = Memo::new(move |_| layout::circle(n.get()));
    let names = Memo::new(move |_| scenario.with(|s| s.agents.iter().map(|a| a.name.clone()).collect::<Vec<_>>()));
    // A drag in progress: where it started and where the pointer is.
    let from: RwSignal<Option<usize>> = RwSignal::new(None);
    let pointer: RwSignal<Option<Pos>> = RwSignal::new(None);
    // The agent picked by a click or Enter: the next Enter elsewhere links to it.
    let selected: RwSignal<Option<usize>> = RwSignal::new(None);
    let status = RwSignal::new(String::new());
    let svg_ref = NodeRef::<leptos::svg::Svg>::new();
    let name_of = move |i: usize| names.with(|v| v.get(i).cloned().unwrap_or_else(|| format!("agent {i}")));

    let toggle = move |a: usize, b: usize| {
        if !can_edges.get_untracked() || a == b {
            return;
        }
        let on = edges.with_untracked(|e| e.contains(&(a as u32, b as u32)));
        edit(&|v| toggle_edge(v, a as u32, b as u32, on));
        let (na, nb) = (name_of(a), name_of(b));
        status.set(if on { format!("Removed the link {na} – {nb}.") } else { format!("Linked {na} – {nb}.") });
    };
    let remove = move |i: usize| {
        if !can_agents.get_untracked() {
            return;
        }
        let who = name_of(i);
        edit(&|v| remove_agent(v, i));
        selected.set(None);
        status.set(format!("Removed {who}."));
    };
    let add = move |_| {
        edit(&|v| add_agent(v).map(|_| ()));
        status.set("Added an agent.".into());
    };

    let to_svg = move |ev: &web_sys::PointerEvent| -> Option<Pos> {
        let svg: web_sys::Element = svg_ref.get()?.unchecked_into();
        let r = svg.get_bounding_client_rect();
        let s = (r.width() / W).min(r.height() / H);
        if s <= 0.0 {
            return None;
        }
        let ox = r.left() + (r.width() - W * s) / 2.0;
        let oy = r.top() + (r.height() - H * s) / 2.0;
        Some(((ev.client_x() as f64 - ox) / s, (ev.client_y() as f64 - oy) / s))
    };
    let agent_at = |ev: &web_sys::PointerEvent| -> Option<usize> {
        let el: web_sys::Element = ev.target()?.dyn_into().ok()?;
        el.closest("[data-edit-agent]").ok()??.get_attribute("data-edit-agent")?.parse().ok()
    };
    let end_drag = move || {
        from.set(None);
        pointer.set(None);
    };
    let on_up = move |ev: web_sys::PointerEvent| {
        let Some(a) = from.get_untracked() else { return };
        end_drag();
        match agent_at(&ev) {
            Some(b) if b != a => {
                toggle(a, b);
                selected.set(None);
            }
            // A click on one agent picks it (or drops the pick).
            Some(_) => selected.update(|s| *s = if *s == Some(a) { None } else { Some(a) }),
            None => {}
        }
    };

    let on_move = move |ev: web_sys::PointerEvent| {
        if from.get_untracked().is_some() {
            pointer.set(to_svg(&ev));
        }
    };
    // What the drawing shows, as text (the browser test reads it): "0-1 0-2 ...".
    let edge_list = move || drawn_edges(&edges.get(), directed.get()).iter().map(|(a, b)| format!("{a}-{b}")).collect::<Vec<_>>().join(" ");
    let lines = move || {
        let p = pos.get();
        drawn_edges(&edges.get(), directed.get())
            .into_iter()
            .filter_map(|(a, b)| Some((a, b, *p.get(a as usize)?, *p.get(b as usize)?)))
            .map(|(a, b, pa, pb)| {
                view! {
                    <line class="edge" data-edge=format!("{a}-{b}") x1=format!("{:.1}", pa.0) y1=format!("{:.1}", pa.1)
                        x2=format!("{:.1}", pb.0) y2=format!("{:.1}", pb.1) marker-end=move || directed.get().then_some("url(#arrow)") />
                }
            })
            .collect_view()
    };
    let nodes = move || {
        let p = pos.get();
        names
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                let (x, y) = p.get(i).copied().unwrap_or((0.0, 0.0));
                let label = format!("{name} (agent {i}). Drag to another agent, or press Enter here and then on another, to link or unlink them; Delete removes it.");
                view! {
                    <g class="node" data-edit-agent=i tabindex="0" role="button" aria-label=label
                        class:selected=move || selected.get() == Some(i)
                        transform=format!("translate({x:.1},{y:.1})")
                        on:pointerdown=move |ev: web_sys::PointerEvent| {
                            if can_edges.get_untracked() && ev.button() == 0 {
                                ev.prevent_default();
                                from.set(Some(i));
                                pointer.set(Some((x, y)));
                            }
                        }
                        on:keydown=move |ev: web_sys::KeyboardEvent| match ev.key().as_str() {
                            "Enter" | " " => {
                                ev.prevent_default();
                                match selected.get_untracked() {
                                    Some(s) if s != i => { toggle(s, i); selected.set(None); }
                                    Some(_) => selected.set(None),
                                    None => {
                                        selected.set(Some(i));
                                        status.set(format!("Picked {}: press Enter on another agent to link or unlink them.", name_of(i)));
                                    }
                                }
                            }
                            "Delete" | "Backspace" => { ev.prevent_default(); remove(i); }
                            "Escape" => selected.set(None),
                            _ => {}
                        }>
                        <title>{name.clone()}</title>
                        <circle class="body" r="16" />
                        <text class="idx" y="4" text-anchor="middle">{i.to_string()}</text>
                        <text class="name" y="32" text-anchor="middle">{name.chars().take(24).collect::<String>()}</text>
                    </g>
                }
            })
            .collect_view()
    };
    let rubber = move || {
        let (Some(a), Some(q)) = (from.get(), pointer.get()) else { return None };
        let p = pos.with(|v| v.get(a).copied())?;
        Some(view! { <line class="rubber" x1=format!("{:.1}", p.0) y1=format!("{:.1}", p.1) x2=format!("{:.1}", q.0) y2=format!("{:.1}", q.1) /> })
    };

    view! {
        <div class="graph-editor" data-testid="graph-editor">
            <div class="graph-tools" role="group" aria-label="Edit the graph">
                <button data-testid="graph-add-agent" aria-label="Add an agent" disabled=move || !can_agents.get() on:click=add>
                    <IconSvg icon=Icon::Plus />" agent"
                </button>
                <button data-testid="graph-remove-agent" disabled=move || !can_agents.get() || selected.with(Option::is_none)
                    aria-label=move || selected.get().map(|i| format!("Remove {}", name_of(i))).unwrap_or_else(|| "Remove the picked agent".into())
                    on:click=move |_| if let Some(i) = selected.get_untracked() { remove(i) }>
                    {move || selected.get().map(|i| format!("remove {}", name_of(i))).unwrap_or_else(|| "remove picked agent".into())}
                </button>
                <span class="muted hint">{move || if can_edges.get() { "drag from one agent to another to add or remove their link; click an agent to pick it" } else { "the topology is locked by this link" }}</span>
            </div>
            {move || if n.get() > MAX_EDIT_AGENTS {
                view! { <p class="muted">{format!("Drawing and editing the graph by hand is offered up to {MAX_EDIT_AGENTS} agents; use the generator or the JSON.")}</p> }.into_any()
            } else {
                view! {
                    <svg node_ref=svg_ref class="graph editable" viewBox=format!("0 0 {W} {H}") data-testid="graph-edit-svg"
                        role="group" aria-label="Agent graph (editable)"
                        data-edges=edge_list
                        on:pointermove=on_move
                        on:pointerup=on_up
                        on:pointerleave=move |_| end_drag()>
                        <defs>
                            <marker id="arrow" viewBox="0 0 10 10" refX="26" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
                                <path d="M0 0L10 5L0 10z" />
                            </marker>
                        </defs>
                        {lines}
                        {rubber}
                        {nodes}
                    </svg>
                }.into_any()
            }}
            <p class="muted" role="status" aria-live="polite" data-testid="graph-edit-status">{move || status.get()}</p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use council_core::topology::build;

    fn scenario(kind: &str, n: usize, directed: bool) -> Value {
        let agents: Vec<Value> = (0..n).map(|i| json!({"name": format!("A{i}")})).collect();
        json!({
            "title": "t", "agents": agents,
            "topology": {"kind": kind, "directed": directed},
            "mechanism": {"kind": "debate", "params": {"rounds": 1}},
            "task": {"kind": "multiple_choice", "params": {}},
            "seed": 1
        })
    }

    fn edges(v: &Value) -> Vec<(u32, u32)> {
        let s = Scenario::from_value(v.clone()).expect("valid");
        build(&s.topology, s.agents.len(), s.seed).edges
    }

    #[test]
    fn toggling_adds_then_removes_both_ways_when_undirected() {
        let mut v = scenario("chain", 4, false);
        assert!(!edges(&v).contains(&(0, 3)));
        toggle_edge(&mut v, 0, 3, false).unwrap();
        let e = edges(&v);
        assert!(e.contains(&(0, 3)) && e.contains(&(3, 0)));
        // Toggling it back from the other end undoes the hand edit instead of stacking one.
        toggle_edge(&mut v, 3, 0, true).unwrap();
        assert!(!edges(&v).contains(&(0, 3)));
        assert!(v["topology"].get("add_edges").is_none() && v["topology"].get("remove_edges").is_none(), "{}", v["topology"]);
        // A generated link can be removed, and put back.
        toggle_edge(&mut v, 1, 2, true).unwrap();
        assert!(!edges(&v).contains(&(2, 1)));
        toggle_edge(&mut v, 1, 2, false).unwrap();
        assert!(edges(&v).contains(&(2, 1)) && v["topology"].get("remove_edges").is_none());
        assert!(toggle_edge(&mut v, 1, 1, false).is_err());
    }

    #[test]
    fn toggling_a_directed_topology_touches_one_direction() {
        let mut v = scenario("chain", 3, true);
        toggle_edge(&mut v, 2, 0, false).unwrap();
        let e = edges(&v);
        assert!(e.contains(&(2, 0)) && !e.contains(&(0, 2)));
        assert_eq!(drawn_edges(&e, true), vec![(0, 1), (1, 2), (2, 0)]);
    }

    #[test]
    fn removing_an_agent_renumbers_edges_and_indices() {
        let mut v = scenario("star", 5, false);
        v["topology"]["center"] = json!(3);
        v["topology"]["add_edges"] = json!([[0, 4], [1, 2]]);
        v["topology"]["remove_edges"] = json!([[3, 2]]);
        remove_agent(&mut v, 2).unwrap();
        let t = &v["topology"];
        assert_eq!(v["agents"].as_array().unwrap().len(), 4);
        assert_eq!(t["add_edges"], json!([[0, 3]]), "the edge to the removed agent went, 4 became 3");
        assert!(t.get("remove_edges").is_none());
        assert_eq!(t["center"], json!(2));
        Scenario::from_value(v.clone()).expect("still valid");
        let mut w = scenario("star", 3, false);
        w["topology"]["center"] = json!(1);
        remove_agent(&mut w, 1).unwrap();
        assert_eq!(w["topology"]["center"], json!(0), "the hub itself was removed");
        let mut one = scenario("mesh", 1, false);
        assert!(remove_agent(&mut one, 0).is_err());
        assert!(remove_agent(&mut w, 9).is_err());
    }

    #[test]
    fn count_bound_parameters_stay_in_range() {
        let mut v = scenario("watts_strogatz", 4, false);
        v["topology"]["k"] = json!(4);
        remove_agent(&mut v, 0).unwrap();
        assert_eq!(v["topology"]["k"], json!(3));
        Scenario::from_value(v).expect("valid");
    }

    #[test]
    fn added_agents_get_fresh_names() {
        let mut v = scenario("mesh", 2, false);
        v["agents"][1]["name"] = json!("Agent 3");
        assert_eq!(add_agent(&mut v).unwrap(), 2);
        assert_eq!(v["agents"][2]["name"], json!("Agent 4"));
        Scenario::from_value(v).expect("valid");
    }
}
