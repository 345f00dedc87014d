//! The LLM engines on the real model for the browser tests and benchmarks
//! (`tests/browser/engine.test.mjs`, `bench-engine.mjs`, the WebGPU smoke test), served by the
//! `council-worker` bundle when it is started under [`NAME`].
//!
//! These live in the worker, not in the page's `window.wasmBindings`, so the app's main wasm
//! carries neither engine nor wgpu: only the worker, fetched on first local-model use or sweep,
//! does. The engines run exactly as the app runs them, off the page's thread.
//!
//! Protocol (structured clone, so model bytes and logits cross as typed arrays): the worker
//! posts `{ready: true}` once listening; then in `{id, call, args}`, out `{id, value}` or
//! `{id, error}`. Calls run one after another. Token ids in, logits or ids out: the page side
//! compares with llama.cpp's reference, so nothing here holds a tokenizer; only the benchmark
//! loop (`cpu_greedy`) keeps time here. One model per engine stays loaded between calls.

use std::cell::RefCell;
use std::rc::Rc;

use council_gpu::cpu::{CpuModel, Session, SessionOptions};
use council_gpu::gguf::GgufFile;
use council_gpu::wgpu_engine::{EngineOptions, WgpuEngine};
use js_sys::{Array, Object, Reflect, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The worker name that selects this role.
pub const NAME: &str = "council-engine-hooks";

pub fn is_this_worker() -> bool {
    js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>().is_ok_and(|s| s.name() == NAME)
}

#[derive(Default)]
struct Engines {
    cpu: Option<Session>,
    gpu: Option<WgpuEngine>,
}

/// Listens for calls until the worker is closed.
pub fn start() {
    let engines: Rc<RefCell<Engines>> = Rc::default();
    // Calls are chained so an async GPU call finishes before the next one starts.
    let queue: Rc<RefCell<Option<js_sys::Promise>>> = Rc::default();
    let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let msg = e.data();
        let id = Reflect::get(&msg, &"id".into()).unwrap_or(JsValue::NULL);
        let call = Reflect::get(&msg, &"call".into()).ok().and_then(|c| c.as_string()).unwrap_or_default();
        let args: Array = Reflect::get(&msg, &"args".into()).map(|a| Array::from(&a)).unwrap_or_default();
        let engines = engines.clone();
        let previous = queue.borrow_mut().take();
        let task = wasm_bindgen_futures::future_to_promise(async move {
            if let Some(p) = previous {
                let _ = wasm_bindgen_futures::JsFuture::from(p).await;
            }
            let result = dispatch(&engines, &call, &args).await;
            reply(&id, result);
            Ok(JsValue::UNDEFINED)
        });
        *queue.borrow_mut() = Some(task);
    });
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();
    let ready = Object::new();
    let _ = Reflect::set(&ready, &"ready".into(), &JsValue::TRUE);
    let _ = scope.post_message(&ready);
}

fn reply(id: &JsValue, result: Result<JsValue, String>) {
    let out = Object::new();
    let _ = Reflect::set(&out, &"id".into(), id);
    let _ = match result {
        Ok(v) => Reflect::set(&out, &"value".into(), &v),
        Err(e) => Reflect::set(&out, &"error".into(), &JsValue::from_str(&e)),
    };
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let _ = scope.post_message(&out);
}

fn arg_u32(args: &Array, i: u32) -> Result<u32, String> {
    args.get(i).as_f64().filter(|v| *v >= 0.0 && *v <= u32::MAX as f64).map(|v| v as u32).ok_or_else(|| format!("argument {i} must be a non-negative integer"))
}

fn arg_ids(args: &Array, i: u32) -> Vec<u32> {
    Uint32Array::new(&args.get(i)).to_vec()
}

