//! One run on screen: graph, timeline, structure, transcript and metrics on a shared player cursor,
//! plus the keyboard shortcuts (space, arrows, Home/End).

use crate::run::{Player, RunData};
use crate::views::{graph::GraphView, metrics::MetricsPane, structure::StructurePanel, timeline::Timeline, transcript::Transcript};
use leptos::ev;
use leptos::prelude::*;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// True when a key press belongs to a form field, not to the player.
fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.has_attribute("contenteditable"))
}

#[component]
pub fn RunView(run: Signal<Arc<RunData>>) -> impl IntoView {
    let player = Player::new(run);
    provide_context(player);
    // A new run starts at its end state (the result), so the graph shows the outcome; play
    // replays it from the start.
    // A live run (LLM agents) grows under the same id: follow it while at the end.
    Effect::new(move |prev: Option<(String, usize)>| {
        let (id, len) = run.with(|r| (r.id.clone(), r.log.len()));
        // The first run may come after a live log already grew: count from an empty log.
        let (pid, plen) = prev.unwrap_or_else(|| (id.clone(), 0));
        if pid != id {
            player.playing.set(false);
            player.seek(usize::MAX);
        } else if len > plen && player.cursor.get_untracked() >= plen {
            player.seek(usize::MAX);
        }
        (id, len)
    });
    let keys = window_event_listener(ev::keydown, move |e| {
        if typing(&e) || e.ctrl_key() || e.meta_key() || e.alt_key() {
            return;
        }
        match e.key().as_str() {
            " " => {
                e.prevent_default();
                player.toggle();
            }
            "ArrowRight" => {
                e.prevent_default();
                player.step(1);
            }
            "ArrowLeft" => {
                e.prevent_default();
                player.step(-1);
            }
            "Home" => player.seek(0),
            "End" => player.seek(usize::MAX),
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());
    view! {
        <div class="run-view" data-testid="run-view"
            data-log-hash=move || run.with(|r| r.log.hash())
            data-log-len=move || run.with(|r| r.log.len())
            data-cursor=move || player.cursor.get()
            data-determinism=move || run.with(|r| r.determinism.clone())>
            <div class="left">
                <GraphView />
                <Timeline />
                <StructurePanel />
                <MetricsPane />
            </div>
            <div class="right"><Transcript /></div>
        </div>
    }
}
