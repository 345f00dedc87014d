//! Splitting text at special-token occurrences before BPE, as llama.cpp's
//! `tokenizer_st_partition`: longest special texts first, each occurrence becomes its token.

use super::vocab::{TokenAttrs, Vocab};

/// A stretch of input: raw text to pre-tokenize (a byte range), or a special token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Fragment {
    Text(std::ops::Range<usize>),
    Token(u32),
}

/// Ids of control, user-defined and unknown tokens, longest text first (ties by id).
pub(crate) fn special_tokens(vocab: &Vocab) -> Vec<u32> {
    let wanted = TokenAttrs::CONTROL
        .union(TokenAttrs::USER_DEFINED)
        .union(TokenAttrs::UNKNOWN);
    let mut ids: Vec<u32> = (0..vocab.len() as u32)
        .filter(|&i| vocab.attrs[i as usize].contains(wanted))
        .collect();
    ids.sort_by_key(|&i| std::cmp::Reverse(vocab.text(i).len()));
    ids
}

/// Partitions `text`. Without `parse_special`, control and unknown tokens are left as text;
/// user-defined tokens are always split out (llama.cpp and HF tokenizers agree on this).
pub(crate) fn partition(
    text: &str,
    vocab: &Vocab,
    specials: &[u32],
    parse_special: bool,
) -> Vec<Fragment> {
    let mut fragments = vec![Fragment::Text(0..text.len())];
    if text.is_empty() {
        return Vec::new();
    }
    let skip = TokenAttrs::CONTROL.union(TokenAttrs::UNKNOWN);
    for &id in specials {
        let attrs = vocab.attrs[id as usize];
        if !parse_special && attrs.contains(skip) {
            continue;
        }
        let needle = vocab.text(id);
        if !fragments
            .iter()
            .any(|f| matches!(f, Fragment::Text(r) if text[r.clone()].contains(needle)))
        {
            continue;
        }
        let mut next = Vec::with_capacity(fragments.len() + 2);
        for f in fragments {
            let Fragment::Text(range) = f else {
                next.push(f);
                continue;
            };
            let mut start = range.start;
            while let Some(at) = text[start..range.end].find(needle) {
                let at = start + at;
                if at > start {
                    next.push(Fragment::Text(start..at));
                }
                next.push(Fragment::Token(id));
                start = at + needle.len();
            }
            if start < range.end {
                next.push(Fragment::Text(start..range.end));
            }
        }
        fragments = next;
    }
    fragments
}
