//! Speculative decoding and token-level fusion on the real test model.
//!
//! Exactness: whatever the drafter proposes, the greedy reply is token for token the
//! verifier's greedy reply alone (the server's path, which the CLI's plain asks use). The
//! verifier is the Q8_0 requantization of the test model and the drafters are the Q4_1 test
//! model itself, its lossier Q4_0 requantization, and the verifier's own model playing a
//! drafter persona (another prompt): made by `tests/reference/make_speculative_models.py`.

use std::path::PathBuf;
use std::sync::Arc;

use council_gpu::cpu::{fuse, speculate, Authored, CpuModel, GenRequest, JointOptions, Route, Runner, Server, ServerEvent, ServerOptions};
use council_gpu::sampling::Sampling;
use council_gpu::tokenizer::{ChatMessage, Tokenizer};

mod common;
use common::{reference_dir, test_model};

fn sibling(quant: &str) -> PathBuf {
    let stem = test_model().file_name().unwrap().to_string_lossy().split('.').next().unwrap().to_string();
    let path = reference_dir().join(format!("{stem}.{quant}.gguf"));
    assert!(
        path.exists(),
        "missing {} (make it with `~/.cache/council/venv/bin/python tests/reference/make_speculative_models.py`; scripts/test does this)",
        path.display()
    );
    path
}

fn open(path: PathBuf) -> Arc<CpuModel> {
    Arc::new(CpuModel::open(path).expect("model loads"))
}

fn chat(tok: &Tokenizer, system: &str, user: &str) -> Vec<u32> {
    let template = tok.chat_template().unwrap().unwrap();
    tok.encode(&template.render(&[ChatMessage::new("system", system), ChatMessage::new("user", user)], true).unwrap(), true)
}

const QUESTIONS: [&str; 3] = [
    "Tom has 17 apples and buys 25 more. How many apples does he have? Explain briefly.",
    "Name the largest planet of the solar system and say one fact about it.",
    "Write two sentences about why the sky is blue.",
];

const SYSTEM: &str = "You are a careful assistant. Answer in a few sentences.";
const PERSONA: &str = "You are a quick drafting assistant. Answer in a few sentences.";

/// The verifier's greedy reply alone, through the server.
fn alone(model: &Arc<CpuModel>, prompt: &[u32], max_tokens: usize, stop: &[u32]) -> Vec<u32> {
    let mut server = Server::new(Arc::clone(model), ServerOptions { max_ctx: 1024, n_threads: 1, max_batch: 1, prefix_cache_bytes: 0 });
    server.submit(0, GenRequest { prompt: prompt.to_vec(), max_tokens, sampling: Sampling::Greedy, stop: stop.to_vec() }).unwrap();
    let mut events = Vec::new();
    while !server.is_idle() {
        server.step(&mut events).unwrap();
    }
    events.iter().filter_map(|e| if let ServerEvent::Token { token, .. } = e { Some(*token) } else { None }).collect()
}

#[test]
fn speculative_replies_are_the_verifiers_greedy_replies_token_for_token() {
    let verifier = open(sibling("Q8_0"));
    let tok = Tokenizer::from_gguf(verifier.gguf()).unwrap();
    let stop = tok.eog_ids();
    let opts = JointOptions { max_tokens: 48, max_ctx: 1024, stop: stop.clone() };
    let mut vr = Runner::new(Arc::clone(&verifier), 1);
    let mut q41 = Runner::new(open(test_model()), 1);
    let mut q40 = Runner::new(open(sibling("Q4_0")), 1);
    let (mut rejected, mut accepted) = (0, 0);
    for q in QUESTIONS {
        let prompt = chat(&tok, SYSTEM, q);
        let expect = alone(&verifier, &prompt, opts.max_tokens, &stop);
        assert!(expect.len() >= 10, "the reply is long enough to test drafting: {}", expect.len());
        // The verifier alone through the joint path: one step per token.
        let solo = speculate(&mut vr, None, &prompt, &prompt, 0, &opts).unwrap();
        assert_eq!(solo.tokens, expect);
        assert_eq!(solo.first_steps, expect.len() + usize::from(expect.len() < opts.max_tokens));
        assert!(solo.pieces.iter().all(|p| p.first && p.status == Authored::Written));
        for k in [1, 4, 8] {
            let drafters: [(&str, Option<&mut Runner>, Vec<u32>); 3] =
                [("Q4_1", Some(&mut q41), prompt.clone()), ("Q4_0", Some(&mut q40), prompt.clone()), ("persona", None, chat(&tok, PERSONA, q))];
            for (name, drafter, dprompt) in drafters {
                let j = speculate(&mut vr, drafter, &prompt, &dprompt, k, &opts).unwrap();
                assert_eq!(j.tokens, expect, "{name} drafter, k={k}: {q}");
                let kept: Vec<u32> = j.pieces.iter().filter(|p| p.status != Authored::Rejected).map(|p| p.token).collect();
                assert_eq!(kept, expect, "{name} k={k}: the pieces other than rejected drafts spell the reply");
                let count = |s| j.pieces.iter().filter(|p| p.status == s).count();
                assert!(j.pieces.iter().all(|p| p.first == (p.status == Authored::Written)));
                // Each verification step ends with a token the verifier writes, unless the reply ended inside a draft.
                assert!(j.first_steps >= count(Authored::Written) && j.first_steps <= count(Authored::Written) + 1, "{name} k={k}");
                // Every kept draft saves the verifier a step.
                assert!(j.first_steps + count(Authored::Accepted) <= expect.len() + 1, "{name} k={k}");
                accepted += count(Authored::Accepted);
                rejected += count(Authored::Rejected);
            }
        }
    }
    assert!(accepted > 0 && rejected > 0, "the drafters both hit and miss ({accepted} accepted, {rejected} rejected), so rollback is exercised");
}

