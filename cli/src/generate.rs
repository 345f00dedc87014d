//! `council generate` and `council score` (docs/cli.md) on a GGUF model, with the
//! CPU path or the WebGPU path (`--backend wgpu`, the default native adapter).

use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, ValueEnum};
use council_gpu::cpu::{CpuModel, Session, SessionOptions};
use council_gpu::sampling::{Sampler, Sampling};
use council_gpu::tokenizer::{ChatMessage, Tokenizer};
use council_gpu::device::Gpu;
use council_gpu::gguf::GgufFile;
use council_gpu::wgpu_engine::{EngineOptions, WgpuEngine, runner};

use crate::llm::{context_of, load_model_header, thread_count};
use crate::text::clean;
use crate::{CliError, CliResult};

#[derive(Clone, Copy, ValueEnum)]
pub enum Backend {
    Cpu,
    Wgpu,
}

/// Which engine runs the model, for every LLM command.
#[derive(Args)]
pub struct EngineChoice {
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: Backend,
    /// CPU threads (CPU backend; 1 to 1024, lowered to the machine's count).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
}

#[derive(Args)]
pub struct GenerateArgs {
    #[arg(long)]
    pub model: String,
    #[arg(long)]
    pub prompt: String,
    /// Wrap the prompt in the model's chat template as a user turn.
    #[arg(long)]
    pub chat: bool,
    /// A system message (with --chat).
    #[arg(long)]
    pub system: Option<String>,
    #[arg(long, default_value_t = 64)]
    pub max_tokens: usize,
    /// Always the most likely token (the default unless --temperature is given).
    #[arg(long)]
    pub greedy: bool,
    #[arg(long)]
    pub temperature: Option<f32>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 40)]
    pub top_k: usize,
    #[arg(long, default_value_t = 0.95)]
    pub top_p: f32,
    #[command(flatten)]
    pub engine: EngineChoice,
    #[arg(long)]
    pub json: bool,
}

