//! LLM agents for `council run` and `council sweep` (`--backend local:MODEL.gguf` or
//! `--backend openai:URL`): a native driver loop that steps core `Run`s, renders each pending
//! ask's prompt (core's `prompt` module; never from the hidden `sim` facts), sends a whole wave
//! to the backend at once, parses the replies (core's `parse`) and hands them back with
//! `run.answer_at`. Several runs (a sweep's seeds) are driven together: their waves merge into
//! one batch, so the local engine decodes them in the same steps.
//!
//! `--agent ID=BACKEND` gives one agent another backend (a drafter model, the remote side of
//! `escalate`); [`Routes`] sends each ask to its agent's backend. Token-level asks
//! (`speculate`, `fuse`: an ask naming a partner agent) need both agents on local models and
//! run in the CPU engine here ([`joint`]), the reply's pieces saying who wrote each token.
//!
//! A failed ask never loses the run: it is answered with no answer and a text saying why (the
//! engine logs it as an unparsed reply with an error event), as the page's driver does.

pub mod joint;
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
    /// One agent's backend instead of --backend (repeatable), e.g. `1=local:DRAFTER.gguf` for
    /// a `speculative` drafter or `1=openai:URL` for the remote side of `escalate`; `sim`
    /// keeps that agent simulated.
    #[arg(long = "agent", value_name = "ID=sim|local:MODEL.gguf|openai:URL")]
    pub agents: Vec<String>,
}

/// One ask of a wave, ready for a backend.
pub struct WaveAsk {
    pub prompt: Prompt,
    /// The ask itself (whose agent, and for token-level asks the partner).
    pub req: AskRequest,
    /// For token-level asks: the partner's rendering of the same ask (its name and role).
    pub partner_prompt: Option<Prompt>,
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
    /// Token-level asks: who wrote each token.
    pub pieces: Vec<council_core::event::Piece>,
}

/// Something that answers a wave of asks.
pub trait Backend {
    /// Answers every ask, in order. Failures are answers with `error` set.
    fn wave(&mut self, round: u32, asks: &[WaveAsk]) -> Vec<Answer>;
    /// What the backend measured, for `--json` (`null` fields where nothing applies).
    fn report(&self) -> Value;
    /// One line for human output.
    fn summary(&self) -> String;
    /// The local model that answers `agent`'s asks, for token-level asks (None: no token-level
    /// access, e.g. a remote API).
    fn engine(&self, _agent: u32) -> Option<joint::Engine> {
        None
    }
    /// Whether `agent` is simulated (answered by the run itself, not by this backend).
    fn simulated(&self, _agent: u32) -> bool {
        false
    }
}

/// Backends per agent: `--agent` overrides, else the `--backend` one (None: simulated).
pub struct Routes {
    default: Option<Box<dyn Backend>>,
    agents: Vec<(u32, Option<Box<dyn Backend>>)>,
}

impl Routes {
    fn slot(&self, agent: u32) -> Option<&dyn Backend> {
        match self.agents.iter().find(|(a, _)| *a == agent) {
            Some((_, b)) => b.as_deref(),
            None => self.default.as_deref(),
        }
    }

    /// Index of the backend answering `agent`: 0 the default, i + 1 the i-th override.
    fn index(&self, agent: u32) -> usize {
        self.agents.iter().position(|(a, _)| *a == agent).map_or(0, |i| i + 1)
    }

    fn backend_mut(&mut self, index: usize) -> Option<&mut (dyn Backend + 'static)> {
        if index == 0 { self.default.as_deref_mut() } else { self.agents[index - 1].1.as_deref_mut() }
    }
}

impl Backend for Routes {
    fn wave(&mut self, round: u32, asks: &[WaveAsk]) -> Vec<Answer> {
        let mut answers = vec![Answer::default(); asks.len()];
        for index in 0..=self.agents.len() {
            let mine: Vec<usize> = (0..asks.len()).filter(|&i| self.index(asks[i].req.agent) == index).collect();
            if mine.is_empty() {
                continue;
            }
            let Some(b) = self.backend_mut(index) else { continue };
            let part: Vec<WaveAsk> = mine
                .iter()
                .map(|&i| WaveAsk { prompt: asks[i].prompt.clone(), req: asks[i].req.clone(), partner_prompt: asks[i].partner_prompt.clone(), seed: asks[i].seed })
                .collect();
            for (i, a) in mine.into_iter().zip(b.wave(round, &part)) {
                answers[i] = a;
            }
        }
        answers
    }

    fn report(&self) -> Value {
        let agents: serde_json::Map<String, Value> =
            self.agents.iter().map(|(a, b)| (a.to_string(), b.as_ref().map_or(Value::String("sim".into()), |b| b.report()))).collect();
        serde_json::json!({"backend": "routes", "default": self.default.as_ref().map(|b| b.report()), "agents": agents})
    }

    fn summary(&self) -> String {
        let mut lines: Vec<String> = self.default.iter().map(|b| b.summary()).collect();
        lines.extend(self.agents.iter().filter_map(|(a, b)| b.as_ref().map(|b| format!("agent {a}: {}", b.summary()))));
        lines.join("\n")
    }

