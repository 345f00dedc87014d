//! `council bench speculative`: speculative decoding on the CPU path beside its peer, the
//! verifier decoding alone, measured in the same process on the same prompts. The prompts
//! are the `speculative` built-in's asks to its verifier over `--items` seeds (council-style
//! arithmetic questions). For each draft length it prints the acceptance rate (drafts kept
//! ÷ drafts proposed), tokens per verifier step, decode speed and the speed-up over the
//! verifier alone; every reply must be token for token the verifier's own (greedy), or the
//! bench fails.

use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use council_core::{Run, prompt};
use council_gpu::cpu::{Authored, CpuModel, GenRequest, JointOptions, Runner, Server, ServerEvent, ServerOptions, speculate};
use council_gpu::sampling::Sampling;
use council_gpu::tokenizer::Tokenizer;
use serde_json::json;

use crate::input::print_json;
use crate::{CliError, CliResult};

#[derive(Args)]
pub struct SpeculativeArgs {
    /// The verifier model.
    #[arg(long)]
    pub model: String,
    /// The drafter model (same vocabulary); default: the verifier's own model.
    #[arg(long)]
    pub drafter: Option<String>,
    /// Draft lengths to measure, comma-separated (1 to 16 each).
    #[arg(long, default_value = "2,4,8")]
    pub draft_len: String,
    /// Items (seeds of the built-in) to decode.
    #[arg(long, default_value_t = 4)]
    pub items: u32,
    #[arg(long, default_value_t = 64)]
    pub max_tokens: u32,
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[arg(long)]
    pub json: bool,
}

fn open(path: &str, threads: usize) -> Result<Runner, CliError> {
    crate::llm::load_model_header(path)?;
    let model = CpuModel::open(path).map_err(|e| CliError::bad(format!("{path}: {e}")))?;
    Ok(Runner::new(Arc::new(model), threads))
}

/// The built-in's verifier prompts over `items` seeds.
fn prompts(tok: &Tokenizer, items: u32) -> Result<Vec<Vec<u32>>, CliError> {
    let scenario = council_core::builtin("speculative").map_err(|e| CliError::Failed(e.0))?;
    (0..items)
        .map(|i| {
            let run = Run::with_seed(&scenario, council_core::sweep::seed_for(&scenario, i)).map_err(|e| CliError::Failed(e.0))?;
            let req = run.pending_asks().first().ok_or_else(|| CliError::Failed("the built-in asks nothing".into()))?;
            let p = prompt::render(&scenario.prompts, &scenario.mechanism.kind, req);
            council_gpu::chat::turn_tokens(tok, &p.system, &p.user).map_err(CliError::Failed)
        })
        .collect()
}

/// The verifier alone, greedy, through the server (the path plain local asks take).
fn alone(model: &Arc<CpuModel>, threads: usize, prompt: &[u32], opts: &JointOptions) -> Result<Vec<u32>, CliError> {
    let mut server = Server::new(Arc::clone(model), ServerOptions { max_ctx: opts.max_ctx, n_threads: threads, max_batch: 1, prefix_cache_bytes: 0 });
    let req = GenRequest { prompt: prompt.to_vec(), max_tokens: opts.max_tokens, sampling: Sampling::Greedy, stop: opts.stop.clone() };
    server.submit(0, req).map_err(|e| CliError::Failed(e.to_string()))?;
    let mut events = Vec::new();
    while !server.is_idle() {
        server.step(&mut events).map_err(|e| CliError::Failed(e.to_string()))?;
    }
    Ok(events.iter().filter_map(|e| if let ServerEvent::Token { token, .. } = e { Some(*token) } else { None }).collect())
}

