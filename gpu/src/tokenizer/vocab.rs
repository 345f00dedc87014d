//! The vocabulary from GGUF metadata: token texts and attributes, special token ids and the
//! end-of-generation set, following llama.cpp's `llama_vocab::impl::load`.

use std::collections::{BTreeSet, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use super::TokenizerError;
use super::strtable::StrTable;
use crate::gguf::Metadata;

/// A fast non-cryptographic hasher (the rustc "Fx" scheme) for the merge map's integer keys.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf) ^ ((rest.len() as u64) << 59));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        // Fx ends in a multiply, so its low bits (the bucket index) see only the low bits of
        // the input: strings sharing a prefix collide. Fold the high bits down (splitmix step).
        let h = self.0;
        (h ^ (h >> 31)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ (h >> 29)
    }
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Token attributes (llama.cpp `llama_token_attr` bits).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenAttrs(pub u16);

impl TokenAttrs {
    pub const UNDEFINED: Self = Self(0);
    pub const UNKNOWN: Self = Self(1 << 0);
    pub const UNUSED: Self = Self(1 << 1);
    pub const NORMAL: Self = Self(1 << 2);
    pub const CONTROL: Self = Self(1 << 3);
    pub const USER_DEFINED: Self = Self(1 << 4);
    pub const BYTE: Self = Self(1 << 5);

    /// Attributes for a `tokenizer.ggml.token_type` value.
    pub fn from_token_type(t: i32) -> Self {
        match t {
            1 => Self::NORMAL,
            2 => Self::UNKNOWN,
            3 => Self::CONTROL,
            4 => Self::USER_DEFINED,
            5 => Self::UNUSED,
            6 => Self::BYTE,
            _ => Self::UNDEFINED,
        }
    }

    pub fn contains(self, any_of: Self) -> bool {
        self.0 & any_of.0 != 0
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// Token texts, attributes and the special ids that matter to encoding and generation.
#[derive(Clone, Debug)]
pub(crate) struct Vocab {
    /// Token texts by id; `find` gives the id of a text (the last one, for duplicates).
    pub texts: StrTable,
    pub attrs: Vec<TokenAttrs>,
    pub bos: Option<u32>,
    pub eos: Option<u32>,
    pub eot: Option<u32>,
    pub add_bos: bool,
    pub eog: BTreeSet<u32>,
}

const EOT_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "<|end_of_text|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "<｜end▁of▁sentence｜>",
    "<end_of_utterance>",
];
const EOM_TEXTS: &[&str] = &["<|eom_id|>"];
const FIM_PAD_TEXTS: &[&str] = &["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];
const FIM_REP_TEXTS: &[&str] = &[
    "<|fim_repo|>",
    "<|repo_name|>",
    "<fim-repo>",
    "<REPO>",
    "<reponame>",
];
const FIM_SEP_TEXTS: &[&str] = &["<|file_sep|>"];
const EOG_TEXTS: &[&str] = &[
    "<|eot_id|>",
    "<|im_end|>",
    "<|end|>",
    "<|return|>",
    "<|call|>",
    "<|flush|>",
    "<|calls|>",
    "<end_of_turn>",
    "<|endoftext|>",
    "</s>",
    "<|eom_id|>",
    "<EOT>",
    "_<EOT>",
    "[EOT]",
    "[EOS]",
];

impl Vocab {
    /// Loads a byte-level BPE (`gpt2`) vocabulary; `add_bos_default` is the pre-tokenizer's
    /// default (true for Llama 3), overridden by `tokenizer.ggml.add_bos_token`.
    pub fn load(meta: &Metadata, add_bos_default: bool) -> Result<Self, TokenizerError> {
        let tokens = meta.get_str_array("tokenizer.ggml.tokens")?;
        let n = tokens.len();
        if n == 0 || n > u32::MAX as usize / 2 {
            return Err(TokenizerError::Invalid(format!(
                "vocabulary has {n} tokens"
            )));
        }
        let types = meta.get_i32_array_opt("tokenizer.ggml.token_type")?;
        if let Some(t) = types
            && t.len() < n
        {
            return Err(TokenizerError::Invalid(format!(
                "tokenizer.ggml.token_type has {} entries for {n} tokens",
                t.len()
            )));
        }
        let total: usize = tokens.iter().map(|t| t.len().max(16)).sum();
        if total >= u32::MAX as usize {
            return Err(TokenizerError::Invalid(format!(
                "vocabulary texts take {total} bytes"
            )));
        }
        let mut texts = StrTable::with_capacity(n, total);
        let mut attrs = Vec::with_capacity(n);
        for (i, t) in tokens.iter().enumerate() {
            if t.is_empty() {
                texts.push(&format!("[EMPTY_{i}]"));
            } else {
                texts.push(t);
            }
            attrs.push(types.map_or(TokenAttrs::NORMAL, |t| TokenAttrs::from_token_type(t[i])));
        }

        let in_range = |key: &str, default: Option<u32>| -> Result<Option<u32>, TokenizerError> {
            Ok(match meta.get_u32_opt(key)? {
                Some(id) if (id as usize) < n => Some(id),
                _ => default.filter(|&d| (d as usize) < n),
            })
        };
        // llama.cpp's defaults for BPE vocabularies are bos = eos = 11.
        let bos = in_range("tokenizer.ggml.bos_token_id", Some(11))?;
        let eos = in_range("tokenizer.ggml.eos_token_id", Some(11))?;
        let mut eot = in_range("tokenizer.ggml.eot_token_id", None)?;
        let mut eom = in_range("tokenizer.ggml.eom_token_id", None)?;
        let mut fim_pad = in_range("tokenizer.ggml.fim_pad_token_id", None)?;
        let mut fim_rep = in_range("tokenizer.ggml.fim_rep_token_id", None)?;
        let mut fim_sep = in_range("tokenizer.ggml.fim_sep_token_id", None)?;
        let add_bos = meta
            .get_bool_opt("tokenizer.ggml.add_bos_token")?
            .unwrap_or(add_bos_default);

        // Text-based detection of special roles; llama.cpp also marks such tokens as control.
        // (It takes the first match in hash order; the lowest id is used here.)
        let find = |names: &[&str]| names.iter().filter_map(|t| texts.find(t)).min();
        let detect = |slot: &mut Option<u32>, names: &[&str], attrs: &mut Vec<TokenAttrs>| {
            if slot.is_none()
                && let Some(id) = find(names)
            {
                *slot = Some(id);
                attrs[id as usize] = attrs[id as usize].union(TokenAttrs::CONTROL);
            }
        };
        detect(&mut eot, EOT_TEXTS, &mut attrs);
        detect(&mut eom, EOM_TEXTS, &mut attrs);
        detect(&mut fim_pad, FIM_PAD_TEXTS, &mut attrs);
        detect(&mut fim_rep, FIM_REP_TEXTS, &mut attrs);
        detect(&mut fim_sep, FIM_SEP_TEXTS, &mut attrs);

        let mut eog: BTreeSet<u32> = [fim_pad, fim_rep, fim_sep, eos, eot, eom]
            .into_iter()
            .flatten()
            .collect();
        for id in EOG_TEXTS.iter().filter_map(|t| texts.find(t)) {
            eog.insert(id);
            attrs[id as usize] = attrs[id as usize].union(TokenAttrs::CONTROL);
        }
        Ok(Self {
            texts,
            attrs,
            bos,
            eos,
            eot,
            add_bos,
            eog,
        })
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Text of a token known to be in range.
    pub fn text(&self, id: u32) -> &str {
        self.texts.get(id).expect("token id in range")
    }

    /// The id of a token text (llama.cpp's `text_to_token`).
    pub fn find(&self, text: &str) -> Option<u32> {
        self.texts.find(text)
    }
}
