//! Where the integration tests find the real test model and the llama.cpp reference data,
//! with one clear message, shared so every test says the same thing when they are missing.

// Each test binary uses only some of these.
#![allow(dead_code)]

use std::path::PathBuf;

/// SmolLM2-135M-Instruct Q4_1: `$COUNCIL_TEST_MODEL`, else where `scripts/setup` puts it.
pub fn test_model() -> PathBuf {
    let path: PathBuf = std::env::var_os("COUNCIL_TEST_MODEL").map(Into::into).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    assert!(
        path.exists(),
        "test model not found at {} (set COUNCIL_TEST_MODEL, or run scripts/setup to fetch it)",
        path.display()
    );
    path
}

/// The folder of llama.cpp reference files: `$COUNCIL_REFERENCE_DIR`, else `target/reference`.
pub fn reference_dir() -> PathBuf {
    std::env::var_os("COUNCIL_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/reference"))
}

/// One reference file (`logits.json`, `tokenizer.json`), parsed; `script` is the generator
/// under tests/reference/ named in the message when the file is missing.
pub fn reference(file: &str, script: &str) -> serde_json::Value {
    let path = reference_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "missing llama.cpp reference {} ({e}); generate it with \
             `~/.cache/council/venv/bin/python tests/reference/{script}` (scripts/test does this)",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("reference JSON parses")
}
