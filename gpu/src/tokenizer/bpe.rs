//! Byte-level BPE: ranked merges applied to one pre-tokenized word, as llama.cpp's
//! `llm_tokenizer_bpe_session` (lowest rank first, leftmost first among equal ranks).
//!
//! Strings are interned once at load: every vocabulary text and every merge operand or result
//! gets a "piece" id (vocabulary texts keep their token id; others are numbered after the
//! vocabulary), so merging compares integers instead of building strings.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::TokenizerError;
use super::strtable::StrTable;
use super::unicode::byte_to_char;
use super::vocab::{FxMap, Vocab};

const NONE: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub(crate) struct Bpe {
    /// Strings that appear in merges but not in the vocabulary, numbered after it (vocabulary
    /// texts are pieces too, with their token id as piece id).
    extra_pieces: StrTable,
    /// `(left piece, right piece)` → `(rank, merged piece)`.
    merges: FxMap<u64, (u32, u32)>,
    /// Piece of the GPT-2 character for each byte (`NONE` if never seen).
    byte_piece: [u32; 256],
    /// Mapped character of each byte, UTF-8 encoded.
    byte_utf8: [([u8; 2], u8); 256],
    n_vocab: u32,
    ignore_merges: bool,
}

#[derive(Clone, Copy)]
struct Symbol {
    start: u32,
    end: u32,
    piece: u32,
    prev: u32,
    next: u32,
}

impl Bpe {
    pub fn new(
        vocab: &Vocab,
        merges: &[String],
        ignore_merges: bool,
    ) -> Result<Self, TokenizerError> {
        let n_vocab = vocab.len() as u32;
        let mut extra_pieces = StrTable::with_capacity(16, 256);
        let intern = |extra: &mut StrTable, s: &str| -> u32 {
            vocab
                .find(s)
                .or_else(|| extra.find(s).map(|i| n_vocab + i))
                .unwrap_or_else(|| n_vocab + extra.push(s))
        };
        let mut merge_map = FxMap::with_capacity_and_hasher(merges.len(), Default::default());
        let mut joined = String::new();
        for (rank, m) in merges.iter().enumerate() {
            // llama.cpp splits at the first space found from byte 1 on.
            let Some(pos) = m
                .as_bytes()
                .iter()
                .skip(1)
                .position(|&b| b == b' ')
                .map(|p| p + 1)
            else {
                continue;
            };
            let (left, right) = (&m[..pos], &m[pos + 1..]);
            if left.is_empty() || right.is_empty() {
                continue;
            }
            let l = intern(&mut extra_pieces, left);
            let r = intern(&mut extra_pieces, right);
            joined.clear();
            joined.push_str(left);
            joined.push_str(right);
            let merged = intern(&mut extra_pieces, &joined);
            // The first (lowest-rank) occurrence of a pair wins, as with C++ `emplace`.
            merge_map
                .entry(pair_key(l, r))
                .or_insert((rank as u32, merged));
        }
        if n_vocab as usize + extra_pieces.len() >= NONE as usize {
            return Err(TokenizerError::Invalid("too many merge strings".into()));
        }
        let mut byte_piece = [NONE; 256];
        let mut byte_utf8 = [([0u8; 2], 0u8); 256];
        for b in 0..=255u8 {
            let c = byte_to_char(b);
            let mut buf = [0u8; 4];
            let len = c.encode_utf8(&mut buf).len();
            let text = c.to_string();
            let piece = vocab
                .find(&text)
                .or_else(|| extra_pieces.find(&text).map(|i| n_vocab + i));
            byte_piece[b as usize] = piece.unwrap_or(NONE);
            byte_utf8[b as usize] = ([buf[0], buf[1]], len as u8);
        }
        Ok(Self {
            extra_pieces,
            merges: merge_map,
            byte_piece,
            byte_utf8,
            n_vocab,
            ignore_merges,
        })
    }

