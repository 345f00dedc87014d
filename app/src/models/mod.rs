//! Local GGUF models in the page: the bundled catalog, downloads that resume (OPFS),
//! and generation in a Web Worker (`worker`, built as the `council-worker` bin) so the
//! UI never blocks. Several agents naming the same `local:<id>` share the one loaded
//! model; on the CPU path the worker serves their asks of a round together (batched decode,
//! shared prompt prefixes reused).

pub mod catalog;
pub mod download;
pub mod opfs;
pub mod page;
pub mod worker;

use std::cell::RefCell;
use std::collections::HashMap;

use council_core::prompt::Prompt;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub use worker::EnginePref;
use worker::{Event, Request};

/// A finished local generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub text: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// Prompt tokens taken from the engine's prefix cache, and the prefill time that saved
    /// (estimated at the speed measured for the rest of this prompt).
    pub reused_tokens: u32,
    pub saved_ms: f64,
}

/// What the engine is doing, for the page (`[data-testid=engine-status]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineStatus {
    /// Which engine runs the model ("cpu (wasm simd128)").
    pub engine: String,
    pub model: String,
    pub state: String,
    pub load_ms: Option<f64>,
    /// Last generation: ms to the first token, and decode tokens per second.
    pub ttft_ms: Option<f64>,
    pub decode_tok_s: Option<f64>,
    pub prefill_tok_s: Option<f64>,
}

type Pending = (Box<dyn Fn(&str)>, futures::channel::oneshot::Sender<Result<Generated, String>>);

thread_local! {
    static WORKER: RefCell<Option<web_sys::Worker>> = const { RefCell::new(None) };
    static PENDING: RefCell<HashMap<u64, Pending>> = RefCell::new(HashMap::new());
    static NEXT: RefCell<u64> = const { RefCell::new(1) };
    /// Messages waiting for the worker to say it is ready.
    static OUTBOX: RefCell<Option<Vec<String>>> = const { RefCell::new(Some(Vec::new())) };
    static STATUS: std::cell::OnceCell<RwSignal<EngineStatus>> = const { std::cell::OnceCell::new() };
}

/// The engine status signal (page-wide).
pub fn status() -> RwSignal<EngineStatus> {
    STATUS.with(|c| *c.get_or_init(|| page_wide(EngineStatus::default())))
}

/// A signal that lives as long as the page: created under its own root owner, which is
/// kept forever, so no component that happens to read it first can dispose it.
pub fn page_wide<T: Send + Sync + 'static>(value: T) -> RwSignal<T> {
    let prev = Owner::current();
    // `new_root` makes itself the current owner; the caller's owner is put back after.
    let owner = Owner::new_root(None);
    let sig = owner.with(|| RwSignal::new(value));
    match prev {
        Some(p) => p.set(),
        None => owner.clone().unset(),
    }
    std::mem::forget(owner);
    sig
}

fn on_event(ev: Event) {
    match ev {
        Event::Ready => {
            let queued = OUTBOX.with(|o| o.borrow_mut().take()).unwrap_or_default();
            if let Some(w) = WORKER.with(|w| w.borrow().clone()) {
                for m in queued {
                    let _ = w.post_message(&JsValue::from_str(&m));
                }
            }
        }
        Event::Loading { model } => status().update(|s| {
            s.model = model;
            s.state = "loading".into();
        }),
        Event::Loaded { model, engine, load_ms } => status().update(|s| {
            s.model = model;
            s.engine = engine;
            s.state = "ready".into();
            s.load_ms = Some(load_ms);
        }),
        Event::Token { req, text } => PENDING.with(|p| {
            if let Some((cb, _)) = p.borrow().get(&req) {
                cb(&text);
            }
        }),
        Event::Done { req, text, prompt_tokens, completion_tokens, prefill_ms, decode_ms, reused_tokens, saved_ms } => {
            status().update(|s| {
                s.state = "ready".into();
                s.ttft_ms = Some(prefill_ms);
                s.prefill_tok_s = (prefill_ms > 0.0).then(|| f64::from(prompt_tokens.saturating_sub(reused_tokens)) * 1000.0 / prefill_ms);
                s.decode_tok_s = (decode_ms > 0.0 && completion_tokens > 1).then(|| f64::from(completion_tokens - 1) * 1000.0 / decode_ms);
            });
            if let Some((_, tx)) = PENDING.with(|p| p.borrow_mut().remove(&req)) {
                let _ = tx.send(Ok(Generated { text, prompt_tokens, completion_tokens, reused_tokens, saved_ms }));
            }
        }
        Event::Error { req, message } => {
            status().update(|s| s.state = format!("error: {message}"));
            let taken = PENDING.with(|p| {
                let mut p = p.borrow_mut();
                if req == 0 { p.drain().map(|(_, v)| v).collect::<Vec<_>>() } else { p.remove(&req).into_iter().collect() }
            });
            for (_, tx) in taken {
                let _ = tx.send(Err(message.clone()));
            }
        }
    }
}

