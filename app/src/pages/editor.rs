//! The scenario editor: agents (add/remove, name, role, backend, simulated traits with
//! sliders and explanations), topology (generator and parameters; drag between agents on
//! the graph, or click a matrix cell, to add/remove an edge), mechanism and task
//! parameters, title, classroom locks, and the raw JSON. Every edit goes through the
//! core's validation: a valid draft becomes the scenario, an invalid one shows the core's
//! message inline and changes nothing.

use crate::sweep::set_path;
use crate::views::graph_edit::{self, GraphEditor};
use council_core::Backend;
use council_core::scenario::{Agent, Scenario, Traits};
use leptos::prelude::*;
use serde_json::Value;

/// Simulated traits: (field, label, what it does).
pub const TRAITS: [(&str, &str, &str); 8] = [
    ("accuracy", "skill", "Chance that one attempt at a medium-difficulty item is right."),
    ("conformity", "conformity", "Pull towards answers its peers hold (more when they say they are sure), apart from their arguments."),
    ("stubbornness", "stubbornness", "Commitment to the answer it already gave."),
    ("judge_accuracy", "judging", "Chance to spot a flaw in someone else's argument (reviewing, judging, being convinced). Unset: follows its skill."),
    ("error_recall", "self-check", "Chance to spot a flaw in its own argument (reflection). Unset: its skill."),
    ("false_alarm", "false alarm", "Chance to object to a sound step when checking."),
    ("diversity", "diversity", "How far its mistakes depart from other copies of its model (0: it shares them)."),
    ("context_load", "context load", "How much harder items get per doubling of the context it must hold."),
];

pub const TOPOLOGIES: [&str; 10] =
    ["mesh", "chain", "star", "ring", "tree", "grid", "erdos_renyi", "watts_strogatz", "barabasi_albert", "custom"];

/// Topology parameters that apply to each generator: (field, label, integer?).
fn topology_params(kind: &str) -> &'static [(&'static str, &'static str, bool)] {
    match kind {
        "star" => &[("center", "hub agent", true)],
        "tree" => &[("branching", "branching", true)],
        "grid" => &[("width", "width", true)],
        "erdos_renyi" => &[("p", "edge probability", false), ("seed", "graph seed", true)],
        "watts_strogatz" => &[("k", "neighbours per side", true), ("beta", "rewiring", false), ("seed", "graph seed", true)],
        "barabasi_albert" => &[("m", "edges per new node", true), ("seed", "graph seed", true)],
        _ => &[],
    }
}

/// Controls a classroom link can lock.
pub const LOCKABLE: [(&str, &str); 6] = [
    ("agents", "agents"),
    ("topology", "topology"),
    ("mechanism", "mechanism"),
    ("task", "task"),
    ("seed", "seed"),
    ("json", "raw JSON"),
];

