//! Wire-format tests with streams captured in the shapes each API sends.

use super::*;

/// A made-up key: what the tests look for in headers, bodies and redacted messages.
const TEST_KEY: &str = "test-key-PLACEHOLDER123";

fn profile(kind: ApiKind) -> Profile {
    Profile {
        name: "p".into(),
        kind,
        url: "http://127.0.0.1:8000/v1/".into(),
        key: TEST_KEY.into(),
        model: "m".into(),
        max_tokens: 24,
        temperature: Some(0.0),
        price_in: 1.0,
        price_out: 2.0,
    }
}

fn prompt() -> Prompt {
    Prompt { system: "sys".into(), user: "What is 2+2?".into() }
}

fn texts(chunks: &[Chunk]) -> String {
    chunks.iter().filter_map(|c| if let Chunk::Text(t) = c { Some(t.as_str()) } else { None }).collect()
}

#[test]
fn openai_request_streams_to_the_profile_url_with_bearer_key() {
    let r = build_request(&profile(ApiKind::Openai), &prompt());
    assert_eq!(r.url, "http://127.0.0.1:8000/v1/chat/completions");
    assert!(r.headers.contains(&("Authorization".into(), format!("Bearer {TEST_KEY}"))));
    let b: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(b["stream"], true);
    assert_eq!(b["max_tokens"], 24);
    assert_eq!(b["messages"][0]["role"], "system");
    assert_eq!(b["messages"][1]["content"], "What is 2+2?");
    assert!(!r.body.contains("PLACEHOLDER"), "the key goes in a header, never the body");
}

#[test]
fn anthropic_and_ollama_requests() {
    let mut p = profile(ApiKind::Anthropic);
    p.url = "https://api.anthropic.com".into();
    let r = build_request(&p, &prompt());
    assert_eq!(r.url, "https://api.anthropic.com/v1/messages");
    assert!(r.headers.iter().any(|(k, v)| k == "x-api-key" && v == TEST_KEY));
    assert!(r.headers.iter().any(|(k, _)| k == "anthropic-version"));
    let b: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(b["system"], "sys");
    assert_eq!(b["messages"][0]["role"], "user");

    let mut p = profile(ApiKind::Ollama);
    p.url = "http://localhost:11434".into();
    p.key.clear();
    let r = build_request(&p, &prompt());
    assert_eq!(r.url, "http://localhost:11434/api/chat");
    assert!(!r.headers.iter().any(|(k, _)| k == "Authorization"));
    let b: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(b["options"]["num_predict"], 24);
}

#[test]
fn openai_sse_split_anywhere_gives_the_same_text_and_usage() {
    let stream = concat!(
        "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"Answer: \"}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{\"content\":\"B — ü\"}}]}\n\n",
        ": keep-alive\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":31,\"completion_tokens\":5}}\n\n",
        "data: [DONE]\n\n"
    )
    .as_bytes();
    // Every split point, including inside the multi-byte characters.
    for cut in 0..stream.len() {
        let mut r = StreamReader::new(ApiKind::Openai);
        let mut out = r.feed(&stream[..cut]);
        out.extend(r.feed(&stream[cut..]));
        out.extend(r.finish());
        assert_eq!(texts(&out), "Answer: B — ü", "cut at {cut}");
        assert!(out.contains(&Chunk::Usage(Usage { prompt: 31, completion: 5 })));
        assert_eq!(out.last(), Some(&Chunk::Done));
    }
}

#[test]
fn anthropic_events() {
    let stream = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":40,\"output_tokens\":1}}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Answer: C\"}}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9}}\n\n",
        "event: message_stop\n",
        "data: {\"type\":\"message_stop\"}\n\n",
    );
    let mut r = StreamReader::new(ApiKind::Anthropic);
    let out = r.feed(stream.as_bytes());
    assert_eq!(texts(&out), "Answer: C");
    assert!(out.contains(&Chunk::Usage(Usage { prompt: 40, completion: 1 })));
    assert!(out.contains(&Chunk::Usage(Usage { prompt: 0, completion: 9 })));
    assert_eq!(out.last(), Some(&Chunk::Done));
    let err = r.feed(b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n");
    assert_eq!(err, vec![Chunk::Error("Overloaded".into())]);
}

#[test]
fn ollama_ndjson() {
    let stream = concat!(
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"Answer\"},\"done\":false}\n",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\": 4\"},\"done\":false}\n",
        "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"prompt_eval_count\":12,\"eval_count\":3}"
    );
    let mut r = StreamReader::new(ApiKind::Ollama);
    let mut out = r.feed(stream.as_bytes());
    assert_eq!(texts(&out), "Answer: 4");
    assert!(!out.contains(&Chunk::Done), "the last line has no newline yet");
    out.extend(r.finish());
    assert_eq!(out.last(), Some(&Chunk::Done));
    assert_eq!(texts(&out), "Answer: 4");
    assert!(out.contains(&Chunk::Usage(Usage { prompt: 12, completion: 3 })));
    let mut r = StreamReader::new(ApiKind::Ollama);
    assert_eq!(r.feed(b"{\"error\":\"model 'x' not found\"}\n"), vec![Chunk::Error("model 'x' not found".into())]);
}

