//! The CLI contract of architecture §6: JSON shapes, exit codes, one-line errors.

use std::process::{Command, Output};

fn council(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_council")).args(args).output().expect("council runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

#[test]
fn run_json_has_log_hash_summary_and_metrics_and_matches_builtin_hashes() {
    let r = json(&council(&["run", "builtin:debate", "--json"]));
    let hash = r["log_hash"].as_str().unwrap();
    assert_eq!(hash.len(), 16);
    assert!(r["summary"]["final_answer"].is_string());
    assert!(r["metrics"]["accuracy"].is_number());
    let all = json(&council(&["builtin-hashes"]));
    assert_eq!(all["debate"].as_str(), Some(hash));
    // --seed changes the run; the same seed repeats it.
    let a = json(&council(&["run", "builtin:debate", "--json", "--seed", "9"]));
    let b = json(&council(&["run", "builtin:debate", "--json", "--seed", "9"]));
    assert_eq!(a["log_hash"], b["log_hash"]);
    assert_ne!(a["log_hash"], r["log_hash"]);
}

#[test]
fn run_writes_the_event_log() {
    let path = std::env::temp_dir().join(format!("council-log-{}.jsonl", std::process::id()));
    let r = json(&council(&["run", "builtin:reconcile", "--json", "--log", path.to_str().unwrap()]));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    let log = council_core::EventLog::from_jsonl(&text).unwrap();
    assert_eq!(log.hash(), r["log_hash"].as_str().unwrap());
}

#[test]
fn sweep_json_follows_the_contract() {
    let r = json(&council(&["sweep", "builtin:debate", "--seeds", "30", "--set", "mechanism.params.rounds=0,2", "--json"]));
    let configs = r["configs"].as_array().unwrap();
    assert_eq!(configs.len(), 2);
    assert_eq!(configs[1]["set"]["mechanism.params.rounds"], 2);
    assert_eq!(configs[1]["runs"], 30);
    let acc = &configs[1]["metrics"]["accuracy"];
    let (m, lo, hi) = (acc["mean"].as_f64().unwrap(), acc["lo"].as_f64().unwrap(), acc["hi"].as_f64().unwrap());
    assert!(lo <= m && m <= hi);
}

#[test]
fn scenarios_and_link_round_trip() {
    let list = json(&council(&["scenarios", "--json"]));
    let ids: Vec<&str> = list["scenarios"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    for id in ["self-consistency", "debate", "reconcile", "machinesom", "architectures", "multirobot", "conductor", "blackboard"] {
        assert!(ids.contains(&id), "{id} missing");
    }
    let enc = council(&["link", "encode", "builtin:conductor"]);
    assert!(enc.status.success());
    let link = String::from_utf8(enc.stdout).unwrap().trim().to_string();
    assert!(link.starts_with("#s=1."));
    let dec = json(&council(&["link", "decode", &link]));
    assert_eq!(dec["mechanism"]["kind"], "conductor");
    let via_link = json(&council(&["run", &link, "--json"]));
    let direct = json(&council(&["run", "builtin:conductor", "--json"]));
    assert_eq!(via_link["log_hash"], direct["log_hash"]);
}

#[test]
fn bad_input_exits_2_with_one_line() {
    for args in [
        vec!["run", "/nonexistent.json"],
        vec!["run", "builtin:nope"],
        vec!["run", "--bogus"],
        vec!["sweep", "builtin:debate", "--set", "mechanism.params.rounds=99"],
        vec!["sweep", "builtin:debate", "--set", "nonsense"],
        vec!["link", "decode", "#s=1.AAAA"],
        vec!["bench", "society", "--agents", "1"],
    ] {
        let out = council(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("council: "), "{args:?}: {err}");
    }
}
