//! `council tokenize` (architecture.md §6) on the real test model.

use std::process::Command;

fn test_model() -> String {
    let path = std::env::var_os("COUNCIL_TEST_MODEL")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf")
        });
    assert!(
        path.exists(),
        "test model not found at {} (set COUNCIL_TEST_MODEL, or run scripts/setup to fetch it)",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

fn council(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_council"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn tokenize_prints_llama_cpp_ids() {
    let model = test_model();
    let text = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n";
    let (code, out, _) = council(&["tokenize", "--model", &model, text]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "1,4093,198,1780,314,260,3575,282,4649,47,2,198");

    let (code, out, _) = council(&[
        "tokenize",
        "--model",
        &model,
        "--no-special",
        "--json",
        "<|im_end|>",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["tokens"],
        serde_json::json!([44, 108, 306, 79, 486, 108, 46])
    );
    let pieces: String = v["pieces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(pieces, "<|im_end|>");
}

#[test]
fn tokenize_rejects_bad_models_with_exit_2() {
    let (code, out, err) = council(&["tokenize", "--model", "/no/such/model.gguf", "x"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.starts_with("council: ")
            && err.contains("/no/such/model.gguf")
            && err.lines().count() == 1,
        "{err}"
    );
    let (code, _, err) = council(&["tokenize", "--model", env!("CARGO_MANIFEST_DIR"), "x"]);
    assert_eq!(code, 2, "{err}");
}
