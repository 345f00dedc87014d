//! `council train`: the JSON shape (curve, probe choices, held-out comparison), the same
//! curve from the same seed, and bad settings refused with exit 2 and one line.

use std::process::{Command, Output};

fn council(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_council")).args(args).output().expect("council runs")
}

#[cfg(feature = "train")]
#[test]
fn train_json_has_the_curve_the_probe_set_and_the_comparison() {
    let args = ["train", "--seed", "1", "--json", "--steps", "12", "--batch", "8", "--eval-pools", "3"];
    let out = council(&args);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let curve = r["curve"].as_array().unwrap();
    assert_eq!(curve.len(), 12);
    assert!(curve.iter().all(|s| s["reward"].is_number() && s["accuracy"].is_number() && s["calls"].is_number()));
    assert_eq!(r["curve_hash"].as_str().unwrap().len(), 16);
    assert!(r["steps_per_s"].as_f64().unwrap() > 0.0);
    assert_eq!(r["probe"].as_array().unwrap().len(), 7);
    let c = &r["comparison"];
    let names: Vec<&str> = c["methods"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    for m in ["learned", "heuristic", "linucb", "parallel/all", "sequential/all", "hierarchical/all"] {
        assert!(names.contains(&m), "{m} missing from {names:?}");
    }
    let m = &c["methods"][0]["reward"];
    assert!(m["lo"].as_f64().unwrap() <= m["mean"].as_f64().unwrap() && m["mean"].as_f64().unwrap() <= m["hi"].as_f64().unwrap());
    assert!(c["best_fixed"].is_string() && c["beats_best_fixed"].is_boolean() && c["versus_linucb"]["mean"].is_number());
    // Deterministic from the seed: the same curve hash again.
    let again: serde_json::Value = serde_json::from_slice(&council(&args).stdout).unwrap();
    assert_eq!(again["curve_hash"], r["curve_hash"]);
}

#[cfg(feature = "train")]
#[test]
fn bad_training_settings_exit_2_with_one_line() {
    for args in [&["train", "--steps", "0"][..], &["train", "--backend", "tpu"], &["train", "--batch", "99999"], &["train", "--eval-pools", "5000"]] {
        let out = council(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[cfg(not(feature = "train"))]
#[test]
fn without_the_train_feature_train_says_how_to_get_it() {
    let out = council(&["train", "--seed", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--features train"));
}

#[test]
fn run_follows_a_policy_file_and_refuses_a_bad_one() {
    let dir = std::env::temp_dir().join(format!("council-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = dir.join("p.json");
    std::fs::write(&policy, council_core::policy::PolicyNet::init(16, 3).to_json()).unwrap();
    let scenario = dir.join("s.json");
    let mut s = council_core::builtin("conductor").unwrap();
    s.mechanism.params = serde_json::json!({"policy": "mine", "probes": 2});
    std::fs::write(&scenario, s.to_json_pretty()).unwrap();
    let arg = format!("mine={}", policy.display());
    let out = council(&["run", scenario.to_str().unwrap(), "--json", "--policy", &arg]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["summary"]["error"].is_null(), "{}", r["summary"]);
    assert!(r["summary"]["final_answer"].is_string());
    // Without the policy the run ends with a clear error, not a panic.
    let out = council(&["run", scenario.to_str().unwrap(), "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["summary"]["error"].as_str().unwrap().contains("policy \"mine\" is not loaded"));
    // A broken policy file: exit 2, one line.
    std::fs::write(&policy, "{\"format\":\"council-policy\",\"version\":1}").unwrap();
    let out = council(&["run", scenario.to_str().unwrap(), "--policy", &arg]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).trim().lines().count(), 1);
    let out = council(&["run", scenario.to_str().unwrap(), "--policy", "mine=/dev/zero"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}
