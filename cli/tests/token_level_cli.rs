//! Token-level mechanisms through `council run` on the real test model: speculative drafting
//! gives the verifier's own reply (draft length 0) and logs who wrote each token; a drafter
//! that is the verifier's model with the verifier's prompt has every draft kept; fusion logs
//! which persona wrote each token; `--agent` routes one agent to another backend (escalate's
//! remote side); bad `--agent` flags exit 2, and a token-level ask on a remote API fails with
//! the reason.

use std::path::PathBuf;
use std::process::Command;

use council_core::event::{EventKind, Piece, PieceStatus};
use council_core::EventLog;
use serde_json::Value;

fn test_model() -> String {
    let path = std::env::var_os("COUNCIL_TEST_MODEL").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    assert!(path.exists(), "test model not found at {} (set COUNCIL_TEST_MODEL, or run scripts/setup)", path.display());
    path.to_string_lossy().into_owned()
}

fn council(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_council")).args(args).env_remove("COUNCIL_API_KEY").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("council-token-level-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The built-in `id` with mechanism params changed, written to a file.
fn scenario_file(id: &str, params: &[(&str, Value)], name: &str) -> String {
    let s = council_core::builtin(id).unwrap();
    let mut v = serde_json::to_value(&s).unwrap();
    for (k, x) in params {
        v["mechanism"]["params"][*k] = x.clone();
    }
    let path = tmp(name);
    std::fs::write(&path, v.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

/// Runs `scenario` with `flags`; (report, log).
fn run(scenario: &str, flags: &[&str], log_name: &str) -> (Value, EventLog) {
    let log = tmp(log_name);
    let mut args = vec!["run", scenario, "--json", "--max-tokens", "40", "--log", log.to_str().unwrap()];
    args.extend_from_slice(flags);
    let (code, out, err) = council(&args);
    assert_eq!(code, 0, "{err}");
    (serde_json::from_str(&out).unwrap(), EventLog::from_jsonl(&std::fs::read_to_string(&log).unwrap()).unwrap())
}

fn answer_raw(log: &EventLog, agent: u32) -> String {
    log.events().iter().find_map(|e| match &e.kind {
        EventKind::Answer { agent: a, raw, .. } if *a == agent => Some(raw.clone()),
        _ => None,
    })
    .expect("an answer")
}

fn pieces(log: &EventLog) -> Vec<Piece> {
    log.events().iter().find_map(|e| match &e.kind {
        EventKind::Tokens { pieces, .. } => Some(pieces.clone()),
        _ => None,
    })
    .expect("a tokens event")
}

fn kept_text(p: &[Piece]) -> String {
    p.iter().filter(|x| x.status != PieceStatus::Rejected).map(|x| x.text.as_str()).collect()
}

#[test]
fn speculative_runs_give_the_verifiers_reply_and_log_each_token() {
    let local = format!("local:{}", test_model());
    let alone = scenario_file("speculative", &[("draft_len", 0.into())], "alone.json");
    let (_, log0) = run(&alone, &["--backend", &local], "alone.jsonl");
    let reply = answer_raw(&log0, 0);
    assert!(pieces(&log0).iter().all(|p| p.by == 0 && p.status == PieceStatus::Written));

    // One model, two personas: the drafter (agent 1) reads its own prompt, so some drafts miss.
    let (report, log) = run("builtin:speculative", &["--backend", &local], "personas.jsonl");
    assert_eq!(answer_raw(&log, 0), reply, "drafting does not change the verifier's reply");
    let p = pieces(&log);
    assert_eq!(kept_text(&p), reply, "the kept pieces spell the reply");
    assert!(p.iter().any(|x| x.by == 1 && x.status == PieceStatus::Accepted), "{p:?}");
    assert!(report["metrics"]["acceptance_rate"].as_f64().is_some());

    // Two engines of one file: the drafter reads the verifier's prompt and computes the same
    // logits, so every draft is kept.
    let (report, log) = run("builtin:speculative", &["--backend", &local, "--agent", &format!("1={local}")], "twins.jsonl");
    assert_eq!(answer_raw(&log, 0), reply);
    assert!(pieces(&log).iter().all(|x| x.status != PieceStatus::Rejected));
    assert_eq!(report["metrics"]["acceptance_rate"].as_f64(), Some(1.0));
}

#[test]
fn fusion_logs_which_persona_wrote_each_token() {
    let local = format!("local:{}", test_model());
    let (_, log) = run("builtin:fusion", &["--backend", &local], "fusion.jsonl");
    let p = pieces(&log);
    assert_eq!(kept_text(&p), answer_raw(&log, 0));
    assert!(p.iter().all(|x| matches!(x.status, PieceStatus::Chosen | PieceStatus::Complemented)));
    let first = scenario_file("fusion", &[("router", "first".into()), ("complement", 0.into())], "first.json");
    let (_, log) = run(&first, &["--backend", &local], "fusion-first.jsonl");
    assert!(pieces(&log).iter().all(|x| x.by == 0 && x.status == PieceStatus::Chosen));
}

#[test]
fn escalate_sends_only_the_remote_agents_asks_to_its_backend() {
    let local = format!("local:{}", test_model());
    let always = scenario_file("escalate", &[("policy", "always".into())], "always.json");
    let (report, log) = run(&always, &["--agent", &format!("1={local}")], "escalate.jsonl");
    // Agent 0 simulated (its replies read "<answer>, confidence ..."), agent 1 the model.
    assert!(answer_raw(&log, 0).contains(", confidence "));
    assert!(!answer_raw(&log, 1).contains(", confidence 0."));
    assert_eq!(report["metrics"]["remote_calls"].as_f64(), Some(1.0));
}

#[test]
fn bad_agent_flags_exit_2_and_a_remote_partner_fails_with_the_reason() {
    let local = format!("local:{}", test_model());
    for flag in ["x=sim", "1", "500=sim", "1=remote:foo", "1=local:/nonexistent.gguf"] {
        let (code, out, err) = council(&["run", "builtin:escalate", "--agent", flag]);
        assert_eq!(code, 2, "--agent {flag}: {err}");
        assert!(out.is_empty() && err.lines().count() == 1, "{err}");
    }
    let (code, _, err) = council(&["run", "builtin:escalate", "--agent", "1=sim", "--agent", "1=sim"]);
    assert_eq!(code, 2, "{err}");
    // The drafter on an API: no token-level access, and the only ask fails saying so.
    let (code, _, err) = council(&["run", "builtin:speculative", "--backend", &local, "--agent", "1=openai:http://127.0.0.1:9/v1", "--attempts", "1"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("token-level access"), "{err}");
}