#[test]
fn statuses_map_to_retry_or_a_clear_stop() {
    assert_eq!(classify(200, ""), StatusAction::Ok);
    assert!(matches!(classify(429, "{\"error\":{\"message\":\"slow down\"}}"), StatusAction::Retry(m) if m.contains("slow down")));
    assert!(matches!(classify(503, "busy"), StatusAction::Retry(m) if m.contains("503")));
    assert!(matches!(classify(401, "{\"error\":\"bad key\"}"), StatusAction::Fatal(m) if m.contains("refused the key") && m.contains("bad key")));
    assert!(matches!(classify(404, ""), StatusAction::Fatal(m) if m.contains("model name")));
    assert!(matches!(classify(400, "{\"error\":{\"message\":\"context too long\"}}"), StatusAction::Fatal(m) if m.contains("context too long")));
}

#[test]
fn backoff_grows_and_honours_retry_after() {
    assert_eq!(backoff_ms(1, Some("3"), 0.5), 3000);
    assert_eq!(backoff_ms(1, Some("999"), 0.5), 60_000);
    assert_eq!(backoff_ms(1, None, 0.5), 1000);
    assert_eq!(backoff_ms(3, None, 0.5), 4000);
    assert!(backoff_ms(2, None, 0.0) < backoff_ms(2, None, 1.0));
    assert_eq!(backoff_ms(30, None, 1.0), 60_000);
    assert_eq!(backoff_ms(2, Some("soon"), 0.5), 2000, "unreadable Retry-After falls back");
}

#[test]
fn keys_never_show_in_debug_or_messages() {
    let p = profile(ApiKind::Openai);
    assert!(!format!("{p:?}").contains("SECRET"));
    assert_eq!(p.redact(&format!("Incorrect API key provided: {TEST_KEY}")), "Incorrect API key provided: ***");
    assert_eq!(p.redact("key test-key-P***"), "key ***-P***", "a prefix the API echoes is hidden too");
}

#[test]
fn profiles_validate_and_price_usage() {
    let mut p = profile(ApiKind::Openai);
    assert!(p.validate().is_ok());
    assert!((p.cost(&Usage { prompt: 1_000_000, completion: 500_000 }) - 2.0).abs() < 1e-12);
    p.url = "ftp://x".into();
    assert!(p.validate().unwrap_err().contains("URL"));
    p.url = "http://api.example.com/v1".into();
    assert!(p.validate().unwrap_err().contains("https://"), "plain http carries the key only to this machine");
    p.url = "https://user@api.example.com/v1".into();
    assert!(p.validate().unwrap_err().contains("plain host"));
    p.url = "https://api.example.com;script-src/v1".into();
    assert!(p.validate().is_err());
    p.url = "http://[::1]:8000/v1".into();
    assert!(p.validate().is_err(), "a CSP source list cannot name an IPv6 literal, so the page could not reach it");
    p.url = "http://localhost:8000/v1".into();
    assert!(p.validate().is_ok());
    p.url = "https://api.example.com/v1".into();
    assert!(p.validate().is_ok());
    p.key = "sk-\u{e9}t\u{e9}".into();
    assert!(p.validate().unwrap_err().contains("printable ASCII"));
    p.key = "sk-PLACEHOLDER".into();
    p.url = "http://localhost:8000/v1".into();
    p.name = "has space".into();
    assert!(p.validate().unwrap_err().contains("profile name"));
    p.name = "ok".into();
    p.max_tokens = 0;
    assert!(p.validate().unwrap_err().contains("max tokens"));
}

/// Feeds `stream` split at every byte and returns what each split produced (all must agree).
fn every_split(kind: ApiKind, stream: &[u8]) -> Vec<Chunk> {
    let mut first: Option<Vec<Chunk>> = None;
    for cut in 0..=stream.len() {
        let mut r = StreamReader::new(kind);
        let mut out = r.feed(&stream[..cut]);
        out.extend(r.feed(&stream[cut..]));
        out.extend(r.finish());
        match &first {
            None => first = Some(out),
            Some(f) => assert_eq!(&out, f, "{kind:?} stream cut at {cut}"),
        }
    }
    first.unwrap_or_default()
}

#[test]
fn anthropic_stream_as_the_api_sends_it_split_anywhere() {
    // The full event sequence of a Messages stream: ping, content block start/stop and
    // CRLF line ends, with a multi-byte character.
    let stream = concat!(
        "event: message_start\r\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\r\n\r\n",
        "event: content_block_start\r\n",
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\r\n\r\n",
        "event: ping\r\n",
        "data: {\"type\": \"ping\"}\r\n\r\n",
        "event: content_block_delta\r\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Answer: B \"}}\r\n\r\n",
        "event: content_block_delta\r\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"(confidence 0.8) — é\"}}\r\n\r\n",
        "event: content_block_stop\r\n",
        "data: {\"type\":\"content_block_stop\",\"index\":0}\r\n\r\n",
        "event: message_delta\r\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":12}}\r\n\r\n",
        "event: message_stop\r\n",
        "data: {\"type\":\"message_stop\"}\r\n\r\n",
    );
    let out = every_split(ApiKind::Anthropic, stream.as_bytes());
    assert_eq!(texts(&out), "Answer: B (confidence 0.8) — é");
    assert!(out.contains(&Chunk::Usage(Usage { prompt: 25, completion: 1 })));
    assert!(out.contains(&Chunk::Usage(Usage { prompt: 0, completion: 12 })));
    assert_eq!(out.iter().filter(|c| **c == Chunk::Done).count(), 1);
    assert_eq!(out.last(), Some(&Chunk::Done));
    assert!(!out.iter().any(|c| matches!(c, Chunk::Error(_))), "ping and block events are not errors");
}

