//! Token ids back to bytes: per-token pieces as llama.cpp's `token_to_piece`, and a streaming
//! decoder that only emits complete UTF-8 characters.

use super::Tokenizer;
use super::unicode::char_to_byte;
use super::vocab::{TokenAttrs, Vocab};

/// Every token's piece with specials rendered (llama.cpp's `cache_token_to_piece`), packed.
#[derive(Clone, Debug)]
pub(crate) struct Pieces {
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

impl Pieces {
    pub fn new(vocab: &Vocab) -> Self {
        let mut bytes = Vec::with_capacity(vocab.len() * 6);
        let mut ends = Vec::with_capacity(vocab.len());
        let literal = TokenAttrs::UNKNOWN
            .union(TokenAttrs::CONTROL)
            .union(TokenAttrs::USER_DEFINED);
        for (text, &attrs) in vocab.texts.iter().zip(&vocab.attrs) {
            if attrs.contains(literal) {
                bytes.extend_from_slice(text.as_bytes());
            } else if attrs.contains(TokenAttrs::NORMAL) {
                decode_gpt2_text(text, &mut bytes);
            } else if attrs.contains(TokenAttrs::BYTE) {
                // Byte tokens in BPE vocabularies are spelled <0xAB>.
                if let Some(b) = text
                    .strip_prefix("<0x")
                    .and_then(|t| t.strip_suffix('>'))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    bytes.push(b);
                }
            }
            ends.push(bytes.len() as u32);
        }
        Self { bytes, ends }
    }

    pub fn get(&self, id: u32) -> &[u8] {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.bytes[start..self.ends[i] as usize]
    }
}

/// llama.cpp's `llama_decode_text`: GPT-2 characters back to bytes; characters outside the
/// map are spelled out as `[UNK_BYTE_0x..TEXT]`.
fn decode_gpt2_text(text: &str, out: &mut Vec<u8>) {
    for c in text.chars() {
        match char_to_byte(c) {
            Some(b) => out.push(b),
            None => {
                out.extend_from_slice(b"[UNK_BYTE_0x");
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.extend_from_slice(format!("{b:02x}").as_bytes());
                }
                out.extend_from_slice(text.as_bytes());
                out.push(b']');
            }
        }
    }
}

/// Turns a stream of token ids into text, holding back bytes of a character split across
/// tokens until it is complete. Invalid sequences become U+FFFD.
#[derive(Debug)]
pub struct StreamDecoder<'t> {
    tokenizer: &'t Tokenizer,
    special: bool,
    pending: Vec<u8>,
}

impl<'t> StreamDecoder<'t> {
    /// `special`: render control tokens (as `Tokenizer::decode`).
    pub fn new(tokenizer: &'t Tokenizer, special: bool) -> Self {
        Self {
            tokenizer,
            special,
            pending: Vec::new(),
        }
    }

    /// Adds one token and returns the text that became complete.
    pub fn push(&mut self, id: u32) -> String {
        self.pending
            .extend_from_slice(self.tokenizer.token_piece(id, self.special));
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(
                        std::str::from_utf8(&self.pending[..valid]).expect("valid prefix"),
                    );
                    match e.error_len() {
                        // An incomplete character at the end: wait for more bytes.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// Bytes still held back (an incomplete character).
    pub fn pending(&self) -> &[u8] {
        &self.pending
    }

    /// Flushes what is held back (an incomplete character becomes U+FFFD).
    pub fn finish(self) -> String {
        String::from_utf8_lossy(&self.pending).into_owned()
    }
}
