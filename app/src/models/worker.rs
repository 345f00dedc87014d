//! The inference worker (the `council-worker` bin runs `start`): it loads a stored GGUF
//! from OPFS, builds the tokenizer and chat template from its metadata, and generates
//! greedily, posting each piece of text as it is decoded, so the page never blocks. The
//! engine is WebGPU when a hardware adapter is present and passes the engine's self-check
//! (a tiny random model compared with the f32 reference, `wgpu_engine::selfcheck`), else
//! the CPU path; the user may force either (forcing WebGPU also uses software adapters). One model is kept loaded; requests run one after
//! another (agents that share a model share this worker).
//!
//! Messages are JSON text. In: `{"op":"generate","req":N,"model":ID,"system":S,
//! "user":U,"max_tokens":K,"engine":"auto"|"webgpu"|"cpu"}`. Out: `{"ev":"loading","model":ID}`, `{"ev":"loaded",
//! "model":ID,"engine":E,"load_ms":T}`, `{"ev":"token","req":N,"text":T}`, `{"ev":"done",
//! "req":N,"text":T,"prompt_tokens":P,"completion_tokens":C,"prefill_ms":A,"decode_ms":B}`,
//! `{"ev":"error","req":N,"message":M}`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use council_gpu::cpu::{CpuModel, Session, SessionOptions};
use council_gpu::device::Gpu;
use council_gpu::gguf::GgufFile;
use council_gpu::tokenizer::{ChatMessage, Tokenizer};
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
    Done { req: u64, text: String, prompt_tokens: u32, completion_tokens: u32, prefill_ms: f64, decode_ms: f64 },
    Error { req: u64, message: String },
}

/// The model on one engine.
enum Backend {
    Cpu(Box<Session>),
    Gpu(Box<WgpuEngine>),
}

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
                let Some(Request::Generate { req, model, system, user, max_tokens, engine }) = next else { break };
                if let Err(message) = generate(&state, req, &model, engine, &system, &user, max_tokens).await {
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
    let session = Session::new(Arc::new(model), SessionOptions { max_ctx: 2048, n_threads: 1 });
    Ok((Backend::Cpu(Box::new(session)), label.to_string()))
}

impl Backend {
    fn max_ctx(&self) -> usize {
        match self {
            Backend::Cpu(s) => s.max_ctx(),
            Backend::Gpu(e) => e.max_ctx(),
        }
    }

    /// Starts afresh with `tokens`; returns the greedy next token.
    async fn prefill(&mut self, tokens: &[u32]) -> Result<u32, String> {
        match self {
            Backend::Cpu(s) => {
                s.reset();
                Ok(council_gpu::cpu::ops::argmax(s.prefill(tokens).map_err(|e| e.to_string())?) as u32)
            }
            Backend::Gpu(e) => {
                e.reset();
                // Only the last position's best token is needed: feed the head, then one
                // top-k step (a few bytes read back instead of the vocabulary's logits).
                let (head, last) = tokens.split_at(tokens.len() - 1);
                if !head.is_empty() {
                    e.feed(head).await?;
                }
                best(e.decode_top_k(last[0]).await?)
            }
        }
    }

    /// Feeds `token`; returns the greedy next token.
    async fn decode(&mut self, token: u32) -> Result<u32, String> {
        match self {
            Backend::Cpu(s) => Ok(council_gpu::cpu::ops::argmax(s.decode(token).map_err(|e| e.to_string())?) as u32),
            Backend::Gpu(e) => best(e.decode_top_k(token).await?),
        }
    }
}

fn best(top: Vec<(u32, f32)>) -> Result<u32, String> {
    top.first().map(|t| t.0).ok_or_else(|| "the GPU returned no candidates".to_string())
}

async fn generate(state: &Rc<RefCell<Option<Loaded>>>, req: u64, id: &str, pref: EnginePref, system: &str, user: &str, max_tokens: u32) -> Result<(), String> {
    // The RefCell is never borrowed across an await: the model is taken out while it works.
    let kept = state.borrow_mut().take();
    let mut l = match kept {
        Some(l) if l.id == id && l.pref == pref => l,
        _ => load(id, pref).await?,
    };
    let result = generate_with(&mut l, req, system, user, max_tokens).await;
    *state.borrow_mut() = Some(l);
    result
}

async fn generate_with(l: &mut Loaded, req: u64, system: &str, user: &str, max_tokens: u32) -> Result<(), String> {
    let prompt = match l.tokenizer.chat_template().map_err(|e| e.to_string())? {
        Some(t) => t
            .render(&[ChatMessage::new("system", system), ChatMessage::new("user", user)], true)
            .map_err(|e| e.to_string())?,
        None => format!("{system}\n\n{user}\n\n"),
    };
    let mut tokens = l.tokenizer.encode(&prompt, true);
    if l.tokenizer.add_bos()
        && let Some(b) = l.tokenizer.bos()
        && tokens.first() != Some(&b)
    {
        tokens.insert(0, b);
    }
    if tokens.is_empty() {
        return Err("the prompt is empty".into());
    }
    let room = l.backend.max_ctx().saturating_sub(tokens.len() + 1);
    if room == 0 {
        return Err(format!("the prompt has {} tokens, more than the context holds", tokens.len()));
    }
    let max_new = (max_tokens as usize).min(room);
    let t0 = now();
    let mut next = l.backend.prefill(&tokens).await?;
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
        next = l.backend.decode(next).await?;
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