async fn dispatch(engines: &Rc<RefCell<Engines>>, call: &str, args: &Array) -> Result<JsValue, String> {
    let e = |x: &dyn std::fmt::Display| x.to_string();
    match call {
        "webgpu_selftest" => webgpu_selftest(arg_u32(args, 0)?).await.map(JsValue::from),
        "kernel_check" => kernel_check(arg_u32(args, 0)?).map(JsValue::from),
        // Loads GGUF bytes into the CPU engine (1 thread, 2048 positions); returns the
        // quantized dot-product kernel in use ("simd128" or "scalar").
        "cpu_load" => {
            let bytes = Uint8Array::new(&args.get(0)).to_vec();
            let model = CpuModel::from_gguf(GgufFile::from_bytes(bytes).map_err(|x| e(&x))?).map_err(|x| e(&x))?;
            let session = Session::new(std::sync::Arc::new(model), SessionOptions { max_ctx: 2048, n_threads: 1 });
            engines.borrow_mut().cpu = Some(session);
            Ok(council_gpu::quant::kernel_name().into())
        }
        // Teacher-forced logits from an empty cache: `tokens.len() × vocab`, row-major.
        "cpu_logits" => with_cpu(engines, |s| {
            s.reset();
            let logits = s.logits_all(&arg_ids(args, 0))?;
            Ok(js_sys::Float32Array::from(&logits[..]).into())
        }),
        // Starts afresh with the tokens; returns the greedy next id.
        "cpu_prefill" => with_cpu(engines, |s| {
            s.reset();
            Ok((council_gpu::cpu::ops::argmax(s.prefill(&arg_ids(args, 0))?) as u32).into())
        }),
        // Feeds one token; returns the greedy next id.
        "cpu_decode" => {
            let token = arg_u32(args, 0)?;
            with_cpu(engines, |s| Ok((council_gpu::cpu::ops::argmax(s.decode(token)?) as u32).into()))
        }
        // The benchmark's loop: prefill the prompt, then `n` greedy decode steps, timed here
        // so the page's message round trips are not in the figures (JSON: ids, prefill_ms,
        // decode_ms).
        "cpu_greedy" => {
            let (prompt, n) = (arg_ids(args, 0), arg_u32(args, 1)?);
            with_cpu(engines, |s| {
                s.reset();
                let t0 = now_ms();
                let mut next = council_gpu::cpu::ops::argmax(s.prefill(&prompt)?) as u32;
                let t1 = now_ms();
                let mut ids = vec![next];
                for _ in 0..n {
                    next = council_gpu::cpu::ops::argmax(s.decode(next)?) as u32;
                    ids.push(next);
                }
                let t2 = now_ms();
                Ok(serde_json::json!({ "ids": ids, "prefill_ms": t1 - t0, "decode_ms": t2 - t1 }).to_string().into())
            })
        }
        // Loads GGUF bytes onto the WebGPU adapter (top-k 10, 256 positions); returns the adapter.
        "gpu_load" => {
            let file = GgufFile::from_bytes(Uint8Array::new(&args.get(0)).to_vec()).map_err(|x| e(&x))?;
            let gpu = council_gpu::device::Gpu::new().await?;
            let opts = EngineOptions { max_ctx: Some(256), top_k: 10, ..Default::default() };
            let engine = WgpuEngine::load_gguf(&gpu, &file, &opts).await?;
            let adapter = engine.adapter();
            engines.borrow_mut().gpu = Some(engine);
            Ok(adapter.into())
        }
        // Teacher-forced logits from an empty cache on the GPU: `tokens.len() × vocab`.
        "gpu_logits" => {
            let tokens = arg_ids(args, 0);
            let mut g = take_gpu(engines)?;
            let r = g.logits_for(&tokens).await.map(|rows| js_sys::Float32Array::from(&rows.concat()[..]).into());
            engines.borrow_mut().gpu = Some(g);
            r
        }
        // Starts afresh with the tokens; returns the greedy next id.
        "gpu_prefill" => {
            let tokens = arg_ids(args, 0);
            let mut g = take_gpu(engines)?;
            g.reset();
            let r = g.prefill(&tokens).await.map(|l| (council_gpu::cpu::ops::argmax(&l) as u32).into());
            engines.borrow_mut().gpu = Some(g);
            r
        }
        // The GPU-resident greedy loop: feeds `first` and generates `n` more ids.
        "gpu_generate" => {
            let (first, n) = (arg_u32(args, 0)?, arg_u32(args, 1)?);
            let mut g = take_gpu(engines)?;
            let r = g.generate_greedy(&[first], n as usize, &[]).await.map(|ids| Uint32Array::from(&ids[..]).into());
            engines.borrow_mut().gpu = Some(g);
            r
        }
        // Dispatches per layer and per decoded token, layers, submits and token steps since
        // load, and device memory (JSON).
        "gpu_counts" => {
            let engines = engines.borrow();
            let g = engines.gpu.as_ref().ok_or("no GPU model loaded")?;
            let (k, m) = (g.counts(), g.memory());
            Ok(serde_json::json!({
                "per_layer": k.per_layer, "per_token": k.per_token, "per_layer_prefill": k.per_layer_prefill,
                "n_layers": g.config().n_layers, "submits": k.submits, "tokens": k.tokens,
                "memory_bytes": m.total(), "largest_buffer_bytes": m.largest_buffer,
            })
            .to_string()
            .into())
        }
        // Batched decode and prefix reuse on the loaded CPU model (the wasm SIMD128 path): the
        // sequences (concatenated ids, then their lengths) are fed alone, then together (first
        // halves in one mixed step, the rest one token per step for all), then each from the
        // prefix cache after the first; JSON with the largest |Δlogit| of each way and the
        // tokens reused.
        "cpu_batch_check" => {
            let (ids, lengths) = (arg_ids(args, 0), arg_ids(args, 1));
            let model = engines.borrow().cpu.as_ref().map(|s| s.model().clone()).ok_or("no CPU model loaded: call cpu_load first")?;
            batch_check(model, &ids, &lengths).map(JsValue::from).map_err(|x| e(&x))
        }
        // Batched decode speed (the benchmark's loop, timed here): for each batch size, that many
        // sequences prefilled with the prompt (untimed), then `n` greedy steps all together;
        // JSON `[{n, tok_s}]` with aggregate tokens per second.
        "cpu_batch_decode" => {
            let (prompt, n, sizes) = (arg_ids(args, 0), arg_u32(args, 1)? as usize, arg_ids(args, 2));
            let model = engines.borrow().cpu.as_ref().map(|s| s.model().clone()).ok_or("no CPU model loaded: call cpu_load first")?;
            batch_decode(model, &prompt, n, &sizes).map(JsValue::from).map_err(|x| e(&x))
        }
        other => Err(format!("unknown engine hook `{other}`")),
    }
}

