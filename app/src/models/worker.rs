//! The inference worker (the `council-worker` bin runs `start`): it loads a stored GGUF
//! from OPFS, builds the tokenizer and chat template from its metadata, and generates
//! greedily, posting each piece of text as it is decoded, so the page never blocks. The
//! engine is WebGPU when a hardware adapter is present and passes the engine's self-check
//! (a tiny random model compared with the f32 reference, `wgpu_engine::selfcheck`), else
//! the CPU path; the user may force either (forcing WebGPU also uses software adapters). One
//! model is kept loaded (agents that share a model share this worker).
//!
//! On the CPU path the asks of a round are served together (`cpu::Server`): each prompt
//! starts from the longest prefix an earlier prompt left in the KV page cache, and every live
//! ask decodes in the same forward step; an ask that arrives meanwhile joins at the next step.
//! On WebGPU requests run one after another.
//!
//! Messages are JSON text. In: `{"op":"generate","req":N,"model":ID,"system":S,
//! "user":U,"max_tokens":K,"engine":"auto"|"webgpu"|"cpu"}`. Out: `{"ev":"loading","model":ID}`, `{"ev":"loaded",
//! "model":ID,"engine":E,"load_ms":T}`, `{"ev":"token","req":N,"text":T}`, `{"ev":"done",
//! "req":N,"text":T,"prompt_tokens":P,"completion_tokens":C,"prefill_ms":A,"decode_ms":B,
//! "reused_tokens":R,"saved_ms":S}` (R prompt tokens came from the prefix cache, which saved
//! about S ms of prefill at the speed measured for this prompt), `{"ev":"error","req":N,"message":M}`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use std::collections::{HashMap, VecDeque};

use council_gpu::cpu::{CpuModel, GenRequest, Server, ServerEvent, ServerOptions};
use council_gpu::sampling::Sampling;
use council_gpu::device::Gpu;
use council_gpu::gguf::GgufFile;
use council_gpu::tokenizer::Tokenizer;
use council_gpu::wgpu_engine::{EngineOptions, WgpuEngine};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Which engine the user wants for local models.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnginePref {
    /// WebGPU when an adapter passes the self-check, else the CPU path.
    #[default]
    Auto,
    /// WebGPU or an error (no silent fallback: the user asked for it).
    Webgpu,
    Cpu,
}

impl EnginePref {
    pub const ALL: [EnginePref; 3] = [EnginePref::Auto, EnginePref::Webgpu, EnginePref::Cpu];

    pub fn name(self) -> &'static str {
        match self {
            EnginePref::Auto => "auto",
            EnginePref::Webgpu => "webgpu",
            EnginePref::Cpu => "cpu",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EnginePref::Auto => "auto (a hardware WebGPU adapter that passes a self-check, else CPU)",
            EnginePref::Webgpu => "WebGPU",
            EnginePref::Cpu => "CPU (wasm)",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }
}

/// A request to the worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    Generate {
        req: u64,
        model: String,
        system: String,
        user: String,
        max_tokens: u32,
        #[serde(default)]
        engine: EnginePref,
    },
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
    Done {
        req: u64,
        text: String,
        prompt_tokens: u32,
        completion_tokens: u32,
        prefill_ms: f64,
        decode_ms: f64,
        #[serde(default)]
        reused_tokens: u32,
        #[serde(default)]
        saved_ms: f64,
    },
    Error { req: u64, message: String },
}

/// The model on one engine.
enum Backend {
    Cpu(Box<Server>),
    Gpu(Box<WgpuEngine>),
}

/// Bytes of KV pages the CPU server keeps for prompt prefixes (wasm memory is 4 GiB at most).
const PREFIX_CACHE_BYTES: usize = 96 << 20;

struct Loaded {
    id: String,
    pref: EnginePref,
    backend: Backend,
    tokenizer: Tokenizer,
}

