//! The timeline: play, pause, step, scrub, speed, round markers, and jumps to the first
//! disagreement, consensus and the decision. It only moves the player's cursor; every pane
//! re-reads the log at that cursor, so replay is exact.

use crate::run::Player;
use crate::views::icons::{Icon, IconSvg};
use leptos::prelude::*;
use std::time::Duration;

#[component]
pub fn Timeline() -> impl IntoView {
    let p = expect_context::<Player>();
    let len = Memo::new(move |_| p.run.with(|r| r.log.len()));

    // Playback: one interval while playing, re-made when the speed changes.
    let handle: StoredValue<Option<IntervalHandle>, LocalStorage> = StoredValue::new_local(None);
    Effect::new(move |_| {
        let playing = p.playing.get();
        let speed = p.speed.get();
        if let Some(h) = handle.get_value() {
            h.clear();
        }
        handle.set_value(None);
        if playing {
            let ms = (1000.0 / speed.max(0.25)).max(16.0) as u64;
            let h = set_interval_with_handle(
                move || {
                    let c = p.cursor.get_untracked();
                    if c >= p.len() {
                        p.playing.set(false);
                    } else {
                        p.cursor.set(c + 1);
                    }
                },
                Duration::from_millis(ms),
            );
            handle.set_value(h.ok());
        }
    });
    on_cleanup(move || {
        if let Some(h) = handle.try_get_value().flatten() {
            h.clear();
        }
    });

    let pct = move |c: usize| 100.0 * c as f64 / len.get().max(1) as f64;
    let jump = move |target: Option<usize>| {
        if let Some(c) = target {
            p.playing.set(false);
            p.seek(c);
        }
    };
    let lm = p.landmarks;
    view! {
        <div class="timeline" role="group" aria-label="Timeline">
            <div class="controls">
                <button data-testid="step-back" aria-label="Step back (left arrow)" on:click=move |_| p.step(-1)><IconSvg icon=Icon::StepBack /></button>
                <button data-testid="play" class="play"
                    aria-label=move || if p.playing.get() { "Pause (space)" } else { "Play (space)" }
                    on:click=move |_| p.toggle()>
                    {move || if p.playing.get() { view! { <IconSvg icon=Icon::Pause /> } } else { view! { <IconSvg icon=Icon::Play /> } }}
                </button>
                <button data-testid="step-forward" aria-label="Step forward (right arrow)" on:click=move |_| p.step(1)><IconSvg icon=Icon::StepForward /></button>
                <span class="pos" data-testid="cursor" aria-live="polite">
                    {move || format!("{} / {}", p.cursor.get(), len.get())}
                </span>
                <label class="speed">"speed "
                    <select aria-label="Playback speed (events per second)" data-testid="speed"
                        on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { p.speed.set(v) } }>
                        {[2.0, 4.0, 8.0, 16.0, 32.0, 64.0].into_iter().map(|s| view! {
                            <option value=s.to_string() selected=move || p.speed.get() == s>{format!("{s}×")}</option>
                        }).collect_view()}
                    </select>
                </label>
                <span class="jumps">
                    <button data-testid="jump-disagreement" aria-label="Jump to first disagreement"
                        disabled=move || lm.with(|l| l.first_disagreement.is_none())
                        on:click=move |_| jump(lm.with(|l| l.first_disagreement))>"first disagreement"</button>
                    <button data-testid="jump-consensus" aria-label="Jump to consensus"
                        disabled=move || lm.with(|l| l.consensus.is_none())
                        on:click=move |_| jump(lm.with(|l| l.consensus))>"consensus"</button>
                    <button data-testid="jump-decision" aria-label="Jump to the decision"
                        disabled=move || lm.with(|l| l.decisions.is_empty())
                        on:click=move |_| jump(lm.with(|l| l.decisions.last().copied()))>"decision"</button>
                </span>
            </div>
            <div class="scrub">
                <input type="range" min="0" max=move || len.get() data-testid="scrub" aria-label="Scrub through the run"
                    prop:value=move || p.cursor.get().to_string()
                    on:input=move |ev| {
                        p.playing.set(false);
                        if let Ok(v) = event_target_value(&ev).parse::<usize>() { p.seek(v) }
                    } />
                <div class="markers" aria-hidden="true">
                    {move || lm.with(|l| l.rounds.iter().map(|&(r, c)| view! {
                        <span class="round" style:left=format!("{:.2}%", pct(c.saturating_sub(1)))
                            title=format!("round {r}")>{format!("R{r}")}</span>
                    }).collect_view())}
                    {move || lm.with(|l| l.first_disagreement).map(|c| view! {
                        <span class="mark dis" style:left=format!("{:.2}%", pct(c)) title="first disagreement"></span>
                    })}
                    {move || lm.with(|l| l.consensus).map(|c| view! {
                        <span class="mark con" style:left=format!("{:.2}%", pct(c)) title="consensus"></span>
                    })}
                </div>
            </div>
        </div>
    }
}