fn batch_check(model: std::sync::Arc<CpuModel>, ids: &[u32], lengths: &[u32]) -> Result<String, council_gpu::cpu::CpuError> {
    use council_gpu::cpu::{PrefixCache, Runner, Step, Want};
    let n_vocab = model.config().n_vocab;
    let mut seqs: Vec<&[u32]> = Vec::new();
    let mut at = 0;
    for &l in lengths {
        let end = (at + l as usize).min(ids.len());
        seqs.push(&ids[at..end]);
        at = end;
    }
    let mut runner = Runner::new(model, 1);
    let alone: Vec<Vec<f32>> = seqs
        .iter()
        .map(|t| {
            let mut s = runner.sequence(2048);
            runner.forward(&mut [Step { seq: &mut s, tokens: t, want: Want::All }]).map(<[f32]>::to_vec)
        })
        .collect::<Result<_, _>>()?;
    let diff = |a: &[f32], b: &[f32]| a.iter().zip(b).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));

    // Together: first halves in one step, then one token per step for every sequence not done.
    let mut state: Vec<_> = seqs.iter().map(|_| runner.sequence(2048)).collect();
    let halves: Vec<usize> = seqs.iter().map(|t| t.len().div_ceil(2)).collect();
    let mut steps: Vec<Step> = state.iter_mut().zip(&seqs).zip(&halves).map(|((seq, t), &h)| Step { seq, tokens: &t[..h], want: Want::All }).collect();
    let first = runner.forward(&mut steps)?.to_vec();
    drop(steps);
    let (mut batched_max, mut rows, mut off) = (0.0f32, 0usize, 0usize);
    for (i, &h) in halves.iter().enumerate() {
        batched_max = batched_max.max(diff(&first[off..off + h * n_vocab], &alone[i][..h * n_vocab]));
        off += h * n_vocab;
        rows += h;
    }
    let longest = seqs.iter().map(|t| t.len()).max().unwrap_or(0);
    for pos in longest.min(1)..longest {
        let live: Vec<usize> = (0..seqs.len()).filter(|&i| pos >= halves[i] && pos < seqs[i].len()).collect();
        if live.is_empty() {
            continue;
        }
        let mut steps: Vec<Step> = state.iter_mut().enumerate().filter(|(i, _)| live.contains(i)).map(|(i, seq)| Step { seq, tokens: &seqs[i][pos..pos + 1], want: Want::Last }).collect();
        let logits = runner.forward(&mut steps)?;
        for (row, &i) in logits.chunks_exact(n_vocab).zip(&live) {
            batched_max = batched_max.max(diff(row, &alone[i][pos * n_vocab..(pos + 1) * n_vocab]));
            rows += 1;
        }
    }

    // From the prefix cache: the first sequence fills it; the others start from it.
    let mut cache = PrefixCache::new(256 << 20);
    let (mut reuse_max, mut reused) = (0.0f32, 0usize);
    for (i, t) in seqs.iter().enumerate() {
        let mut s = runner.sequence(2048);
        let r = cache.start(&mut s, t);
        let got = runner.forward(&mut [Step { seq: &mut s, tokens: &t[r..], want: Want::All }])?;
        reuse_max = reuse_max.max(diff(got, &alone[i][r * n_vocab..]));
        if i > 0 {
            reused += r;
        }
        cache.insert(&s, true);
    }
    Ok(serde_json::json!({ "kernel": council_gpu::quant::kernel_name(), "rows": rows, "batched_max_diff": batched_max,
        "reused_tokens": reused, "reuse_max_diff": reuse_max }).to_string())
}