#[test]
fn a_drafter_identical_to_the_verifier_has_every_draft_accepted() {
    let model = open(test_model());
    let tok = Tokenizer::from_gguf(model.gguf()).unwrap();
    let opts = JointOptions { max_tokens: 40, max_ctx: 1024, stop: tok.eog_ids() };
    let mut runner = Runner::new(Arc::clone(&model), 1);
    let prompt = chat(&tok, SYSTEM, QUESTIONS[0]);
    let j = speculate(&mut runner, None, &prompt, &prompt, 4, &opts).unwrap();
    assert!(j.pieces.iter().all(|p| p.status != Authored::Rejected), "{:?}", j.pieces);
    // Five tokens per verification step (four drafts and the verifier's own), bar the last.
    assert!(j.first_steps <= j.tokens.len().div_ceil(5) + 1, "{} steps for {} tokens", j.first_steps, j.tokens.len());
}

#[test]
fn fusion_routes_tokens_and_its_single_expert_arms_are_the_experts_alone() {
    let a = open(sibling("Q8_0"));
    let tok = Tokenizer::from_gguf(a.gguf()).unwrap();
    let stop = tok.eog_ids();
    let opts = JointOptions { max_tokens: 32, max_ctx: 1024, stop: stop.clone() };
    let b = open(sibling("Q4_0"));
    let mut ra = Runner::new(Arc::clone(&a), 1);
    let mut rb = Runner::new(Arc::clone(&b), 1);
    let prompt = chat(&tok, SYSTEM, QUESTIONS[1]);
    // Router `first` without a complement is the first expert alone; `second` the second.
    let first = fuse(&mut ra, Some(&mut rb), &prompt, &prompt, Route::First, 0.0, &opts).unwrap();
    assert_eq!(first.tokens, alone(&a, &prompt, 32, &stop));
    assert!(first.pieces.iter().all(|p| p.first && p.status == Authored::Chosen));
    let second = fuse(&mut ra, Some(&mut rb), &prompt, &prompt, Route::Second, 0.0, &opts).unwrap();
    assert_eq!(second.tokens, alone(&b, &prompt, 32, &stop));
    assert!(second.pieces.iter().all(|p| !p.first));
    // Per-token routing over one model with two personas (batched in one step): both write.
    let persona = chat(&tok, PERSONA, QUESTIONS[1]);
    let mixed = fuse(&mut ra, None, &prompt, &persona, Route::Token, 0.5, &opts).unwrap();
    assert!(!mixed.tokens.is_empty());
    let by_first = mixed.pieces.iter().filter(|p| p.first).count();
    assert!(by_first > 0 && by_first < mixed.pieces.len(), "per-token routing gives tokens to both personas: {by_first} of {}", mixed.pieces.len());
    // A sequence router keeps one writer throughout.
    let seq = fuse(&mut ra, None, &prompt, &persona, Route::Sequence, 0.5, &opts).unwrap();
    assert!(seq.pieces.windows(2).all(|w| w[0].first == w[1].first));
}
