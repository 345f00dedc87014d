//! `council bench decode --batch 1,2,4,8`: aggregate decode speed of N sequences decoding
//! together on the CPU path (one forward step feeds all N, each with its own KV cache), beside
//! llama.cpp's batched decode (llama-cpp-python: same GGUF, same prompt ids, same threads, N
//! sequence ids in one `llama_batch`), measured in the same run by
//! tests/reference/bench_llama.py. Prefill is untimed; each sequence decodes greedily.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use council_gpu::cpu::{CpuModel, Runner, Sequence, Step, Want};
use council_gpu::sampling::greedy;
use serde_json::{Value, json};

use crate::bench_decode::{DecodeArgs, median, peak_rss, python};
use crate::{CliError, CliResult};

/// Aggregate decode tok/s of `n` sequences decoding `tokens` each after the prompt (prefill
/// untimed).
fn council_once(runner: &mut Runner, prompt: &[u32], n: usize, tokens: usize) -> Result<f64, CliError> {
    let n_vocab = runner.model().config().n_vocab;
    let failed = |e: council_gpu::cpu::CpuError| CliError::Failed(e.to_string());
    let mut seqs: Vec<Sequence> = (0..n).map(|_| runner.sequence(prompt.len() + tokens + 2)).collect();
    let mut next = Vec::with_capacity(n);
    for seq in &mut seqs {
        next.push(greedy(runner.forward(&mut [Step { seq, tokens: prompt, want: Want::Last }]).map_err(failed)?));
    }
    let t0 = Instant::now();
    for _ in 0..tokens {
        let mut steps: Vec<Step> = seqs.iter_mut().zip(&next).map(|(seq, t)| Step { seq, tokens: std::slice::from_ref(t), want: Want::Last }).collect();
        let logits = runner.forward(&mut steps).map_err(failed)?;
        next = logits.chunks_exact(n_vocab).map(greedy).collect();
    }
    Ok((n * tokens) as f64 / t0.elapsed().as_secs_f64())
}

/// Median aggregate decode tok/s per batch size. The sizes take turns within each repetition,
/// so a change in the machine's load (it is shared) falls on all of them alike.
fn council(runner: &mut Runner, prompt: &[u32], batch: &[usize], tokens: usize, repeats: usize) -> Result<Vec<f64>, CliError> {
    let mut rates = vec![Vec::new(); batch.len()];
    // One untimed pass first (page-in, thread start-up), as the peer does.
    for rep in 0..=repeats {
        for (i, &n) in batch.iter().enumerate() {
            let r = council_once(runner, prompt, n, tokens)?;
            if rep > 0 {
                rates[i].push(r);
            }
        }
    }
    Ok(rates.into_iter().map(median).collect())
}

/// llama.cpp's median aggregate decode tok/s per batch size, or why there are none.
fn peer(model: &str, prompt: &[u32], tokens: usize, threads: usize, repeats: usize, batch: &[usize]) -> Result<Vec<f64>, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/reference/bench_llama.py");
    let ids: Vec<String> = prompt.iter().map(u32::to_string).collect();
    let sizes: Vec<String> = batch.iter().map(usize::to_string).collect();
    let python = python();
    let out = Command::new(&python)
        .arg(&script)
        .args(["--model", model, "--threads", &threads.to_string(), "--decode", &tokens.to_string()])
        .args(["--repeats", &repeats.to_string(), "--prompt-tokens", &ids.join(","), "--batch", &sizes.join(",")])
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("failed").to_string());
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    batch
        .iter()
        .map(|n| {
            v["batch"].as_array().and_then(|rows| rows.iter().find(|r| r["n"].as_u64() == Some(*n as u64))).and_then(|r| r["decode_tok_s_median"].as_f64()).ok_or_else(|| format!("no figure for batch {n}"))
        })
        .collect()
}

/// The goal: aggregate tok/s at N=8 at least 4x N=1 (per thread count measured).
fn goal_line(rows: &[Value]) -> Option<String> {
    let at8: Vec<String> = rows
        .iter()
        .filter(|r| r["n"].as_u64() == Some(8))
        .filter_map(|r| r["scaling"].as_f64().map(|s| format!("{:.2}x at {} thread(s) ({})", s, r["threads"], if s >= 4.0 { "met" } else { "missed" })))
        .collect();
    (!at8.is_empty()).then(|| format!("goal N=8 >= 4x N=1: {}", at8.join(", ")))
}

pub fn batched(a: &DecodeArgs, model: Arc<CpuModel>, prompt: &[u32], threads: &[usize], batch: &[usize]) -> CliResult {
    let mut rows = Vec::new();
    for &t in threads {
        let mut runner = Runner::new(Arc::clone(&model), t);
        let ours = council(&mut runner, prompt, batch, a.tokens, a.repeats)?;
        let theirs = if a.no_peer { Err("skipped (--no-peer)".to_string()) } else { peer(&a.model, prompt, a.tokens, t, a.repeats, batch) };
        let base = |v: &[f64]| batch.iter().position(|&n| n == 1).map(|i| v[i]);
        for (i, &n) in batch.iter().enumerate() {
            let peer = match &theirs {
                Ok(p) => json!({"engine": "llama.cpp (llama-cpp-python 0.3.36)", "decode_tok_s": p[i], "scaling": base(p).map(|b| p[i] / b), "ratio": ours[i] / p[i]}),
                Err(why) => json!({"unavailable": why}),
            };
            rows.push(json!({"engine": "council cpu", "threads": t, "n": n, "decode_tok_s": ours[i], "scaling": base(&ours).map(|b| ours[i] / b), "peer": peer}));
        }
    }
    let report = json!({"model": a.model, "prompt_tokens": prompt.len(), "decode_tokens": a.tokens, "repeats": a.repeats,
        "kernel": council_gpu::quant::kernel_name(), "batch": rows, "peak_rss_bytes": peak_rss()});
    if a.json {
        out!("{report}");
        return Ok(());
    }
    out!("model {} · prompt {} tokens · {} decoded tokens per sequence · median of {} · kernel {}", a.model, prompt.len(), a.tokens, a.repeats, report["kernel"].as_str().unwrap_or("?"));
    out!("aggregate decode tok/s of N sequences decoding together (scaling = / N=1 at the same threads)");
    out!("{:>7} {:>3} {:>14} {:>8} {:>16} {:>8} {:>14}", "threads", "N", "council tok/s", "scaling", "llama.cpp tok/s", "scaling", "council/llama");
    let f = |v: &Value| v.as_f64().map_or("—".to_string(), |x| format!("{x:.1}"));
    let x = |v: &Value| v.as_f64().map_or("—".to_string(), |x| format!("{x:.2}x"));
    for r in &rows {
        let p = &r["peer"];
        let int = |v: &Value| v.as_u64().unwrap_or(0);
        out!("{:>7} {:>3} {:>14} {:>8} {:>16} {:>8} {:>14}", int(&r["threads"]), int(&r["n"]), f(&r["decode_tok_s"]), x(&r["scaling"]), f(&p["decode_tok_s"]), x(&p["scaling"]), x(&p["ratio"]));
    }
    let mut unavailable: Vec<&str> = rows.iter().filter_map(|r| r["peer"]["unavailable"].as_str()).collect();
    unavailable.dedup();
    for why in unavailable {
        out!("llama.cpp unavailable: {why}");
    }
    if let Some(goal) = goal_line(&rows) {
        out!("{goal}");
    }
    Ok(())
}
