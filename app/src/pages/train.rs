//! The training view (`#/train`): a conductor policy learning by policy gradient, live.
//!
//! Training runs in the training worker (`train_client`; burn on WebGPU where the browser
//! has an adapter, burn's CPU backend otherwise). The view shows the reward curve as it
//! learns, a progress bar and Stop, the policy's choices on a fixed probe set, and the
//! plans it settled on drawn as graphs. A finished (or stopped) policy is stored in
//! IndexedDB; from the list of stored policies it can be exported as JSON, compared with
//! the baselines on held-out pools, or used as the conductor's policy in any scenario.
//!
//! Selectors: `train-seed`, `train-steps`, `train-batch`, `train-backend` (select),
//! `train-start`, `train-stop`, `train-progress` (progress), `train-status` (text, with
//! `data-backend`), `train-curve` (`data-rewards`: the curve as JSON), `probe-row`,
//! `topology-graph`, `policy-item[data-policy]` with `policy-use`, `policy-export`,
//! `policy-compare`, `policy-delete`; `use-scenario` (select), `comparison` table with
//! `[data-method]` rows.

use std::sync::Arc;

use council_core::policy::Shape;
use council_policy::StepStats;
use council_policy::eval::Comparison;
use council_policy::probe::ProbeChoice;
use council_policy::protocol::{Event, Request};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::AppCtx;
use crate::export;
use crate::store::{self, StoredPolicy};
use crate::train_client;
use crate::views::plot::{LinePlot, Series};

/// Where a training job stands.
#[derive(Clone, Default, PartialEq)]
struct Job {
    id: Option<u32>,
    running: bool,
    backend: String,
    adapter: String,
    steps: usize,
    ms: f64,
    /// Set once training ended: the stored policy's name.
    saved: Option<String>,
}