thread_local! {
    /// The self-check verdict for this worker's adapter (run once: it builds pipelines).
    static GPU_CHECK: RefCell<Option<Result<String, String>>> = const { RefCell::new(None) };
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

/// One CPU request in flight: what it has produced so far.
struct Flight {
    ids: Vec<u32>,
    /// Bytes of the decoded text already posted.
    posted: usize,
    prompt_tokens: u32,
    reused: u32,
    submitted_ms: f64,
    first_token_ms: Option<f64>,
    saved_ms: f64,
}

#[derive(Default)]
struct State {
    loaded: Option<Loaded>,
    queue: VecDeque<Request>,
    busy: bool,
    flights: HashMap<u64, Flight>,
}

/// Installs the message handler; call once from the worker's `main`.
pub fn start() {
    let state: Rc<RefCell<State>> = Rc::default();
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let Some(text) = e.data().as_string() else { return };
        let req: Request = match serde_json::from_str(&text) {
            Ok(r) => r,
            Err(err) => return post(&Event::Error { req: 0, message: format!("bad request: {err}") }),
        };
        state.borrow_mut().queue.push_back(req);
        if state.borrow().busy {
            return;
        }
        state.borrow_mut().busy = true;
        let state = state.clone();
        wasm_bindgen_futures::spawn_local(async move {
            serve(&state).await;
            state.borrow_mut().busy = false;
        });
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    post(&Event::Ready);
}

/// Lets the worker's message handler run (requests arriving mid-generation join the batch):
/// a message to itself, not a timer, which browsers clamp to 4 ms.
async fn yield_now() {
    let Ok(channel) = web_sys::MessageChannel::new() else { return };
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        channel.port1().set_onmessage(Some(&resolve));
    });
    let _ = channel.port2().post_message(&JsValue::NULL);
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Serves queued requests until nothing is queued or in flight.
async fn serve(state: &Rc<RefCell<State>>) {
    loop {
        let next = state.borrow_mut().queue.pop_front();
        if let Some(Request::Generate { req, model, system, user, max_tokens, engine }) = next {
            // A request for another model (or engine) waits until the current one is idle.
            let (matches, idle) = {
                let st = state.borrow();
                let matches = st.loaded.as_ref().is_some_and(|l| l.id == model && l.pref == engine);
                let idle = st.flights.is_empty();
                (matches, idle)
            };
            if !matches && !idle {
                state.borrow_mut().queue.push_front(Request::Generate { req, model, system, user, max_tokens, engine });
            } else {
                if !matches {
                    // The RefCell is never borrowed across an await: the model is out meanwhile.
                    let old = state.borrow_mut().loaded.take();
                    drop(old);
                    match load(&model, engine).await {
                        Ok(l) => state.borrow_mut().loaded = Some(l),
                        Err(message) => {
                            post(&Event::Error { req, message });
                            continue;
                        }
                    }
                }
                if let Err(message) = start_request(state, req, &system, &user, max_tokens).await {
                    post(&Event::Error { req, message });
                }
                continue;
            }
        }
        if state.borrow().flights.is_empty() {
            if state.borrow().queue.is_empty() {
                return;
            }
            continue;
        }
        if let Err(message) = cpu_step(state) {
            let failed: Vec<u64> = state.borrow_mut().flights.drain().map(|(r, _)| r).collect();
            for req in failed {
                post(&Event::Error { req, message: message.clone() });
            }
            // The server's sequences are gone with the error; start it afresh.
            state.borrow_mut().loaded = None;
        }
        yield_now().await;
    }
}

/// Starts one request: on the CPU it joins the server's batch; on WebGPU it runs to its end.
async fn start_request(state: &Rc<RefCell<State>>, req: u64, system: &str, user: &str, max_tokens: u32) -> Result<(), String> {
    let mut l = state.borrow_mut().loaded.take().ok_or("no model loaded")?;
    let result = match &mut l.backend {
        Backend::Cpu(server) => {
            let tokens = council_gpu::chat::turn_tokens(&l.tokenizer, system, user);
            match tokens {
                Ok(tokens) => {
                    let prompt_tokens = tokens.len() as u32;
                    let r = GenRequest { prompt: tokens, max_tokens: max_tokens as usize, sampling: Sampling::Greedy, stop: l.tokenizer.eog_ids() };
                    server.submit(req, r).map_err(|e| e.to_string()).map(|()| {
                        let f = Flight { ids: Vec::new(), posted: 0, prompt_tokens, reused: 0, submitted_ms: now(), first_token_ms: None, saved_ms: 0.0 };
                        state.borrow_mut().flights.insert(req, f);
                    })
                }
                Err(e) => Err(e),
            }
        }
        Backend::Gpu(_) => generate_gpu(&mut l, req, system, user, max_tokens).await,
    };
    state.borrow_mut().loaded = Some(l);
    result
}

