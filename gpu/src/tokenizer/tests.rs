//! Tokenizer behaviour on a small synthetic vocabulary (the real model is checked against
//! llama.cpp in `gpu/tests/tokenizer_reference.rs`).

use super::*;
use crate::gguf::GgufBuilder;

/// All 256 byte tokens, some merges, and special tokens.
fn tiny(pre: &str, extra_tokens: &[(&str, i32)], merges: &[&str]) -> Tokenizer {
    let mut tokens: Vec<String> = vec![
        "<|endoftext|>".into(),
        "<|im_start|>".into(),
        "<|im_end|>".into(),
    ];
    let mut types = vec![3, 3, 3];
    for b in 0..=255u8 {
        tokens.push(unicode::byte_to_char(b).to_string());
        types.push(1);
    }
    for (t, ty) in extra_tokens {
        tokens.push((*t).into());
        types.push(*ty);
    }
    let mut b = GgufBuilder::new();
    b.kv("tokenizer.ggml.model", "gpt2")
        .kv("tokenizer.ggml.pre", pre)
        .kv("tokenizer.ggml.tokens", tokens)
        .kv("tokenizer.ggml.token_type", types)
        .kv("tokenizer.ggml.merges", merges.iter().map(|m| m.to_string()).collect::<Vec<_>>())
        .kv("tokenizer.ggml.bos_token_id", 1u32)
        .kv("tokenizer.ggml.eos_token_id", 2u32)
        .kv("tokenizer.ggml.add_bos_token", false)
        .kv("tokenizer.chat_template", "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m['content'] | trim }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}");
    let bytes = b.build();
    Tokenizer::from_gguf(&Gguf::parse(&bytes).unwrap()).unwrap()
}

fn id(t: &Tokenizer, text: &str) -> u32 {
    t.token_id(text)
        .unwrap_or_else(|| panic!("no token {text:?}"))
}

#[test]
fn merges_apply_lowest_rank_first() {
    // "abc": rank 0 makes "bc" first, so "ab" (rank 1) can no longer apply.
    let t = tiny(
        "gpt2",
        &[("bc", 1), ("ab", 1), ("abc", 1)],
        &["b c", "a b", "a bc"],
    );
    assert_eq!(t.encode("abc", false), [id(&t, "abc")]);
    let t = tiny("gpt2", &[("bc", 1), ("ab", 1)], &["a b", "b c"]);
    assert_eq!(t.encode("abc", false), [id(&t, "ab"), id(&t, "c")]);
    // Equal ranks can't happen for distinct pairs; leftmost wins among repeats of one pair.
    let t = tiny("gpt2", &[("aa", 1)], &["a a"]);
    assert_eq!(t.encode("aaa", false), [id(&t, "aa"), id(&t, "a")]);
}

#[test]
fn bytes_map_through_gpt2_characters() {
    let t = tiny("gpt2", &[("Ġw", 1)], &["Ġ w"]);
    assert_eq!(t.encode(" w", false), [id(&t, "Ġw")]);
    let euro = t.encode("€", false);
    assert_eq!(euro.len(), 3, "three byte tokens");
    assert_eq!(t.decode(&euro, false), "€".as_bytes());
}

#[test]
fn special_tokens_parse_only_when_asked() {
    let t = tiny("gpt2", &[], &[]);
    let with = t.encode("<|im_start|>hi<|im_end|>", true);
    assert_eq!(with.first(), Some(&1));
    assert_eq!(with.last(), Some(&2));
    assert_eq!(with.len(), 4);
    let without = t.encode("<|im_start|>hi<|im_end|>", false);
    assert!(!without.contains(&1) && !without.contains(&2));
    assert_eq!(t.decode(&without, false), b"<|im_start|>hi<|im_end|>");
    assert_eq!(
        t.decode(&with, false),
        b"hi",
        "control tokens are hidden unless special"
    );
    assert_eq!(t.decode(&with, true), b"<|im_start|>hi<|im_end|>");
}

#[test]
fn user_defined_tokens_always_split_out() {
    let t = tiny("gpt2", &[("<tool>", 4)], &[]);
    let tool = id(&t, "<tool>");
    assert_eq!(
        t.encode("x<tool>y", false),
        [id(&t, "x"), tool, id(&t, "y")]
    );
    assert_eq!(t.decode(&[tool], false), b"<tool>");
}

#[test]
fn llama3_ignore_merges_takes_whole_words() {
    // "Ġhello" is a token with no merge path; llama-bpe emits it directly.
    let t = tiny("llama-bpe", &[("Ġhello", 1)], &[]);
    assert_eq!(t.encode(" hello", false), [id(&t, "Ġhello")]);
    let t = tiny("gpt2", &[("Ġhello", 1)], &[]);
    assert_eq!(t.encode(" hello", false).len(), 6);
    assert!(
        !tiny("llama-bpe", &[], &[]).add_bos(),
        "the GGUF flag overrides the llama3 default"
    );
}

#[test]
fn eog_and_special_ids() {
    let t = tiny("smollm", &[], &[]);
    assert_eq!((t.bos(), t.eos()), (Some(1), Some(2)));
    assert_eq!(t.eog_ids(), [0, 2]);
    assert!(t.is_eog(0) && !t.is_eog(1));
}

#[test]
fn stream_decoder_holds_back_split_characters() {
    let t = tiny("gpt2", &[], &[]);
    let ids = t.encode("a€b😀", false);
    let mut dec = t.stream_decoder(false);
    let mut pieces = Vec::new();
    for &i in &ids {
        pieces.push(dec.push(i));
    }
    assert_eq!(pieces.concat(), "a€b😀");
    assert_eq!(pieces[1], "", "first byte of € alone is held back");
    assert_eq!(pieces[3], "€");
    assert!(dec.pending().is_empty());
    // A truncated character is flushed as U+FFFD.
    let mut dec = t.stream_decoder(false);
    assert_eq!(dec.push(ids[1]), "");
    assert_eq!(dec.finish(), "\u{FFFD}");
}

#[test]
fn unsupported_tokenizers_are_named() {
    let mut b = GgufBuilder::new();
    b.kv("tokenizer.ggml.model", "llama");
    let err = Tokenizer::from_gguf(&Gguf::parse(&b.build()).unwrap()).unwrap_err();
    assert!(err.to_string().contains("'llama'"), "{err}");
    let mut b = GgufBuilder::new();
    b.kv("tokenizer.ggml.model", "gpt2")
        .kv("tokenizer.ggml.pre", "klingon");
    let err = Tokenizer::from_gguf(&Gguf::parse(&b.build()).unwrap()).unwrap_err();
    assert!(err.to_string().contains("pre-tokenizer 'klingon'"), "{err}");
}

#[test]
fn chat_template_renders_with_trim_blocks_and_filters() {
    let t = tiny("gpt2", &[], &[]);
    let tpl = t.chat_template().unwrap().unwrap();
    let out = tpl
        .render(
            &[
                ChatMessage::new("system", "Be brief."),
                ChatMessage::new("user", "  Hi  "),
            ],
            true,
        )
        .unwrap();
    assert_eq!(
        out,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
    );
    let err = ChatTemplate::new("{{ raise_exception('no system role') }}", "", "")
        .unwrap()
        .render(&[], false);
    assert!(err.unwrap_err().to_string().contains("no system role"));
    let py = ChatTemplate::new("{{ ' x '.strip() }}|{{ 'abc'.startswith('a') }}", "", "").unwrap();
    assert_eq!(
        py.render(&[], false).unwrap(),
        "x|True",
        "booleans print as in Python"
    );
    assert!(ChatTemplate::new("{% if %}", "", "").is_err());
}
