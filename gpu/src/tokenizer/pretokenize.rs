//! Pre-tokenizers: split text into the words BPE runs on, exactly as llama.cpp does for each
//! `tokenizer.ggml.pre` family.
//!
//! The GPT-2, Llama 3 and Qwen2 patterns contain `\s+(?!\S)`, a lookahead the `regex` crate
//! lacks; rather than pull in `fancy-regex` (a backtracking engine, larger wasm) these are
//! hand-written scanners ported from llama.cpp's `unicode_regex_split_custom_*`, and the
//! single-class patterns llama.cpp runs through `std::regex` on "collapsed" text (`\p{N}`,
//! `\p{N}+`, `[\p{P}$+<=>^~|]+`, `[0-9][0-9][0-9]`) are emulated directly. Each stage splits
//! every piece produced by the previous stage, never across pieces.

use std::ops::Range;

use super::unicode::{Flags, NUMBER, PUNCTUATION, flags};

/// A pre-tokenizer family (llama.cpp `LLAMA_VOCAB_PRE_TYPE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreTokenizer {
    /// The GPT-2 pattern alone (`gpt-2`, `phi-2`, `olmo`, `mpt`, ...).
    Gpt2,
    /// Every number code point alone, then GPT-2 (`smollm`, `starcoder`, `refact`, ...).
    Smollm,
    /// Llama 3: letters with one leading non-letter, digits in groups of up to three.
    Llama3,
    /// Qwen2: as Llama 3 but digits one by one.
    Qwen2,
    /// llama.cpp's fallback for `default` or a missing name: punctuation runs, GPT-2, number
    /// runs, then groups of three ASCII digits.
    Default,
}

impl PreTokenizer {
    /// The family for a `tokenizer.ggml.pre` value, and whether whole-word vocabulary hits skip
    /// BPE (llama.cpp's `ignore_merges`). `None` for names not supported here.
    pub fn from_name(name: &str) -> Option<(Self, bool)> {
        Some(match name {
            "" | "default" => (Self::Default, false),
            "llama3" | "llama-v3" | "llama-bpe" | "falcon3" | "falcon-h1" | "pixtral"
            | "midm-2.0" | "lfm2" | "jina-v5-nano" => (Self::Llama3, true),
            "qwen2" | "deepseek-r1-qwen" | "kormo" | "f2llmv2" | "megrez" | "stablelm2" => {
                (Self::Qwen2, false)
            }
            "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone"
            | "minerva-7b" => (Self::Smollm, false),
            "gpt2" | "gpt-2" | "phi-2" | "jina-es" | "jina-de" | "gigachat" | "jina-v2-es"
            | "jina-v2-de" | "a.x-4.0" | "mellum" | "modern-bert" | "mpt" | "olmo" | "jais"
            | "exaone4" | "jina-v1-en" | "jina-v2-code" | "roberta-bpe" => (Self::Gpt2, false),
            _ => return None,
        })
    }

    /// Splits `text` into words, returned as byte ranges of `text` in order, covering it.
    pub fn split(self, text: &str) -> Vec<Range<usize>> {
        let chars: Vec<(usize, char, Flags)> =
            text.char_indices().map(|(i, c)| (i, c, flags(c))).collect();
        let text_cps = Cps { chars: &chars };
        let mut pieces: Vec<Range<usize>> = std::iter::once(0..chars.len()).collect();
        let stages: &[Stage] = match self {
            Self::Gpt2 => &[Stage::Gpt2],
            Self::Smollm => &[Stage::EachNumber, Stage::Gpt2],
            Self::Llama3 => &[Stage::Llama3 { digit_group: 3 }],
            Self::Qwen2 => &[Stage::Llama3 { digit_group: 1 }],
            Self::Default => &[
                Stage::PunctRuns,
                Stage::Gpt2,
                Stage::NumberRuns,
                Stage::DigitTriples,
            ],
        };
        for stage in stages {
            let mut next = Vec::with_capacity(pieces.len() * 2);
            for piece in pieces {
                let mut out = Out {
                    pieces: &mut next,
                    prev_end: piece.start,
                };
                match *stage {
                    Stage::Gpt2 => gpt2(&text_cps, piece, &mut out),
                    Stage::Llama3 { digit_group } => {
                        llama3(&text_cps, piece, digit_group, &mut out)
                    }
                    Stage::EachNumber => {
                        class_matches(&text_cps, piece, collapsed_number, false, &mut out)
                    }
                    Stage::NumberRuns => {
                        class_matches(&text_cps, piece, collapsed_number, true, &mut out)
                    }
                    Stage::PunctRuns => {
                        class_matches(&text_cps, piece, default_punct, true, &mut out)
                    }
                    Stage::DigitTriples => digit_triples(&text_cps, piece, &mut out),
                }
            }
            pieces = next;
        }
        let byte_at = |i: usize| chars.get(i).map_or(text.len(), |c| c.0);
        pieces
            .into_iter()
            .map(|r| byte_at(r.start)..byte_at(r.end))
            .collect()
    }
}