/// One step of the CPU server; posts what it produced.
fn cpu_step(state: &Rc<RefCell<State>>) -> Result<(), String> {
    let mut st = state.borrow_mut();
    let st = &mut *st;
    let Some(l) = st.loaded.as_mut() else { return Err("the model was unloaded".into()) };
    let Backend::Cpu(server) = &mut l.backend else { return Err("requests in flight on the CPU, but the model is on WebGPU".into()) };
    let mut events = Vec::new();
    let t0 = now();
    server.step(&mut events).map_err(|e| e.to_string())?;
    let step_ms = now() - t0;
    for e in events {
        match e {
            ServerEvent::Prefilled { id, prompt_tokens, reused } => {
                if let Some(f) = st.flights.get_mut(&id) {
                    f.reused = reused as u32;
                    f.first_token_ms = Some(now());
                    // This step fed the prompt's new tokens: their speed prices the reused ones.
                    let fed = prompt_tokens.saturating_sub(reused).max(1);
                    f.saved_ms = step_ms / fed as f64 * reused as f64;
                }
            }
            ServerEvent::Token { id, token } => {
                if let Some(f) = st.flights.get_mut(&id) {
                    f.ids.push(token);
                    let text = l.tokenizer.decode_lossy(&f.ids, false);
                    // A piece ending in a partial character waits for the rest of its bytes.
                    if !text.ends_with('\u{FFFD}') && text.len() > f.posted && text.is_char_boundary(f.posted) {
                        post(&Event::Token { req: id, text: text[f.posted..].to_string() });
                        f.posted = text.len();
                    }
                }
            }
            ServerEvent::Done { id, tokens, .. } => {
                if let Some(f) = st.flights.remove(&id) {
                    let text = l.tokenizer.decode_lossy(&f.ids, false);
                    if text.len() > f.posted && text.is_char_boundary(f.posted) {
                        post(&Event::Token { req: id, text: text[f.posted..].to_string() });
                    }
                    let first = f.first_token_ms.unwrap_or_else(now);
                    post(&Event::Done {
                        req: id,
                        text,
                        prompt_tokens: f.prompt_tokens,
                        completion_tokens: tokens as u32,
                        prefill_ms: first - f.submitted_ms,
                        decode_ms: now() - first,
                        reused_tokens: f.reused,
                        saved_ms: f.saved_ms,
                    });
                }
            }
        }
    }
    Ok(())
}

/// A WebGPU device that passed the engine's self-check, or why there is none. On `auto` a
/// software adapter (device type CPU: SwiftShader, lavapipe, WARP) is passed over without
/// checking: there the wasm CPU path is about a hundred times faster.
async fn checked_gpu(pref: EnginePref) -> Result<Gpu, String> {
    let gpu = Gpu::new().await?;
    // wgpu is not a direct dependency of the app; the variant's name is what is compared.
    let software = format!("{:?}", gpu.adapter_info.device_type) == "Cpu";
    if software && pref == EnginePref::Auto {
        return Err("the WebGPU adapter is a software renderer, slower than the CPU path".into());
    }
    if let Some(verdict) = GPU_CHECK.with(|c| c.borrow().clone()) {
        return verdict.map(|_| gpu);
    }
    let verdict = match council_gpu::wgpu_engine::selfcheck::run(&gpu).await {
        Ok(r) if r.passed() => Ok(r.adapter),
        Ok(r) => Err(format!(
            "the WebGPU adapter failed the self-check (max |Δlogit| {:.1e} / {:.1e}, greedy {}/{})",
            r.block_max_error, r.decode_max_error, r.greedy_agreeing, r.greedy_tokens
        )),
        Err(e) => Err(format!("the WebGPU self-check could not run: {e}")),
    };
    GPU_CHECK.with(|c| *c.borrow_mut() = Some(verdict.clone()));
    verdict.map(|_| gpu)
}

/// "webgpu (NVIDIA GeForce RTX 4070, DiscreteGpu)"; browsers may hide the name.
fn gpu_label(gpu: &Gpu) -> String {
    let i = &gpu.adapter_info;
    let name = if i.name.trim().is_empty() { "adapter name hidden" } else { i.name.trim() };
    format!("webgpu ({name}, {:?})", i.device_type)
}

fn cpu_label() -> &'static str {
    if cfg!(target_feature = "simd128") { "cpu (wasm simd128)" } else { "cpu (wasm scalar: build without +simd128)" }
}