fn batch_decode(model: std::sync::Arc<CpuModel>, prompt: &[u32], n: usize, sizes: &[u32]) -> Result<String, council_gpu::cpu::CpuError> {
    use council_gpu::cpu::{Runner, Step, Want};
    let n_vocab = model.config().n_vocab;
    let mut runner = Runner::new(model, 1);
    let mut out = Vec::new();
    for &size in sizes {
        let mut seqs: Vec<_> = (0..size.clamp(1, 32)).map(|_| runner.sequence(prompt.len() + n + 2)).collect();
        let mut next = Vec::new();
        for seq in &mut seqs {
            next.push(council_gpu::sampling::greedy(runner.forward(&mut [Step { seq, tokens: prompt, want: Want::Last }])?));
        }
        let t0 = now_ms();
        for _ in 0..n {
            let mut steps: Vec<Step> = seqs.iter_mut().zip(&next).map(|(seq, t)| Step { seq, tokens: std::slice::from_ref(t), want: Want::Last }).collect();
            next = runner.forward(&mut steps)?.chunks_exact(n_vocab).map(council_gpu::sampling::greedy).collect();
        }
        let ms = now_ms() - t0;
        out.push(serde_json::json!({ "n": seqs.len(), "tok_s": (seqs.len() * n) as f64 * 1000.0 / ms }));
    }
    Ok(serde_json::Value::Array(out).to_string())
}

fn now_ms() -> f64 {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    scope.performance().map_or_else(js_sys::Date::now, |p| p.now())
}

fn with_cpu(engines: &Rc<RefCell<Engines>>, f: impl FnOnce(&mut Session) -> Result<JsValue, council_gpu::cpu::CpuError>) -> Result<JsValue, String> {
    match engines.borrow_mut().cpu.as_mut() {
        Some(s) => f(s).map_err(|e| e.to_string()),
        None => Err("no CPU model loaded: call cpu_load first".into()),
    }
}

/// The GPU engine is taken out for an async call (a RefCell borrow must not live across an
/// await); the caller puts it back.
fn take_gpu(engines: &Rc<RefCell<Engines>>) -> Result<WgpuEngine, String> {
    engines.borrow_mut().gpu.take().ok_or_else(|| "no GPU model loaded: call gpu_load first".into())
}