#[derive(Clone, Copy)]
enum Stage {
    Gpt2,
    Llama3 { digit_group: usize },
    EachNumber,
    NumberRuns,
    PunctRuns,
    DigitTriples,
}

struct Cps<'a> {
    chars: &'a [(usize, char, Flags)],
}

/// Collects sub-pieces of one piece, as llama.cpp's `_add_token`.
struct Out<'a> {
    pieces: &'a mut Vec<Range<usize>>,
    prev_end: usize,
}

impl Out<'_> {
    fn add(&mut self, end: usize) -> usize {
        let len = end - self.prev_end;
        if len > 0 {
            self.pieces.push(self.prev_end..end);
        }
        self.prev_end = end;
        len
    }
}

/// Code point and flags inside `piece`, or "nothing" outside it (llama.cpp's OUT_OF_RANGE).
struct View<'a> {
    cps: &'a Cps<'a>,
    piece: Range<usize>,
}

impl View<'_> {
    fn cpt(&self, pos: usize) -> Option<char> {
        self.piece.contains(&pos).then(|| self.cps.chars[pos].1)
    }
    fn flags(&self, pos: usize) -> Flags {
        if self.piece.contains(&pos) {
            self.cps.chars[pos].2
        } else {
            Flags::default()
        }
    }
    fn whitespace_run(&self, pos: usize) -> usize {
        let mut n = 0;
        while self.flags(pos + n).whitespace {
            n += 1;
        }
        n
    }
}

fn is_contraction(next: Option<char>, next2: Option<char>, fold: bool) -> usize {
    let low = |c: Option<char>| c.map(|c| if fold { c.to_ascii_lowercase() } else { c });
    match (low(next), low(next2)) {
        (Some('s' | 't' | 'm' | 'd'), _) => 2,
        (Some('r'), Some('e')) | (Some('v'), Some('e')) | (Some('l'), Some('l')) => 3,
        _ => 0,
    }
}

/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
fn gpt2(cps: &Cps<'_>, piece: Range<usize>, out: &mut Out<'_>) {
    let end = piece.end;
    let v = View {
        cps,
        piece: piece.clone(),
    };
    let mut pos = piece.start;
    while pos < end {
        let cpt = v.cpt(pos);
        let f = v.flags(pos);
        if cpt == Some('\'') && pos + 1 < end {
            let next2 = if pos + 2 < end { v.cpt(pos + 2) } else { None };
            let n = is_contraction(v.cpt(pos + 1), next2, false);
            if n > 0 {
                pos += out.add(pos + n);
                continue;
            }
        }
        let space = cpt == Some(' ');
        let mut f2 = if space { v.flags(pos + 1) } else { f };
        if f2.is_letter() {
            pos += usize::from(space);
            while f2.is_letter() {
                pos += 1;
                f2 = v.flags(pos);
            }
            out.add(pos);
            continue;
        }
        if f2.is_number() {
            pos += usize::from(space);
            while f2.is_number() {
                pos += 1;
                f2 = v.flags(pos);
            }
            out.add(pos);
            continue;
        }
        let other = |f: Flags| !(f.whitespace || f.is_letter() || f.is_number()) && f.is_some();
        if other(f2) {
            pos += usize::from(space);
            while other(f2) {
                pos += 1;
                f2 = v.flags(pos);
            }
            out.add(pos);
            continue;
        }
        let n_ws = v.whitespace_run(pos);
        if n_ws > 1 && v.cpt(pos + n_ws).is_some() {
            pos += n_ws - 1;
            out.add(pos);
            continue;
        }
        if n_ws > 0 {
            pos += n_ws;
            out.add(pos);
            continue;
        }
        pos += 1;
        out.add(pos);
    }
}

/// Llama 3 (`digit_group` 3) and Qwen2 (1):
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
fn llama3(cps: &Cps<'_>, piece: Range<usize>, digit_group: usize, out: &mut Out<'_>) {
    let end = piece.end;
    let v = View {
        cps,
        piece: piece.clone(),
    };
    let newline = |c: Option<char>| matches!(c, Some('\r' | '\n'));
    let mut pos = piece.start;
    while pos < end {
        let cpt = v.cpt(pos);
        let f = v.flags(pos);
        if cpt == Some('\'') && pos + 1 < end {
            let next2 = if pos + 2 < end { v.cpt(pos + 2) } else { None };
            let n = is_contraction(v.cpt(pos + 1), next2, true);
            if n > 0 {
                pos += out.add(pos + n);
                continue;
            }
        }
        if !(newline(cpt) || f.is_number()) && (f.is_letter() || v.flags(pos + 1).is_letter()) {
            pos += 1;
            while v.flags(pos).is_letter() {
                pos += 1;
            }
            out.add(pos);
            continue;
        }
        if f.is_number() {
            let mut ini = pos;
            while v.flags(pos).is_number() {
                pos += 1;
                if pos - ini >= digit_group {
                    out.add(pos);
                    ini = pos;
                }
            }
            out.add(pos);
            continue;
        }
        let space = cpt == Some(' ');
        let mut f2 = if space { v.flags(pos + 1) } else { f };
        let other = |f: Flags| !(f.whitespace || f.is_letter() || f.is_number());
        if other(f2) && f.is_some() {
            pos += usize::from(space);
            while other(f2) && f2.is_some() {
                pos += 1;
                f2 = v.flags(pos);
            }
            while newline(v.cpt(pos)) {
                pos += 1;
            }
            out.add(pos);
            continue;
        }
        let mut n_ws = 0;
        let mut last_newline_end = 0;
        while v.flags(pos + n_ws).whitespace {
            if newline(v.cpt(pos + n_ws)) {
                last_newline_end = pos + n_ws + 1;
            }
            n_ws += 1;
        }
        if last_newline_end > 0 {
            pos = last_newline_end;
            out.add(pos);
            continue;
        }
        if n_ws > 1 && v.cpt(pos + n_ws).is_some() {
            pos += n_ws - 1;
            out.add(pos);
            continue;
        }
        if n_ws > 0 {
            pos += n_ws;
            out.add(pos);
            continue;
        }
        pos += 1;
        out.add(pos);
    }
}