async fn load(id: &str, pref: EnginePref) -> Result<Loaded, String> {
    post(&Event::Loading { model: id.to_string() });
    let t0 = now();
    let buf = super::opfs::read(&super::download::file_name(id)).await.map_err(|e| format!("model {id}: {e}"))?;
    let bytes = js_sys::Uint8Array::new(&buf).to_vec();
    let file = GgufFile::from_bytes(bytes).map_err(|e| format!("model {id}: {e}"))?;
    let tokenizer = Tokenizer::from_gguf(file.gguf()).map_err(|e| format!("model {id}: tokenizer: {e}"))?;
    let gpu = match pref {
        EnginePref::Cpu => Err("CPU chosen in the settings".to_string()),
        EnginePref::Auto | EnginePref::Webgpu => checked_gpu(pref).await,
    };
    let (backend, engine) = match gpu {
        Ok(gpu) => {
            let opts = EngineOptions { max_ctx: Some(2048), ..Default::default() };
            match WgpuEngine::load_gguf(&gpu, &file, &opts).await {
                Ok(e) => {
                    (Backend::Gpu(Box::new(e)), gpu_label(&gpu))
                }
                Err(e) if pref == EnginePref::Webgpu => return Err(format!("model {id} on WebGPU: {e}")),
                Err(e) => cpu_backend(file, &format!("{} (WebGPU load failed: {e})", cpu_label()))?,
            }
        }
        Err(why) if pref == EnginePref::Webgpu => return Err(format!("WebGPU was chosen in the settings but {why}")),
        Err(_) if pref == EnginePref::Cpu => cpu_backend(file, cpu_label())?,
        Err(why) => cpu_backend(file, &format!("{} (not WebGPU: {why})", cpu_label()))?,
    };
    post(&Event::Loaded { model: id.to_string(), engine, load_ms: now() - t0 });
    Ok(Loaded { id: id.to_string(), pref, backend, tokenizer })
}

fn cpu_backend(file: GgufFile<Vec<u8>>, label: &str) -> Result<(Backend, String), String> {
    let model = CpuModel::from_gguf(file).map_err(|e| e.to_string())?;
    let opts = ServerOptions { max_ctx: 2048, n_threads: 1, max_batch: 8, prefix_cache_bytes: PREFIX_CACHE_BYTES };
    Ok((Backend::Cpu(Box::new(Server::new(Arc::new(model), opts))), label.to_string()))
}

/// Starts afresh with `tokens` on the GPU; returns the greedy next token. Only the last
/// position's best token is needed: feed the head, then one top-k step (a few bytes read back
/// instead of the vocabulary's logits).
async fn gpu_prefill(e: &mut WgpuEngine, tokens: &[u32]) -> Result<u32, String> {
    e.reset();
    let (head, last) = tokens.split_at(tokens.len() - 1);
    if !head.is_empty() {
        e.feed(head).await?;
    }
    best(e.decode_top_k(last[0]).await?)
}

fn best(top: Vec<(u32, f32)>) -> Result<u32, String> {
    top.first().map(|t| t.0).ok_or_else(|| "the GPU returned no candidates".to_string())
}

/// One request on WebGPU, start to end, streaming its text.
async fn generate_gpu(l: &mut Loaded, req: u64, system: &str, user: &str, max_tokens: u32) -> Result<(), String> {
    let Backend::Gpu(engine) = &mut l.backend else { return Err("the model is not on WebGPU".into()) };
    let tokens = council_gpu::chat::turn_tokens(&l.tokenizer, system, user)?;
    let room = engine.max_ctx().saturating_sub(tokens.len() + 1);
    if room == 0 {
        return Err(format!("the prompt has {} tokens, more than the context holds", tokens.len()));
    }
    let max_new = (max_tokens as usize).min(room);
    let t0 = now();
    let mut next = gpu_prefill(engine, &tokens).await?;
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
        next = best(engine.decode_top_k(next).await?)?;
    }
    let tail = dec.finish();
    if !tail.is_empty() {
        text.push_str(&tail);
        post(&Event::Token { req, text: tail });
    }
    let decode_ms = now() - t1;
    post(&Event::Done {
        req,
        text,
        prompt_tokens: tokens.len() as u32,
        completion_tokens: out_ids.len() as u32,
        prefill_ms,
        decode_ms,
        reused_tokens: 0,
        saved_ms: 0.0,
    });
    Ok(())
}
