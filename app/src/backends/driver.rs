//! The driver loop for runs with LLM agents: it steps a core `Run`, answers simulated
//! agents at once, and sends every other pending ask of a wave to its backend
//! concurrently (remote API or local model), streaming each reply's text into `Live` so
//! the page shows it as it arrives. Replies go back with `run.answer_at` in whatever
//! order they finish; the engine alone orders the log, so the recorded log replays and
//! exports without calling anything again.
//!
//! Failures never lose the transcript: an ask that fails after its retries is answered
//! with `answer: None` and a text holding whatever streamed plus the error sentence, so
//! the engine logs it as an unparsed reply with an error event and the run goes on; a
//! refused key stops further calls to that profile for the rest of the run; Stop aborts
//! every request in flight and keeps the log so far.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use council_core::Backend;
use council_core::engine::{AgentReply, AskRequest, Run};
use council_core::event::EventLog;
use council_core::prompt::{self, Prompt};
use council_core::scenario::Scenario;
use futures::StreamExt;
use leptos::prelude::*;
use web_sys::AbortController;

use super::http::{self, FetchError};
use super::protocol::{self, Chunk, Profile, StatusAction, StreamReader, Usage};
use super::settings::Settings;

/// Where one ask stands.
#[derive(Debug, Clone, PartialEq)]
pub enum AskState {
    Waiting,
    Streaming,
    Retrying { attempt: u32, wait_ms: u32, reason: String },
    Done,
    Failed(String),
}

impl AskState {
    pub fn name(&self) -> &'static str {
        match self {
            AskState::Waiting => "waiting",
            AskState::Streaming => "streaming",
            AskState::Retrying { .. } => "retrying",
            AskState::Done => "done",
            AskState::Failed(_) => "error",
        }
    }
}

/// One ask of the current wave as the live panel shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveAsk {
    pub ask_id: u64,
    pub agent: u32,
    pub agent_name: String,
    pub backend: String,
    pub purpose: String,
    pub round: u32,
    /// The prompt exactly as sent.
    pub prompt: String,
    /// What has streamed so far.
    pub text: String,
    pub state: AskState,
    /// Milliseconds from sending to the first text.
    pub ttft_ms: Option<f64>,
    /// Milliseconds from sending to the end.
    pub total_ms: Option<f64>,
    /// Text pieces received (≈ tokens for streaming APIs and the local engine).
    pub pieces: u32,
}

/// Per-agent totals over the run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentTotals {
    pub calls: u32,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// Estimated USD at the profile's prices (0 when unknown).
    pub cost: f64,
    /// Whether the API reported usage (else tokens are estimates).
    pub reported: bool,
    pub error: Option<String>,
}

/// What the local engine's prefix cache did for one round's asks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RoundReuse {
    pub asks: u32,
    pub prompt_tokens: u32,
    /// Prompt tokens the engine took from its cache instead of running them through the model.
    pub reused_tokens: u32,
    /// Prefill time those tokens would have taken (estimated per prompt by the engine).
    pub saved_ms: f64,
}

/// Signals the page reads while a run with LLM agents goes on.
#[derive(Clone, Copy)]
pub struct Live {
    pub asks: RwSignal<Vec<LiveAsk>>,
    pub agents: RwSignal<BTreeMap<u32, AgentTotals>>,
    /// Local-engine prefix reuse per round.
    pub reuse: RwSignal<BTreeMap<u32, RoundReuse>>,
    pub remote_calls: RwSignal<u32>,
    pub running: RwSignal<bool>,
    /// The run id being driven (for Stop).
    pub run_id: RwSignal<String>,
    /// One line: what the driver is doing or why it stopped.
    pub status: RwSignal<String>,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    pub fn new() -> Self {
        Live {
            asks: RwSignal::new(Vec::new()),
            agents: RwSignal::new(BTreeMap::new()),
            reuse: RwSignal::new(BTreeMap::new()),
            remote_calls: RwSignal::new(0),
            running: RwSignal::new(false),
            run_id: RwSignal::new(String::new()),
            status: RwSignal::new(String::new()),
        }
    }

    fn reset(&self, run_id: &str) {
        self.asks.set(Vec::new());
        self.agents.set(BTreeMap::new());
        self.reuse.set(BTreeMap::new());
        self.remote_calls.set(0);
        self.running.set(true);
        self.run_id.set(run_id.to_string());
        self.status.set("starting".into());
    }

    fn update_ask(&self, ask_id: u64, f: impl FnOnce(&mut LiveAsk)) {
        self.asks.update(|v| {
            if let Some(a) = v.iter_mut().find(|a| a.ask_id == ask_id) {
                f(a);
            }
        });
    }
}

