//! `--backend openai:URL`: each ask is one chat-completions request to an OpenAI-compatible
//! server (llama.cpp's server, vLLM, a hosted API), a wave's asks in flight together up to
//! `--concurrency`. 429 and 5xx answers and network failures are retried with exponential
//! backoff (a numeric `Retry-After` is honoured, capped); a refused key (401/403) stops every
//! further call of the run; each request has a deadline (`--timeout`).
//!
//! The key comes from `$COUNCIL_API_KEY` and is only ever sent in the `Authorization` header:
//! URLs with credentials are refused, messages show the URL without its query, and any text
//! quoted from a server has the key blanked out.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Answer, Backend, BackendArgs, WaveAsk};
use crate::CliError;

/// Most bytes of a response body read.
const MAX_BODY: u64 = 4 << 20;
/// Longest wait before a retry, whatever the server asks for.
const MAX_WAIT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    retries: AtomicU64,
    failed: AtomicU64,
}

struct WaveStats {
    round: u32,
    asks: usize,
    wall_ms: f64,
    prompt_tokens: u64,
    completion_tokens: u64,
}

pub struct OpenAi {
    endpoint: String,
    /// The URL as messages show it (no query).
    shown: String,
    key: Option<String>,
    model: String,
    concurrency: usize,
    attempts: u32,
    max_tokens: u32,
    temperature: f32,
    agent: ureq::Agent,
    counters: Counters,
    /// Why the server refused the key, once it has: no more calls for the rest of the run.
    refused: Mutex<Option<String>>,
    waves: Vec<WaveStats>,
}

/// How one attempt went wrong.
enum Failure {
    /// Worth another attempt (after the server's `Retry-After`, when it gave one).
    Retry(String, Option<Duration>),
    /// Not worth retrying; `refused` when the key was refused.
    Fatal { why: String, refused: bool },
}

/// Checks `url` and returns (chat-completions endpoint, URL as shown).
fn endpoint(url: &str) -> Result<(String, String), CliError> {
    let bad = |why: &str| CliError::bad(format!("--backend openai:URL: {why}"));
    let url = url.trim();
    let rest = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")).ok_or_else(|| bad("the URL must start with http:// or https://"))?;
    if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("not a URL"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err(bad("the URL has no host"));
    }
    if authority.contains('@') {
        return Err(bad("credentials in the URL would end up in logs; put the key in $COUNCIL_API_KEY"));
    }
    if url.starts_with("https://") && !cfg!(feature = "tls") {
        return Err(bad("this build has no TLS; use an http:// server"));
    }
    let no_fragment = url.split('#').next().unwrap_or(url);
    let (path, query) = match no_fragment.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (no_fragment, None),
    };
    let path = path.trim_end_matches('/');
    let full = if path.ends_with("/chat/completions") { path.to_string() } else { format!("{path}/chat/completions") };
    let endpoint = match query {
        Some(q) => format!("{full}?{q}"),
        None => full.clone(),
    };
    Ok((endpoint, full))
}

