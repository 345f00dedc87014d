//! The model's tokenizer, built from GGUF metadata (`tokenizer.ggml.*`): byte-level BPE with
//! the model's pre-tokenizer, special tokens, exact detokenization, and the chat template.
//!
//! Results equal llama.cpp's `llama_tokenize(text, add_special = false, parse_special)` (checked
//! against llama-cpp-python 0.3.36 by `tests/reference/make_tokenizer_reference.py`). Supported:
//! `tokenizer.ggml.model = gpt2` with the `smollm`, `gpt2`, `llama-bpe`/`llama3`, `qwen2`
//! and `default` pre-tokenizer families (see [`PreTokenizer::from_name`]).
//!
//! ```no_run
//! use council_gpu::{gguf::GgufFile, tokenizer::{ChatMessage, Tokenizer}};
//! let file = GgufFile::open("model.gguf")?;
//! let tok = Tokenizer::from_gguf(&file)?;
//! let prompt = tok.chat_template()?.unwrap().render(&[ChatMessage::new("user", "Hi")], true)?;
//! let ids = tok.encode(&prompt, true);
//! assert_eq!(tok.decode(&ids, true), prompt.as_bytes());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bpe;
mod chat;
mod decode;
mod pretokenize;
mod special;
mod strtable;
mod template_guard;
mod unicode;
mod unicode_table;
mod vocab;

use std::fmt;

pub use chat::{ChatMessage, ChatTemplate, MAX_RECURSION, MAX_RENDER_BYTES, MAX_TEMPLATE_BYTES, RENDER_FUEL};
pub use decode::StreamDecoder;
pub use pretokenize::PreTokenizer;
pub use vocab::TokenAttrs;

use crate::gguf::{Gguf, GgufError, Metadata};
use special::Fragment;

/// Longest text [`Tokenizer::encode`] is meant for (1 MiB): BPE scratch memory grows
/// about a hundred bytes per input byte in one long word, so callers holding untrusted
/// text check this first (the CLI refuses longer input; chat renders stop at it).
pub const MAX_ENCODE_BYTES: usize = 1 << 20;

/// Most control, user-defined and unknown tokens a vocabulary may have (byte-level BPE
/// models have a few dozen to a thousand).
pub const MAX_SPECIAL_TOKENS: usize = 16_384;

/// Why a tokenizer could not be built or a template not rendered.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenizerError {
    /// Missing or mistyped `tokenizer.*` metadata.
    Gguf(GgufError),
    /// A tokenizer kind or pre-tokenizer this crate does not implement.
    Unsupported(String),
    /// Inconsistent tokenizer metadata.
    Invalid(String),
    /// The chat template failed to compile or render.
    Template(String),
}

