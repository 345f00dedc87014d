//! The routing mechanisms (symphony, adaptorch, hyperagent) through the CLI: listed, run,
//! swept, and carried by a share link to the same run.

use std::process::{Command, Output};

fn council(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_council")).args(args).output().expect("council runs")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

const IDS: [&str; 3] = ["symphony", "adaptorch", "hyperagent"];

#[test]
fn listed_run_and_carried_by_a_link() {
    let list = json(&council(&["scenarios", "--json"]));
    let ids: Vec<&str> = list["scenarios"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    for id in IDS {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
        let direct = json(&council(&["run", &format!("builtin:{id}"), "--json"]));
        assert!(direct["summary"]["final_answer"].is_string(), "{id}");
        assert!(direct["metrics"]["accuracy"].is_number(), "{id}");
        let enc = council(&["link", "encode", &format!("builtin:{id}")]);
        assert!(enc.status.success());
        let link = String::from_utf8(enc.stdout).unwrap().trim().to_string();
        let dec = json(&council(&["link", "decode", &link]));
        assert_eq!(dec["mechanism"]["kind"], id);
        let via_link = json(&council(&["run", &link, "--json"]));
        assert_eq!(via_link["log_hash"], direct["log_hash"], "{id}");
    }
}

#[test]
fn each_sweeps_over_its_knob() {
    for (id, set, metric) in [
        ("symphony", "mechanism.params.routing=linucb,random", "regret"),
        ("adaptorch", "mechanism.params.topology=adaptive,parallel", "accuracy"),
        ("hyperagent", "mechanism.params.links=hyperedges,pairwise", "messages"),
    ] {
        let r = json(&council(&["sweep", &format!("builtin:{id}"), "--seeds", "4", "--set", set, "--json"]));
        let configs = r["configs"].as_array().unwrap();
        assert_eq!(configs.len(), 2, "{id}");
        let a = configs[0]["metrics"][metric]["mean"].as_f64().unwrap();
        let b = configs[1]["metrics"][metric]["mean"].as_f64().unwrap();
        assert_ne!(a, b, "{id}: the knob should change {metric}");
    }
}

#[test]
fn absurd_params_exit_2_with_one_line() {
    for (id, set) in [("symphony", "mechanism.params.tasks=99999"), ("adaptorch", "task.params.nodes=500"), ("hyperagent", "mechanism.params.rounds=1000")] {
        let out = council(&["sweep", &format!("builtin:{id}"), "--seeds", "1", "--set", set]);
        assert_eq!(out.status.code(), Some(2), "{id} {set}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}
