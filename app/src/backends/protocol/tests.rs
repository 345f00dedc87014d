//! Wire-format tests with streams captured in the shapes each API sends.

use super::*;

fn profile(kind: ApiKind) -> Profile {
    Profile {
        name: "p".into(),
        kind,
        url: "http://127.0.0.1:8000/v1/".into(),
        key: "sk-test-SECRETKEY123".into(),
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
    assert!(r.headers.contains(&("Authorization".into(), "Bearer sk-test-SECRETKEY123".into())));
    let b: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(b["stream"], true);
    assert_eq!(b["max_tokens"], 24);
    assert_eq!(b["messages"][0]["role"], "system");
    assert_eq!(b["messages"][1]["content"], "What is 2+2?");
    assert!(!r.body.contains("SECRETKEY"), "the key goes in a header, never the body");
}

#[test]
fn anthropic_and_ollama_requests() {
    let mut p = profile(ApiKind::Anthropic);
    p.url = "https://api.anthropic.com".into();
    let r = build_request(&p, &prompt());
    assert_eq!(r.url, "https://api.anthropic.com/v1/messages");
    assert!(r.headers.iter().any(|(k, v)| k == "x-api-key" && v == "sk-test-SECRETKEY123"));
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
    assert_eq!(p.redact("Incorrect API key provided: sk-test-SECRETKEY123"), "Incorrect API key provided: ***");
    assert_eq!(p.redact("key sk-test-S***"), "key ***S***", "a prefix the API echoes is hidden too");
}

#[test]
fn profiles_validate_and_price_usage() {
    let mut p = profile(ApiKind::Openai);
    assert!(p.validate().is_ok());
    assert!((p.cost(&Usage { prompt: 1_000_000, completion: 500_000 }) - 2.0).abs() < 1e-12);
    p.url = "ftp://x".into();
    assert!(p.validate().unwrap_err().contains("URL"));
    p.url = "http://x".into();
    p.name = "has space".into();
    assert!(p.validate().unwrap_err().contains("profile name"));
    p.name = "ok".into();
    p.max_tokens = 0;
    assert!(p.validate().unwrap_err().contains("max tokens"));
}
