//! Links and files made by earlier builds keep opening: version 1 scenarios carried
//! mechanism params that version 2 dropped (simulated costs that were knobs), and the
//! fixture holds real links encoded before the change.

use council_core::link;
use council_core::scenario::SCENARIO_VERSION;
use council_core::{Scenario, run_simulated};

#[test]
fn links_from_the_earlier_format_open_and_run() {
    let fixture = include_str!("fixtures/links-v1.txt");
    let mut n = 0;
    for line in fixture.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (kind, url) = line.split_once(' ').unwrap();
        let s = link::decode(url).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(s.mechanism.kind, kind);
        assert_eq!(s.version, SCENARIO_VERSION);
        assert!(s.title.ends_with("(edited)"), "the user's edits survive: {}", s.title);
        assert_eq!(s.agents[0].traits.judge_accuracy, Some(0.8));
        let params = s.mechanism.params.as_object().unwrap();
        assert!(params.keys().all(|k| !k.contains("penalty") && k != "merge_error"), "{kind}: {params:?}");
        assert!(run_simulated(&s).unwrap().summary.final_answer.is_some(), "{kind} runs");
        // Re-encoding writes the current version, and it round-trips.
        assert_eq!(link::decode(&link::encode(&s).unwrap()).unwrap(), s);
        n += 1;
    }
    assert_eq!(n, 3);
}

#[test]
fn version_one_files_upgrade_and_future_versions_are_refused() {
    let old = r#"{"version":1,"agents":[{"name":"A"},{"name":"B"}],
        "mechanism":{"kind":"architectures","params":{"architecture":"single","handoff_penalty":0.45,"merge_error":0.1}},
        "task":{"kind":"multistep"}}"#;
    let s = Scenario::from_json(old).unwrap();
    assert_eq!(s.version, SCENARIO_VERSION);
    assert_eq!(s.mechanism.params, serde_json::json!({"architecture": "single"}));
    // A dropped param is an error in the current version (no silent acceptance).
    let now = old.replace("\"version\":1", &format!("\"version\":{SCENARIO_VERSION}"));
    assert!(Scenario::from_json(&now).unwrap_err().0.contains("handoff_penalty"));
    let future = old.replace("\"version\":1", "\"version\":99");
    assert!(Scenario::from_json(&future).unwrap_err().0.contains("version 99 is not supported"));
}
