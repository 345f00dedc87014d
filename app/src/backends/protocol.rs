//! The wire formats of remote chat APIs, as pure functions (tested natively): building a
//! streaming request for a profile, reading its stream (SSE or NDJSON) into text deltas
//! and token usage, and deciding what an HTTP status means (retry, or stop with a clear
//! sentence).
//!
//! - OpenAI-compatible chat completions (`POST {url}/chat/completions`, SSE `data:` lines,
//!   `[DONE]`): OpenAI, OpenRouter, vLLM, llama.cpp server, LM Studio. `url` is the API
//!   base, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8000/v1`.
//! - Anthropic Messages (`POST {url}/v1/messages`, SSE events `content_block_delta`,
//!   `message_delta`, ...); `url` is e.g. `https://api.anthropic.com`.
//! - Ollama (`POST {url}/api/chat`, one JSON object per line); `url` is e.g.
//!   `http://127.0.0.1:11434`.

use council_core::prompt::Prompt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Which API a profile speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ApiKind {
    #[default]
    Openai,
    Anthropic,
    Ollama,
}

impl ApiKind {
    pub const ALL: [ApiKind; 3] = [ApiKind::Openai, ApiKind::Anthropic, ApiKind::Ollama];

    pub fn name(self) -> &'static str {
        match self {
            ApiKind::Openai => "openai",
            ApiKind::Anthropic => "anthropic",
            ApiKind::Ollama => "ollama",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ApiKind::Openai => "OpenAI-compatible (OpenAI, OpenRouter, vLLM, llama.cpp, LM Studio)",
            ApiKind::Anthropic => "Anthropic Messages",
            ApiKind::Ollama => "Ollama",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

/// A remote backend as the user configured it. Lives only in this browser's
/// localStorage: never in scenarios, links, exports or run logs.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// What scenarios refer to (`remote:<name>`).
    pub name: String,
    pub kind: ApiKind,
    /// API base URL; requests go only here.
    pub url: String,
    #[serde(default)]
    pub key: String,
    pub model: String,
    pub max_tokens: u32,
    #[serde(default)]
    pub temperature: Option<f64>,
    /// USD per million prompt tokens (0 = unknown or free).
    #[serde(default)]
    pub price_in: f64,
    /// USD per million completion tokens.
    #[serde(default)]
    pub price_out: f64,
}

/// Never prints the key.
impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("key", &if self.key.is_empty() { "" } else { "***" })
            .field("model", &self.model)
            .field("max_tokens", &self.max_tokens)
            .finish()
    }
}

impl Profile {
    /// Checks what the settings form can get wrong; one sentence naming the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() || self.name.len() > 64 || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
            return Err("profile name: use 1-64 letters, digits, - _ or .".into());
        }
        let u = self.url.trim();
        let origin = crate::csp::origin_of(u);
        if !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 512 || u.contains(char::is_whitespace) || origin.is_none() {
            return Err(format!("profile {}: the URL must start with http:// or https:// and name a plain host (no user name or odd characters)", self.name));
        }
        // The key travels in the request: plain http only to a server on this machine.
        // (The page's Content-Security-Policy refuses other plain-http hosts as well.)
        if u.starts_with("http://") && !crate::csp::LOOPBACK.iter().any(|l| crate::csp::allows(&[l.to_string()], "", u)) {
            return Err(format!("profile {}: use https:// (plain http:// is only for a server on this machine: 127.0.0.1 or localhost)", self.name));
        }
        if self.key.chars().any(|c| !(' '..='~').contains(&c)) {
            return Err(format!("profile {}: the key has characters an HTTP header cannot carry (only printable ASCII)", self.name));
        }
        if self.model.trim().is_empty() && self.kind != ApiKind::Openai {
            return Err(format!("profile {}: the model name is empty", self.name));
        }
        if !(1..=32_768).contains(&self.max_tokens) {
            return Err(format!("profile {}: max tokens must be 1 to 32768", self.name));
        }
        if self.key.contains(['\n', '\r']) {
            return Err(format!("profile {}: the key has a line break", self.name));
        }
        Ok(())
    }

    /// Estimated cost in USD of `usage` at this profile's prices.
    pub fn cost(&self, usage: &Usage) -> f64 {
        (f64::from(usage.prompt) * self.price_in + f64::from(usage.completion) * self.price_out) / 1e6
    }

    /// Replaces the key (and its first 8 characters, which some APIs echo) in a message.
    pub fn redact(&self, msg: &str) -> String {
        let mut m = msg.to_string();
        if self.key.len() >= 4 {
            m = m.replace(&self.key, "***");
            let head: String = self.key.chars().take(8).collect();
            if head.len() >= 6 {
                m = m.replace(&head, "***");
            }
        }
        m
    }
}

/// One HTTP request, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub url: String,
    /// Header name and value; the key is in here, so never log this.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim().trim_end_matches('/'), path.trim_start_matches('/'))
}

