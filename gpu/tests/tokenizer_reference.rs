//! council's tokenizer against llama.cpp on the real test model: ids for a varied corpus (with
//! and without special-token parsing), every token's piece, the EOG set, and chat templates.
//!
//! Reference data: `target/reference/tokenizer.json` (or `$COUNCIL_REFERENCE_DIR`), written by
//! `~/.cache/council/venv/bin/python tests/reference/make_tokenizer_reference.py`
//! (scripts/test runs it first).

use council_gpu::gguf::GgufFile;
use council_gpu::tokenizer::{ChatMessage, ChatTemplate, Tokenizer};
use serde_json::Value;

mod common;
use common::{reference_dir, test_model};

fn reference() -> Value {
    common::reference("tokenizer.json", "make_tokenizer_reference.py")
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn messages(v: &Value) -> Vec<ChatMessage> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| ChatMessage::new(m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect()
}

fn tokenizer() -> Tokenizer {
    let file = GgufFile::open(test_model()).unwrap();
    Tokenizer::from_gguf(&file).unwrap()
}

#[test]
fn corpus_ids_equal_llama_cpp() {
    let r = reference();
    let tok = tokenizer();
    let cases = r["cases"].as_array().unwrap();
    assert!(cases.len() >= 400, "corpus too small: {}", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let text = case["text"].as_str().unwrap();
        for (parse_special, key) in [(true, "special"), (false, "plain")] {
            let want = ids(&case[key]);
            let got = tok.encode(text, parse_special);
            if got != want {
                failures.push(format!(
                    "{text:?} (special={parse_special}):\n  llama.cpp {want:?}\n  council   {got:?}"
                ));
            }
        }
        let want = unhex(case["detok_plain_hex"].as_str().unwrap());
        assert_eq!(
            tok.decode(&ids(&case["plain"]), false),
            want,
            "detokenizing {text:?}"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} tokenizations differ from llama.cpp; first ones:\n{}",
        failures.len(),
        cases.len() * 2,
        failures
            .iter()
            .take(8)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn other_pre_tokenizers_equal_llama_cpp() {
    // The model's vocabulary under gpt-2, llama-bpe, qwen2 and default pre-tokenizers.
    let r = reference();
    let cases = r["cases"].as_array().unwrap();
    let variants = r["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 4);
    for variant in variants {
        let pre = variant["pre"].as_str().unwrap();
        let bytes = std::fs::read(reference_dir().join(variant["file"].as_str().unwrap())).unwrap();
        let tok = Tokenizer::from_gguf(&council_gpu::gguf::Gguf::parse(&bytes).unwrap()).unwrap();
        let mut failures = Vec::new();
        for (case, want) in cases.iter().zip(variant["cases"].as_array().unwrap()) {
            let text = case["text"].as_str().unwrap();
            for (parse_special, key) in [(true, "special"), (false, "plain")] {
                let (want, got) = (ids(&want[key]), tok.encode(text, parse_special));
                if got != want {
                    failures.push(format!("{text:?} (special={parse_special}):\n  llama.cpp {want:?}\n  council   {got:?}"));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "pre-tokenizer {pre}: {} of {} differ; first ones:\n{}",
            failures.len(),
            cases.len() * 2,
            failures
                .iter()
                .take(6)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn every_piece_and_the_eog_set_equal_llama_cpp() {
    let r = reference();
    let tok = tokenizer();
    assert_eq!(tok.vocab_size() as u64, r["n_vocab"].as_u64().unwrap());
    assert_eq!(tok.bos().map(u64::from), r["bos"].as_u64());
    assert_eq!(tok.eos().map(u64::from), r["eos"].as_u64());
    assert_eq!(tok.eog_ids(), ids(&r["eog"]));
    for (key, special) in [("pieces_special_hex", true), ("pieces_plain_hex", false)] {
        for (id, hex) in r[key].as_array().unwrap().iter().enumerate() {
            let want = unhex(hex.as_str().unwrap());
            assert_eq!(
                tok.token_piece(id as u32, special),
                &want[..],
                "piece of token {id} (special={special})"
            );
        }
    }
}

#[test]
fn chat_templates_render_like_jinja2() {
    let r = reference();
    let tok = tokenizer();
    assert_eq!(tok.chat_template_source(), r["chat_template"].as_str());
    let template = tok
        .chat_template()
        .unwrap()
        .expect("the test model has a template");
    let chats = r["chats"].as_array().unwrap();
    assert!(!chats.is_empty());
    for chat in chats {
        let agp = chat["add_generation_prompt"].as_bool().unwrap();
        let rendered = template.render(&messages(&chat["messages"]), agp).unwrap();
        assert_eq!(rendered, chat["rendered"].as_str().unwrap());
        assert_eq!(
            tok.encode(&rendered, true),
            ids(&chat["ids"]),
            "prompt ids of {rendered:?}"
        );
    }
    for extra in r["extra_templates"].as_array().unwrap() {
        let t = ChatTemplate::new(
            extra["source"].as_str().unwrap(),
            extra["bos_token"].as_str().unwrap(),
            extra["eos_token"].as_str().unwrap(),
        )
        .unwrap();
        let agp = extra["add_generation_prompt"].as_bool().unwrap();
        let got = t.render(&messages(&extra["messages"]), agp).unwrap();
        assert_eq!(
            got,
            extra["rendered"].as_str().unwrap(),
            "template {}",
            extra["name"]
        );
    }
}

#[test]
fn probe_prompt_ids() {
    // The 37 ids llama.cpp gave for the rendered SmolLM2 prompt (probe-browser.md §5).
    let tok = tokenizer();
    let prompt = tok
        .chat_template()
        .unwrap()
        .unwrap()
        .render(
            &[ChatMessage::new("user", "What is the capital of France?")],
            true,
        )
        .unwrap();
    let expected = [
        1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411,
        407, 19712, 8182, 2, 198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1,
        520, 9531, 198,
    ];
    assert_eq!(tok.encode(&prompt, true), expected);
    assert_eq!(tok.decode(&expected, true), prompt.as_bytes());
}
