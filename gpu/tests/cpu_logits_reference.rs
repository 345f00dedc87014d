//! The CPU engine against llama.cpp on the real test model, teacher-forced: the same token ids
//! (chats rendered with the model's template, llama.cpp's own greedy replies, plain text) and the
//! logits after every position.
//!
//! Reference data: `target/reference/logits.json` (or `$COUNCIL_REFERENCE_DIR`), written by
//! `~/.cache/council/venv/bin/python tests/reference/make_logits_reference.py`
//! (scripts/test runs it first).

use std::sync::Arc;

use council_gpu::cpu::{CpuModel, Session, SessionOptions};
use serde_json::Value;

mod common;
use common::test_model;

fn reference() -> Value {
    common::reference("logits.json", "make_logits_reference.py")
}

fn model() -> Arc<CpuModel> {
    Arc::new(CpuModel::open(test_model()).expect("test model loads"))
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

fn argmax(x: &[f32]) -> usize {
    x.iter().enumerate().fold(0, |b, (i, v)| if *v > x[b] { i } else { b })
}

#[test]
fn teacher_forced_logits_match_llama_cpp() {
    let reference = reference();
    let model = model();
    let n_vocab = model.config().n_vocab;
    let mut session = Session::new(model, SessionOptions { max_ctx: 1024, n_threads: 1 });

    let (mut checked, mut agree, mut delta_sum, mut delta_n, mut worst) = (0, 0, 0.0f64, 0usize, 0.0f32);
    let mut disagreements = Vec::new();
    for seq in reference["sequences"].as_array().unwrap() {
        let name = seq["name"].as_str().unwrap();
        let tokens = ids(&seq["tokens"]);
        session.reset();
        let logits = session.logits_all(&tokens).expect("forward pass");
        assert_eq!(logits.len(), tokens.len() * n_vocab);
        for pos in seq["positions"].as_array().unwrap() {
            let i = pos["i"].as_u64().unwrap() as usize;
            let row = &logits[i * n_vocab..(i + 1) * n_vocab];
            let top: Vec<(usize, f32)> = pos["top"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e[0].as_u64().unwrap() as usize, e[1].as_f64().unwrap() as f32))
                .collect();
            for &(id, logit) in &top[..5] {
                let d = (row[id] - logit).abs();
                delta_sum += f64::from(d);
                delta_n += 1;
                worst = worst.max(d);
            }
            let margin = pos["margin"].as_f64().unwrap();
            if margin > 0.5 {
                checked += 1;
                let ours = argmax(row);
                if ours == top[0].0 {
                    agree += 1;
                } else {
                    disagreements.push(format!("{name}[{i}]: llama.cpp {} (margin {margin:.3}), ours {ours}", top[0].0));
                }
            }
        }
    }
    let mean = delta_sum / delta_n as f64;
    eprintln!("top-1 agreement {agree}/{checked} where margin > 0.5; mean |Δlogit| over top-5 {mean:.4}, max {worst:.4}");
    assert!(checked > 100, "the reference has too few decisive positions ({checked})");
    assert!(disagreements.is_empty(), "top-1 differs from llama.cpp: {disagreements:?}");
    assert!(mean < 0.5, "mean |Δlogit| over llama.cpp's top-5 is {mean:.4} (limit 0.5)");
}

#[test]
fn batched_prefill_threads_and_decode_agree() {
    let reference = reference();
    let seq = &reference["sequences"][0];
    let tokens = ids(&seq["tokens"]);
    let tokens = &tokens[..tokens.len().min(48)];
    let model = model();
    let n_vocab = model.config().n_vocab;

    let mut one = Session::new(Arc::clone(&model), SessionOptions { max_ctx: 256, n_threads: 1 });
    let batched = one.logits_all(tokens).unwrap();
    let mut two = Session::new(Arc::clone(&model), SessionOptions { max_ctx: 256, n_threads: 2 });
    let threaded = two.logits_all(tokens).unwrap();
    assert_eq!(batched, threaded, "splitting rows over threads must not change any logit");

    // Token by token (the decode path) gives the same logits as one batched pass.
    let mut step = Session::new(model, SessionOptions { max_ctx: 256, n_threads: 1 });
    for (i, &tok) in tokens.iter().enumerate() {
        let row = step.decode(tok).unwrap();
        let expect = &batched[i * n_vocab..(i + 1) * n_vocab];
        let max = row.iter().zip(expect).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(max < 1e-3, "position {i}: decode differs from batched prefill by {max}");
    }
    assert_eq!(step.position(), tokens.len());

    // Rewinding the cache and feeding again reproduces the last logits.
    let last = step.decode(tokens[0]).unwrap().to_vec();
    step.truncate(tokens.len());
    assert_eq!(step.decode(tokens[0]).unwrap(), &last[..]);
}

#[test]
fn bad_requests_are_errors() {
    let model = model();
    let n_vocab = model.config().n_vocab as u32;
    let mut s = Session::new(model, SessionOptions { max_ctx: 4, n_threads: 1 });
    assert!(s.prefill(&[]).is_err());
    assert!(s.prefill(&[n_vocab]).unwrap_err().to_string().contains("outside the vocabulary"));
    assert!(s.prefill(&[1, 2, 3, 4, 5]).unwrap_err().to_string().contains("context full"));
    assert_eq!(s.position(), 0, "a rejected request leaves the cache unchanged");
    s.prefill(&[1, 2, 3, 4]).unwrap();
    assert!(s.decode(5).is_err());
}