/// The streaming chat request for `prompt` under `profile`.
pub fn build_request(profile: &Profile, prompt: &Prompt) -> HttpRequest {
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    let (url, body) = match profile.kind {
        ApiKind::Openai => {
            if !profile.key.is_empty() {
                headers.push(("Authorization".into(), format!("Bearer {}", profile.key)));
            }
            let mut body = json!({
                "model": profile.model,
                "messages": [
                    {"role": "system", "content": prompt.system},
                    {"role": "user", "content": prompt.user},
                ],
                "max_tokens": profile.max_tokens,
                "stream": true,
                "stream_options": {"include_usage": true},
            });
            if let Some(t) = profile.temperature {
                body["temperature"] = json!(t);
            }
            (join(&profile.url, "chat/completions"), body)
        }
        ApiKind::Anthropic => {
            headers.push(("x-api-key".into(), profile.key.clone()));
            headers.push(("anthropic-version".into(), "2023-06-01".into()));
            // Required for calls straight from a page (the user's own key, their choice).
            headers.push(("anthropic-dangerous-direct-browser-access".into(), "true".into()));
            let mut body = json!({
                "model": profile.model,
                "max_tokens": profile.max_tokens,
                "system": prompt.system,
                "messages": [{"role": "user", "content": prompt.user}],
                "stream": true,
            });
            if let Some(t) = profile.temperature {
                body["temperature"] = json!(t);
            }
            let base = profile.url.trim().trim_end_matches('/');
            let url = if base.ends_with("/v1") { join(base, "messages") } else { join(base, "v1/messages") };
            (url, body)
        }
        ApiKind::Ollama => {
            if !profile.key.is_empty() {
                headers.push(("Authorization".into(), format!("Bearer {}", profile.key)));
            }
            let mut options = json!({"num_predict": profile.max_tokens});
            if let Some(t) = profile.temperature {
                options["temperature"] = json!(t);
            }
            let body = json!({
                "model": profile.model,
                "messages": [
                    {"role": "system", "content": prompt.system},
                    {"role": "user", "content": prompt.user},
                ],
                "stream": true,
                "options": options,
            });
            (join(&profile.url, "api/chat"), body)
        }
    };
    HttpRequest { url, headers, body: body.to_string() }
}

/// Token counts an API reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt: u32,
    pub completion: u32,
}

/// What one piece of a stream said.
#[derive(Debug, Clone, PartialEq)]
pub enum Chunk {
    Text(String),
    /// Usage so far (fields the API did not report stay 0 and are merged by the caller).
    Usage(Usage),
    Done,
    /// The API reported an error inside the stream.
    Error(String),
}

/// Reads a response body as it arrives: bytes in, chunks out. Lines are split on `\n`
/// before decoding, so a multi-byte character cut between two network reads is safe.
#[derive(Debug)]
pub struct StreamReader {
    kind: ApiKind,
    buf: Vec<u8>,
}

/// Longest line kept while waiting for its end (a hostile server cannot grow memory
/// without bound).
const MAX_LINE: usize = 1 << 20;

impl StreamReader {
    pub fn new(kind: ApiKind) -> Self {
        StreamReader { kind, buf: Vec::new() }
    }

    /// Feeds bytes; returns the chunks of every complete line.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Chunk> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(nl) = self.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=nl).collect();
            let text = String::from_utf8_lossy(&line);
            self.line(text.trim_end_matches(['\n', '\r']), &mut out);
        }
        if self.buf.len() > MAX_LINE {
            self.buf.clear();
            out.push(Chunk::Error("the server sent a line longer than 1 MiB".into()));
        }
        out
    }

    /// Flushes a last line that had no newline.
    pub fn finish(&mut self) -> Vec<Chunk> {
        let mut out = Vec::new();
        if !self.buf.is_empty() {
            let line = std::mem::take(&mut self.buf);
            let text = String::from_utf8_lossy(&line).to_string();
            self.line(text.trim(), &mut out);
        }
        out
    }

    fn line(&self, line: &str, out: &mut Vec<Chunk>) {
        let line = line.trim();
        if line.is_empty() || line.starts_with(':') || line.starts_with("event:") || line.starts_with("id:") || line.starts_with("retry:") {
            return;
        }
        let data = match self.kind {
            ApiKind::Ollama => line,
            _ => match line.strip_prefix("data:") {
                Some(d) => d.trim(),
                // Not SSE: a plain JSON error body sent with a 200, or noise.
                None if line.starts_with('{') => line,
                None => return,
            },
        };
        if data == "[DONE]" {
            out.push(Chunk::Done);
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(data) else { return };
        if let Some(e) = error_message(&v) {
            out.push(Chunk::Error(e));
            return;
        }
        match self.kind {
            ApiKind::Openai => openai_chunk(&v, out),
            ApiKind::Anthropic => anthropic_chunk(&v, out),
            ApiKind::Ollama => ollama_chunk(&v, out),
        }
    }
}