    /// Appends the tokens of one word (raw bytes of the input text) to `out`.
    pub fn encode_word(
        &self,
        word: &[u8],
        vocab: &Vocab,
        scratch: &mut Scratch,
        out: &mut Vec<u32>,
    ) {
        // The word in GPT-2 characters, as the vocabulary spells it.
        let mapped = &mut scratch.mapped;
        mapped.clear();
        for &b in word {
            let (bytes, len) = &self.byte_utf8[b as usize];
            mapped.extend_from_slice(&bytes[..*len as usize]);
        }
        let mapped_str = std::str::from_utf8(mapped).expect("GPT-2 characters are valid UTF-8");
        if self.ignore_merges
            && let Some(id) = vocab.find(mapped_str)
        {
            out.push(id);
            return;
        }

        let symbols = &mut scratch.symbols;
        symbols.clear();
        let mut offset = 0u32;
        for (i, &b) in word.iter().enumerate() {
            let len = u32::from(self.byte_utf8[b as usize].1);
            symbols.push(Symbol {
                start: offset,
                end: offset + len,
                piece: self.byte_piece[b as usize],
                prev: if i == 0 { NONE } else { i as u32 - 1 },
                next: if i + 1 == word.len() {
                    NONE
                } else {
                    i as u32 + 1
                },
            });
            offset += len;
        }
        let heap = &mut scratch.heap;
        heap.clear();
        for i in 1..symbols.len() {
            self.push_pair(symbols, i as u32 - 1, i as u32, heap);
        }
        while let Some(Reverse((_, left, right, left_piece, right_piece))) = heap.pop() {
            let (l, r) = (symbols[left as usize], symbols[right as usize]);
            // Skip pairs made stale by an earlier merge.
            if l.start == l.end
                || l.next != right
                || l.piece != left_piece
                || r.piece != right_piece
                || r.start == r.end
            {
                continue;
            }
            let merged = self.merges[&pair_key(l.piece, r.piece)].1;
            let ls = &mut symbols[left as usize];
            ls.end = r.end;
            ls.piece = merged;
            ls.next = r.next;
            let rs = &mut symbols[right as usize];
            rs.start = rs.end;
            if r.next != NONE {
                symbols[r.next as usize].prev = left;
            }
            if l.prev != NONE {
                self.push_pair(symbols, l.prev, left, heap);
            }
            if r.next != NONE {
                self.push_pair(symbols, left, r.next, heap);
            }
        }

        let mut i = if symbols.is_empty() { NONE } else { 0 };
        while i != NONE {
            let s = symbols[i as usize];
            if s.piece < self.n_vocab {
                out.push(s.piece);
            } else {
                // Not a token: llama.cpp falls back to looking up each byte of the symbol's
                // text; only single ASCII characters can be tokens that way.
                for &b in &mapped[s.start as usize..s.end as usize] {
                    if b.is_ascii()
                        && let Some(id) = vocab.find(std::str::from_utf8(&[b]).expect("ASCII"))
                    {
                        out.push(id);
                    }
                }
            }
            i = s.next;
        }
    }

    fn push_pair(&self, symbols: &[Symbol], left: u32, right: u32, heap: &mut Heap) {
        let (lp, rp) = (symbols[left as usize].piece, symbols[right as usize].piece);
        if lp == NONE || rp == NONE {
            return;
        }
        if let Some(&(rank, _)) = self.merges.get(&pair_key(lp, rp)) {
            heap.push(Reverse((rank, left, right, lp, rp)));
        }
    }

    /// Number of interned strings (vocabulary plus merge-only pieces).
    pub fn n_pieces(&self) -> usize {
        self.n_vocab as usize + self.extra_pieces.len()
    }
}

fn pair_key(l: u32, r: u32) -> u64 {
    (u64::from(l) << 32) | u64::from(r)
}

type Heap = BinaryHeap<Reverse<(u32, u32, u32, u32, u32)>>;

/// Buffers reused across words to avoid per-word allocation.
#[derive(Default)]
pub(crate) struct Scratch {
    mapped: Vec<u8>,
    symbols: Vec<Symbol>,
    heap: Heap,
}
