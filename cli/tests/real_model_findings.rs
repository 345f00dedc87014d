//! One finding on a real model (ignored by default; scripts/test runs it): debate against
//! self-consistency at equal calls (15 each) on 40 arithmetic word problems, every agent
//! the SmolLM2-135M test model on Council's CPU engine, sampling at temperature 0.7.
//!
//! Small models are weak at arithmetic, so this records the direction and sizes in
//! docs/findings.md rather than asserting the paper's direction. It asserts what makes the
//! comparison fair and honest: both arms make exactly 15 calls per item, every reply is
//! either read or counted as unparsed, and the accuracies the document states are within
//! 0.1 of this run's (sampling is seeded, but another CPU's kernels may round differently).
//!
//! Uses the binary in `$COUNCIL_CLI` when set (scripts/test sets the release build: a debug
//! build decodes about ten times slower), else the debug binary cargo built for this test.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

const SEEDS: &str = "40";

fn test_model() -> String {
    let path = std::env::var_os("COUNCIL_TEST_MODEL").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    assert!(path.exists(), "test model not found at {} (set COUNCIL_TEST_MODEL, or run scripts/setup)", path.display());
    path.to_string_lossy().into_owned()
}

/// Mean of `metric` over the sweep's one config.
fn sweep(scenario: &str, sets: &[&str]) -> Value {
    let backend = format!("local:{}", test_model());
    // Every core: the run takes about 13 minutes on two threads (the kernels give the same
    // results on any thread count; gpu/tests/cpu_logits_reference.rs checks it).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).to_string();
    let mut args = vec!["sweep", scenario, "--seeds", SEEDS, "--json", "--backend", &backend, "--temperature", "0.7", "--max-tokens", "96", "--threads", &threads];
    for s in sets {
        args.extend(["--set", s]);
    }
    let cli = std::env::var_os("COUNCIL_CLI").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_council")));
    let out = Command::new(&cli).args(&args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["configs"][0]["metrics"].clone()
}

#[test]
#[ignore = "runs 1,200 asks on the real test model; scripts/test runs it"]
fn debate_against_self_consistency_on_the_real_test_model() {
    let task = "task={\"kind\":\"arithmetic\",\"params\":{\"difficulty_range\":[0.0,0.5]}}";
    let debate = sweep("builtin:debate", &[task]);
    let sc = sweep("builtin:self-consistency", &[task, "mechanism.params.k=15"]);
    for (name, m) in [("debate", &debate), ("self-consistency", &sc)] {
        assert_eq!(m["calls"]["mean"].as_f64(), Some(15.0), "{name}: equal calls");
        let unparsed = m["unparsed"]["mean"].as_f64().unwrap();
        assert!((0.0..=15.0).contains(&unparsed), "{name}: unparsed replies are counted");
        let acc = m["accuracy"]["mean"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc));
    }
    let row = |m: &Value| {
        format!(
            "{:.3} [{:.3}, {:.3}], unparsed {:.1} of 15 replies",
            m["accuracy"]["mean"].as_f64().unwrap(),
            m["accuracy"]["lo"].as_f64().unwrap(),
            m["accuracy"]["hi"].as_f64().unwrap(),
            m["unparsed"]["mean"].as_f64().unwrap()
        )
    };
    let line = format!("| real-model | debate {} · self-consistency {} |", row(&debate), row(&sc));
    println!("{line}");
    if std::env::var_os("COUNCIL_FINDINGS_PRINT").is_some() {
        return;
    }
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/findings.md")).unwrap();
    let recorded = doc.lines().find(|l| l.starts_with("| real-model |")).unwrap_or_else(|| panic!("docs/findings.md should record the real-model run:\n{line}"));
    for (arm, m) in [("debate ", &debate), ("self-consistency ", &sc)] {
        let stated: f64 = recorded
            .split(arm)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|x| x.parse().ok())
            .unwrap_or_else(|| panic!("no accuracy for {arm:?} in {recorded:?}"));
        let measured = m["accuracy"]["mean"].as_f64().unwrap();
        assert!((stated - measured).abs() <= 0.1, "{arm}accuracy: docs/findings.md says {stated}, this run {measured:.3}\n{line}");
    }
}
