//! `council run|sweep --backend local:MODEL.gguf | openai:URL` on the real test model: a greedy
//! 5-agent debate gives the same transcript batched with prefix reuse as one ask at a time
//! without it, and reports what reuse saved; its log imports as an event log; the OpenAI path
//! runs against llama.cpp's own server (`python -m llama_cpp.server`, started and stopped
//! here), retries 5xx answers, stops at a refused key and never prints the key; bad flags exit 2.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use council_core::EventLog;
use serde_json::Value;

fn test_model() -> String {
    let path = std::env::var_os("COUNCIL_TEST_MODEL").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    assert!(path.exists(), "test model not found at {} (set COUNCIL_TEST_MODEL, or run scripts/setup)", path.display());
    path.to_string_lossy().into_owned()
}

fn council_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_council"));
    cmd.args(args).env_remove("COUNCIL_API_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn council(args: &[&str]) -> (i32, String, String) {
    council_env(args, &[])
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("council-llm-agents-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `council run builtin:debate` with `extra` flags; (report, log).
fn debate(extra: &[&str], log_name: &str) -> (Value, EventLog) {
    let log = tmp(log_name);
    let mut args = vec!["run", "builtin:debate", "--json", "--log", log.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (code, out, err) = council(&args);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    (report, EventLog::from_jsonl(&text).expect("the log is an event log the app imports"))
}

#[test]
fn a_greedy_local_debate_is_the_same_batched_with_reuse_as_one_ask_at_a_time() {
    let model = test_model();
    let backend = format!("local:{model}");
    let (together, log_together) = debate(&["--backend", &backend, "--max-tokens", "40", "--batch", "8"], "together.jsonl");
    let (alone, log_alone) = debate(&["--backend", &backend, "--max-tokens", "40", "--batch", "1", "--prefix-cache-mib", "0"], "alone.jsonl");
    assert_eq!(together["log_hash"], alone["log_hash"], "batching and prefix reuse changed the transcript");
    assert_eq!(log_together.to_jsonl(), log_alone.to_jsonl());

    // Five agents, three rounds: three waves of five asks, each answered by the model.
    let b = &together["backend"];
    assert_eq!(b["asks"], 15);
    assert_eq!(b["failed_asks"], 0);
    let waves = b["waves"].as_array().unwrap();
    assert_eq!(waves.len(), 3);
    for (round, w) in waves.iter().enumerate() {
        assert_eq!(w["round"], round as u64);
        assert_eq!(w["asks"], 5);
        assert!(w["mean_batch"].as_f64().unwrap() > 1.5, "round {round}: asks decoded together: {w}");
        // Every later prompt of a round starts with the shared chat header at least, and from
        // round 1 on each agent's prompt repeats its own from the round before.
        assert!(w["reused_tokens"].as_u64().unwrap() > 0, "round {round}: {w}");
        assert!(w["ttft_saved_ms_est"].as_f64().unwrap() > 0.0, "round {round}: {w}");
    }
    let reused: u64 = waves.iter().map(|w| w["reused_tokens"].as_u64().unwrap()).sum();
    assert!(reused as f64 > 0.2 * waves.iter().map(|w| w["prompt_tokens"].as_f64().unwrap()).sum::<f64>(), "{b}");
    let alone_waves = alone["backend"]["waves"].as_array().unwrap();
    assert!(alone_waves.iter().all(|w| w["reused_tokens"] == 0 && w["mean_batch"].as_f64().unwrap() <= 1.0));

    // The model really answered: the log holds its texts, parsed where it followed the format.
    let answers: Vec<&council_core::Event> = log_together.events().iter().filter(|e| matches!(e.kind, council_core::EventKind::Answer { .. })).collect();
    assert_eq!(answers.len(), 15);
    assert!(together["summary"].is_object());
}

#[test]
fn a_local_sweep_drives_its_seeds_together() {
    let model = test_model();
    let (code, out, err) = council(&["sweep", "builtin:debate", "--seeds", "2", "--set", "mechanism.params.rounds=0", "--backend", &format!("local:{model}"), "--max-tokens", "8", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["configs"][0]["runs"], 2);
    let waves = v["backend"]["waves"].as_array().unwrap();
    assert_eq!(waves.len(), 1, "both seeds' first round in one wave: {waves:?}");
    assert_eq!(waves[0]["asks"], 10);
    assert!(v["configs"][0]["metrics"]["accuracy"]["n"].as_u64().unwrap() == 2);
}

#[test]
fn bad_backend_flags_exit_2_with_one_line() {
    let model = test_model();
    let local = format!("local:{model}");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--backend", "nope"],
        vec!["--backend", "local:/no/such/model.gguf"],
        vec!["--backend", "local:/dev/null"],
        vec!["--backend", "openai:ftp://example.invalid/v1"],
        vec!["--backend", "openai:http://user:pw@127.0.0.1:9/v1"],
        vec!["--backend", "openai:http://"],
        vec!["--backend", &local, "--batch", "0"],
        vec!["--backend", &local, "--threads", "100000"],
        vec!["--backend", "openai:http://127.0.0.1:9/v1", "--concurrency", "0"],
        vec!["--backend", "openai:http://127.0.0.1:9/v1", "--attempts", "99"],
        vec!["--backend", &local, "--temperature", "-1"],
        vec!["--backend", &local, "--max-tokens", "0"],
    ];
    for c in cases {
        let mut args = vec!["run", "builtin:debate"];
        args.extend_from_slice(&c);
        let (code, out, err) = council(&args);
        assert_eq!(code, 2, "{c:?}: {err}");
        assert!(out.is_empty(), "{c:?}");
        assert_eq!(err.trim_end().lines().count(), 1, "{c:?}: {err}");
        assert!(!err.contains("pw"), "credentials from the URL are never echoed: {err}");
    }
}

/// A server that answers a scripted sequence of statuses (then 200 with a fixed reply), and
/// records the requests' `Authorization` headers.
fn scripted_server(script: Vec<u16>) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let (mut len, mut auth) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let l = line.trim_end().to_ascii_lowercase();
                if l.is_empty() {
                    break;
                }
                if let Some(v) = l.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if l.starts_with("authorization:") {
                    auth = line.trim_end().to_string();
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            seen2.lock().unwrap().push(auth);
            let status = script.next().unwrap_or(200);
            let reply = if status == 200 {
                r#"{"choices":[{"message":{"role":"assistant","content":"Answer: B\nConfidence: 70%"}}],"usage":{"prompt_tokens":50,"completion_tokens":7}}"#.to_string()
            } else {
                format!(r#"{{"error":{{"message":"scripted {status}"}}}}"#)
            };
            let _ = write!(s, "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}", reply.len());
        }
    });
    (port, seen)
}

#[test]
fn the_openai_backend_retries_server_errors_and_stops_at_a_refused_key() {
    // Two 503s and a 429, then every request succeeds: all 15 asks are answered.
    let (port, seen) = scripted_server(vec![503, 503, 429]);
    let url = format!("openai:http://127.0.0.1:{port}/v1");
    let key = format!("test-{}", std::process::id());
    let log = tmp("retry.jsonl");
    let (code, out, err) = council_env(
        &["run", "builtin:debate", "--backend", &url, "--concurrency", "1", "--attempts", "4", "--json", "--log", log.to_str().unwrap()],
        &[("COUNCIL_API_KEY", &key)],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["backend"]["failed_asks"], 0, "{v}");
    assert_eq!(v["backend"]["retries"], 3);
    assert_eq!(v["backend"]["calls"], 18);
    assert!(seen.lock().unwrap().iter().all(|a| a.ends_with(&key)), "the key goes in the Authorization header");
    let text = std::fs::read_to_string(&log).unwrap();
    for shown in [&out, &err, &text] {
        assert!(!shown.contains(&key), "the key never appears in output or logs");
    }

    // A refused key: the first answer stops every later call; the run's log is still written.
    let (port, seen) = scripted_server(vec![401; 100]);
    let url = format!("openai:http://127.0.0.1:{port}/v1");
    let (code, out, err) = council_env(&["run", "builtin:debate", "--backend", &url, "--concurrency", "1", "--json", "--log", log.to_str().unwrap()], &[("COUNCIL_API_KEY", &key)]);
    assert_eq!(code, 1, "every ask failed: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("401") || err.contains("refused"), "{err}");
    assert_eq!(seen.lock().unwrap().len(), 1, "no call after the refusal");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["backend"]["failed_asks"], 15);
    assert!(!out.contains(&key) && !err.contains(&key));
    let log = EventLog::from_jsonl(&std::fs::read_to_string(&log).unwrap()).unwrap();
    assert!(log.events().iter().any(|e| matches!(e.kind, council_core::EventKind::Error { .. })), "failures are logged as errors");

    // Nothing listening: network errors are retried, then the asks fail; exit 1, one line.
    let free = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (code, _, err) = council(&["run", "builtin:debate", "--backend", &format!("openai:http://127.0.0.1:{free}/v1"), "--attempts", "2", "--concurrency", "5"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("after 2 attempts"), "{err}");
}

fn venv_python() -> Option<PathBuf> {
    let p = std::env::var_os("COUNCIL_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/council/venv/bin/python")
    });
    p.exists().then_some(p)
}

