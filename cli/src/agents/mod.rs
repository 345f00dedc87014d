//! LLM agents for `council run` and `council sweep` (`--backend local:MODEL.gguf` or
//! `--backend openai:URL`): a native driver loop that steps core `Run`s, renders each pending
//! ask's prompt (core's `prompt` module; never from the hidden `sim` facts), sends a whole wave
//! to the backend at once, parses the replies (core's `parse`) and hands them back with
//! `run.answer_at`. Several runs (a sweep's seeds) are driven together: their waves merge into
//! one batch, so the local engine decodes them in the same steps.
//!
//! A failed ask never loses the run: it is answered with no answer and a text saying why (the
//! engine logs it as an unparsed reply with an error event), as the page's driver does.

pub mod local;
pub mod openai;

use clap::Args;
use council_core::prompt::{self, Prompt};
use council_core::{AgentReply, AskRequest, Run};
use serde_json::Value;

use crate::CliError;

/// Flags of the LLM backends (`council run` and `council sweep`).
#[derive(Args, Clone, Debug)]
pub struct BackendArgs {
    /// Who answers every agent: `sim` (simulated agents, the default), `local:MODEL.gguf` (the
    /// CPU engine on this machine, asks of a round batched, shared prompt prefixes reused) or
    /// `openai:URL` (an OpenAI-compatible server such as llama.cpp's or vLLM's, e.g.
    /// openai:http://127.0.0.1:8080/v1; an API key is read from $COUNCIL_API_KEY).
    #[arg(long, default_value = "sim", value_name = "sim|local:MODEL.gguf|openai:URL")]
    pub backend: String,
    /// Most tokens per reply.
    #[arg(long, default_value_t = 160)]
    pub max_tokens: u32,
    /// Sampling temperature (0 = greedy: the same replies every time).
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    /// local: CPU threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// local: most asks decoding together (1 = one after another).
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// local: MiB of KV pages kept for reuse of shared prompt prefixes (0 = no reuse).
    #[arg(long, default_value_t = 256)]
    pub prefix_cache_mib: usize,
    /// local: context positions per ask (prompt + reply).
    #[arg(long, default_value_t = 2048)]
    pub ctx: usize,
    /// openai: the model name sent with each request.
    #[arg(long, default_value = "default")]
    pub remote_model: String,
    /// openai: most requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// openai: attempts per ask (429, 5xx and network errors are retried with backoff).
    #[arg(long, default_value_t = 4)]
    pub attempts: u32,
    /// openai: seconds one request may take.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

/// One ask of a wave, ready for a backend.
pub struct WaveAsk {
    pub prompt: Prompt,
    /// Seed for sampling (from the run's seed and the ask id, so a rerun repeats it).
    pub seed: u64,
}

/// A backend's answer to one ask.
#[derive(Clone, Debug, Default)]
pub struct Answer {
    pub text: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// Why no (complete) answer came; `text` holds whatever did.
    pub error: Option<String>,
}

/// Something that answers a wave of asks.
pub trait Backend {
    /// Answers every ask, in order. Failures are answers with `error` set.
    fn wave(&mut self, round: u32, asks: &[WaveAsk]) -> Vec<Answer>;
    /// What the backend measured, for `--json` (`null` fields where nothing applies).
    fn report(&self) -> Value;
    /// One line for human output.
    fn summary(&self) -> String;
}

/// The backend `--backend` names; `None` for simulated agents. Bad flags are exit-2 errors.
pub fn open(a: &BackendArgs) -> Result<Option<Box<dyn Backend>>, CliError> {
    if !(a.temperature >= 0.0 && a.temperature <= 5.0) {
        return Err(CliError::bad(format!("--temperature {} must be in [0, 5]", a.temperature)));
    }
    if a.max_tokens == 0 || a.max_tokens > 8192 {
        return Err(CliError::bad(format!("--max-tokens {} must be in 1..=8192", a.max_tokens)));
    }
    if a.backend == "sim" {
        return Ok(None);
    }
    if let Some(path) = a.backend.strip_prefix("local:") {
        return Ok(Some(Box::new(local::Local::open(path, a)?)));
    }
    if let Some(url) = a.backend.strip_prefix("openai:") {
        return Ok(Some(Box::new(openai::OpenAi::open(url, a)?)));
    }
    Err(CliError::bad(format!("--backend {:?}: expected sim, local:MODEL.gguf or openai:URL", a.backend)))
}

/// Seed for an ask's sampling: the run's seed and the ask's id, mixed (SplitMix64's finalizer).
fn ask_seed(run_seed: u64, ask_id: u64) -> u64 {
    let mut z = run_seed ^ ask_id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What a failed ask answers: no answer, and the reason in the text (logged, counted).
fn failed_reply(req: &AskRequest, answer: &Answer, why: &str) -> AgentReply {
    let text = if answer.text.trim().is_empty() {
        format!("⚠ {} could not answer: {why}", req.agent_name)
    } else {
        format!("{}\n\n⚠ {} was cut off: {why}", answer.text, req.agent_name)
    };
    AgentReply::from_text(None, None, text, answer.prompt_tokens + answer.completion_tokens)
}

/// Asks answered and failed over a drive.
#[derive(Clone, Debug, Default)]
pub struct DriveCounts {
    pub asks: usize,
    pub failed: usize,
    pub waves: usize,
    /// Why the first failed ask failed.
    pub first_error: Option<String>,
}

/// A drive whose every ask failed is a failure of the command (exit 1), after its log and
/// report are out; some failed asks are part of the record (logged as error events).
pub fn check_failures(c: &DriveCounts) -> Result<(), CliError> {
    if c.asks > 0 && c.failed == c.asks {
        return Err(CliError::Failed(format!("every one of the {} asks failed: {}", c.asks, c.first_error.as_deref().unwrap_or("unknown reason"))));
    }
    if c.failed > 0 {
        eprintln!("council: {} of {} asks failed (logged as errors): {}", c.failed, c.asks, c.first_error.as_deref().unwrap_or(""));
    }
    Ok(())
}

/// Drives every run to its end, each wave of all unfinished runs' pending asks at once.
pub fn drive(runs: &mut [Run], backend: &mut dyn Backend) -> Result<DriveCounts, CliError> {
    let mut counts = DriveCounts::default();
    loop {
        let mut asks = Vec::new();
        let mut index: Vec<(usize, usize, AskRequest)> = Vec::new();
        for (r, run) in runs.iter().enumerate() {
            if run.is_done() {
                continue;
            }
            let s = run.scenario();
            for (i, req) in run.pending_asks().iter().enumerate() {
                asks.push(WaveAsk { prompt: prompt::render(&s.prompts, &s.mechanism.kind, req), seed: ask_seed(run.seed(), req.id) });
                index.push((r, i, req.clone()));
            }
        }
        if asks.is_empty() {
            if runs.iter().any(|r| !r.is_done()) {
                return Err(CliError::Failed("a run waits for replies but asks nothing".into()));
            }
            return Ok(counts);
        }
        let round = index.iter().map(|(_, _, q)| q.round).max().unwrap_or(0);
        let answers = backend.wave(round, &asks);
        if answers.len() != asks.len() {
            return Err(CliError::Failed(format!("the backend answered {} of {} asks", answers.len(), asks.len())));
        }
        counts.waves += 1;
        for ((r, i, req), a) in index.into_iter().zip(answers) {
            counts.asks += 1;
            let reply = match &a.error {
                Some(why) => {
                    counts.failed += 1;
                    counts.first_error.get_or_insert_with(|| why.clone());
                    failed_reply(&req, &a, why)
                }
                None => council_core::parse::reply(&req, &a.text, a.prompt_tokens + a.completion_tokens),
            };
            runs[r].answer_at(i, reply).map_err(CliError::Failed)?;
        }
    }
}