impl fmt::Display for TokenizerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenizerError::Gguf(e) => write!(f, "tokenizer: {e}"),
            TokenizerError::Unsupported(m) => write!(f, "tokenizer not supported: {m}"),
            TokenizerError::Invalid(m) => write!(f, "invalid tokenizer metadata: {m}"),
            TokenizerError::Template(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for TokenizerError {}

impl From<GgufError> for TokenizerError {
    fn from(e: GgufError) -> Self {
        TokenizerError::Gguf(e)
    }
}

/// A byte-level BPE tokenizer.
#[derive(Clone, Debug)]
pub struct Tokenizer {
    vocab: vocab::Vocab,
    bpe: bpe::Bpe,
    pre: PreTokenizer,
    specials: Vec<u32>,
    pieces: decode::Pieces,
    chat_template: Option<String>,
}

impl Tokenizer {
    pub fn from_gguf(gguf: &Gguf) -> Result<Self, TokenizerError> {
        Self::from_metadata(&gguf.metadata)
    }

    pub fn from_metadata(meta: &Metadata) -> Result<Self, TokenizerError> {
        let model = meta.get_str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(TokenizerError::Unsupported(format!(
                "tokenizer.ggml.model '{model}' (only byte-level BPE, 'gpt2', is implemented)"
            )));
        }
        let pre_name = meta.get_str_opt("tokenizer.ggml.pre")?.unwrap_or("default");
        let (pre, ignore_merges) = PreTokenizer::from_name(pre_name)
            .ok_or_else(|| TokenizerError::Unsupported(format!("pre-tokenizer '{pre_name}'")))?;
        let vocab = vocab::Vocab::load(meta, pre == PreTokenizer::Llama3)?;
        let merges = meta.get_str_array("tokenizer.ggml.merges")?;
        let bpe = bpe::Bpe::new(&vocab, merges, ignore_merges)?;
        let specials = special::special_tokens(&vocab);
        // Splitting text at special tokens scans it once per special token (as llama.cpp
        // does); a vocabulary with millions of them would make every encode crawl.
        if specials.len() > MAX_SPECIAL_TOKENS {
            return Err(TokenizerError::Invalid(format!(
                "{} control or user-defined tokens, more than the limit of {MAX_SPECIAL_TOKENS}",
                specials.len()
            )));
        }
        let pieces = decode::Pieces::new(&vocab);
        let chat_template = meta
            .get_str_opt("tokenizer.chat_template")?
            .map(str::to_owned);
        Ok(Self {
            vocab,
            bpe,
            pre,
            specials,
            pieces,
            chat_template,
        })
    }

    /// Token ids for `text`, without adding BOS (see [`Tokenizer::add_bos`]). With
    /// `parse_special`, control-token texts such as `<|im_start|>` become their ids;
    /// without it they are tokenized as plain text.
    pub fn encode(&self, text: &str, parse_special: bool) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        let mut scratch = bpe::Scratch::default();
        for fragment in special::partition(text, &self.vocab, &self.specials, parse_special) {
            match fragment {
                Fragment::Token(id) => out.push(id),
                Fragment::Text(range) => {
                    let piece = &text[range];
                    for word in self.pre.split(piece) {
                        self.bpe.encode_word(
                            &piece.as_bytes()[word],
                            &self.vocab,
                            &mut scratch,
                            &mut out,
                        );
                    }
                }
            }
        }
        out
    }

    /// The bytes one token stands for. Without `special`, control and unknown tokens are
    /// empty (llama.cpp `token_to_piece`). Out-of-range ids are empty.
    pub fn token_piece(&self, id: u32, special: bool) -> &[u8] {
        let Some(&attrs) = self.vocab.attrs.get(id as usize) else {
            return &[];
        };
        if !special && attrs.contains(TokenAttrs::UNKNOWN.union(TokenAttrs::CONTROL)) {
            return &[];
        }
        self.pieces.get(id)
    }

    /// The concatenated pieces of `ids` (llama-cpp-python's `detokenize`). Not necessarily
    /// UTF-8 when cut mid-character; see [`StreamDecoder`] for incremental text.
    pub fn decode(&self, ids: &[u32], special: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for &id in ids {
            out.extend_from_slice(self.token_piece(id, special));
        }
        out
    }

    /// [`Tokenizer::decode`] as text, with invalid UTF-8 replaced.
    pub fn decode_lossy(&self, ids: &[u32], special: bool) -> String {
        String::from_utf8_lossy(&self.decode(ids, special)).into_owned()
    }

    /// A decoder for generated tokens.
    pub fn stream_decoder(&self, special: bool) -> StreamDecoder<'_> {
        StreamDecoder::new(self, special)
    }

    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// The vocabulary's spelling of a token (GPT-2 characters for normal tokens).
    pub fn token_text(&self, id: u32) -> Option<&str> {
        self.vocab.texts.get(id)
    }

    /// The id whose vocabulary text is exactly `text`.
    pub fn token_id(&self, text: &str) -> Option<u32> {
        self.vocab.find(text)
    }

    pub fn token_attrs(&self, id: u32) -> TokenAttrs {
        self.vocab
            .attrs
            .get(id as usize)
            .copied()
            .unwrap_or_default()
    }

    pub fn bos(&self) -> Option<u32> {
        self.vocab.bos
    }

    pub fn eos(&self) -> Option<u32> {
        self.vocab.eos
    }

    /// End-of-turn token (detected from metadata or by text, as llama.cpp).
    pub fn eot(&self) -> Option<u32> {
        self.vocab.eot
    }

    /// Whether prompts should start with BOS (`tokenizer.ggml.add_bos_token`).
    pub fn add_bos(&self) -> bool {
        self.vocab.add_bos
    }

    /// Tokens that end generation (llama.cpp's `special_eog_ids`), ascending.
    pub fn eog_ids(&self) -> Vec<u32> {
        self.vocab.eog.iter().copied().collect()
    }

    pub fn is_eog(&self, id: u32) -> bool {
        self.vocab.eog.contains(&id)
    }

    pub fn pre_tokenizer(&self) -> PreTokenizer {
        self.pre
    }

    /// Strings interned for BPE (vocabulary plus merge-only pieces); for diagnostics.
    pub fn n_bpe_pieces(&self) -> usize {
        self.bpe.n_pieces()
    }

    /// The raw `tokenizer.chat_template` source, if the model has one.
    pub fn chat_template_source(&self) -> Option<&str> {
        self.chat_template.as_deref()
    }

    /// The model's chat template, compiled, with its BOS/EOS texts; `None` if it has none.
    pub fn chat_template(&self) -> Result<Option<ChatTemplate>, TokenizerError> {
        let Some(source) = &self.chat_template else {
            return Ok(None);
        };
        let text = |id: Option<u32>| id.and_then(|i| self.token_text(i)).unwrap_or("");
        ChatTemplate::new(source, text(self.vocab.bos), text(self.vocab.eos)).map(Some)
    }
}

#[cfg(test)]
mod tests;
