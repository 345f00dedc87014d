//! The transcript: the log's events up to the cursor, in order, with sender, recipients and
//! round; filter by agent; prompts and raw replies expandable. Agent text goes through the
//! safe markdown subset (text nodes only).

use crate::markdown::Markdown;
use crate::replay::actor;
use crate::run::Player;
use crate::views::graph::kind_class;
use council_core::event::{Event, EventKind};
use leptos::prelude::*;

/// At most this many items are in the DOM at once (the newest); older ones are summarised.
const WINDOW: usize = 300;

fn involves(e: &Event, agent: u32) -> bool {
    match &e.kind {
        EventKind::Message { from, to, .. } => *from == agent || to.contains(&agent),
        k => actor(k) == Some(agent),
    }
}

#[component]
pub fn Transcript() -> impl IntoView {
    let p = expect_context::<Player>();
    let filter: RwSignal<Option<u32>> = RwSignal::new(None);
    let names = Memo::new(move |_| p.run.with(|r| r.cast.agents.iter().map(|a| a.name.clone()).collect::<Vec<_>>()));
    let name = move |a: u32| names.with(|n| n.get(a as usize).cloned().unwrap_or_else(|| format!("#{a}")));
    let visible = Memo::new(move |_| {
        let c = p.cursor.get();
        let f = filter.get();
        p.run.with(|r| {
            let ev = &r.log.events()[..c.min(r.log.len())];
            let v: Vec<usize> = ev.iter().enumerate().filter(|(_, e)| f.is_none_or(|a| involves(e, a))).map(|(i, _)| i).collect();
            v
        })
    });
    // Keys carry the run id: switching runs must not reuse items of the same index.
    let run_id = Memo::new(move |_| p.run.with(|r| r.id.clone()));
    let shown = move || {
        let id = run_id.get();
        visible.with(|v| v[v.len().saturating_sub(WINDOW)..].iter().map(|i| (id.clone(), *i)).collect::<Vec<_>>())
    };
    let hidden = move || visible.with(|v| v.len().saturating_sub(WINDOW));
    let list_ref = NodeRef::<leptos::html::Ol>::new();
    // Scroll in the next animation frame, when layout happens anyway, instead of forcing a
    // synchronous layout of the whole page on every replay step.
    Effect::new(move |_| {
        visible.track();
        if let Some(el) = list_ref.get_untracked() {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    });

    let item = move |i: usize| {
        let e = p.run.with_untracked(|r| r.log.events()[i].clone());
        let seq = e.seq;
        let is_current = move || p.cursor.get() == i + 1;
        let (who, body): (String, AnyView) = match e.kind {
            EventKind::Ask { agent, purpose, prompt } => (
                format!("→ {} ({purpose})", name(agent)),
                view! { <details><summary>"prompt"</summary><pre class="prompt">{prompt}</pre></details> }.into_any(),
            ),
            EventKind::Answer { agent, answer, confidence, raw, tokens, .. } => (
                name(agent),
                view! {
                    <div class="answer">
                        {match answer {
                            Some(a) => view! { <b>{format!("answer {a}")}</b> }.into_any(),
                            None => view! { <b class="warn">"unparsed reply"</b> }.into_any(),
                        }}
                        {confidence.map(|c| format!(" · confidence {c:.2}"))}
                        <span class="muted">{format!(" · {tokens} tokens")}</span>
                    </div>
                    <details><summary>"raw reply"</summary><div class="md"><Markdown text=raw /></div></details>
                }
                .into_any(),
            ),
            EventKind::Message { from, to, msg_kind, text } => {
                let to_names: Vec<String> = to.iter().map(|t| name(*t)).collect();
                let to_s = if to_names.len() > 6 { format!("{} agents", to_names.len()) } else { to_names.join(", ") };
                (
                    format!("{} → {to_s}", name(from)),
                    view! { <div class=format!("md k-{}", kind_class(&msg_kind))><span class="kind">{msg_kind.clone()}</span><Markdown text=text /></div> }.into_any(),
                )
            }
            EventKind::Vote { agent, answer, weight } => {
                (name(agent), view! { <div>{format!("votes {answer} (weight {weight:.2})")}</div> }.into_any())
            }
            EventKind::Rank { agent, order } => {
                (name(agent), view! { <div>{format!("ranks {}", order.join(" > "))}</div> }.into_any())
            }
            EventKind::Decision { answer, method, correct, .. } => (
                "decision".into(),
                view! {
                    <div class="decision">{format!("{answer} by {method}")}
                        {correct.map(|c| if c { " ✓ correct" } else { " ✗ wrong" })}</div>
                }
                .into_any(),
            ),
            EventKind::Metric { name: m, value } => ("metric".into(), view! { <div class="muted">{format!("{m} = {value:.3}")}</div> }.into_any()),
            EventKind::Note { text } => ("note".into(), view! { <div class="md note"><Markdown text=text /></div> }.into_any()),
            EventKind::Error { agent, message } => (
                agent.map(name).unwrap_or_else(|| "run".into()),
                view! { <div class="error-text" role="alert">{message}</div> }.into_any(),
            ),
            EventKind::Score { name: s, agent, value } => (name(agent), view! { <div class="muted">{format!("{s} {value:.3}")}</div> }.into_any()),
            EventKind::Graph { edges } => ("graph".into(), view! { <div class="muted">{format!("the team's graph now has {} edges", edges.len())}</div> }.into_any()),
            EventKind::Active { agent, active, reason } => {
                (name(agent), view! { <div class="muted">{format!("{} ({reason})", if active { "rejoins" } else { "leaves the team" })}</div> }.into_any())
            }
            EventKind::Groups { groups, label } => {
                let shown: Vec<String> = groups.iter().map(|g| format!("{{{}}}", g.iter().map(|a| name(*a)).collect::<Vec<_>>().join(", "))).collect();
                ("groups".into(), view! { <div class="muted">{format!("{label}: {}", shown.join(" "))}</div> }.into_any())
            }
            EventKind::Judgment { judge, a, b, winner } => {
                (name(judge), view! { <div>{format!("prefers {}'s answer to {}'s", name(winner), name(if winner == a { b } else { a }))}</div> }.into_any())
            }
            EventKind::Choice { name: n, value } => ("choice".into(), view! { <div>{format!("{n}: {value}")}</div> }.into_any()),
            // Who wrote each token of a reply two models wrote together: one span per piece,
            // its author and status in data attributes and the tooltip (rejected drafts struck).
            EventKind::Tokens { agent, pieces } => (
                name(agent),
                view! {
                    <div class="token-strip" data-testid="token-strip">
                        {pieces.into_iter().map(|pc| {
                            let status = format!("{:?}", pc.status).to_lowercase();
                            let title = format!("{} · {status}", name(pc.by));
                            view! { <span class=format!("tok tok-{status} tok-by-{}", pc.by % 8) data-by=pc.by data-status=status.clone() title=title>{pc.text}</span> }
                        }).collect_view()}
                    </div>
                }
                .into_any(),
            ),
        };
        let kind = match &p.run.with_untracked(|r| r.log.events()[i].kind.clone()) {
            EventKind::Ask { .. } => "ask",
            EventKind::Answer { .. } => "answer",
            EventKind::Message { .. } => "message",
            EventKind::Vote { .. } => "vote",
            EventKind::Rank { .. } => "rank",
            EventKind::Decision { .. } => "decision",
            EventKind::Metric { .. } => "metric",
            EventKind::Note { .. } => "note",
            EventKind::Error { .. } => "error",
            EventKind::Score { .. } => "score",
            EventKind::Graph { .. } => "graph",
            EventKind::Active { .. } => "active",
            EventKind::Groups { .. } => "groups",
            EventKind::Judgment { .. } => "judgment",
            EventKind::Choice { .. } => "choice",
            EventKind::Tokens { .. } => "tokens",
        };
        view! {
            <li class=format!("ev ev-{kind}") data-seq=seq class:current=is_current
                on:click=move |_| { p.playing.set(false); p.seek(i + 1) }>
                <div class="meta"><span class="round">{format!("R{}", e.round)}</span> <span class="who">{who}</span></div>
                {body}
            </li>
        }
    };

    view! {
        <div class="transcript-pane">
            <div class="pane-head">
                <h3>"Transcript"</h3>
                <label>"agent "
                    <select aria-label="Filter transcript by agent" data-testid="transcript-filter"
                        on:change=move |ev| filter.set(event_target_value(&ev).parse::<u32>().ok())>
                        <option value="">"all"</option>
                        {move || names.get().into_iter().enumerate().map(|(i, n)| view! { <option value=i.to_string()>{n}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            <ol class="transcript" node_ref=list_ref data-testid="transcript" aria-label="Transcript">
                {move || (hidden() > 0).then(|| view! { <li class="muted">{format!("… {} earlier events", hidden())}</li> })}
                <For each=shown key=|k| k.clone() let:k>{item(k.1)}</For>
            </ol>
        </div>
    }
}