/// `\p{N}` on llama.cpp's collapsed text: ASCII digits, or a non-ASCII, non-whitespace code
/// point of category number.
fn collapsed_number(c: char, f: Flags) -> bool {
    if c.is_ascii() {
        c.is_ascii_digit()
    } else {
        !f.whitespace && f.category == NUMBER
    }
}

/// `[\p{P}\$\+<=>\^~\|]` on collapsed text: ASCII punctuation and symbols except the backtick,
/// or a non-ASCII, non-whitespace code point of category punctuation.
fn default_punct(c: char, f: Flags) -> bool {
    if c.is_ascii() {
        c.is_ascii_punctuation() && c != '`'
    } else {
        !f.whitespace && f.category == PUNCTUATION
    }
}

/// A regex matching one code point of a class (`runs`: one or more), applied as llama.cpp's
/// `unicode_regex_split_stl`: matches and the gaps between them all become pieces.
fn class_matches(
    cps: &Cps<'_>,
    piece: Range<usize>,
    class: fn(char, Flags) -> bool,
    runs: bool,
    out: &mut Out<'_>,
) {
    let in_class = |i: usize| class(cps.chars[i].1, cps.chars[i].2);
    let mut pos = piece.start;
    while pos < piece.end {
        if in_class(pos) {
            out.add(pos);
            pos += 1;
            while runs && pos < piece.end && in_class(pos) {
                pos += 1;
            }
            out.add(pos);
        } else {
            pos += 1;
        }
    }
    out.add(piece.end);
}

/// `[0-9][0-9][0-9]`: left-to-right non-overlapping triples of ASCII digits.
fn digit_triples(cps: &Cps<'_>, piece: Range<usize>, out: &mut Out<'_>) {
    let digit = |i: usize| i < piece.end && cps.chars[i].1.is_ascii_digit();
    let mut pos = piece.start;
    while pos < piece.end {
        if digit(pos) && digit(pos + 1) && digit(pos + 2) {
            out.add(pos);
            pos += 3;
            out.add(pos);
        } else {
            pos += 1;
        }
    }
    out.add(piece.end);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(pre: PreTokenizer, text: &str) -> Vec<&str> {
        let ranges = pre.split(text);
        let mut covered = 0;
        for r in &ranges {
            assert_eq!(r.start, covered, "pieces must tile the text");
            covered = r.end;
        }
        assert_eq!(covered, text.len());
        ranges.into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn gpt2_pattern_with_whitespace_lookahead() {
        let w = words(PreTokenizer::Gpt2, "Hello world's  end\n\n x2 12?!");
        assert_eq!(
            w,
            [
                "Hello", " world", "'s", " ", " end", "\n\n", " x", "2", " 12", "?!"
            ]
        );
        assert_eq!(words(PreTokenizer::Gpt2, "a   "), ["a", "   "]);
        assert_eq!(
            words(PreTokenizer::Gpt2, "I'M"),
            ["I", "'", "M"],
            "case-sensitive contractions"
        );
    }

    #[test]
    fn smollm_splits_every_digit_first() {
        assert_eq!(
            words(PreTokenizer::Smollm, "abc 123"),
            ["abc", " ", "1", "2", "3"]
        );
        assert_eq!(words(PreTokenizer::Smollm, "x ½"), ["x", " ", "½"]);
    }

    #[test]
    fn llama3_groups_digits_and_attaches_one_leading_symbol() {
        assert_eq!(
            words(PreTokenizer::Llama3, "1234567 ok"),
            ["123", "456", "7", " ok"]
        );
        assert_eq!(
            words(PreTokenizer::Llama3, "I'M (hi)\n\n  x"),
            ["I", "'M", " (", "hi", ")\n\n", " ", " x"]
        );
        assert_eq!(words(PreTokenizer::Qwen2, "12 ab"), ["1", "2", " ab"]);
    }

    #[test]
    fn default_runs_punctuation_numbers_and_triples() {
        assert_eq!(
            words(PreTokenizer::Default, "a+b 12345!"),
            ["a", "+", "b", " ", "123", "45", "!"]
        );
    }
}
