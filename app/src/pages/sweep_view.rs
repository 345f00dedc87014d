//! The sweep tab: pick one or two numeric parameters, their values and a number of seeds;
//! every config is validated here (errors show inline), then every (config, seed) runs
//! with simulated agents in the sweep Web Worker (`sweep_client`), so the page never
//! freezes. Shows progress, cancel (the worker stops after its current ~40 ms batch and the
//! rows so far are kept), the elapsed time, a line plot with 95% bands (one parameter) or a
//! heat map (two), and exports every row as CSV.

use crate::engine;
use crate::export;
use crate::sweep::{self, Axis, Row};
use crate::sweep_client;
use crate::sweep_worker::{self, Event};
use crate::views::plot::{HeatMap, LinePlot, Series};
use crate::AppCtx;
use council_core::scenario::Scenario;
use leptos::prelude::*;
use serde_json::Value;

/// Numeric leaves of a scenario worth sweeping, as dotted paths.
pub fn numeric_paths(s: &Scenario) -> Vec<String> {
    let v = s.to_value();
    let mut out = Vec::new();
    for section in ["mechanism", "task"] {
        if let Some(o) = v[section]["params"].as_object() {
            for (k, x) in o {
                if x.is_number() {
                    out.push(format!("{section}.params.{k}"));
                }
            }
        }
    }
    for (t, _, _) in crate::pages::editor::TRAITS {
        out.push(format!("agents.*.traits.{t}"));
    }
    out.push("agents.count".into());
    if let Some(Value::Number(_)) = v.get("topology").and_then(|t| t.get("p")) {
        out.push("topology.p".into());
    }
    out
}

#[derive(Clone, PartialEq)]
struct Outcome {
    x: Axis,
    y: Option<Axis>,
    rows: Vec<Row>,
    metric: String,
    /// Wall time in the page, from the click to the last row.
    ms: f64,
    /// Compute time inside the worker.
    worker_ms: f64,
    cancelled: bool,
}

