//! The inference worker (the `council-worker` bin runs `start`): it loads a stored GGUF
//! from OPFS, builds the tokenizer and chat template from its metadata, and generates
//! greedily with the CPU engine, posting each piece of text as it is decoded, so the page
//! never blocks. One model is kept loaded; requests run one after another (agents that
//! share a model share this worker).
//!
//! Messages are JSON text. In: `{"op":"generate","req":N,"model":ID,"system":S,
//! "user":U,"max_tokens":K}`. Out: `{"ev":"loading","model":ID}`, `{"ev":"loaded",
//! "model":ID,"engine":E,"load_ms":T}`, `{"ev":"token","req":N,"text":T}`, `{"ev":"done",
//! "req":N,"text":T,"prompt_tokens":P,"completion_tokens":C,"prefill_ms":A,"decode_ms":B}`,
//! `{"ev":"error","req":N,"message":M}`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use council_gpu::cpu::{CpuModel, Session, SessionOptions};
use council_gpu::gguf::GgufFile;
use council_gpu::tokenizer::{ChatMessage, Tokenizer};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A request to the worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Generate { req: u64, model: String, system: String, user: String, max_tokens: u32 },
}

/// What the worker reports.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "ev", rename_all = "snake_case")]
pub enum Event {
    /// The worker's handler is installed (messages sent before this are lost).
    Ready,
    Loading { model: String },
    Loaded { model: String, engine: String, load_ms: f64 },
    Token { req: u64, text: String },
    Done { req: u64, text: String, prompt_tokens: u32, completion_tokens: u32, prefill_ms: f64, decode_ms: f64 },
    Error { req: u64, message: String },
}

struct Loaded {
    id: String,
    session: Session,
    tokenizer: Tokenizer,
}

fn scope() -> web_sys::DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(ev: &Event) {
    if let Ok(t) = serde_json::to_string(ev) {
        let _ = scope().post_message(&JsValue::from_str(&t));
    }
}

fn now() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// Installs the message handler; call once from the worker's `main`.
pub fn start() {
    let state: Rc<RefCell<Option<Loaded>>> = Rc::new(RefCell::new(None));
    // Requests are handled strictly in order: a queue drained by one async task.
    let queue: Rc<RefCell<std::collections::VecDeque<Request>>> = Rc::default();
    let busy = Rc::new(RefCell::new(false));
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let Some(text) = e.data().as_string() else { return };
        let req: Request = match serde_json::from_str(&text) {
            Ok(r) => r,
            Err(err) => return post(&Event::Error { req: 0, message: format!("bad request: {err}") }),
        };
        queue.borrow_mut().push_back(req);
        if *busy.borrow() {
            return;
        }
        *busy.borrow_mut() = true;
        let (queue, busy, state) = (queue.clone(), busy.clone(), state.clone());
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                let next = queue.borrow_mut().pop_front();
                let Some(Request::Generate { req, model, system, user, max_tokens }) = next else { break };
                if let Err(message) = generate(&state, req, &model, &system, &user, max_tokens).await {
                    post(&Event::Error { req, message });
                }
            }
            *busy.borrow_mut() = false;
        });
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&Event::Ready);
}

async fn load(id: &str) -> Result<Loaded, String> {
    post(&Event::Loading { model: id.to_string() });
    let t0 = now();
    let buf = super::opfs::read(&super::download::file_name(id)).await.map_err(|e| format!("model {id}: {e}"))?;
    let bytes = js_sys::Uint8Array::new(&buf).to_vec();
    let file = GgufFile::from_bytes(bytes).map_err(|e| format!("model {id}: {e}"))?;
    let tokenizer = Tokenizer::from_gguf(file.gguf()).map_err(|e| format!("model {id}: tokenizer: {e}"))?;
    let model = CpuModel::from_gguf(file).map_err(|e| format!("model {id}: {e}"))?;
    let session = Session::new(Arc::new(model), SessionOptions { max_ctx: 2048, n_threads: 1 });
    post(&Event::Loaded { model: id.to_string(), engine: if cfg!(target_feature = "simd128") { "cpu (wasm simd128)" } else { "cpu (wasm scalar: build without +simd128)" }.into(), load_ms: now() - t0 });
    Ok(Loaded { id: id.to_string(), session, tokenizer })
}

async fn generate(state: &Rc<RefCell<Option<Loaded>>>, req: u64, id: &str, system: &str, user: &str, max_tokens: u32) -> Result<(), String> {
    if state.borrow().as_ref().is_none_or(|l| l.id != id) {
        *state.borrow_mut() = None;
        let l = load(id).await?;
        *state.borrow_mut() = Some(l);
    }
    let mut guard = state.borrow_mut();
    let l = guard.as_mut().expect("loaded above");
    let prompt = match l.tokenizer.chat_template().map_err(|e| e.to_string())? {
        Some(t) => t
            .render(&[ChatMessage::new("system", system), ChatMessage::new("user", user)], true)
            .map_err(|e| e.to_string())?,
        None => format!("{system}\n\n{user}\n\n"),
    };
    let mut tokens = l.tokenizer.encode(&prompt, true);
    if l.tokenizer.add_bos() {
        if let Some(b) = l.tokenizer.bos() {
            if tokens.first() != Some(&b) {
                tokens.insert(0, b);
            }
        }
    }
    let room = l.session.max_ctx().saturating_sub(tokens.len() + 1);
    if room == 0 {
        return Err(format!("the prompt has {} tokens, more than the context holds", tokens.len()));
    }
    let max_new = (max_tokens as usize).min(room);
    l.session.reset();
    let t0 = now();
    let mut next = council_gpu::cpu::ops::argmax(l.session.prefill(&tokens).map_err(|e| e.to_string())?) as u32;
    let prefill_ms = now() - t0;
    let t1 = now();
    let mut out_ids: Vec<u32> = Vec::new();
    let mut text = String::new();
    let mut dec = l.tokenizer.stream_decoder(false);
    for _ in 0..max_new {
        if l.tokenizer.is_eog(next) {
            break;
        }
        out_ids.push(next);
        let piece = dec.push(next);
        if !piece.is_empty() {
            text.push_str(&piece);
            post(&Event::Token { req, text: piece });
        }
        if out_ids.len() >= max_new {
            break;
        }
        next = council_gpu::cpu::ops::argmax(l.session.decode(next).map_err(|e| e.to_string())?) as u32;
    }
    let tail = dec.finish();
    if !tail.is_empty() {
        text.push_str(&tail);
        post(&Event::Token { req, text: tail });
    }
    let decode_ms = now() - t1;
    post(&Event::Done { req, text, prompt_tokens: tokens.len() as u32, completion_tokens: out_ids.len() as u32, prefill_ms, decode_ms });
    Ok(())
}