fn worker() -> Result<web_sys::Worker, String> {
    if let Some(w) = WORKER.with(|w| w.borrow().clone()) {
        return Ok(w);
    }
    // Trunk builds the `council-worker` bin next to the app with a loader shim.
    let w = web_sys::Worker::new("./council-worker_loader.js").map_err(|_| "cannot start the model worker".to_string())?;
    let on_msg = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(|e: web_sys::MessageEvent| {
        if let Some(t) = e.data().as_string()
            && let Ok(ev) = serde_json::from_str::<Event>(&t)
        {
            on_event(ev);
        }
    });
    w.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
    on_msg.forget();
    let on_err = Closure::<dyn FnMut(web_sys::Event)>::new(|_e: web_sys::Event| {
        on_event(Event::Error { req: 0, message: "the model worker crashed".into() });
        WORKER.with(|w| *w.borrow_mut() = None);
        OUTBOX.with(|o| *o.borrow_mut() = Some(Vec::new()));
    });
    w.set_onerror(Some(on_err.as_ref().unchecked_ref()));
    on_err.forget();
    WORKER.with(|x| *x.borrow_mut() = Some(w.clone()));
    Ok(w)
}

/// Generates a reply with local model `model_id` (greedy) on the engine `engine` asks
/// for, calling `on_text` with each piece as it is decoded.
pub async fn generate(model_id: &str, prompt: &Prompt, max_tokens: u32, engine: EnginePref, on_text: Box<dyn Fn(&str)>) -> Result<Generated, String> {
    match download::get(model_id) {
        Some(m) if m.complete => {}
        Some(_) => return Err(format!("local model {model_id} is only partly downloaded: resume it on the Models & keys page")),
        None => return Err(format!("local model {model_id} is not downloaded: get it on the Models & keys page")),
    }
    let w = worker()?;
    let req = NEXT.with(|n| {
        let mut n = n.borrow_mut();
        *n += 1;
        *n
    });
    let (tx, rx) = futures::channel::oneshot::channel();
    PENDING.with(|p| p.borrow_mut().insert(req, (on_text, tx)));
    let msg = Request::Generate { req, model: model_id.to_string(), system: prompt.system.clone(), user: prompt.user.clone(), max_tokens, engine };
    let text = serde_json::to_string(&msg).map_err(|e| e.to_string())?;
    status().update(|s| s.state = format!("generating for request {req}"));
    let queued = OUTBOX.with(|o| o.borrow_mut().as_mut().map(|q| q.push(text.clone())).is_some());
    if !queued {
        w.post_message(&JsValue::from_str(&text)).map_err(|_| "cannot reach the model worker".to_string())?;
    }
    rx.await.map_err(|_| "the model worker stopped".to_string())?
}

/// What the link gate says about a local model.
pub fn gate_line(model_id: &str) -> String {
    let stored = download::get(model_id).is_some_and(|m| m.complete);
    match (stored, catalog::find(model_id)) {
        (true, _) => format!("runs the local model {model_id} in this page (already stored, nothing to download)"),
        (false, Some(m)) => format!("runs the local model {} in this page; download it first on the Models & keys page ({} from {})", m.label, catalog::human_bytes(m.size), m.host()),
        (false, None) => format!("runs the local model \"{model_id}\", which must be added on the Models & keys page first"),
    }
}