#[component]
pub fn SweepView(scenario: RwSignal<Scenario>, seed: RwSignal<u64>) -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let paths = Memo::new(move |_| scenario.with(numeric_paths));
    let x_path = RwSignal::new(paths.get_untracked().first().cloned().unwrap_or_default());
    let x_vals = RwSignal::new("1,2,3".to_string());
    let y_on = RwSignal::new(false);
    let y_path = RwSignal::new(paths.get_untracked().get(1).cloned().unwrap_or_default());
    let y_vals = RwSignal::new("0.4,0.6,0.8".to_string());
    let seeds = RwSignal::new(20u32);
    let metric = RwSignal::new("accuracy".to_string());
    let running = RwSignal::new(false);
    // The sweep running in the worker, if any.
    let active: RwSignal<Option<u32>> = RwSignal::new(None);
    let progress = RwSignal::new((0usize, 0usize));
    let outcome: RwSignal<Option<Outcome>> = RwSignal::new(None);
    let error: RwSignal<Option<String>> = RwSignal::new(None);

    let start = move |_| {
        let parsed = (|| -> Result<(Axis, Option<Axis>), String> {
            let x = Axis { path: x_path.get_untracked(), values: sweep::parse_values(&x_vals.get_untracked()).map_err(|e| format!("first parameter: {e}"))? };
            let y = if y_on.get_untracked() {
                Some(Axis { path: y_path.get_untracked(), values: sweep::parse_values(&y_vals.get_untracked()).map_err(|e| format!("second parameter: {e}"))? })
            } else {
                None
            };
            Ok((x, y))
        })();
        let (x, y) = match parsed {
            Ok(v) => v,
            Err(e) => return error.set(Some(e)),
        };
        let n_seeds = seeds.get_untracked().clamp(1, 1000);
        let jobs = sweep::jobs(&x, y.as_ref(), n_seeds, seed.get_untracked());
        if jobs.len() > 20_000 {
            return error.set(Some(format!("{} runs is too many for one sweep (at most 20,000)", jobs.len())));
        }
        // Build and validate every config before running anything.
        let base = scenario.get_untracked().to_value();
        let mut configs: Vec<Scenario> = Vec::new();
        for j in jobs.iter().filter(|j| j.seed == seed.get_untracked()) {
            let mut v = base.clone();
            let r = sweep::set_path(&mut v, &x.path, j.x).and_then(|_| match (&y, j.y) {
                (Some(ya), Some(yv)) => sweep::set_path(&mut v, &ya.path, yv),
                _ => Ok(()),
            });
            match r.and_then(|_| Scenario::from_value(v).map_err(|e| e.to_string())) {
                Ok(s) => configs.push(s),
                Err(e) => return error.set(Some(format!("with {} = {}: {e}", x.path, j.x))),
            }
        }
        error.set(None);
        running.set(true);
        outcome.set(None);
        progress.set((0, jobs.len()));
        let m = metric.get_untracked();
        let n_jobs = jobs.len();
        let base_seed = seed.get_untracked();
        let t0 = engine::now_ms();
        let mut rows: Vec<Row> = Vec::with_capacity(n_jobs);
        let configs: Vec<Value> = configs.iter().map(Scenario::to_value).collect();
        let on_event = move |ev: Event| match ev {
            Event::Ready => {}
            Event::Rows { first, rows: batch, .. } => {
                for (k, metrics) in batch.into_iter().enumerate() {
                    if let Some(job) = jobs.get(first + k) {
                        rows.push(Row { job: job.clone(), metrics: sweep_worker::from_wire(metrics) });
                    }
                }
                progress.try_set((rows.len(), n_jobs));
            }
            Event::Done { cancelled, ms, .. } => {
                let rows = std::mem::take(&mut rows);
                progress.try_set((rows.len(), n_jobs));
                let wall_ms = engine::now_ms() - t0;
                outcome.try_set(Some(Outcome { x: x.clone(), y: y.clone(), rows, metric: m.clone(), ms: wall_ms, worker_ms: ms, cancelled }));
                running.try_set(false);
                active.try_set(None);
            }
            Event::Error { message, .. } => {
                ctx.error.try_set(Some(format!("sweep stopped: {message}")));
                running.try_set(false);
                active.try_set(None);
            }
        };
        match sweep_client::start(configs, n_seeds, base_seed, on_event) {
            Ok(id) => active.set(Some(id)),
            Err(e) => {
                running.set(false);
                error.set(Some(e));
            }
        }
    };
    on_cleanup(move || {
        if let Some(id) = active.try_get_untracked().flatten() {
            sweep_client::detach(id);
        }
    });

    let result = move || {
        outcome.get().map(|o| {
            let val = |r: &Row| r.metrics.iter().find(|(k, _)| *k == o.metric).map(|(_, v)| *v).unwrap_or(f64::NAN);
            let plot = match &o.y {
                None => {
                    let pts: Vec<(f64, (f64, f64, f64))> = o
                        .x
                        .values
                        .iter()
                        .filter_map(|xv| {
                            let vals: Vec<f64> = o.rows.iter().filter(|r| r.job.x == *xv).map(val).collect();
                            sweep::mean_ci(&vals).map(|s| (*xv, s))
                        })
                        .collect();
                    let s = Series {
                        label: o.metric.clone(),
                        points: pts.iter().map(|(x, (m, _, _))| (*x, *m)).collect(),
                        band: Some(pts.iter().map(|(_, (_, lo, hi))| (*lo, *hi)).collect()),
                    };
                    view! { <LinePlot series=vec![s] title=format!("{} vs {} (mean, 95% interval)", o.metric, o.x.path) x_label=o.x.path.clone() /> }.into_any()
                }
                Some(ya) => {
                    let cells: Vec<Vec<Option<(f64, f64, f64)>>> = ya
                        .values
                        .iter()
                        .map(|yv| {
                            o.x.values
                                .iter()
                                .map(|xv| {
                                    let vals: Vec<f64> = o.rows.iter().filter(|r| r.job.x == *xv && r.job.y == Some(*yv)).map(val).collect();
                                    sweep::mean_ci(&vals)
                                })
                                .collect()
                        })
                        .collect();
                    let values = cells.iter().map(|row| row.iter().map(|c| c.map_or(f64::NAN, |s| s.0)).collect()).collect();
                    let intervals = cells.iter().map(|row| row.iter().map(|c| c.map_or((f64::NAN, f64::NAN), |s| (s.1, s.2))).collect()).collect();
                    view! {
                        <HeatMap title=format!("mean {} over {} (x) and {} (y); hover a cell for its 95% interval", o.metric, o.x.path, ya.path)
                            x_labels=o.x.values.iter().map(|v| sweep::label(*v)).collect()
                            y_labels=ya.values.iter().map(|v| sweep::label(*v)).collect() values=values intervals=intervals />
                    }
                    .into_any()
                }
            };
            let csv = sweep::csv(&o.x, o.y.as_ref(), &o.rows);
            let per_run = if o.rows.is_empty() { 0.0 } else { o.ms / o.rows.len() as f64 };
            view! {
                <div class="sweep-result">
                    <p data-testid="sweep-time" data-runs=o.rows.len().to_string() data-worker-ms=format!("{:.1}", o.worker_ms)>
                        {format!("{} runs in {:.0} ms ({per_run:.2} ms per run, {:.0} ms computing in the worker){}", o.rows.len(), o.ms, o.worker_ms, if o.cancelled { ", cancelled" } else { "" })}
                    </p>
                    {plot}
                    <button data-testid="sweep-csv" aria-label="Download the sweep rows as CSV"
                        on:click=move |_| { if let Err(e) = export::download("council-sweep.csv", "text/csv", &csv) { ctx.fail(e) } }>"Download CSV"</button>
                </div>
            }
        })
    };

    let path_options = move |sel: RwSignal<String>| {
        paths.get().into_iter().map(move |p| view! { <option value=p.clone() selected=sel.get_untracked() == p>{p.clone()}</option> }).collect_view()
    };
    view! {
        <div class="sweep" data-testid="sweep">
            {move || error.get().map(|e| view! { <p class="inline-error" role="alert" data-testid="sweep-error">{e}</p> })}
            <div class="sweep-form">
                <label>"parameter " <select aria-label="First swept parameter" on:change=move |ev| x_path.set(event_target_value(&ev))>{move || path_options(x_path)}</select></label>
                <label>"values " <input aria-label="First parameter values (1,2,3 or start:end:count)" data-testid="sweep-x-values"
                    prop:value=move || x_vals.get() on:change=move |ev| x_vals.set(event_target_value(&ev)) /></label>
                <label><input type="checkbox" aria-label="Sweep a second parameter" prop:checked=move || y_on.get()
                    on:change=move |ev| y_on.set(event_target_checked(&ev)) />" second parameter"</label>
                {move || y_on.get().then(|| view! {
                    <label>"parameter " <select aria-label="Second swept parameter" on:change=move |ev| y_path.set(event_target_value(&ev))>{path_options(y_path)}</select></label>
                    <label>"values " <input aria-label="Second parameter values" data-testid="sweep-y-values"
                        prop:value=move || y_vals.get() on:change=move |ev| y_vals.set(event_target_value(&ev)) /></label>
                })}
                <label>"seeds per setting " <input type="number" min="1" max="1000" aria-label="Seeds per setting" data-testid="sweep-seeds"
                    prop:value=move || seeds.get().to_string()
                    on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<u32>() { seeds.set(v.clamp(1, 1000)) } } /></label>
                <label>"metric " <input aria-label="Metric to plot" list="metric-names" data-testid="sweep-metric"
                    prop:value=move || metric.get() on:change=move |ev| metric.set(event_target_value(&ev)) /></label>
                <datalist id="metric-names">
                    {["accuracy", "consensus", "tokens", "messages", "rounds_to_consensus", "error_amplification"].into_iter().map(|m| view! { <option value=m /> }).collect_view()}
                </datalist>
                <button class="primary" data-testid="sweep-start" aria-label="Start the sweep" disabled=move || running.get() on:click=start>"Start sweep"</button>
                <button data-testid="sweep-cancel" aria-label="Cancel the sweep" disabled=move || !running.get() on:click=move |_| { if let Some(id) = active.get_untracked() { sweep_client::cancel(id) } }>"Cancel"</button>
            </div>
            <div class="progress-row">
                <progress data-testid="sweep-progress" aria-label="Sweep progress"
                    max=move || progress.get().1.max(1).to_string() value=move || progress.get().0.to_string()></progress>
                <span>{move || { let (a, b) = progress.get(); format!("{a} / {b}") }}</span>
            </div>
            {result}
        </div>
    }
}