#[component]
pub fn TrainPage() -> impl IntoView {
    let ctx = expect_context::<AppCtx>();
    let seed = RwSignal::new(1u64);
    let steps = RwSignal::new(300usize);
    let batch = RwSignal::new(32usize);
    let backend = RwSignal::new("auto".to_string());
    let job = RwSignal::new(Job::default());
    let curve: RwSignal<Vec<StepStats>> = RwSignal::new(Vec::new());
    let probe: RwSignal<(usize, Vec<ProbeChoice>)> = RwSignal::new((0, Vec::new()));
    let stored: RwSignal<Vec<StoredPolicy>> = RwSignal::new(Vec::new());
    let comparison: RwSignal<Option<(String, Comparison)>> = RwSignal::new(None);
    let evaluating: RwSignal<Option<String>> = RwSignal::new(None);
    let target = RwSignal::new("conductor".to_string());

    let reload = move || {
        spawn_local(async move {
            let res = async {
                let db = store::open(move |m| ctx.fail(m)).await?;
                store::list_policies(&db).await
            }
            .await;
            match res {
                Ok(list) => {
                    stored.try_set(list);
                }
                Err(e) => ctx.fail(e),
            }
        });
    };
    reload();

    let start = move |_| {
        let (sd, st, bt, be) = (seed.get_untracked(), steps.get_untracked().clamp(1, 5000), batch.get_untracked().clamp(1, 256), backend.get_untracked());
        curve.set(Vec::new());
        probe.set((0, Vec::new()));
        comparison.set(None);
        job.set(Job { running: true, steps: st, backend: "starting".into(), ..Job::default() });
        let on_event = move |ev: Event| match ev {
            Event::Started { backend, adapter, .. } => {
                job.try_update(|j| {
                    j.backend = backend;
                    j.adapter = adapter;
                });
            }
            Event::Progress { stats, ms, .. } => {
                job.try_update(|j| j.ms = ms);
                curve.try_update(|c| c.push(stats));
            }
            Event::Probe { step, choices, .. } => {
                probe.try_set((step, choices));
            }
            Event::Done { policy, curve_hash, ms, .. } => {
                let rewards: Vec<f64> = curve.get_untracked().iter().map(|s| s.reward).collect();
                let name = format!("policy-s{sd}-{}steps-{}", rewards.len(), (crate::engine::now_ms() as u64 / 1000) % 100_000);
                let backend = job.get_untracked().backend;
                let p = StoredPolicy { name: name.clone(), created_ms: crate::engine::now_ms(), json: policy, curve: rewards.clone(), seed: sd.to_string(), steps: rewards.len() as u32, backend, curve_hash };
                job.try_update(|j| {
                    j.running = false;
                    j.ms = ms;
                });
                spawn_local(async move {
                    let res = async {
                        let db = store::open(move |m| ctx.fail(m)).await?;
                        store::save_policy(&db, &p).await
                    }
                    .await;
                    match res {
                        Ok(()) => {
                            job.try_update(|j| j.saved = Some(name.clone()));
                            ctx.notify(format!("Saved the trained policy as {name}: use it as the conductor's policy in any scenario."));
                            reload();
                        }
                        Err(e) => ctx.fail(e),
                    }
                });
            }
            Event::Error { message, .. } => {
                ctx.error.try_set(Some(format!("training stopped: {message}")));
                job.try_update(|j| j.running = false);
            }
            Event::Ready | Event::Evaluating { .. } | Event::Compared { .. } => {}
        };
        let req = move |id| Request::Train { id, seed: sd, steps: st, batch: bt, backend: be, eval_pools: 0 };
        match train_client::start(req, on_event) {
            Ok(id) => job.update(|j| j.id = Some(id)),
            Err(e) => {
                job.update(|j| j.running = false);
                ctx.fail(e);
            }
        }
    };
    let stop = move |_| {
        if let Some(id) = job.get_untracked().id {
            train_client::stop(id);
        }
    };
    on_cleanup(move || {
        if let Some(Job { id: Some(id), running: true, .. }) = job.try_get_untracked() {
            train_client::detach(id);
        }
    });

    let compare = move |p: StoredPolicy| {
        comparison.set(None);
        evaluating.set(Some("starting".into()));
        let name = p.name.clone();
        let warmup = p.net().ok().and_then(|n| Some(n.meta.get("steps")?.as_u64()? * n.meta.get("batch")?.as_u64()?)).unwrap_or(0) as usize;
        let on_event = move |ev: Event| match ev {
            Event::Evaluating { method, done, of, .. } => {
                evaluating.try_set(Some(format!("{method} ({done}/{of})")));
            }
            Event::Compared { comparison: c, .. } => {
                evaluating.try_set(None);
                comparison.try_set(Some((name.clone(), c)));
            }
            Event::Error { message, .. } => {
                evaluating.try_set(None);
                ctx.error.try_set(Some(format!("comparison stopped: {message}")));
            }
            _ => {}
        };
        let req = move |id| Request::Evaluate { id, policy: p.json, seed: 1, pools: 24, linucb_warmup: warmup };
        if let Err(e) = train_client::start(req, on_event) {
            evaluating.set(None);
            ctx.fail(e);
        }
    };

    let use_in = move |p: StoredPolicy| {
        let id = target.get_untracked();
        match council_core::builtin(&id) {
            Ok(mut s) => {
                s.mechanism = council_core::spec::Spec::new("conductor", serde_json::json!({"policy": p.name, "probes": 3}));
                s.title = format!("{} · conductor policy {}", s.title, p.name);
                match crate::link::encode(&s) {
                    Ok(l) => {
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().set_hash(&format!("s={l}"));
                        }
                    }
                    Err(e) => ctx.fail(format!("Cannot open the scenario: {e}")),
                }
            }
            Err(e) => ctx.fail(e.to_string()),
        }
    };

    let status = move || {
        let j = job.get();
        let n = curve.with(Vec::len);
        if j.id.is_none() {
            return "Not started. Training runs in a worker; its bundle (burn) loads on the first start.".to_string();
        }
        let rate = if j.ms > 0.0 { n as f64 / (j.ms / 1000.0) } else { 0.0 };
        let how = if j.adapter.is_empty() { j.backend.clone() } else { j.adapter.clone() };
        format!("step {n} / {} on {how} · {rate:.1} steps/s{}", j.steps, if j.running { "" } else { " · finished" })
    };

    view! {
        <section class="train" data-testid="train">
            <h2>"Learned orchestration"</h2>
            <p class="muted">
                "A small policy network learns, by policy gradient (REINFORCE with a baseline), which workers the conductor should call and in which shape: "
                "parallel, sequential or hierarchical. Each episode is one task run by the simulated agents; the reward is the task's outcome minus a cost per call. "
                "The policy sees the task's visible structure and the workers' track records, never their skills."
            </p>
            <div class="sweep-form">
                <label>"seed " <input type="number" min="0" data-testid="train-seed" prop:value=move || seed.get().to_string()
                    on:change=move |ev| { match event_target_value(&ev).trim().parse::<u64>() { Ok(v) => seed.set(v), Err(_) => ctx.fail("The seed must be a whole number ≥ 0.") } } /></label>
                <label>"steps " <input type="number" min="1" max="5000" data-testid="train-steps" prop:value=move || steps.get().to_string()
                    on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<usize>() { steps.set(v.clamp(1, 5000)) } } /></label>
                <label>"episodes per step " <input type="number" min="1" max="256" data-testid="train-batch" prop:value=move || batch.get().to_string()
                    on:change=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<usize>() { batch.set(v.clamp(1, 256)) } } /></label>
                <label>"backend " <select data-testid="train-backend" aria-label="burn backend" on:change=move |ev| backend.set(event_target_value(&ev))>
                    <option value="auto" selected=true>"auto (WebGPU, else CPU)"</option>
                    <option value="wgpu">"WebGPU"</option>
                    <option value="cpu">"CPU"</option>
                </select></label>
                <button class="primary" data-testid="train-start" aria-label="Start training" disabled=move || job.with(|j| j.running) on:click=start>"Train"</button>
                <button data-testid="train-stop" aria-label="Stop training" disabled=move || !job.with(|j| j.running) on:click=stop>"Stop"</button>
            </div>
            <div class="progress-row">
                <progress data-testid="train-progress" aria-label="Training progress"
                    max=move || job.with(|j| j.steps.max(1)).to_string() value=move || curve.with(Vec::len).to_string()></progress>
                <span data-testid="train-status" data-backend=move || job.with(|j| j.backend.clone())>{status}</span>
            </div>
            <div class="plots">
                <RewardCurve curve=curve />
                <ProbeTable probe=probe />
            </div>
            <Topologies probe=probe />
            <h3>"Stored policies"</h3>
            <p class="muted">"Kept in this browser (IndexedDB). Use one as the conductor's policy in a scenario: the conductor gives each worker 3 graded probe items, then follows the policy's plan."</p>
            <label>"scenario to use it in "
                <select data-testid="use-scenario" aria-label="Scenario to use the policy in" on:change=move |ev| target.set(event_target_value(&ev))>
                    {council_core::builtin_ids().into_iter().map(|id| view! { <option value=id selected=id == "conductor">{id}</option> }).collect_view()}
                </select>
            </label>
            <ul class="runs-list">
                {move || stored.get().into_iter().map(|p| {
                    let (p1, p2, p3, p4) = (p.clone(), p.clone(), p.clone(), p.clone());
                    view! {
                        <li class="run-item" data-testid="policy-item" data-policy=p.name.clone()>
                            <b>{p.name.clone()}</b>
                            <span class="muted">{format!("{} steps on {}, final reward {:+.3}", p.steps, p.backend, p.curve.iter().rev().take(20).sum::<f64>() / p.curve.len().clamp(1, 20) as f64)}</span>
                            <button data-testid="policy-use" aria-label="Use as the conductor's policy" on:click=move |_| use_in(p1.clone())>"Use as conductor policy"</button>
                            <button data-testid="policy-export" aria-label="Export the weights as JSON"
                                on:click=move |_| { if let Err(e) = export::download(&format!("{}.json", p2.name), "application/json", &p2.json) { ctx.fail(e) } }>"Export weights"</button>
                            <button data-testid="policy-compare" aria-label="Compare with the baselines on held-out pools" disabled=move || evaluating.with(Option::is_some)
                                on:click=move |_| compare(p3.clone())>"Compare on held-out pools"</button>
                            <button data-testid="policy-delete" aria-label="Delete this policy" on:click=move |_| {
                                let name = p4.name.clone();
                                spawn_local(async move {
                                    let res = async { let db = store::open(move |m| ctx.fail(m)).await?; store::delete_policy(&db, &name).await }.await;
                                    match res { Ok(()) => reload(), Err(e) => ctx.fail(e) }
                                });
                            }>"Delete"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {move || evaluating.get().map(|m| view! { <p data-testid="comparison-progress">{format!("Comparing on held-out pools: {m}…")}</p> })}
            {move || comparison.get().map(|(name, c)| view! { <ComparisonTable name=name c=c /> })}
        </section>
    }
}

/// The reward curve (mean reward per step) with a 20-step moving average.
#[component]
fn RewardCurve(curve: RwSignal<Vec<StepStats>>) -> impl IntoView {
    move || {
        let c = curve.get();
        let rewards: Vec<f64> = c.iter().map(|s| s.reward).collect();
        let points: Vec<(f64, f64)> = c.iter().map(|s| (s.step as f64, s.reward)).collect();
        let smooth: Vec<(f64, f64)> = (0..c.len())
            .map(|i| {
                let lo = i.saturating_sub(19);
                (c[i].step as f64, rewards[lo..=i].iter().sum::<f64>() / (i + 1 - lo) as f64)
            })
            .collect();
        let json = serde_json::to_string(&rewards).unwrap_or_default();
        view! {
            <div data-testid="train-curve" data-rewards=json>
                <LinePlot title="reward per step (mean over the step's episodes)" x_label="step"
                    series=vec![Series { label: "reward".into(), points, band: None }, Series { label: "20-step mean".into(), points: smooth, band: None }] />
            </div>
        }
    }
}

/// The policy's choices on the probe set.
#[component]
fn ProbeTable(probe: RwSignal<(usize, Vec<ProbeChoice>)>) -> impl IntoView {
    move || {
        let (step, choices) = probe.get();
        view! {
            <figure class="plot">
                <figcaption>{if choices.is_empty() { "probe set: no policy yet".to_string() } else { format!("probe set after step {step}: what the policy plans") }}</figcaption>
                <table class="compare-metrics">
                    <thead><tr><th>"task"</th><th>"shape"</th><th>"workers (in order)"</th></tr></thead>
                    <tbody>
                        {choices.into_iter().map(|c| {
                            let fmt = |v: &[f32]| v.iter().map(|p| format!("{p:.2}")).collect::<Vec<_>>().join(", ");
                            let tip = format!("P(parallel, sequential, hierarchical) = {}; P(team of 0, 1, 2, 3) = {}; P(picked first): {}", fmt(&c.shape_probs), fmt(&c.size_probs),
                                c.pick_probs.iter().map(|(n, p)| format!("{n} {p:.2}")).collect::<Vec<_>>().join(", "));
                            view! {
                                <tr data-testid="probe-row" title=tip>
                                    <td>{c.task}</td><td>{c.shape}</td>
                                    <td>{if c.workers.is_empty() { "conductor alone".to_string() } else { c.workers.join(" → ") }}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <p class="muted">"Probe pool records: Ana strong at math, Dot at logic, Bo middling, Cid weak, Eve unknown."</p>
            </figure>
        }
    }
}

/// The distinct plans on the probe set, drawn as graphs (conductor on top).
#[component]
fn Topologies(probe: RwSignal<(usize, Vec<ProbeChoice>)>) -> impl IntoView {
    move || {
        let (_, choices) = probe.get();
        let mut plans: Vec<(String, usize, Vec<String>)> = Vec::new();
        for c in &choices {
            let k = c.workers.len();
            match plans.iter_mut().find(|p| p.0 == c.shape && p.1 == k) {
                Some(p) => p.2.push(c.task.clone()),
                None => plans.push((c.shape.clone(), k, vec![c.task.clone()])),
            }
        }
        (!plans.is_empty()).then(|| {
            view! {
                <h3>"Plans it has settled on"</h3>
                <div class="cards">
                    {plans.into_iter().map(|(shape, k, tasks)| view! {
                        <figure class="card" data-testid="topology-graph" data-shape=shape.clone() data-workers=k.to_string()>
                            <PlanGraph shape=shape.clone() k=k />
                            <figcaption>{format!("{shape}, {}: {}", if k == 0 { "the conductor alone".to_string() } else if k == 1 { "1 worker".to_string() } else { format!("{k} workers") }, tasks.join("; "))}</figcaption>
                        </figure>
                    }).collect_view()}
                </div>
            }
        })
    }
}

/// One plan as a graph: C = the conductor, W1.. = workers in working order.
#[component]
fn PlanGraph(shape: String, k: usize) -> impl IntoView {
    let (w, h) = (220.0, 110.0);
    let xs: Vec<f64> = (0..k).map(|i| w * (i as f64 + 1.0) / (k as f64 + 1.0)).collect();
    let (cx, cy, wy) = (w / 2.0, 20.0, 85.0);
    let sequential = shape == Shape::Sequential.name();
    let hierarchical = shape == Shape::Hierarchical.name();
    let mut lines: Vec<(f64, f64, f64, f64, bool)> = Vec::new();
    if sequential && k > 0 {
        lines.push((cx, cy, xs[0], wy, false));
        for i in 1..k {
            lines.push((xs[i - 1], wy, xs[i], wy, false));
        }
        lines.push((xs[k - 1], wy, cx, cy, true));
    } else {
        for &x in &xs {
            lines.push((cx, cy, x, wy, false));
            lines.push((x, wy, cx, cy, hierarchical));
        }
    }
    view! {
        <svg viewBox=format!("0 0 {w} {h}") role="img" aria-label=format!("{shape} plan with {k} workers")>
            <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor" /></marker></defs>
            {lines.into_iter().map(|(x1, y1, x2, y2, checked)| {
                // Shorten each edge so arrowheads stop at the node's rim.
                let (dx, dy) = (x2 - x1, y2 - y1);
                let len = (dx * dx + dy * dy).sqrt().max(1.0);
                let (ux, uy) = (dx / len * 12.0, dy / len * 12.0);
                view! { <line x1=x1 + ux y1=y1 + uy x2=x2 - ux y2=y2 - uy stroke="currentColor" stroke-width="1.5"
                    stroke-dasharray=if checked { "4 3" } else { "" } marker-end="url(#arrow)" /> }
            }).collect_view()}
            <circle cx=cx cy=cy r="11" fill="#4e79a7" /><text x=cx y=cy + 4.0 text-anchor="middle" fill="white" font-size="10">"C"</text>
            {xs.iter().enumerate().map(|(i, &x)| view! {
                <circle cx=x cy=wy r="11" fill="#f28e2b" /><text x=x y=wy + 4.0 text-anchor="middle" fill="white" font-size="10">{format!("W{}", i + 1)}</text>
            }).collect_view()}
            {hierarchical.then(|| view! { <text x=w - 4.0 y=h - 2.0 text-anchor="end" font-size="9" fill="currentColor">"dashed: checked by C"</text> })}
        </svg>
    }
}

/// The held-out comparison: every method's mean reward with its 95% interval, and the
/// learned policy's paired differences.
#[component]
fn ComparisonTable(name: String, c: Comparison) -> impl IntoView {
    let diff = |b: &str| c.versus.iter().find(|v| v.baseline == b).map(|v| format!("{:+.3} [{:+.3}, {:+.3}]", v.diff.mean, v.diff.lo, v.diff.hi)).unwrap_or_default();
    let best = c.best_fixed.clone();
    let verdict = format!(
        "learned − best fixed plan ({best}): {}; learned − LinUCB at equal samples: {:+.3} [{:+.3}, {:+.3}].",
        diff(&best), c.versus_linucb.mean, c.versus_linucb.lo, c.versus_linucb.hi
    );
    let rows = Arc::new(c.methods.clone());
    view! {
        <figure class="comparison">
            <figcaption>{format!("{name} on {} held-out pools × {} tasks (shifted skills): mean reward per task, 95% interval over pools", c.config.pools, c.config.per_pool)}</figcaption>
            <table class="compare-metrics" data-testid="comparison">
                <thead><tr><th>"method"</th><th>"reward"</th><th>"accuracy"</th><th>"calls per task"</th><th>"learned − it (paired)"</th></tr></thead>
                <tbody>
                    {rows.iter().map(|m| view! {
                        <tr data-method=m.name.clone() class:on=m.name == "learned" || m.name == best>
                            <td>{m.name.clone()}</td>
                            <td>{format!("{:+.3} [{:+.3}, {:+.3}]", m.reward.mean, m.reward.lo, m.reward.hi)}</td>
                            <td>{format!("{:.2}", m.accuracy)}</td>
                            <td>{format!("{:.1}", m.calls)}</td>
                            <td>{if m.name == "learned" { String::new() } else { diff(&m.name) }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p data-testid="comparison-verdict">{verdict}</p>
        </figure>
    }
}
