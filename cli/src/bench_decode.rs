//! `council bench decode`: prefill and decode speed of the CPU path (per thread count) and
//! the WebGPU path on a GGUF model, beside llama.cpp (llama-cpp-python, same GGUF, same
//! prompt ids, same thread count) measured in the same run by tests/reference/bench_llama.py.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use council_gpu::cpu::{CpuModel, Session, SessionOptions};
use council_gpu::sampling::greedy;
use council_gpu::wgpu_engine::{EngineOptions, bench::measure_decode, runner};
use serde_json::{Value, json};

use crate::generate::chat_prompt;
use crate::llm::{MAX_THREADS, check_model, load_tokenizer};
use crate::{CliError, CliResult};

#[derive(Args)]
pub struct DecodeArgs {
    #[arg(long)]
    pub model: String,
    /// A user message, rendered with the model's chat template.
    #[arg(long, default_value = "What is the capital of France?")]
    pub prompt: String,
    /// Tokens to decode per repetition.
    #[arg(long, default_value_t = 64)]
    pub tokens: usize,
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// CPU thread counts to measure, comma-separated.
    #[arg(long, default_value = "1,2")]
    pub threads: String,
    /// Also time the WebGPU path on the default adapter (few tokens: a software adapter is slow).
    #[arg(long)]
    pub wgpu: bool,
    /// Skip llama.cpp.
    #[arg(long)]
    pub no_peer: bool,
    /// Batched decode instead: N sequences decoding together per step, for each N listed
    /// (e.g. 1,2,4,8); prints aggregate tok/s beside llama.cpp's batched decode.
    #[arg(long)]
    pub batch: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Peak resident memory of this process (Linux `VmHWM`), in bytes.
pub(crate) fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

pub(crate) fn python() -> PathBuf {
    std::env::var_os("COUNCIL_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/council/venv/bin/python")
    })
}

/// llama.cpp's medians (prefill, decode) or why there are none.
fn peer(model: &str, prompt: &[u32], n: usize, threads: usize, repeats: usize) -> Result<(f64, f64), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/reference/bench_llama.py");
    let ids: Vec<String> = prompt.iter().map(u32::to_string).collect();
    let python = python();
    let out = Command::new(&python)
        .arg(&script)
        .args(["--model", model, "--threads", &threads.to_string(), "--decode", &n.to_string()])
        .args(["--repeats", &repeats.to_string(), "--prompt-tokens", &ids.join(",")])
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("failed").to_string());
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    Ok((v["prefill_tok_s_median"].as_f64().unwrap_or(0.0), v["decode_tok_s_median"].as_f64().unwrap_or(0.0)))
}

/// A comma-separated list of counts in `1..=max` (`--threads 1,2`, `--batch 1,2,4,8`).
pub(crate) fn counts(flag: &str, text: &str, max: usize) -> Result<Vec<usize>, CliError> {
    text.split(',')
        .map(|t| t.trim().parse::<usize>().ok().filter(|&n| (1..=max).contains(&n)))
        .collect::<Option<Vec<_>>>()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| CliError::bad(format!("{flag} {text:?}: expected counts from 1 to {max} like 1,2")))
}

