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

// Comparing teacher-forced logits with a reference (architecture.md §7).

/// How teacher-forced rows agree with a reference's per-position top lists.
#[derive(Debug)]
pub struct Agreement {
    /// Positions where the reference's margin exceeds 0.5.
    pub decisive: usize,
    /// Of those, positions where our top-1 differs.
    pub top1_disagreements: Vec<usize>,
    /// Mean and max |Δlogit| over the reference's top-5 ids, all positions.
    pub mean_abs_top5: f32,
    pub max_abs_top5: f32,
}

pub fn top_n(row: &[f32], n: usize) -> Vec<(u32, f32)> {
    let mut ids: Vec<usize> = (0..row.len()).collect();
    ids.sort_by(|a, b| row[*b].total_cmp(&row[*a]).then(a.cmp(b)));
    ids[..n].iter().map(|&i| (i as u32, row[i])).collect()
}

pub fn agreement(ours: &[Vec<f32>], reference: &[Vec<(u32, f32)>]) -> Agreement {
    agreement_beyond(ours, reference, 0.5)
}

/// [`agreement`] with positions counted as decisive when the reference's margin exceeds `margin`.
pub fn agreement_beyond(ours: &[Vec<f32>], reference: &[Vec<(u32, f32)>], margin: f32) -> Agreement {
    assert_eq!(ours.len(), reference.len());
    let (mut decisive, mut top1_disagreements, mut deltas) = (0, Vec::new(), Vec::new());
    for (i, (row, top)) in ours.iter().zip(reference).enumerate() {
        if top[0].1 - top[1].1 > margin {
            decisive += 1;
            if top_n(row, 1)[0].0 != top[0].0 {
                top1_disagreements.push(i);
            }
        }
        deltas.extend(top[..5].iter().map(|(id, l)| (row[*id as usize] - l).abs()));
    }
    Agreement {
        decisive,
        top1_disagreements,
        mean_abs_top5: deltas.iter().sum::<f32>() / deltas.len() as f32,
        max_abs_top5: deltas.iter().fold(0.0, |m, d| m.max(*d)),
    }
}

pub fn assert_agrees(what: &str, a: &Agreement) {
    eprintln!("{what}: {a:?}");
    assert!(a.decisive > 0, "{what}: no decisive positions to check");
    assert!(a.top1_disagreements.is_empty(), "{what}: top-1 differs at decisive positions {:?}", a.top1_disagreements);
    assert!(a.mean_abs_top5 < 0.5, "{what}: mean |Δlogit| over top-5 is {}", a.mean_abs_top5);
    assert!(a.max_abs_top5 < 2.0, "{what}: a top-5 logit differs by {}", a.max_abs_top5);
}

/// Per position, a reference's best (id, logit) pairs, best first.
pub type TopLists = Vec<Vec<(u32, f32)>>;

/// A sequence of a logits reference file (`logits.json` from make_logits_reference.py, or a
/// `logits-<mix>.json` from make_kquant_reference.py): its tokens and, per position, llama.cpp's
/// top-10 (id, logit).
pub fn llama_cpp_reference(file: &str, name: &str) -> (Vec<u32>, TopLists) {
    let script = if file == "logits.json" { "make_logits_reference.py" } else { "make_kquant_reference.py" };
    let json = reference(file, script);
    let seq = json["sequences"]
        .as_array()
        .and_then(|all| all.iter().find(|s| s["name"] == name))
        .unwrap_or_else(|| panic!("{file} has no sequence named {name:?}"));
    let tokens = seq["tokens"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap() as u32).collect();
    let top = seq["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["top"].as_array().unwrap().iter().map(|e| (e[0].as_u64().unwrap() as u32, e[1].as_f64().unwrap() as f32)).collect()
        })
        .collect();
    (tokens, top)
}