/// An engine failure after the input was accepted (exit 1).
fn engine_err(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

fn open_cpu(model: &str, threads: usize, ctx: usize) -> Result<Session, CliError> {
    let m = CpuModel::open(model).map_err(|e| CliError::bad(format!("{model}: {e}")))?;
    Ok(Session::new(Arc::new(m), SessionOptions { max_ctx: ctx, n_threads: threads }))
}

/// The WebGPU engine on the default adapter. No adapter is a failure of this machine
/// (exit 1); a model the engine cannot load is bad input (exit 2), like on the CPU path.
fn open_wgpu(model: &str, opts: &EngineOptions) -> Result<WgpuEngine, CliError> {
    let file = GgufFile::open(model).map_err(|e| CliError::bad(format!("{model}: {e}")))?;
    let gpu = pollster::block_on(Gpu::new()).map_err(|e| CliError::Failed(format!("no WebGPU adapter: {e}")))?;
    WgpuEngine::load_gguf_blocking(&gpu, &file, opts).map_err(|e| CliError::bad(format!("{model}: on WebGPU: {e}")))
}

/// `user` (after an optional `system` message) in the model's chat template, ready for
/// the assistant's reply.
pub(crate) fn chat_prompt(tok: &Tokenizer, model: &str, system: Option<&str>, user: &str) -> Result<String, CliError> {
    let template = tok
        .chat_template()
        .map_err(|e| CliError::bad(format!("{model}: {e}")))?
        .ok_or_else(|| CliError::bad(format!("{model}: the model has no chat template")))?;
    let mut msgs = Vec::new();
    if let Some(s) = system {
        msgs.push(ChatMessage::new("system", s));
    }
    msgs.push(ChatMessage::new("user", user));
    template.render(&msgs, true).map_err(|e| CliError::bad(e.to_string()))
}

/// `council generate`: streams text in human mode; JSON with ids and speeds with --json.
pub fn generate(a: GenerateArgs) -> CliResult {
    if a.max_tokens == 0 {
        return Err(CliError::bad("--max-tokens must be at least 1"));
    }
    let threads = thread_count(a.engine.threads)?;
    let (tok, config) = load_model_header(&a.model)?;
    let text = if a.chat {
        chat_prompt(&tok, &a.model, a.system.as_deref(), &a.prompt)?
    } else {
        a.prompt.clone()
    };
    let mut prompt = Vec::new();
    if tok.add_bos()
        && let Some(b) = tok.bos()
    {
        prompt.push(b);
    }
    if text.len() > council_gpu::tokenizer::MAX_ENCODE_BYTES {
        return Err(CliError::bad("the prompt is larger than the 1 MiB limit"));
    }
    prompt.extend(tok.encode(&text, true));
    if prompt.is_empty() {
        return Err(CliError::bad("the prompt is empty"));
    }
    // Everything the engines size (KV cache, scratch) follows from this: check it first.
    let context = context_of(&config);
    if prompt.len() >= context {
        return Err(CliError::bad(format!(
            "the prompt is {} tokens, longer than the model's context of {context} (one position is left for the reply)",
            prompt.len()
        )));
    }
    let room = context - prompt.len();
    if a.max_tokens > room {
        return Err(CliError::bad(format!(
            "--max-tokens {}: the prompt's {} tokens leave room for at most {room} in the model's context of {context}",
            a.max_tokens,
            prompt.len()
        )));
    }
    let sampling = match (a.greedy, a.temperature) {
        (true, Some(_)) => return Err(CliError::bad("--greedy and --temperature exclude each other")),
        (_, None) => Sampling::Greedy,
        (false, Some(t)) => Sampling::Random { temperature: t, top_k: a.top_k, top_p: a.top_p, seed: a.seed },
    }
    .validate()
    .map_err(CliError::bad)?;
    let mut sampler = Sampler::new(sampling);
    let eog = tok.eog_ids();
    let ctx = (prompt.len() + a.max_tokens + 1).min(context);

    let mut stream = tok.stream_decoder(false);
    let mut say = |id: u32| {
        if !a.json && !tok.is_eog(id) {
            // The vocabulary comes from the model file: its pieces may hold escape codes.
            print!("{}", clean(&stream.push(id)));
            let _ = std::io::stdout().flush();
        }
    };
    let (tokens, prefill_tok_s, decode_tok_s) = match a.engine.backend {
        Backend::Cpu => {
            let mut s = open_cpu(&a.model, threads, ctx)?;
            let t = Instant::now();
            let mut next = sampler.sample(s.prefill(&prompt).map_err(engine_err)?);
            let prefill = prompt.len() as f64 / t.elapsed().as_secs_f64();
            let mut out = Vec::new();
            let t = Instant::now();
            while out.len() < a.max_tokens {
                out.push(next);
                say(next);
                if eog.contains(&next) || out.len() == a.max_tokens {
                    break;
                }
                next = sampler.sample(s.decode(next).map_err(engine_err)?);
            }
            let decoded = out.len().saturating_sub(1);
            (out, prefill, if decoded > 0 { decoded as f64 / t.elapsed().as_secs_f64() } else { 0.0 })
        }
        Backend::Wgpu => {
            let opts = EngineOptions { max_ctx: Some(ctx), ..Default::default() };
            let mut engine = open_wgpu(&a.model, &opts)?;
            let mut pick = |l: &[f32]| sampler.sample(l);
            let g = runner::generate(
                &mut engine,
                &prompt,
                a.max_tokens,
                &eog,
                if matches!(sampling, Sampling::Greedy) { None } else { Some(&mut pick) },
            )
            .map_err(engine_err)?;
            for &id in &g.tokens {
                say(id);
            }
            (g.tokens, g.prefill_tok_s, g.decode_tok_s)
        }
    };
    let shown: Vec<u32> = tokens.iter().copied().filter(|t| !tok.is_eog(*t)).collect();
    let text = tok.decode_lossy(&shown, false);
    if a.json {
        out!(
            "{}",
            serde_json::json!({
                "prompt_tokens": prompt, "tokens": tokens, "text": text,
                "prefill_tok_s": prefill_tok_s, "decode_tok_s": decode_tok_s,
            })
        );
    } else {
        out!("{}", clean(&stream.finish()));
        eprintln!("[{} prompt tokens, prefill {prefill_tok_s:.1} tok/s, {} generated, decode {decode_tok_s:.1} tok/s]", prompt.len(), tokens.len());
    }
    Ok(())
}

#[derive(Args)]
pub struct ScoreArgs {
    #[arg(long)]
    pub model: String,
    /// Comma-separated token ids.
    #[arg(long)]
    pub tokens: String,
    /// First position to report.
    #[arg(long, default_value_t = 0)]
    pub from: usize,
    #[arg(long, default_value_t = 5)]
    pub top_k: usize,
    #[command(flatten)]
    pub engine: EngineChoice,
    /// Accepted for the contract; the output is always JSON.
    #[arg(long)]
    pub json: bool,
}

/// `council score`: teacher-forced top-k next-token logits at every position >= --from.
pub fn score(a: ScoreArgs) -> CliResult {
    let threads = thread_count(a.engine.threads)?;
    if a.tokens.len() > 8 << 20 {
        return Err(CliError::bad("--tokens is longer than 8 MiB"));
    }
    let tokens: Vec<u32> = a
        .tokens
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<u32>().map_err(|_| CliError::bad(format!("--tokens: {s:?} is not a token id"))))
        .collect::<Result<_, _>>()?;
    if tokens.is_empty() {
        return Err(CliError::bad("--tokens is empty"));
    }
    if a.from >= tokens.len() {
        return Err(CliError::bad(format!("--from {} is past the last position {}", a.from, tokens.len() - 1)));
    }
    if a.top_k == 0 || a.top_k > 40 {
        return Err(CliError::bad("--top-k must be in 1..=40"));
    }
    let (tok, config) = load_model_header(&a.model)?;
    if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= tok.vocab_size()) {
        return Err(CliError::bad(format!("--tokens: id {bad} is outside the vocabulary of {} tokens", tok.vocab_size())));
    }
    let context = context_of(&config);
    if tokens.len() >= context {
        return Err(CliError::bad(format!("--tokens: {} tokens, more than the model's context of {context}", tokens.len())));
    }
    let positions: Vec<(usize, Vec<(u32, f32)>)> = match a.engine.backend {
        Backend::Cpu => {
            let mut s = open_cpu(&a.model, threads, tokens.len() + 1)?;
            let n_vocab = s.model().config().n_vocab;
            let all = s.logits_all(&tokens).map_err(|e| CliError::bad(e.to_string()))?;
            all.chunks(n_vocab)
                .enumerate()
                .skip(a.from)
                .map(|(i, row)| (i, council_gpu::sampling::top_k(row, a.top_k)))
                .collect()
        }
        Backend::Wgpu => {
            let opts = EngineOptions { max_ctx: Some(tokens.len() + 1), top_k: a.top_k.max(5), ..Default::default() };
            let mut engine = open_wgpu(&a.model, &opts)?;
            runner::score(&mut engine, &tokens, a.from, a.top_k).map_err(CliError::bad)?
        }
    };
    let rows: Vec<serde_json::Value> =
        positions.iter().map(|(i, top)| serde_json::json!({ "i": i, "top": top.iter().map(|(id, l)| serde_json::json!([id, l])).collect::<Vec<_>>() })).collect();
    out!("{}", serde_json::json!({ "positions": rows }));
    Ok(())
}