/// Gets a WebGPU adapter through wgpu (compiled into this wasm, not JS) and runs the WGSL
/// self-test dispatch; a JSON report.
async fn webgpu_selftest(n: u32) -> Result<String, String> {
    let gpu = council_gpu::device::Gpu::new().await?;
    let r = council_gpu::selftest::run(&gpu, n as usize).await?;
    Ok(serde_json::json!({
        "adapter": r.adapter,
        "n": r.n,
        "max_abs_error": r.max_abs_error,
        "sum_gpu": r.sum_gpu,
        "sum_expected": r.sum_expected,
        "passed": r.passed(),
    })
    .to_string())
}

/// Runs random Q4_0/Q4_1/Q8_0 matrices through the scalar kernel and the one `matmul` uses
/// here (SIMD128 in the release build), for 1–5 activation vectors; returns JSON with the
/// kernel name, the number of outputs compared and the largest |difference| relative to
/// the output's scale; then the same for one attention head over an f16 cache (absolute
/// difference, values up to 3).
fn kernel_check(seed: u32) -> Result<String, String> {
    let js_err = |e: council_gpu::quant::QuantError| e.to_string();
    use council_gpu::quant::{self as q, Kernel, QMatrix, QuantizedActs, WeightFormat};
    let mut state = u64::from(seed) | 1;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let (rows, cols) = (37, 576);
    let (mut compared, mut worst) = (0usize, 0.0f32);
    for format in [WeightFormat::Q4_0, WeightFormat::Q4_1, WeightFormat::Q8_0] {
        let mut data = Vec::new();
        for _ in 0..rows {
            let row: Vec<f32> = (0..cols).map(|_| rnd() * 0.3).collect();
            data.extend(match format {
                WeightFormat::Q4_0 => q::quantize_row_q4_0(&row),
                WeightFormat::Q4_1 => q::quantize_row_q4_1(&row),
                _ => q::quantize_row_q8_0(&row),
            }.map_err(js_err)?);
        }
        let w = QMatrix::new(format, rows, cols, &data).map_err(js_err)?;
        for n in 1..=5 {
            let x: Vec<f32> = (0..n * cols).map(|_| rnd() * 4.0).collect();
            let acts = QuantizedActs::new(format, &x, cols).map_err(js_err)?;
            let (mut scalar, mut best) = (vec![0.0; n * rows], vec![0.0; n * rows]);
            q::matmul_with(Kernel::Scalar, &w, &acts, &mut scalar).map_err(js_err)?;
            q::matmul(&w, &acts, &mut best).map_err(js_err)?;
            let scale = scalar.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
            for (a, b) in scalar.iter().zip(&best) {
                worst = worst.max((a - b).abs() / scale);
            }
            compared += scalar.len();
        }
    }
    // Attention over an f16 cache: the vector loops against the scalar ones, head widths 64 and
    // 128 (vector) and 36 (scalar fallback), up to 300 positions.
    use council_gpu::cpu::ops::attend_head_with;
    let mut attention_max_diff = 0.0f32;
    for (d, n) in [(64, 1), (64, 5), (64, 300), (128, 17), (36, 9)] {
        let q: Vec<f32> = (0..d).map(|_| rnd() * 2.0).collect();
        let keys: Vec<u16> = (0..n * d).map(|_| q::f32_to_f16_bits(rnd() * 1.5)).collect();
        let vals: Vec<u16> = (0..n * d).map(|_| q::f32_to_f16_bits(rnd() * 3.0)).collect();
        let (mut s1, mut s2) = (Vec::new(), Vec::new());
        let (mut fast, mut scalar) = (vec![0.0f32; d], vec![0.0f32; d]);
        attend_head_with(Kernel::best(), &q, &keys, &vals, n, 0.125, &mut s1, &mut fast);
        attend_head_with(Kernel::Scalar, &q, &keys, &vals, n, 0.125, &mut s2, &mut scalar);
        for (a, b) in fast.iter().zip(&scalar) {
            attention_max_diff = attention_max_diff.max((a - b).abs());
        }
    }
    Ok(serde_json::json!({ "kernel": q::kernel_name(), "compared": compared, "max_rel_diff": worst,
        "attention_max_diff": attention_max_diff }).to_string())
}
