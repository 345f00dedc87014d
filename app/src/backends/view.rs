//! The live panel of a run with LLM agents: each ask of the current wave with its state
//! and its text as it streams in, the prompt it was sent, per-agent tokens and cost, the
//! remote-call count against the cap, and Stop.

use leptos::prelude::*;

use super::driver::{AskState, Live};

#[component]
pub fn LivePanel(live: Live) -> impl IntoView {
    let shown = move || live.running.get() || !live.asks.with(Vec::is_empty);
    let cap = super::settings::load().max_remote_calls;
    move || {
        shown().then(|| {
            view! {
                <section class="live-panel" data-testid="live-panel" data-running=move || live.running.get().to_string() aria-live="polite">
                    <header>
                        <b>"Live"</b>
                        <span class="muted" data-testid="live-status">{move || live.status.get()}</span>
                        <span class="muted" data-testid="remote-calls" title="Remote HTTP requests this run (retries count) / cap per run">
                            {move || format!("remote calls {} / {cap}", live.remote_calls.get())}
                        </span>
                        <button data-testid="live-stop" aria-label="Stop the run" disabled=move || !live.running.get()
                            on:click=move |_| super::stop(&live.run_id.get_untracked())><crate::views::icons::IconSvg icon=crate::views::icons::Icon::Stop />" Stop"</button>
                    </header>
                    {move || {
                        let st = crate::models::status().get();
                        (!st.state.is_empty()).then(|| view! {
                            <p class="muted" data-testid="engine-status" data-engine=st.engine.clone() data-state=st.state.clone()>
                                {format!("local engine: {} · model {} · {}{}{}{}{}",
                                    if st.engine.is_empty() { "starting" } else { &st.engine }, st.model, st.state,
                                    st.load_ms.map(|t| format!(" · loaded in {:.1} s", t / 1000.0)).unwrap_or_default(),
                                    st.ttft_ms.map(|t| format!(" · first token {t:.0} ms")).unwrap_or_default(),
                                    st.prefill_tok_s.map(|t| format!(" · prompt {} tok/s", rate(t))).unwrap_or_default(),
                                    st.decode_tok_s.map(|t| format!(" · {} tok/s", rate(t))).unwrap_or_default())}
                            </p>
                        })
                    }}
                    {move || {
                        let reuse = live.reuse.get();
                        (!reuse.is_empty()).then(|| view! {
                            <p class="muted" data-testid="prefix-reuse" title="Prompt tokens the local engine took from its cache of earlier prompts' keys and values instead of running them through the model, and the prefill time that saved (estimated at the speed measured for the rest of each prompt)">
                                "prompt prefix reuse: "
                                {reuse.into_iter().map(|(round, r)| view! {
                                    <span data-testid="prefix-reuse-round" data-round=round.to_string() data-reused=r.reused_tokens.to_string()
                                        data-prompt=r.prompt_tokens.to_string() data-saved-ms=format!("{:.0}", r.saved_ms)>
                                        {format!("round {round}: {} of {} prompt tokens reused, first tokens ≈ {:.1} s sooner · ", r.reused_tokens, r.prompt_tokens, r.saved_ms / 1000.0)}
                                    </span>
                                }).collect_view()}
                            </p>
                        })
                    }}
                    <ul class="live-asks">
                        {move || live.asks.get().into_iter().map(|a| {
                            let state = a.state.name();
                            let detail = match &a.state {
                                AskState::Retrying { attempt, wait_ms, reason } => Some(format!("retry {attempt} in {:.1} s: {reason}", f64::from(*wait_ms) / 1000.0)),
                                AskState::Failed(m) => Some(m.clone()),
                                _ => None,
                            };
                            let is_error = matches!(a.state, AskState::Failed(_));
                            let speed = match (a.ttft_ms, a.total_ms) {
                                (Some(t), Some(total)) if a.pieces > 1 && total > t => format!(" · first text {:.0} ms · {:.1} pieces/s", t, f64::from(a.pieces - 1) * 1000.0 / (total - t)),
                                (Some(t), _) => format!(" · first text {t:.0} ms"),
                                _ => String::new(),
                            };
                            view! {
                                <li data-testid="live-ask" data-agent=a.agent.to_string() data-state=state class=format!("live-ask {state}")>
                                    <div class="who">
                                        <b>{a.agent_name.clone()}</b>
                                        <span class="muted">{format!(" · {} · {} · round {}{speed}", a.backend, a.purpose, a.round)}</span>
                                        <span class=format!("badge st-{state}")>{state}</span>
                                    </div>
                                    {detail.map(|d| view! {
                                        <p class=if is_error { "warn" } else { "muted" } data-testid=if is_error { "live-error" } else { "live-retry" }>{d}</p>
                                    })}
                                    <pre class="live-text" data-testid="live-text">{a.text.clone()}</pre>
                                    <details><summary>"prompt sent"</summary><pre class="prompt" data-testid="live-prompt">{a.prompt.clone()}</pre></details>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    <table class="agent-usage">
                        <thead><tr><th>"agent"</th><th>"calls"</th><th>"prompt tok"</th><th>"reply tok"</th><th>"est. cost"</th><th></th></tr></thead>
                        <tbody>
                            {move || live.agents.get().into_iter().map(|(agent, t)| { let err_attr = t.error.clone().unwrap_or_default(); view! {
                                <tr data-testid="agent-usage" data-agent=agent.to_string() data-error=err_attr>
                                    <td>{format!("#{agent}")}</td>
                                    <td>{t.calls}</td>
                                    <td>{t.prompt_tokens}</td>
                                    <td>{t.completion_tokens}</td>
                                    <td>{if t.cost > 0.0 { format!("${:.4}", t.cost) } else { "—".into() }}</td>
                                    <td class="muted">{if t.reported { "reported" } else { "estimated" }}{t.error.map(|e| format!(" · error: {e}"))}</td>
                                </tr>
                            }}).collect_view()}
                        </tbody>
                    </table>
                </section>
            }
        })
    }
}

/// A rate with enough digits to be read when it is slow (SwiftShader decodes ~0.1 tok/s).
fn rate(t: f64) -> String {
    if t < 1.0 { format!("{t:.2}") } else { format!("{t:.1}") }
}
