//! Metrics for the run: the core's summary numbers, counts from the log, and small plots
//! (per-round accuracy, confidence trajectories, the mechanism's own metric series), with a
//! marker at the replay's current round.

use crate::replay;
use crate::run::Player;
use crate::views::plot::{LinePlot, Series};
use leptos::prelude::*;

pub fn fmt_value(v: f64) -> String {
    if !v.is_finite() {
        "—".into()
    } else if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

#[component]
pub fn MetricsPane() -> impl IntoView {
    let p = expect_context::<Player>();
    let round = Signal::derive(move || p.frame.with(|f| f64::from(f.round)));
    move || {
        let r = p.run.get();
        let ev = r.log.events();
        let n = r.cast.agents.len();
        let t = replay::totals(ev);
        let mut rows: Vec<(String, String)> = r.metrics.iter().map(|(k, v)| (k.clone(), fmt_value(*v))).collect();
        // Counts from the log, unless the core's metrics already name them.
        let has = |k: &str| r.metrics.iter().any(|(n, _)| n == k);
        for (k, v, core_name) in [
            ("rounds", (t.rounds + 1).to_string(), "rounds"),
            ("messages", t.messages.to_string(), "messages"),
            ("tokens", t.tokens.to_string(), "tokens"),
            ("answer changes", t.changes.to_string(), "answer_changes"),
            ("unparsed", t.unparsed.to_string(), "unparsed"),
            ("errors", t.errors.to_string(), "errors"),
        ] {
            if !has(core_name) {
                rows.push((k.to_string(), v));
            }
        }
        if let Some((a, c)) = &t.decision {
            let mark = match c {
                Some(true) => " ✓",
                Some(false) => " ✗",
                None => "",
            };
            rows.insert(0, ("decision".into(), format!("{a}{mark}")));
        }
        let mut plots = Vec::new();
        let series = replay::metric_series(ev);
        let acc = series.get("accuracy").cloned().or_else(|| replay::accuracy_by_round(ev, n));
        if let Some(acc) = acc {
            let s = Series { label: "accuracy".into(), points: acc.iter().map(|&(r, v)| (f64::from(r), v)).collect(), band: None };
            plots.push(view! { <LinePlot series=vec![s] title="Accuracy per round" y_range=(0.0, 1.0) marker_x=round x_label="round" /> }.into_any());
        }
        let conf = replay::confidence_series(ev, n);
        if conf.iter().any(|s| !s.is_empty()) && n <= 40 {
            let s: Vec<Series> = conf
                .iter()
                .enumerate()
                .map(|(i, pts)| Series {
                    label: r.cast.agents[i].name.clone(),
                    points: pts.iter().map(|&(r, v)| (f64::from(r), v)).collect(),
                    band: None,
                })
                .collect();
            plots.push(view! { <LinePlot series=s title="Confidence per agent" y_range=(0.0, 1.0) marker_x=round x_label="round" /> }.into_any());
        }
        // With a structure to show, the structure panel draws these as live curves.
        let live = council_core::structure::has_structure(ev);
        for (name, pts) in series.iter().filter(|(k, v)| !live && k.as_str() != "accuracy" && v.len() > 1).take(4) {
            let s = Series { label: name.clone(), points: pts.iter().map(|&(r, v)| (f64::from(r), v)).collect(), band: None };
            plots.push(view! { <LinePlot series=vec![s] title=name.clone() marker_x=round x_label="round" /> }.into_any());
        }
        view! {
            <div class="metrics-pane" data-testid="metrics">
                <h3>"Metrics"</h3>
                <dl class="numbers">
                    {rows.into_iter().map(|(k, v)| { let attr = k.clone(); view! { <div data-metric=attr><dt>{k}</dt><dd>{v}</dd></div> } }).collect_view()}
                </dl>
                <div class="plots">{plots}</div>
            </div>
        }
    }
}