#[component]
pub fn Editor(scenario: RwSignal<Scenario>, seed: RwSignal<u64>) -> impl IntoView {
    let draft = RwSignal::new(scenario.get_untracked().to_value());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let locked = move |what: &str| scenario.with(|s| s.ui.locked.iter().any(|p| p == what || p.starts_with(&format!("{what}."))));
    // Validate a changed draft through the core; only a valid one becomes the scenario.
    let commit = move |v: Value| {
        draft.set(v.clone());
        match Scenario::from_value(v) {
            Ok(s) => {
                error.set(None);
                scenario.set(s);
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };
    let edit = move |f: &dyn Fn(&mut Value) -> Result<(), String>| {
        let mut v = draft.get_untracked();
        match f(&mut v) {
            Ok(()) => commit(v),
            Err(e) => error.set(Some(e)),
        }
    };
    let set_num = move |path: String, raw: String| {
        edit(&|v| {
            let x: f64 = raw.trim().parse().map_err(|_| format!("{path}: \"{raw}\" is not a number"))?;
            set_path(v, &path, x)
        })
    };
    let set_str = move |path: String, text: String| {
        edit(&|v| {
            let mut cur = &mut *v;
            let parts: Vec<&str> = path.split('.').collect();
            for p in &parts[..parts.len() - 1] {
                cur = match p.parse::<usize>() {
                    Ok(i) => cur.get_mut(i).ok_or("bad index")?,
                    Err(_) => cur.get_mut(*p).ok_or("bad path")?,
                };
            }
            let last = parts[parts.len() - 1];
            cur.as_object_mut().ok_or("not an object")?.insert(last.to_string(), Value::String(text.clone()));
            Ok(())
        })
    };

    let agents = move || {
        let n = draft.with(|d| d["agents"].as_array().map_or(0, Vec::len));
        (0..n)
            .map(|i| {
                let a: Agent = draft.with_untracked(|d| serde_json::from_value(d["agents"][i].clone()).unwrap_or(Agent {
                    name: format!("agent {i}"),
                    role: String::new(),
                    backend: Backend::Sim,
                    model: String::new(),
                    traits: Traits::default(),
                }));
                let tr = serde_json::to_value(&a.traits).unwrap_or_default();
                view! {
                    <fieldset class="agent-row" data-agent-row=i disabled=move || locked("agents")>
                        <legend>{format!("Agent {i}")}</legend>
                        <label>"name " <input aria-label=format!("Agent {i} name") value=a.name.clone()
                            on:change=move |ev| set_str(format!("agents.{i}.name"), event_target_value(&ev)) /></label>
                        <label>"backend "
                            <input aria-label=format!("Agent {i} backend") list="backends" value=a.backend.to_string()
                                title="sim = simulated agent; local:<model> = a model in this browser; remote:<profile> = an API from your settings"
                                on:change=move |ev| set_str(format!("agents.{i}.backend"), event_target_value(&ev)) />
                        </label>
                        <button class="remove" aria-label=format!("Remove agent {i}") disabled=move || locked("topology")
                            on:click=move |_| edit(&|v| graph_edit::remove_agent(v, i))>"remove"</button>
                        <label class="role">"role " <textarea aria-label=format!("Agent {i} role") rows="1"
                            on:change=move |ev| set_str(format!("agents.{i}.role"), event_target_value(&ev))>{a.role.clone()}</textarea></label>
                        <div class="traits">
                            {TRAITS.iter().map(|(field, label, help)| {
                                // Unset checking skills follow the agent's skill; show the value in use.
                                let derived = match *field {
                                    "judge_accuracy" => Some(a.traits.judging("")),
                                    "error_recall" => Some(a.traits.self_checking("")),
                                    _ => None,
                                };
                                let set = tr[*field].as_f64();
                                let v = set.or(derived).unwrap_or(0.0);
                                let shown = if set.is_none() && derived.is_some() { format!("auto {v:.2}") } else { format!("{v:.2}") };
                                let path = format!("agents.{i}.traits.{field}");
                                view! {
                                    <label class="trait" title=*help>
                                        <span>{*label}</span>
                                        <input type="range" min="0" max="1" step="0.05" value=v.to_string()
                                            aria-label=format!("Agent {i} {label}: {help}")
                                            on:change=move |ev| set_num(path.clone(), event_target_value(&ev)) />
                                        <output>{shown}</output>
                                    </label>
                                }
                            }).collect_view()}
                            <label class="trait" title="How its stated confidence relates to being right">
                                <span>"calibration"</span>
                                <select aria-label=format!("Agent {i} calibration")
                                    on:change=move |ev| set_str(format!("agents.{i}.traits.calibration"), event_target_value(&ev))>
                                    {["informative", "overconfident", "random"].into_iter().map(|c| view! {
                                        <option value=c selected=tr["calibration"].as_str() == Some(c)>{c}</option>
                                    }).collect_view()}
                                </select>
                            </label>
                            <label class="trait" title="fixed_wrong pushes one wrong answer and never moves; collude: all colluders push the same wrong answer">
                                <span>"adversary"</span>
                                <select aria-label=format!("Agent {i} adversary")
                                    on:change=move |ev| set_str(format!("agents.{i}.traits.adversary"), event_target_value(&ev))>
                                    {["none", "fixed_wrong", "collude"].into_iter().map(|c| view! {
                                        <option value=c selected=tr["adversary"].as_str() == Some(c)>{c}</option>
                                    }).collect_view()}
                                </select>
                            </label>
                        </div>
                    </fieldset>
                }
            })
            .collect_view()
    };

    let topo_kind = move || draft.with(|d| d["topology"]["kind"].as_str().unwrap_or("mesh").to_string());
    let matrix = move || {
        let n = draft.with(|d| d["agents"].as_array().map_or(0, Vec::len));
        if n > 16 {
            return view! { <p class="muted">"Edge editing by hand is offered up to 16 agents."</p> }.into_any();
        }
        let edges = scenario.with(|s| council_core::topology::build(&s.topology, s.agents.len(), seed.get_untracked()).edges);
        view! {
            <table class="matrix" aria-label="Edges: row sends to column; click to toggle">
                <tr><th></th>{(0..n).map(|j| view! { <th>{j}</th> }).collect_view()}</tr>
                {(0..n).map(|a| view! {
                    <tr><th>{a}</th>
                    {(0..n).map(|b| {
                        let on = edges.contains(&(a as u32, b as u32));
                        view! {
                            <td>{(a != b).then(|| view! {
                                <input type="checkbox" checked=on aria-label=format!("edge {a} to {b}")
                                    on:change=move |_| edit(&|v| graph_edit::toggle_edge(v, a as u32, b as u32, on)) />
                            })}</td>
                        }
                    }).collect_view()}
                    </tr>
                }).collect_view()}
            </table>
        }
        .into_any()
    };

    let params = move |section: &'static str| {
        let obj = draft.with(|d| d[section]["params"].as_object().cloned().unwrap_or_default());
        obj.into_iter()
            .map(|(k, v)| {
                let path = format!("{section}.params.{k}");
                let label = k.replace('_', " ");
                match v {
                    Value::Number(n) => view! {
                        <label>{label.clone()} " "
                            <input type="number" step="any" value=n.to_string() aria-label=format!("{section} {label}")
                                on:change=move |ev| set_num(path.clone(), event_target_value(&ev)) />
                        </label>
                    }
                    .into_any(),
                    Value::Bool(b) => view! {
                        <label>{label.clone()} " "
                            <input type="checkbox" checked=b aria-label=format!("{section} {label}")
                                on:change=move |ev| { let on = event_target_checked(&ev); let k = k.clone(); edit(&|v| { v[section]["params"][&k] = Value::Bool(on); Ok(()) }) } />
                        </label>
                    }
                    .into_any(),
                    other => {
                        let text = other.to_string();
                        view! {
                            <label>{label.clone()} " "
                                <input value=text aria-label=format!("{section} {label} (JSON)")
                                    on:change=move |ev| {
                                        let raw = event_target_value(&ev);
                                        let k = k.clone();
                                        edit(&|v| {
                                            let parsed: Value = serde_json::from_str(&raw).map_err(|e| format!("{section}.params.{k}: {e}"))?;
                                            v[section]["params"][&k] = parsed;
                                            Ok(())
                                        })
                                    } />
                            </label>
                        }
                        .into_any()
                    }
                }
            })
            .collect_view()
    };

    let json_text = RwSignal::new(String::new());
    view! {
        <div class="editor" data-testid="editor">
            {move || error.get().map(|e| view! { <p class="inline-error" role="alert" data-testid="editor-error">{e}</p> })}
            <datalist id="backends"><option value="sim" /><option value="local:smollm2-135m" /><option value="remote:openai" /></datalist>
            <section>
                <h3>"Scenario"</h3>
                <label>"title " <input aria-label="Title" prop:value=move || draft.with(|d| d["title"].as_str().unwrap_or("").to_string())
                    on:change=move |ev| set_str("title".into(), event_target_value(&ev)) /></label>
            </section>
            <section>
                <h3>"Agents"</h3>
                {agents}
                <button data-testid="add-agent" aria-label="Add an agent" disabled=move || locked("agents")
                    on:click=move |_| edit(&|v| graph_edit::add_agent(v).map(|_| ()))>"+ add agent"</button>
            </section>
            <section>
                <h3>"Topology"</h3>
                <GraphEditor scenario=scenario seed=seed edit=edit
                    can_edges=Signal::derive(move || !locked("topology"))
                    can_agents=Signal::derive(move || !locked("agents") && !locked("topology")) />
                <fieldset disabled=move || locked("topology")>
                    <label>"generator "
                        <select aria-label="Topology generator" on:change=move |ev| {
                            let k = event_target_value(&ev);
                            edit(&|v| { v["topology"] = serde_json::json!({"kind": k}); Ok(()) })
                        }>
                            {move || { let cur = topo_kind(); TOPOLOGIES.into_iter().map(|t| view! { <option value=t selected=cur == t>{t.replace('_', " ")}</option> }).collect_view() }}
                        </select>
                    </label>
                    {move || topology_params(&topo_kind()).iter().map(|(f, label, _)| {
                        let cur = draft.with(|d| d["topology"][*f].as_f64()).map(|x| x.to_string()).unwrap_or_default();
                        let path = format!("topology.{f}");
                        view! { <label>{*label} " " <input type="number" step="any" value=cur aria-label=format!("Topology {label}")
                            on:change=move |ev| set_num(path.clone(), event_target_value(&ev)) /></label> }
                    }).collect_view()}
                    <label>"one-way " <input type="checkbox" aria-label="Directed edges"
                        checked=move || draft.with(|d| d["topology"]["directed"].as_bool().unwrap_or(false))
                        on:change=move |ev| { let on = event_target_checked(&ev); edit(&|v| { v["topology"]["directed"] = Value::Bool(on); Ok(()) }) } /></label>
                    {matrix}
                </fieldset>
            </section>
            <section>
                <h3>{move || format!("Mechanism: {}", draft.with(|d| d["mechanism"]["kind"].as_str().unwrap_or("").to_string()))}</h3>
                <fieldset class="params" disabled=move || locked("mechanism")>{move || params("mechanism")}</fieldset>
                <h3>{move || format!("Task: {}", draft.with(|d| d["task"]["kind"].as_str().unwrap_or("").to_string()))}</h3>
                <fieldset class="params" disabled=move || locked("task")>{move || params("task")}</fieldset>
            </section>
            <section>
                <h3>"Classroom"</h3>
                <p class="muted">"Locked controls stay fixed for whoever opens your link (like TensorFlow Playground's classroom links)."</p>
                {LOCKABLE.into_iter().map(|(path, label)| view! {
                    <label class="lock"><input type="checkbox" aria-label=format!("Lock {label}")
                        checked=move || scenario.with(|s| s.ui.locked.iter().any(|p| p == path))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            edit(&|v| {
                                let mut l: Vec<String> = serde_json::from_value(v["ui"]["locked"].clone()).unwrap_or_default();
                                l.retain(|p| p != path);
                                if on { l.push(path.to_string()); }
                                if !v["ui"].is_object() { v["ui"] = serde_json::json!({}); }
                                v["ui"]["locked"] = serde_json::json!(l);
                                Ok(())
                            })
                        } />{label}</label>
                }).collect_view()}
            </section>
            <details class="raw-json" on:toggle=move |_| json_text.set(serde_json::to_string_pretty(&draft.get_untracked()).unwrap_or_default())>
                <summary>"Raw JSON"</summary>
                <textarea rows="16" aria-label="Scenario JSON" data-testid="editor-json" disabled=move || locked("json")
                    prop:value=move || json_text.get() on:input=move |ev| json_text.set(event_target_value(&ev))></textarea>
                <button aria-label="Apply the JSON" data-testid="editor-json-apply" on:click=move |_| {
                    match serde_json::from_str::<Value>(&json_text.get_untracked()) {
                        Ok(v) => commit(v),
                        Err(e) => error.set(Some(format!("JSON: {e}"))),
                    }
                }>"Apply JSON"</button>
            </details>
        </div>
    }
}