#[test]
fn anthropic_error_bodies_map_to_retry_or_stop() {
    // Anthropic's error body shape: {"type":"error","error":{"type":...,"message":...}}.
    let auth = "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key\"}}";
    assert!(matches!(classify(401, auth), StatusAction::Fatal(m) if m.contains("refused the key") && m.contains("invalid x-api-key")));
    let overloaded = "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}";
    assert!(matches!(classify(529, overloaded), StatusAction::Retry(m) if m.contains("529") && m.contains("Overloaded")));
    let limited = "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"Number of request tokens has exceeded your per-minute rate limit\"}}";
    assert!(matches!(classify(429, limited), StatusAction::Retry(m) if m.contains("per-minute")));
    let bad = "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"max_tokens: field required\"}}";
    assert!(matches!(classify(400, bad), StatusAction::Fatal(m) if m.contains("max_tokens")));
    assert!(matches!(classify(404, "{\"type\":\"error\",\"error\":{\"type\":\"not_found_error\",\"message\":\"model: claude-x\"}}"), StatusAction::Fatal(m) if m.contains("model name") && m.contains("claude-x")));
}

#[test]
fn anthropic_request_details() {
    let mut p = profile(ApiKind::Anthropic);
    p.url = "https://api.anthropic.com/v1/".into();
    let r = build_request(&p, &prompt());
    assert_eq!(r.url, "https://api.anthropic.com/v1/messages", "a base ending in /v1 is not doubled");
    assert!(!r.headers.iter().any(|(k, _)| k == "Authorization"), "Anthropic takes the key in x-api-key only");
    assert!(!r.body.contains("PLACEHOLDER"));
    let b: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(b["stream"], true);
    assert_eq!(b["max_tokens"], 24, "Anthropic requires max_tokens");
    assert_eq!(b["temperature"], 0.0);
    assert_eq!(b["messages"].as_array().map(Vec::len), Some(1), "the system prompt is a top-level field, not a message");
}

#[test]
fn ollama_stream_split_anywhere_and_its_errors() {
    let stream = concat!(
        "{\"model\":\"smol\",\"created_at\":\"2026-11-23T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"Answer: \"},\"done\":false}\n",
        "{\"model\":\"smol\",\"created_at\":\"2026-11-23T00:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"A — ü\"},\"done\":false}\n",
        "{\"model\":\"smol\",\"created_at\":\"2026-11-23T00:00:01Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"total_duration\":123,\"prompt_eval_count\":20,\"eval_count\":4}\n",
    );
    let out = every_split(ApiKind::Ollama, stream.as_bytes());
    assert_eq!(texts(&out), "Answer: A — ü");
    assert!(out.contains(&Chunk::Usage(Usage { prompt: 20, completion: 4 })));
    assert_eq!(out.last(), Some(&Chunk::Done));
    // A stream cut before the `done` line has no end marker (the driver calls that a cut).
    let cut = stream.lines().take(2).collect::<Vec<_>>().join("\n");
    let mut r = StreamReader::new(ApiKind::Ollama);
    let mut out = r.feed(cut.as_bytes());
    out.extend(r.finish());
    assert!(!out.contains(&Chunk::Done));
    // Ollama's error bodies are {"error":"..."}: a missing model is a stop, overload a retry.
    assert!(matches!(classify(404, "{\"error\":\"model \\\"llama9\\\" not found, try pulling it first\"}"), StatusAction::Fatal(m) if m.contains("not found")));
    assert!(matches!(classify(503, "{\"error\":\"server busy, please try again.  maximum pending requests exceeded\"}"), StatusAction::Retry(m) if m.contains("busy")));
    assert!(matches!(classify(500, "{\"error\":\"llama runner process has terminated\"}"), StatusAction::Retry(m) if m.contains("terminated")));
}

#[test]
fn openai_error_inside_a_200_stream_is_reported() {
    let mut r = StreamReader::new(ApiKind::Openai);
    let out = r.feed(b"data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n");
    assert_eq!(out, vec![Chunk::Error("The server had an error".into())]);
    let mut r = StreamReader::new(ApiKind::Openai);
    let huge = vec![b'x'; MAX_LINE + 10];
    assert!(matches!(r.feed(&huge).as_slice(), [Chunk::Error(m)] if m.contains("1 MiB")), "an endless line is refused, not buffered");
}