pub fn speculative(a: SpeculativeArgs) -> CliResult {
    let threads = crate::llm::thread_count(a.threads)?;
    if a.items == 0 || a.items > 64 {
        return Err(CliError::bad(format!("--items {} must be in 1..=64", a.items)));
    }
    if a.max_tokens == 0 || a.max_tokens > 1024 {
        return Err(CliError::bad(format!("--max-tokens {} must be in 1..=1024", a.max_tokens)));
    }
    let lens: Vec<usize> = a
        .draft_len
        .split(',')
        .map(|s| s.trim().parse::<usize>().ok().filter(|k| (1..=council_gpu::cpu::MAX_DRAFT).contains(k)))
        .collect::<Option<_>>()
        .filter(|v: &Vec<usize>| !v.is_empty() && v.len() <= 16)
        .ok_or_else(|| CliError::bad(format!("--draft-len {:?}: expected up to 16 comma-separated lengths in 1..=16", a.draft_len)))?;
    let (tok, _) = crate::llm::load_model_header(&a.model)?;
    let mut verifier = open(&a.model, threads)?;
    let mut drafter = a.drafter.as_deref().map(|d| open(d, threads)).transpose()?;
    if let Some(d) = &drafter
        && d.model().config().n_vocab != verifier.model().config().n_vocab
    {
        return Err(CliError::bad("the drafter's vocabulary differs from the verifier's"));
    }
    let prompts = prompts(&tok, a.items)?;
    let opts = JointOptions { max_tokens: a.max_tokens as usize, max_ctx: 2048, stop: tok.eog_ids() };
    let model = Arc::clone(verifier.model());

    // The peer first, so the measured runs cannot be helped by a colder machine.
    let t = Instant::now();
    let mut expect = Vec::new();
    for p in &prompts {
        expect.push(alone(&model, threads, p, &opts)?);
    }
    let alone_s = t.elapsed().as_secs_f64();
    let tokens: usize = expect.iter().map(Vec::len).sum();
    let alone_tps = tokens as f64 / alone_s;

    let mut rows = Vec::new();
    for &k in &lens {
        let t = Instant::now();
        let (mut drafted, mut accepted, mut steps, mut same) = (0usize, 0usize, 0usize, true);
        for (p, e) in prompts.iter().zip(&expect) {
            let j = speculate(&mut verifier, drafter.as_mut(), p, p, k, &opts).map_err(|e| CliError::Failed(e.to_string()))?;
            same &= j.tokens == *e;
            drafted += j.pieces.iter().filter(|x| x.status != Authored::Written).count();
            accepted += j.pieces.iter().filter(|x| x.status == Authored::Accepted).count();
            steps += j.first_steps;
        }
        let s = t.elapsed().as_secs_f64();
        if !same {
            return Err(CliError::Failed(format!("draft length {k}: a reply differs from the verifier's alone (speculative decoding must be exact)")));
        }
        rows.push((k, drafted, accepted, steps, s));
    }
    let drafter_name = a.drafter.clone().unwrap_or_else(|| "the verifier's own model".into());
    if a.json {
        print_json(&json!({
            "verifier": a.model, "drafter": drafter_name, "items": a.items, "threads": threads, "tokens": tokens,
            "alone": {"seconds": alone_s, "tok_s": alone_tps},
            "speculative": rows.iter().map(|&(k, d, acc, st, s)| json!({
                "draft_len": k, "drafted": d, "accepted": acc, "acceptance_rate": acc as f64 / d.max(1) as f64,
                "verifier_steps": st, "tokens_per_verifier_step": tokens as f64 / st.max(1) as f64,
                "seconds": s, "tok_s": tokens as f64 / s, "speedup": alone_s / s, "identical": true})).collect::<Vec<_>>(),
        }));
    } else {
        out!("speculative decoding: verifier {} · drafter {drafter_name} · {} items, {tokens} reply tokens, {threads} thread(s)", a.model, a.items);
        out!("  peer: the verifier alone: {alone_s:.2} s, {alone_tps:.1} tok/s (one step per token)");
        for (k, d, acc, st, s) in rows {
            out!(
                "  draft {k:>2}: acceptance {:.3} ({acc}/{d}) · {:.2} tokens per verifier step · {s:.2} s, {:.1} tok/s · speed-up {:.2}× · replies identical",
                acc as f64 / d.max(1) as f64,
                tokens as f64 / st.max(1) as f64,
                tokens as f64 / s,
                alone_s / s
            );
        }
    }
    Ok(())
}