/// `python -m llama_cpp.server` on a free loopback port, stopped on drop.
struct LlamaServer {
    child: Child,
    port: u16,
}

impl LlamaServer {
    fn start(python: &PathBuf, model: &str) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(python)
            .args(["-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--n_ctx", "4096", "--n_threads", "1", "--model_alias", "smollm2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("llama_cpp.server starts");
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = write!(s, "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                let mut text = String::new();
                let _ = s.read_to_string(&mut text);
                if text.starts_with("HTTP/1.1 200") {
                    return server;
                }
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!("llama_cpp.server did not answer on port {port} within 120 s");
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_debate_runs_against_llama_cpp_server() {
    let Some(python) = venv_python() else {
        eprintln!("SKIPPED: no llama-cpp-python venv at ~/.cache/council/venv (scripts/setup makes it)");
        return;
    };
    let model = test_model();
    let server = LlamaServer::start(&python, &model);
    let url = format!("openai:http://127.0.0.1:{}/v1", server.port);
    let key = format!("placeholder-{}", std::process::id());
    let log = tmp("server.jsonl");
    let (code, out, err) = council_env(
        &["run", "builtin:debate", "--backend", &url, "--remote-model", "smollm2", "--max-tokens", "32", "--concurrency", "3", "--json", "--log", log.to_str().unwrap()],
        &[("COUNCIL_API_KEY", &key)],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let b = &v["backend"];
    assert_eq!((b["asks"].as_u64(), b["failed_asks"].as_u64()), (Some(15), Some(0)), "{b}");
    assert_eq!(b["waves"].as_array().unwrap().len(), 3);
    // The server counted tokens: usage came back with every reply.
    assert!(b["waves"].as_array().unwrap().iter().all(|w| w["prompt_tokens"].as_u64().unwrap() > 100 && w["completion_tokens"].as_u64().unwrap() > 0));
    let text = std::fs::read_to_string(&log).unwrap();
    let log = EventLog::from_jsonl(&text).unwrap();
    let answers = log.events().iter().filter(|e| matches!(e.kind, council_core::EventKind::Answer { .. })).count();
    assert_eq!(answers, 15);
    assert!(!text.contains(&key) && !out.contains(&key) && !err.contains(&key));
    drop(server);
}

/// `escalate` with the local agent on the CPU engine and the remote one on llama.cpp's server
/// (`--agent 1=openai:URL`): only the escalated ask goes to the server, and what it was sent has
/// the private names as placeholders.
#[test]
fn escalate_sends_its_remote_ask_to_the_server_with_names_as_placeholders() {
    let Some(python) = venv_python() else {
        eprintln!("SKIPPED: no llama-cpp-python venv at ~/.cache/council/venv (scripts/setup makes it)");
        return;
    };
    let model = test_model();
    let server = LlamaServer::start(&python, &model);
    let scenario = {
        let mut v = serde_json::to_value(council_core::builtin("escalate").unwrap()).unwrap();
        v["mechanism"]["params"]["policy"] = "always".into();
        let path = tmp("escalate-always.json");
        std::fs::write(&path, v.to_string()).unwrap();
        path
    };
    let log = tmp("escalate.jsonl");
    let remote = format!("1=openai:http://127.0.0.1:{}/v1", server.port);
    let local = format!("local:{model}");
    let (code, out, err) = council(&[
        "run", scenario.to_str().unwrap(), "--backend", &local, "--agent", &remote, "--remote-model", "smollm2", "--max-tokens", "32", "--json", "--log", log.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let b = &v["backend"];
    assert_eq!(b["agents"]["1"]["backend"], "openai", "{b}");
    assert_eq!(b["default"]["backend"], "local", "{b}");
    assert_eq!(v["metrics"]["remote_calls"].as_f64(), Some(1.0));
    assert_eq!(v["metrics"]["leaked"].as_f64(), Some(0.0));
    let log = EventLog::from_jsonl(&std::fs::read_to_string(&log).unwrap()).unwrap();
    let asks: Vec<(u32, String)> = log
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            council_core::EventKind::Ask { agent, prompt, .. } => Some((*agent, prompt.clone())),
            _ => None,
        })
        .collect();
    let (_, sent) = asks.iter().find(|(a, _)| *a == 1).expect("the remote agent was asked");
    assert!(sent.contains("[PERSON_1]"), "{sent}");
    for name in ["Ana", "Bo", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana"] {
        assert!(!sent.split(|c: char| !c.is_alphanumeric()).any(|w| w == name), "{name} reached the remote side: {sent}");
    }
    drop(server);
}