pub fn decode(a: DecodeArgs) -> CliResult {
    check_model(&a.model)?;
    let threads = counts("--threads", &a.threads, MAX_THREADS)?;
    if threads.len() > 16 {
        return Err(CliError::bad("--threads: at most 16 counts"));
    }
    // A benchmark measures what it is asked for, but not more threads than the machine has.
    let machine = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(&t) = threads.iter().find(|&&t| t > machine) {
        return Err(CliError::bad(format!("--threads {t}: this machine has {machine}")));
    }
    if a.tokens == 0 || a.repeats == 0 || a.tokens > 4096 || a.repeats > 100 {
        return Err(CliError::bad("--tokens must be in 1..=4096 and --repeats in 1..=100"));
    }
    let batch = a.batch.as_deref().map(|b| counts("--batch", b, council_gpu::cpu::MAX_ROWS)).transpose()?;
    let tok = load_tokenizer(&a.model)?;
    let text = chat_prompt(&tok, &a.model, None, &a.prompt)?;
    let prompt = tok.encode(&text, true);
    let model = Arc::new(CpuModel::open(&a.model).map_err(|e| CliError::bad(format!("{}: {e}", a.model)))?);
    if let Some(batch) = batch {
        return crate::bench_batch::batched(&a, model, &prompt, &threads, &batch);
    }

    let mut rows = Vec::new();
    for &t in &threads {
        let mut s = Session::new(model.clone(), SessionOptions { max_ctx: prompt.len() + a.tokens + 2, n_threads: t });
        let (mut pf, mut dc) = (Vec::new(), Vec::new());
        // One untimed pass first (page-in, thread start-up), as the peer does.
        for rep in 0..=a.repeats {
            s.reset();
            let t0 = Instant::now();
            let mut next = greedy(s.prefill(&prompt).map_err(|e| CliError::Failed(e.to_string()))?);
            let t1 = Instant::now();
            for _ in 0..a.tokens {
                next = greedy(s.decode(next).map_err(|e| CliError::Failed(e.to_string()))?);
            }
            if rep > 0 {
                pf.push(prompt.len() as f64 / (t1 - t0).as_secs_f64());
                dc.push(a.tokens as f64 / t1.elapsed().as_secs_f64());
            }
        }
        let (p, d) = (median(pf), median(dc));
        let peer = if a.no_peer { Err("skipped (--no-peer)".to_string()) } else { peer(&a.model, &prompt, a.tokens, t, a.repeats) };
        rows.push(json!({
            "engine": "council cpu", "threads": t, "prefill_tok_s": p, "decode_tok_s": d,
            "peer": match &peer { Ok((pp, pd)) => json!({"engine": "llama.cpp (llama-cpp-python 0.3.36)", "prefill_tok_s": pp, "decode_tok_s": pd,
                "prefill_ratio": p / pp, "decode_ratio": d / pd}), Err(why) => json!({"unavailable": why}) },
        }));
    }
    let rss = peak_rss();
    let mut gpu = Value::Null;
    if a.wgpu {
        let n = a.tokens.min(8);
        gpu = match runner::open(Path::new(&a.model), &EngineOptions { max_ctx: Some(prompt.len() + 2 * n + 2), ..Default::default() })
            .and_then(|mut e| measure_decode(&mut e, &prompt, n))
        {
            Ok(f) => json!({"adapter": f.adapter, "prefill_tok_s": f.prefill_tok_s, "decode_tok_s": f.decode_tok_s,
                "greedy_tok_s": f.greedy_tok_s, "dispatches_per_layer": f.counts.per_layer,
                "dispatches_per_token": f.counts.per_token, "submits_per_token": f.submits_per_token, "tokens": n,
                "max_ctx": f.max_ctx, "memory": {"weights_bytes": f.memory.weights, "kv_cache_bytes": f.memory.kv_cache,
                    "working_bytes": f.memory.working, "total_bytes": f.memory.total(), "largest_buffer_bytes": f.memory.largest_buffer,
                    "buffers": f.memory.buffers}}),
            Err(e) => json!({"unavailable": e}),
        };
    }
    let report = json!({"model": a.model, "prompt_tokens": prompt.len(), "decode_tokens": a.tokens, "repeats": a.repeats,
        "cpu": rows, "peak_rss_bytes": rss, "model_file_bytes": std::fs::metadata(&a.model).map(|m| m.len()).ok(), "wgpu": gpu});
    if a.json {
        out!("{report}");
        return Ok(());
    }
    out!("model {} · prompt {} tokens · decode {} tokens · median of {}", a.model, prompt.len(), a.tokens, a.repeats);
    out!("{:<34} {:>8} {:>14} {:>14}", "engine", "threads", "prefill tok/s", "decode tok/s");
    for r in &rows {
        out!("{:<34} {:>8} {:>14.1} {:>14.1}", "council cpu", r["threads"], r["prefill_tok_s"].as_f64().unwrap(), r["decode_tok_s"].as_f64().unwrap());
        match r["peer"].get("unavailable") {
            Some(why) => out!("{:<34} {:>8} peer unavailable: {}", "llama.cpp", r["threads"], why.as_str().unwrap_or("")),
            None => {
                let p = &r["peer"];
                out!("{:<34} {:>8} {:>14.1} {:>14.1}", "llama.cpp (llama-cpp-python 0.3.36)", r["threads"], p["prefill_tok_s"].as_f64().unwrap(), p["decode_tok_s"].as_f64().unwrap());
                out!("{:<34} {:>8} {:>13.2}x {:>13.2}x", "ratio council / llama.cpp", r["threads"], p["prefill_ratio"].as_f64().unwrap(), p["decode_ratio"].as_f64().unwrap());
            }
        }
    }
    if let Some(b) = rss {
        out!("peak RSS of the CPU path (this process): {:.1} MiB (model file {:.1} MiB)", b as f64 / 1048576.0, report["model_file_bytes"].as_f64().unwrap_or(0.0) / 1048576.0);
    }
    if a.wgpu {
        print_wgpu(&gpu);
    }
    Ok(())
}

fn print_wgpu(gpu: &Value) {
    if let Some(why) = gpu.get("unavailable") {
        out!("wgpu: unavailable: {}", why.as_str().unwrap_or(""));
        return;
    }
    let f = |k: &str| gpu[k].as_f64().unwrap_or(f64::NAN);
    let mib = |k: &str| gpu["memory"][k].as_f64().unwrap_or(f64::NAN) / 1048576.0;
    out!("wgpu on {} ({} tokens; a software adapter runs the shaders on the CPU):", gpu["adapter"].as_str().unwrap_or("?"), gpu["tokens"]);
    out!(
        "  prefill {:.2} tok/s · decode {:.2} tok/s · GPU-resident greedy {:.2} tok/s",
        f("prefill_tok_s"),
        f("decode_tok_s"),
        f("greedy_tok_s")
    );
    out!(
        "  {} dispatches per layer, {} per token, {:.2} submits per token",
        gpu["dispatches_per_layer"],
        gpu["dispatches_per_token"],
        f("submits_per_token")
    );
    out!(
        "  GPU buffers: {:.1} MiB total = weights {:.1} + KV cache {:.1} ({} positions) + working {:.1}; {} buffers, largest {:.1} MiB",
        mib("total_bytes"),
        mib("weights_bytes"),
        mib("kv_cache_bytes"),
        gpu["max_ctx"],
        mib("working_bytes"),
        gpu["memory"]["buffers"],
        mib("largest_buffer_bytes")
    );
}