    fn engine(&self, agent: u32) -> Option<joint::Engine> {
        self.slot(agent)?.engine(agent)
    }

    fn simulated(&self, agent: u32) -> bool {
        self.slot(agent).is_none_or(|b| b.simulated(agent))
    }
}

/// Most `--agent` overrides.
const MAX_AGENT_FLAGS: usize = 8;

fn open_one(spec: &str, a: &BackendArgs) -> Result<Option<Box<dyn Backend>>, CliError> {
    if spec == "sim" {
        return Ok(None);
    }
    if let Some(path) = spec.strip_prefix("local:") {
        return Ok(Some(Box::new(local::Local::open(path, a)?)));
    }
    if let Some(url) = spec.strip_prefix("openai:") {
        return Ok(Some(Box::new(openai::OpenAi::open(url, a)?)));
    }
    Err(CliError::bad(format!("backend {:?}: expected sim, local:MODEL.gguf or openai:URL", spec.chars().take(80).collect::<String>())))
}

/// The backend `--backend` names; `None` for simulated agents. Bad flags are exit-2 errors.
pub fn open(a: &BackendArgs) -> Result<Option<Box<dyn Backend>>, CliError> {
    if !(a.temperature >= 0.0 && a.temperature <= 5.0) {
        return Err(CliError::bad(format!("--temperature {} must be in [0, 5]", a.temperature)));
    }
    if a.max_tokens == 0 || a.max_tokens > 8192 {
        return Err(CliError::bad(format!("--max-tokens {} must be in 1..=8192", a.max_tokens)));
    }
    if a.agents.len() > MAX_AGENT_FLAGS {
        return Err(CliError::bad(format!("--agent given {} times, at most {MAX_AGENT_FLAGS}", a.agents.len())));
    }
    let default = open_one(&a.backend, a).map_err(|e| match e {
        CliError::BadInput(m) => CliError::bad(format!("--backend: {m}")),
        other => other,
    })?;
    if a.agents.is_empty() {
        return Ok(default);
    }
    let mut agents = Vec::new();
    for spec in &a.agents {
        let (id, backend) = spec.split_once('=').ok_or_else(|| CliError::bad(format!("--agent {:?}: expected ID=BACKEND", spec.chars().take(80).collect::<String>())))?;
        let id: u32 = id.parse().ok().filter(|&i| i < 128).ok_or_else(|| CliError::bad(format!("--agent {id:?}: the agent id must be 0 to 127")))?;
        if agents.iter().any(|(a, _)| *a == id) {
            return Err(CliError::bad(format!("--agent {id} given twice")));
        }
        agents.push((id, open_one(backend, a)?));
    }
    Ok(Some(Box::new(Routes { default, agents })))
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
        let mut simulated: Vec<(usize, usize)> = Vec::new();
        let mut joints: Vec<(usize, usize, WaveAsk)> = Vec::new();
        for (r, run) in runs.iter().enumerate() {
            if run.is_done() {
                continue;
            }
            let s = run.scenario();
            for (i, req) in run.pending_asks().iter().enumerate() {
                if backend.simulated(req.agent) {
                    simulated.push((r, i));
                    continue;
                }
                let partner_prompt = req.for_partner().map(|p| prompt::render(&s.prompts, &s.mechanism.kind, &p));
                let ask = WaveAsk { prompt: prompt::render(&s.prompts, &s.mechanism.kind, req), req: req.clone(), partner_prompt, seed: ask_seed(run.seed(), req.id) };
                if joint::is_joint(req) {
                    joints.push((r, i, ask));
                } else {
                    asks.push(ask);
                    index.push((r, i, req.clone()));
                }
            }
        }
        // Simulated agents and token-level asks are answered here, one by one; the rest go to
        // the backends as one wave.
        let progressed = !simulated.is_empty() || !joints.is_empty();
        let mut answered: Vec<(usize, usize, AgentReply)> = simulated.iter().map(|&(r, i)| (r, i, runs[r].simulate(i))).collect();
        for (r, i, ask) in joints {
            counts.asks += 1;
            let a = joint::answer(backend, &ask);
            let reply = match &a.error {
                Some(why) => {
                    counts.failed += 1;
                    counts.first_error.get_or_insert_with(|| why.clone());
                    failed_reply(&ask.req, &a, why)
                }
                None => {
                    let mut reply = council_core::parse::reply(&ask.req, &a.text, a.prompt_tokens + a.completion_tokens);
                    reply.pieces = a.pieces;
                    reply
                }
            };
            answered.push((r, i, reply));
        }
        // Answer from the highest index down, so earlier indices stay valid.
        answered.sort_by_key(|a| std::cmp::Reverse((a.0, a.1)));
        for (r, i, reply) in answered {
            runs[r].answer_at(i, reply).map_err(CliError::Failed)?;
        }
        if asks.is_empty() && progressed {
            continue;
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
