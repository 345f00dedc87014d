//! `council bench debate`: what shared-prefix KV reuse saves a council on the CPU path. The
//! built-in 5-agent, 3-round debate runs greedily through the local engine twice in the same
//! process, batched both times: with the prefix cache (the measured run) and without it (its
//! peer). Per round it prints the mean and last time to first token, the prefill time and the
//! prompt tokens reused; both runs must give the same transcript (greedy, same logits).

use clap::Args;
use council_core::Run;
use serde_json::{Value, json};

use crate::agents::local::Local;
use crate::agents::{self, Backend, BackendArgs};
use crate::{CliError, CliResult};

#[derive(Args)]
pub struct DebateArgs {
    #[arg(long)]
    pub model: String,
    /// The scenario (any with LLM-sized prompts; the default is the 5-agent, 3-round debate).
    #[arg(long, default_value = "builtin:debate")]
    pub scenario: String,
    #[arg(long, default_value_t = 64)]
    pub max_tokens: u32,
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[arg(long)]
    pub json: bool,
}

fn once(a: &DebateArgs, prefix_mib: usize) -> Result<(Local, String), CliError> {
    let scenario = crate::input::load_scenario(&a.scenario)?;
    let flags = BackendArgs {
        backend: format!("local:{}", a.model),
        max_tokens: a.max_tokens,
        temperature: 0.0,
        threads: a.threads,
        batch: 8,
        prefix_cache_mib: prefix_mib,
        ctx: 4096,
        remote_model: String::new(),
        concurrency: 1,
        attempts: 1,
        timeout: 1,
        agents: Vec::new(),
    };
    let mut local = Local::open(&a.model, &flags)?;
    let mut run = Run::new(&scenario).map_err(|e| CliError::bad(e.0))?;
    let counts = agents::drive(std::slice::from_mut(&mut run), &mut local)?;
    agents::check_failures(&counts)?;
    Ok((local, run.result().log_hash))
}

pub fn debate(a: DebateArgs) -> CliResult {
    crate::llm::check_model(&a.model)?;
    // The peer (no reuse) first, so the measured run cannot be helped by a warmer machine.
    let (without, hash_without) = once(&a, 0)?;
    let (with, hash_with) = once(&a, 256)?;
    let rounds: Vec<Value> = with
        .waves
        .iter()
        .zip(&without.waves)
        .map(|(w, p)| {
            json!({"round": w.round, "asks": w.asks, "prompt_tokens": w.prompt_tokens, "reused_tokens": w.reused_tokens,
                "ttft_mean_ms": w.ttft_mean_ms, "ttft_max_ms": w.ttft_max_ms, "prefill_ms": w.prefill_ms,
                "peer_ttft_mean_ms": p.ttft_mean_ms, "peer_ttft_max_ms": p.ttft_max_ms, "peer_prefill_ms": p.prefill_ms,
                "ttft_mean_saved_ms": p.ttft_mean_ms - w.ttft_mean_ms, "prefill_saved_ms": p.prefill_ms - w.prefill_ms})
        })
        .collect();
    let same = hash_with == hash_without;
    let report = json!({"model": a.model, "scenario": a.scenario, "threads": a.threads, "max_tokens": a.max_tokens,
        "same_transcript": same, "log_hash": hash_with, "rounds": rounds, "with": with.report(), "without": without.report()});
    if a.json {
        out!("{report}");
    } else {
        out!("{} · {} · greedy, {} tokens per reply, {} thread(s), asks of a round batched", a.scenario, a.model, a.max_tokens, a.threads);
        out!("{:>5} {:>6} {:>14} {:>12} {:>12} {:>12} {:>12} {:>12}", "round", "asks", "reused/prompt", "TTFT mean", "no reuse", "TTFT last", "no reuse", "saved (mean)");
        for r in &rounds {
            let ms = |k: &str| r[k].as_f64().map_or("—".into(), |v| format!("{v:.0} ms"));
            out!(
                "{:>5} {:>6} {:>14} {:>12} {:>12} {:>12} {:>12} {:>12}",
                r["round"].as_u64().unwrap_or(0),
                r["asks"].as_u64().unwrap_or(0),
                format!("{}/{}", r["reused_tokens"], r["prompt_tokens"]),
                ms("ttft_mean_ms"),
                ms("peer_ttft_mean_ms"),
                ms("ttft_max_ms"),
                ms("peer_ttft_max_ms"),
                ms("ttft_mean_saved_ms")
            );
        }
        out!("same transcript with and without reuse: {}", if same { "yes" } else { "NO" });
    }
    if same { Ok(()) } else { Err(CliError::Failed("prefix reuse changed the greedy transcript".into())) }
}