impl OpenAi {
    pub fn open(url: &str, a: &BackendArgs) -> Result<Self, CliError> {
        let (endpoint, shown) = endpoint(url)?;
        if a.concurrency == 0 || a.concurrency > 256 {
            return Err(CliError::bad(format!("--concurrency {} must be in 1..=256", a.concurrency)));
        }
        if a.attempts == 0 || a.attempts > 20 {
            return Err(CliError::bad(format!("--attempts {} must be in 1..=20", a.attempts)));
        }
        if a.timeout == 0 || a.timeout > 3600 {
            return Err(CliError::bad(format!("--timeout {} must be in 1..=3600 seconds", a.timeout)));
        }
        if a.remote_model.is_empty() || a.remote_model.len() > 256 {
            return Err(CliError::bad("--remote-model must be 1 to 256 characters"));
        }
        let key = std::env::var("COUNCIL_API_KEY").ok().map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
        if let Some(k) = &key
            && k.chars().any(|c| c.is_control() || c == ' ')
        {
            return Err(CliError::bad("$COUNCIL_API_KEY holds spaces or control characters"));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(a.timeout)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(Self {
            endpoint,
            shown,
            key,
            model: a.remote_model.clone(),
            concurrency: a.concurrency,
            attempts: a.attempts,
            max_tokens: a.max_tokens,
            temperature: a.temperature,
            agent,
            counters: Counters::default(),
            refused: Mutex::new(None),
            waves: Vec::new(),
        })
    }

    /// `text` with the key blanked out (a server may echo what it was sent).
    fn redact(&self, text: &str) -> String {
        match &self.key {
            Some(k) if k.len() >= 4 => text.replace(k.as_str(), "[key]"),
            _ => text.to_string(),
        }
    }

    fn attempt(&self, ask: &WaveAsk) -> Result<Answer, Failure> {
        let body = json!({
            "model": self.model,
            "messages": [{"role": "system", "content": ask.prompt.system}, {"role": "user", "content": ask.prompt.user}],
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "seed": ask.seed % (1 << 31),
            "stream": false,
        });
        let mut req = self.agent.post(&self.endpoint).header("Content-Type", "application/json");
        if let Some(k) = &self.key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        self.counters.calls.fetch_add(1, Ordering::Relaxed);
        let resp = match req.send(body.to_string()) {
            Ok(r) => r,
            Err(e) => return Err(Failure::Retry(self.redact(&format!("{}: {e}", self.shown)), None)),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s).min(MAX_WAIT));
        let text = resp.into_body().with_config().limit(MAX_BODY).read_to_string();
        let text = match text {
            Ok(t) => t,
            Err(e) if (200..300).contains(&status) => return Err(Failure::Retry(format!("reading the reply: {e}"), None)),
            Err(_) => String::new(),
        };
        if !(200..300).contains(&status) {
            let detail: String = self.redact(&error_detail(&text)).chars().take(200).collect();
            let why = format!("{} answered HTTP {status}{}{detail}", self.shown, if detail.is_empty() { "" } else { ": " });
            return Err(match status {
                429 | 500..=599 | 408 => Failure::Retry(why, retry_after),
                401 | 403 => Failure::Fatal { why: format!("{why} (the key was refused)"), refused: true },
                _ => Failure::Fatal { why, refused: false },
            });
        }
        let v: Value = serde_json::from_str(&text).map_err(|e| Failure::Fatal { why: format!("{} sent a reply that is not JSON: {e}", self.shown), refused: false })?;
        let content = v["choices"][0]["message"]["content"].as_str().ok_or_else(|| Failure::Fatal {
            why: format!("{} sent no choices[0].message.content", self.shown),
            refused: false,
        })?;
        let count = |k: &str| v["usage"][k].as_u64().map_or(0, |n| n.min(u64::from(u32::MAX)) as u32);
        Ok(Answer { text: content.to_string(), prompt_tokens: count("prompt_tokens"), completion_tokens: count("completion_tokens"), error: None, pieces: Vec::new() })
    }

    fn ask(&self, ask: &WaveAsk) -> Answer {
        let refused = &self.refused;
        let mut last = String::from("no attempt was made");
        for attempt in 1..=self.attempts {
            if let Some(why) = refused.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                return Answer { error: Some(format!("not sent: the server refused the key earlier ({why})")), ..Answer::default() };
            }
            match self.attempt(ask) {
                Ok(a) => return a,
                Err(Failure::Fatal { why, refused: r }) => {
                    if r {
                        *refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(why.clone());
                    }
                    return Answer { error: Some(why), ..Answer::default() };
                }
                Err(Failure::Retry(why, wait)) => {
                    last = why;
                    if attempt < self.attempts {
                        self.counters.retries.fetch_add(1, Ordering::Relaxed);
                        let backoff = Duration::from_millis(500u64 << (attempt - 1).min(6)).min(MAX_WAIT);
                        std::thread::sleep(wait.unwrap_or(backoff));
                    }
                }
            }
        }
        Answer { error: Some(format!("{last} (after {} attempts)", self.attempts)), ..Answer::default() }
    }
}

