//! A finished run as the UI holds it (what the views replay and what the history stores),
//! and the player state that keeps graph, timeline, transcript and metrics on one cursor.

use crate::cast::Cast;
use crate::replay::{self, Frame, Landmarks};
use council_core::event::EventLog;
use council_core::structure::Structure;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Everything a run needs to be replayed, listed, compared and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunData {
    pub id: String,
    pub name: String,
    /// The scenario exactly as it ran (core's scenario JSON).
    pub scenario: serde_json::Value,
    pub seed: u64,
    /// "exact", "best-effort" or "recorded".
    pub determinism: String,
    pub cast: Cast,
    pub log: EventLog,
    /// The core's summary metrics for the run, by name.
    pub metrics: Vec<(String, f64)>,
    /// Milliseconds since the epoch when it ran.
    pub created_ms: f64,
}

impl RunData {
    pub fn title(&self) -> String {
        self.scenario.get("title").and_then(|t| t.as_str()).unwrap_or("Untitled scenario").to_string()
    }
}

/// Playback state shared by the panes of one run view.
#[derive(Clone, Copy)]
pub struct Player {
    pub run: Signal<Arc<RunData>>,
    /// Applied events, 0..=len.
    pub cursor: RwSignal<usize>,
    pub playing: RwSignal<bool>,
    /// Events per second while playing.
    pub speed: RwSignal<f64>,
    pub frame: Memo<Frame>,
    pub landmarks: Memo<Landmarks>,
    /// Scores, graph, active set, groups, judgments and choices at the cursor (memos are
    /// lazy: runs whose views never read it never fold it).
    pub structure: Memo<Structure>,
}

impl Player {
    pub fn new(run: Signal<Arc<RunData>>) -> Self {
        let cursor = RwSignal::new(run.get_untracked().log.len());
        let frame = Memo::new(move |_| {
            let r = run.get();
            replay::frame_at(r.log.events(), r.cast.agents.len(), cursor.get())
        });
        let landmarks = Memo::new(move |_| {
            let r = run.get();
            replay::landmarks(r.log.events(), r.cast.agents.len())
        });
        let structure = Memo::new(move |_| {
            let c = cursor.get();
            run.with(|r| Structure::at(r.log.events(), c))
        });
        Player { run, cursor, playing: RwSignal::new(false), speed: RwSignal::new(8.0), frame, landmarks, structure }
    }

    pub fn len(&self) -> usize {
        self.run.with(|r| r.log.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn seek(&self, c: usize) {
        self.cursor.set(c.min(self.len()));
    }

    pub fn step(&self, delta: isize) {
        self.playing.set(false);
        let c = self.cursor.get_untracked() as isize + delta;
        self.seek(c.max(0) as usize);
    }

    pub fn toggle(&self) {
        if !self.playing.get_untracked() && self.cursor.get_untracked() >= self.len() {
            self.cursor.set(0);
        }
        self.playing.update(|p| *p = !*p);
    }
}
