//! The worker's message loop: one job at a time, `stop` read between steps.

use std::cell::Cell;
use std::rc::Rc;

use council_core::policy::PolicyNet;
use council_policy::eval::{EvalConfig, compare, evaluate_method, held_out, method_names};
use council_policy::protocol::{Event, Request};
use council_policy::train::{Backend, TrainConfig, Trainer, cpu_device, wgpu_device};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Probe choices are sent every this many steps.
const PROBE_EVERY: usize = 20;

fn scope() -> Option<web_sys::DedicatedWorkerGlobalScope> {
    js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>().ok()
}

fn post(ev: &Event) {
    if let (Ok(t), Some(s)) = (serde_json::to_string(ev), scope()) {
        let _ = s.post_message(&JsValue::from_str(&t));
    }
}

/// Lets the event loop run, so a `stop` message gets through.
async fn next_task() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(s) = scope() {
            let _ = s.set_timeout_with_callback(&resolve);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

pub fn start() {
    let stopped: Rc<Cell<Option<u32>>> = Rc::default();
    let busy: Rc<Cell<bool>> = Rc::default();
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let Some(text) = e.data().as_string() else { return };
        let req = match serde_json::from_str::<Request>(&text) {
            Ok(r) => r,
            Err(err) => return post(&Event::Error { id: 0, message: format!("bad training request: {err}") }),
        };
        if let Request::Stop { id } = req {
            stopped.set(Some(id));
            return;
        }
        let (stopped, busy) = (stopped.clone(), busy.clone());
        wasm_bindgen_futures::spawn_local(async move {
            while busy.replace(true) {
                next_task().await;
            }
            let id = match &req {
                Request::Train { id, .. } | Request::Evaluate { id, .. } | Request::Stop { id } => *id,
            };
            let res = match req {
                Request::Train { id, seed, steps, batch, backend, eval_pools } => train(id, seed, steps, batch, &backend, eval_pools, &stopped).await,
                Request::Evaluate { id, policy, seed, pools, linucb_warmup } => match PolicyNet::from_json(&policy) {
                    Ok(net) => evaluate(id, &net, seed, pools, linucb_warmup, &stopped).await,
                    Err(e) => Err(e),
                },
                Request::Stop { .. } => Ok(()),
            };
            if let Err(message) = res {
                post(&Event::Error { id, message });
            }
            busy.set(false);
        });
    });
    if let Some(s) = scope() {
        s.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    }
    on_message.forget();
    post(&Event::Ready);
}

async fn train(id: u32, seed: u64, steps: usize, batch: usize, backend: &str, eval_pools: usize, stopped: &Cell<Option<u32>>) -> Result<(), String> {
    let mut cfg = TrainConfig::new(seed);
    cfg.steps = steps;
    cfg.batch = batch;
    cfg.check()?;
    if eval_pools > 1000 {
        return Err(format!("eval_pools {eval_pools} out of [0,1000]"));
    }
    let (device, chosen, adapter) = match backend {
        "cpu" => (cpu_device(), Backend::Cpu, "burn Flex (CPU, wasm)".to_string()),
        "wgpu" => (wgpu_device().await?, Backend::Wgpu, "burn wgpu (WebGPU)".to_string()),
        "auto" => match wgpu_device().await {
            Ok(d) => (d, Backend::Wgpu, "burn wgpu (WebGPU)".to_string()),
            Err(e) => (cpu_device(), Backend::Cpu, format!("burn Flex (CPU, wasm): {e}")),
        },
        other => return Err(format!("backend \"{other}\": expected auto, wgpu or cpu")),
    };
    post(&Event::Started { id, backend: if chosen == Backend::Wgpu { "wgpu" } else { "cpu" }.into(), adapter });
    let mut trainer = Trainer::new(cfg, device, chosen)?;
    let t0 = js_sys::Date::now();
    let mut user_stop = false;
    while !trainer.finished() {
        let stats = trainer.step().await?;
        let step = stats.step;
        post(&Event::Progress { id, steps, stats, ms: js_sys::Date::now() - t0 });
        if step % PROBE_EVERY == 0 || step == 1 {
            post(&Event::Probe { id, step, choices: council_policy::probe::choices(&trainer.net) });
        }
        next_task().await;
        if stopped.get() == Some(id) {
            user_stop = true;
            break;
        }
    }
    let ms = js_sys::Date::now() - t0;
    let done = trainer.steps_done();
    post(&Event::Probe { id, step: done, choices: council_policy::probe::choices(&trainer.net) });
    let policy = trainer.policy();
    post(&Event::Done { id, stopped: user_stop, policy: policy.to_json(), curve_hash: trainer.curve_hash(), steps_per_s: done as f64 / (ms / 1000.0).max(1e-9), ms });
    if eval_pools > 0 && !user_stop {
        evaluate(id, &policy, seed, eval_pools, done * trainer.cfg.batch, stopped).await?;
    }
    Ok(())
}

async fn evaluate(id: u32, net: &PolicyNet, seed: u64, pools: usize, linucb_warmup: usize, stopped: &Cell<Option<u32>>) -> Result<(), String> {
    if pools == 0 || pools > 1000 || linucb_warmup > 10_000_000 {
        return Err(format!("pools {pools} out of [1,1000] or warm-up {linucb_warmup} too large"));
    }
    let mut cfg = EvalConfig::new(seed, linucb_warmup);
    cfg.pools = pools;
    let stream = held_out(&cfg);
    let names = method_names();
    let mut results = Vec::with_capacity(names.len());
    for (k, m) in names.iter().enumerate() {
        post(&Event::Evaluating { id, method: m.clone(), done: k, of: names.len() });
        next_task().await;
        if stopped.get() == Some(id) {
            return Ok(());
        }
        results.push(evaluate_method(m, net, &cfg, &stream));
    }
    post(&Event::Compared { id, comparison: compare(&cfg, results) });
    Ok(())
}
