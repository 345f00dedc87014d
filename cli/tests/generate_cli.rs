//! `council generate` and `council score` (architecture.md §6) on the real test model:
//! greedy generation agrees with teacher-forced scoring, both backends agree, bad input
//! exits 2 with one line.

use std::process::Command;

use serde_json::Value;

fn test_model() -> String {
    let path = std::env::var_os("COUNCIL_TEST_MODEL").map(std::path::PathBuf::from).unwrap_or_else(|| {
        std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/council/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    assert!(path.exists(), "test model not found at {} (set COUNCIL_TEST_MODEL, or run scripts/setup)", path.display());
    path.to_string_lossy().into_owned()
}

fn council(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_council")).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect()
}

fn join(ids: &[u32]) -> String {
    ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// Per position, (top-1 id, top-1 − top-2 margin).
fn score(model: &str, tokens: &[u32], from: usize, backend: &str) -> Vec<(u32, f64)> {
    let (code, out, err) =
        council(&["score", "--model", model, "--tokens", &join(tokens), "--from", &from.to_string(), "--top-k", "2", "--backend", backend, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let rows = v["positions"].as_array().unwrap();
    assert_eq!(rows.len(), tokens.len() - from);
    rows.iter()
        .map(|r| {
            let top = r["top"].as_array().unwrap();
            (top[0][0].as_u64().unwrap() as u32, top[0][1].as_f64().unwrap() - top[1][1].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn greedy_generation_is_what_teacher_forced_scoring_ranks_first() {
    let model = test_model();
    let (code, out, err) =
        council(&["generate", "--model", &model, "--prompt", "Name three primary colours.", "--chat", "--max-tokens", "12", "--greedy", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let prompt = ids(&v["prompt_tokens"]);
    let generated = ids(&v["tokens"]);
    assert!(!generated.is_empty() && generated.len() <= 12);
    assert!(!v["text"].as_str().unwrap().is_empty());
    // The chat template wrapped the prompt: it starts with <|im_start|> (id 1) as llama.cpp renders it.
    assert_eq!(prompt[0], 1);
    let (_, tok_out, _) = council(&["tokenize", "--model", &model, "--json", v["text"].as_str().unwrap()]);
    assert!(!tok_out.is_empty());

    let mut seq = prompt.clone();
    seq.extend(&generated[..generated.len() - 1]);
    let ranked = score(&model, &seq, prompt.len() - 1, "cpu");
    for (step, ((top1, margin), &chosen)) in ranked.iter().zip(&generated).enumerate() {
        // Batched scoring and one-token decoding may round differently: only near-ties may flip.
        assert!(*top1 == chosen || *margin < 0.05, "step {step}: generated {chosen}, scoring ranks {top1} first by {margin}");
    }
}

#[test]
fn the_webgpu_backend_scores_like_the_cpu_path() {
    let model = test_model();
    let tokens = [1, 9690, 198, 2683, 359, 253, 5356, 5646];
    let cpu = score(&model, &tokens, 0, "cpu");
    let gpu = score(&model, &tokens, 0, "wgpu");
    for (i, (c, g)) in cpu.iter().zip(&gpu).enumerate() {
        if c.1 > 0.5 {
            assert_eq!(c.0, g.0, "position {i}: cpu {c:?} vs wgpu {g:?}");
        }
    }
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let model = test_model();
    let dir = std::env::temp_dir().join(format!("council-cli-generated-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let truncated = dir.join("cut.gguf");
    std::fs::write(&truncated, &std::fs::read(&model).unwrap()[..4096]).unwrap();
    let cases: Vec<Vec<String>> = vec![
        vec!["generate".into(), "--model".into(), "/no/such.gguf".into(), "--prompt".into(), "hi".into()],
        vec!["generate".into(), "--model".into(), truncated.to_string_lossy().into(), "--prompt".into(), "hi".into()],
        vec!["score".into(), "--model".into(), model.clone(), "--tokens".into(), "1,99999999".into()],
        vec!["score".into(), "--model".into(), model.clone(), "--tokens".into(), "1,x".into()],
        vec!["generate".into(), "--model".into(), model.clone(), "--prompt".into(), "hi".into(), "--greedy".into(), "--temperature".into(), "0.7".into()],
    ];
    for args in cases {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = council(&a);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("council: "), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