fn u32_at(v: &Value, path: &[&str]) -> u32 {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(x) => cur = x,
            None => return 0,
        }
    }
    cur.as_u64().map_or(0, |x| x.min(u64::from(u32::MAX)) as u32)
}

fn openai_chunk(v: &Value, out: &mut Vec<Chunk>) {
    if let Some(choices) = v.get("choices").and_then(Value::as_array) {
        for c in choices {
            let text = c
                .pointer("/delta/content")
                .and_then(Value::as_str)
                .or_else(|| c.pointer("/message/content").and_then(Value::as_str))
                .or_else(|| c.get("text").and_then(Value::as_str));
            if let Some(t) = text.filter(|t| !t.is_empty()) {
                out.push(Chunk::Text(t.to_string()));
            }
        }
    }
    if v.get("usage").is_some_and(|u| u.is_object()) {
        out.push(Chunk::Usage(Usage { prompt: u32_at(v, &["usage", "prompt_tokens"]), completion: u32_at(v, &["usage", "completion_tokens"]) }));
    }
}

fn anthropic_chunk(v: &Value, out: &mut Vec<Chunk>) {
    match v.get("type").and_then(Value::as_str).unwrap_or("") {
        "content_block_delta" => {
            if let Some(t) = v.pointer("/delta/text").and_then(Value::as_str) {
                out.push(Chunk::Text(t.to_string()));
            }
        }
        "content_block_start" => {
            if let Some(t) = v.pointer("/content_block/text").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                out.push(Chunk::Text(t.to_string()));
            }
        }
        "message_start" => out.push(Chunk::Usage(Usage {
            prompt: u32_at(v, &["message", "usage", "input_tokens"]),
            completion: u32_at(v, &["message", "usage", "output_tokens"]),
        })),
        "message_delta" => out.push(Chunk::Usage(Usage { prompt: u32_at(v, &["usage", "input_tokens"]), completion: u32_at(v, &["usage", "output_tokens"]) })),
        "message_stop" => out.push(Chunk::Done),
        _ => {}
    }
}

fn ollama_chunk(v: &Value, out: &mut Vec<Chunk>) {
    let text = v.pointer("/message/content").and_then(Value::as_str).or_else(|| v.get("response").and_then(Value::as_str));
    if let Some(t) = text.filter(|t| !t.is_empty()) {
        out.push(Chunk::Text(t.to_string()));
    }
    if v.get("done").and_then(Value::as_bool) == Some(true) {
        out.push(Chunk::Usage(Usage { prompt: u32_at(v, &["prompt_eval_count"]), completion: u32_at(v, &["eval_count"]) }));
        out.push(Chunk::Done);
    }
}

/// The error sentence of an API error object, in any of the common shapes.
pub fn error_message(v: &Value) -> Option<String> {
    let e = v.get("error")?;
    let msg = match e {
        Value::String(s) => s.clone(),
        Value::Object(_) => e
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string()),
        Value::Null => return None,
        other => other.to_string(),
    };
    Some(msg.chars().take(300).collect())
}

/// What to do after an HTTP status.
#[derive(Debug, Clone, PartialEq)]
pub enum StatusAction {
    Ok,
    /// Try again after a pause (429, 5xx, 408).
    Retry(String),
    /// Give up on this profile for this run (wrong key, no such model...).
    Fatal(String),
}

/// Classifies a response status; `body` is the error body (already redacted).
pub fn classify(status: u16, body: &str) -> StatusAction {
    let detail = serde_json::from_str::<Value>(body).ok().and_then(|v| error_message(&v)).unwrap_or_else(|| body.chars().take(200).collect());
    let detail = if detail.trim().is_empty() { String::new() } else { format!(": {}", detail.trim()) };
    match status {
        200..=299 => StatusAction::Ok,
        401 | 403 => StatusAction::Fatal(format!("HTTP {status}: the API refused the key (check the profile's key){detail}")),
        404 => StatusAction::Fatal(format!("HTTP 404: no such endpoint or model (check the URL and model name){detail}")),
        408 | 409 | 425 | 429 => StatusAction::Retry(format!("HTTP {status}: rate limited or busy{detail}")),
        500..=599 => StatusAction::Retry(format!("HTTP {status}: server error{detail}")),
        _ => StatusAction::Fatal(format!("HTTP {status}{detail}")),
    }
}

/// Milliseconds to wait before retry `attempt` (1-based): the server's Retry-After when it
/// sent one (capped at 60 s), else exponential from 1 s with ±20% jitter (`jitter` in 0..1).
pub fn backoff_ms(attempt: u32, retry_after: Option<&str>, jitter: f64) -> u32 {
    if let Some(secs) = retry_after.and_then(|s| s.trim().parse::<f64>().ok()).filter(|s| s.is_finite() && *s >= 0.0) {
        return (secs.min(60.0) * 1000.0) as u32;
    }
    let base = 1000.0 * 2f64.powi(attempt.saturating_sub(1).min(6) as i32);
    (base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))).min(60_000.0) as u32
}

#[cfg(test)]
mod tests;