/// The `error.message` of an OpenAI-style error body, else the body's start.
fn error_detail(body: &str) -> String {
    let v: Option<Value> = serde_json::from_str(body).ok();
    let msg = v.as_ref().and_then(|v| v["error"]["message"].as_str().or_else(|| v["error"].as_str()).or_else(|| v["detail"].as_str()));
    msg.unwrap_or(body).split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Backend for OpenAi {
    fn wave(&mut self, round: u32, asks: &[WaveAsk]) -> Vec<Answer> {
        let t0 = Instant::now();
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<Answer>>> = asks.iter().map(|_| Mutex::new(None)).collect();
        let this = &*self;
        std::thread::scope(|s| {
            for _ in 0..this.concurrency.min(asks.len()) {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(ask) = asks.get(i) else { break };
                        let a = this.ask(ask);
                        *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(a);
                    }
                });
            }
        });
        let answers: Vec<Answer> = slots
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()).unwrap_or_else(|| Answer { error: Some("no answer".into()), ..Answer::default() }))
            .collect();
        self.counters.failed.fetch_add(answers.iter().filter(|a| a.error.is_some()).count() as u64, Ordering::Relaxed);
        self.waves.push(WaveStats {
            round,
            asks: asks.len(),
            wall_ms: t0.elapsed().as_secs_f64() * 1000.0,
            prompt_tokens: answers.iter().map(|a| u64::from(a.prompt_tokens)).sum(),
            completion_tokens: answers.iter().map(|a| u64::from(a.completion_tokens)).sum(),
        });
        answers
    }

    fn report(&self) -> Value {
        let waves: Vec<Value> = self
            .waves
            .iter()
            .map(|w| json!({"round": w.round, "asks": w.asks, "wall_ms": w.wall_ms, "prompt_tokens": w.prompt_tokens, "completion_tokens": w.completion_tokens}))
            .collect();
        json!({"backend": "openai", "url": self.shown, "model": self.model, "concurrency": self.concurrency, "key": self.key.is_some(),
            "calls": self.counters.calls.load(Ordering::Relaxed), "retries": self.counters.retries.load(Ordering::Relaxed),
            "failed_asks": self.counters.failed.load(Ordering::Relaxed), "waves": waves})
    }

    fn summary(&self) -> String {
        format!(
            "openai backend {}: {} requests ({} retries), {} asks failed",
            self.shown,
            self.counters.calls.load(Ordering::Relaxed),
            self.counters.retries.load(Ordering::Relaxed),
            self.counters.failed.load(Ordering::Relaxed)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::endpoint;

    fn ok(url: &str) -> (String, String) {
        endpoint(url).unwrap_or_else(|_| panic!("{url} is refused"))
    }

    #[test]
    fn urls_are_checked_and_shown_without_their_query() {
        assert_eq!(ok("http://127.0.0.1:8080/v1").0, "http://127.0.0.1:8080/v1/chat/completions");
        assert_eq!(ok("http://h/v1/").0, "http://h/v1/chat/completions");
        assert_eq!(ok("http://h/v1/chat/completions").0, "http://h/v1/chat/completions");
        let (e, shown) = ok("http://h/v1?api-version=2");
        assert_eq!((e.as_str(), shown.as_str()), ("http://h/v1/chat/completions?api-version=2", "http://h/v1/chat/completions"));
        for bad in ["ftp://h/v1", "h/v1", "http://", "http://user:pw@h/v1", "http://h/v 1"] {
            assert!(endpoint(bad).is_err(), "{bad}");
        }
    }
}