thread_local! {
    /// In-flight requests per run id, so Stop can abort them (wasm is single-threaded).
    static IN_FLIGHT: RefCell<HashMap<String, (bool, Vec<AbortController>)>> = RefCell::new(HashMap::new());
}

/// Stops run `run_id`: aborts its requests; the driver ends after the current wave.
pub fn stop(run_id: &str) {
    IN_FLIGHT.with(|m| {
        if let Some((stopped, ctrls)) = m.borrow_mut().get_mut(run_id) {
            *stopped = true;
            for c in ctrls.drain(..) {
                c.abort();
            }
        }
    });
}

fn stopped(run_id: &str) -> bool {
    IN_FLIGHT.with(|m| m.borrow().get(run_id).is_none_or(|e| e.0))
}

fn new_controller(run_id: &str) -> Option<AbortController> {
    let c = AbortController::new().ok()?;
    IN_FLIGHT.with(|m| {
        if let Some(e) = m.borrow_mut().get_mut(run_id) {
            e.1.push(c.clone());
        }
    });
    Some(c)
}

fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or_else(js_sys::Date::now)
}

/// What the backends of a scenario need that this browser does not have (a missing
/// profile, a model not downloaded); empty when the run can start.
pub fn missing(scenario: &Scenario, settings: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    for a in &scenario.agents {
        if let Some(name) = a.backend.remote()
            && settings.profile(name).is_none()
        {
            let m = format!("remote profile \"{name}\" (used by {}) is not set up: add it on the Models & keys page", a.name);
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// Shared state of one driven run.
struct Ctx {
    scenario: Rc<Scenario>,
    settings: Rc<Settings>,
    live: Live,
    run_id: String,
    /// Profiles that refused their key in this run: no more calls to them.
    refused: Rc<RefCell<BTreeMap<String, String>>>,
}

/// Drives `scenario` with `seed` to the end (or Stop). `on_log` gets the log after every
/// wave (and at the end). Returns the final log and whether it was stopped early.
pub async fn drive(scenario: Scenario, seed: u64, run_id: String, settings: Settings, live: Live, on_log: impl Fn(EventLog) + 'static) -> Result<(EventLog, bool), String> {
    let run = Run::with_seed(&scenario, seed).map_err(|e| e.to_string())?;
    live.reset(&run_id);
    IN_FLIGHT.with(|m| m.borrow_mut().insert(run_id.clone(), (false, Vec::new())));
    let ctx = Rc::new(Ctx {
        scenario: Rc::new(scenario),
        settings: Rc::new(settings),
        live,
        run_id: run_id.clone(),
        refused: Rc::new(RefCell::new(BTreeMap::new())),
    });
    let run = Rc::new(RefCell::new(run));
    on_log(run.borrow().log());
    let mut was_stopped = false;
    // Every mechanism makes a bounded number of asks; this guards against a loop anyway.
    for _wave in 0..100_000 {
        if run.borrow().is_done() {
            break;
        }
        if stopped(&run_id) {
            was_stopped = true;
            break;
        }
        let pending: Vec<AskRequest> = run.borrow().pending_asks().to_vec();
        let sim: Vec<(usize, AgentReply)> =
            pending.iter().enumerate().filter(|(_, r)| r.backend.is_sim()).map(|(i, _)| (i, run.borrow().simulate(i))).collect();
        let llm: Vec<(usize, AskRequest)> = pending.iter().cloned().enumerate().filter(|(_, r)| !r.backend.is_sim()).collect();
        if llm.is_empty() {
            run.borrow_mut().answer(sim.into_iter().map(|(_, r)| r).collect())?;
            continue;
        }
        for (i, r) in sim {
            run.borrow_mut().answer_at(i, r)?;
        }
        let round = llm[0].1.round;
        live.status.set(format!("round {round}: waiting for {} agent{}", llm.len(), if llm.len() == 1 { "" } else { "s" }));
        live.asks.set(
            llm.iter()
                .map(|(_, r)| LiveAsk {
                    ask_id: r.id,
                    agent: r.agent,
                    agent_name: r.agent_name.clone(),
                    backend: r.backend.to_string(),
                    purpose: r.purpose.clone(),
                    round: r.round,
                    prompt: prompt::render(&ctx.scenario.prompts, &ctx.scenario.mechanism.kind, r).to_text(),
                    text: String::new(),
                    state: AskState::Waiting,
                    ttft_ms: None,
                    total_ms: None,
                    pieces: 0,
                })
                .collect(),
        );
        let (tx, mut rx) = futures::channel::mpsc::unbounded::<(usize, AgentReply)>();
        for (i, req) in llm.iter().cloned() {
            let tx = tx.clone();
            let ctx = ctx.clone();
            leptos::task::spawn_local(async move {
                let reply = resolve(&ctx, &req).await;
                let _ = tx.unbounded_send((i, reply));
            });
        }
        drop(tx);
        let mut got = 0;
        while let Some((i, reply)) = rx.next().await {
            got += 1;
            run.borrow_mut().answer_at(i, reply)?;
        }
        if got < llm.len() {
            return Err("a backend task ended without a reply".into());
        }
        on_log(run.borrow().log());
        if stopped(&run_id) {
            was_stopped = true;
            break;
        }
    }
    IN_FLIGHT.with(|m| m.borrow_mut().remove(&run_id));
    live.running.set(false);
    live.status.set(if was_stopped { "stopped; the transcript so far is kept".into() } else { "finished".into() });
    let log = run.borrow().log();
    on_log(log.clone());
    Ok((log, was_stopped))
}

/// One ask to its backend; never fails (a failure becomes an unparsed reply with the
/// reason in its text).
async fn resolve(ctx: &Ctx, req: &AskRequest) -> AgentReply {
    let p = prompt::render(&ctx.scenario.prompts, &ctx.scenario.mechanism.kind, req);
    let started = now_ms();
    let outcome = match &req.backend {
        Backend::Remote(name) => match ctx.settings.profile(name) {
            Some(profile) => remote(ctx, req, profile, &p, started).await,
            None => Err((String::new(), format!("remote profile \"{name}\" is not set up in this browser"), Usage::default())),
        },
        Backend::Local(model) => local(ctx, req, model, &p, started).await,
        Backend::Sim => Err((String::new(), "a simulated agent reached the LLM driver".into(), Usage::default())),
    };
    let total = now_ms() - started;
    let estimate = |text: &str| Usage { prompt: ((p.system.len() + p.user.len()) / 4) as u32, completion: (text.len() / 4).max(1) as u32 };
    match outcome {
        Ok((text, usage, reported)) => {
            let usage = if reported { usage } else { estimate(&text) };
            account(ctx, req, usage, reported, None);
            ctx.live.update_ask(req.id, |a| {
                a.state = AskState::Done;
                a.total_ms = Some(total);
            });
            council_core::parse::reply(req, &text, usage.prompt + usage.completion)
        }
        Err((partial, msg, usage)) => {
            let reported = usage != Usage::default();
            let usage = if reported { usage } else { estimate(&partial) };
            account(ctx, req, usage, reported, Some(msg.clone()));
            ctx.live.update_ask(req.id, |a| {
                a.state = AskState::Failed(msg.clone());
                a.total_ms = Some(total);
            });
            let text = if partial.trim().is_empty() {
                format!("⚠ {} could not answer: {msg}", req.agent_name)
            } else {
                format!("{partial}\n\n⚠ {} was cut off: {msg}", req.agent_name)
            };
            AgentReply::from_text(None, None, text, usage.prompt + usage.completion)
        }
    }
}

fn account(ctx: &Ctx, req: &AskRequest, usage: Usage, reported: bool, error: Option<String>) {
    let price = req.backend.remote().and_then(|n| ctx.settings.profile(n)).map_or(0.0, |p| p.cost(&usage));
    ctx.live.agents.update(|m| {
        let t = m.entry(req.agent).or_default();
        t.calls += 1;
        t.prompt_tokens += usage.prompt;
        t.completion_tokens += usage.completion;
        t.cost += price;
        t.reported |= reported;
        if error.is_some() {
            t.error = error;
        }
    });
}

/// (partial text, error sentence, usage) of a failed ask.
type Failure = (String, String, Usage);

async fn remote(ctx: &Ctx, req: &AskRequest, profile: &Profile, p: &Prompt, started: f64) -> Result<(String, Usage, bool), Failure> {
    if let Some(why) = ctx.refused.borrow().get(&profile.name) {
        return Err((String::new(), format!("not called: profile \"{}\" was refused earlier in this run ({why})", profile.name), Usage::default()));
    }
    let http_req = protocol::build_request(profile, p);
    let timeout = ctx.settings.timeout_s * 1000;
    let mut last_partial = String::new();
    let mut last_err = String::from("no attempt was made");
    for attempt in 1..=ctx.settings.max_attempts {
        if stopped(&ctx.run_id) {
            return Err((last_partial, "stopped".into(), Usage::default()));
        }
        if ctx.live.remote_calls.try_get_untracked().unwrap_or(0) >= ctx.settings.max_remote_calls {
            return Err((last_partial, format!("the cap of {} remote calls per run is reached (change it on the Models & keys page)", ctx.settings.max_remote_calls), Usage::default()));
        }
        ctx.live.remote_calls.update(|c| *c += 1);
        let Some(ctrl) = new_controller(&ctx.run_id) else { return Err((last_partial, "cannot create an AbortController".into(), Usage::default())) };
        let mut reader = StreamReader::new(profile.kind);
        let mut text = String::new();
        let mut usage = Usage::default();
        let mut reported = false;
        let mut stream_error: Option<String> = None;
        let mut saw_done = false;
        ctx.live.update_ask(req.id, |a| {
            a.state = AskState::Waiting;
            a.text.clear();
        });
        let mut handle = |chunks: Vec<Chunk>, text: &mut String| {
            for c in chunks {
                match c {
                    Chunk::Text(t) => {
                        text.push_str(&t);
                        let now = now_ms();
                        ctx.live.update_ask(req.id, |a| {
                            a.state = AskState::Streaming;
                            a.text.push_str(&t);
                            a.pieces += 1;
                            a.ttft_ms.get_or_insert(now - started);
                        });
                    }
                    Chunk::Usage(u) => {
                        reported = true;
                        usage.prompt = usage.prompt.max(u.prompt);
                        usage.completion = usage.completion.max(u.completion);
                    }
                    Chunk::Done => saw_done = true,
                    Chunk::Error(e) => stream_error = Some(profile.redact(&e)),
                }
            }
        };
        let result = http::post_stream(&http_req, &ctrl, timeout, &mut |bytes| {
            let chunks = reader.feed(bytes);
            handle(chunks, &mut text);
        })
        .await;
        let tail = reader.finish();
        handle(tail, &mut text);
        let retryable = match result {
            Ok(()) => match stream_error.take() {
                None if saw_done => return Ok((text, usage, reported)),
                // A stream that stops without its end marker was cut (server restart,
                // a proxy timeout, llama.cpp's interrupt of a running request).
                None => {
                    last_err = "the stream ended before the reply was complete".into();
                    true
                }
                Some(e) => {
                    last_err = format!("the API reported an error: {e}");
                    true
                }
            },
            Err(FetchError::Aborted) => return Err((text, "stopped".into(), usage)),
            Err(FetchError::Status { status, body, retry_after }) => match protocol::classify(status, &profile.redact(&body)) {
                StatusAction::Ok => return Ok((text, usage, reported)),
                StatusAction::Fatal(m) => {
                    if status == 401 || status == 403 {
                        ctx.refused.borrow_mut().insert(profile.name.clone(), format!("HTTP {status}"));
                    }
                    return Err((text, m, usage));
                }
                StatusAction::Retry(m) => {
                    last_err = m;
                    if attempt < ctx.settings.max_attempts {
                        let wait = protocol::backoff_ms(attempt, retry_after.as_deref(), js_sys::Math::random());
                        wait_retry(ctx, req, attempt, wait, &last_err).await;
                    }
                    if !text.is_empty() {
                        last_partial = text;
                    }
                    continue;
                }
            },
            Err(e) => {
                last_err = profile.redact(&e.sentence());
                true
            }
        };
        if !text.is_empty() {
            last_partial = text;
        }
        if retryable && attempt < ctx.settings.max_attempts {
            let wait = protocol::backoff_ms(attempt, None, js_sys::Math::random());
            wait_retry(ctx, req, attempt, wait, &last_err).await;
        }
    }
    Err((last_partial, format!("{last_err} (after {} attempts)", ctx.settings.max_attempts), Usage::default()))
}

async fn wait_retry(ctx: &Ctx, req: &AskRequest, attempt: u32, wait: u32, reason: &str) {
    let reason = reason.to_string();
    ctx.live.update_ask(req.id, |a| a.state = AskState::Retrying { attempt, wait_ms: wait, reason });
    http::sleep(wait).await;
}

async fn local(ctx: &Ctx, req: &AskRequest, model: &str, p: &Prompt, started: f64) -> Result<(String, Usage, bool), Failure> {
    let live = ctx.live;
    let id = req.id;
    let on_text = move |t: &str| {
        let now = now_ms();
        let t = t.to_string();
        live.update_ask(id, |a| {
            a.state = AskState::Streaming;
            a.text.push_str(&t);
            a.pieces += 1;
            a.ttft_ms.get_or_insert(now - started);
        });
    };
    match crate::models::generate(model, p, ctx.settings.local_max_tokens, ctx.settings.local_engine, Box::new(on_text)).await {
        Ok(g) => {
            live.reuse.update(|m| {
                let r = m.entry(req.round).or_default();
                r.asks += 1;
                r.prompt_tokens += g.prompt_tokens;
                r.reused_tokens += g.reused_tokens;
                r.saved_ms += g.saved_ms;
            });
            Ok((g.text, Usage { prompt: g.prompt_tokens, completion: g.completion_tokens }, true))
        }
        Err(e) => Err((String::new(), e, Usage::default())),
    }
}
