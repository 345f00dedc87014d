//! Code point classification (llama.cpp's tables) and the GPT-2 byte-to-unicode mapping that
//! byte-level BPE vocabularies are written in.

use std::sync::OnceLock;

use super::unicode_table::{CATEGORY_RANGES, WHITESPACE};

pub(crate) const NUMBER: u8 = 0x02;
pub(crate) const LETTER: u8 = 0x04;
pub(crate) const PUNCTUATION: u8 = 0x20;

/// What the pre-tokenizers need to know about one code point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    /// One of llama.cpp's category bits (0 only for "no code point": past a piece's end).
    pub category: u8,
    pub whitespace: bool,
}

impl Flags {
    pub fn is_letter(self) -> bool {
        self.category == LETTER
    }
    pub fn is_number(self) -> bool {
        self.category == NUMBER
    }
    /// llama.cpp's `as_uint() != 0`: any real code point.
    pub fn is_some(self) -> bool {
        self.category != 0 || self.whitespace
    }
}

/// Flags of a code point, as llama.cpp's `unicode_cpt_flags_from_cpt`.
pub(crate) fn flags(c: char) -> Flags {
    let cp = c as u32;
    let i = CATEGORY_RANGES.partition_point(|&(start, _)| start <= cp);
    // partition_point >= 1 because the table starts at 0.
    let category = CATEGORY_RANGES[i - 1].1;
    let whitespace = if cp < 0x80 {
        matches!(cp, 0x09..=0x0D | 0x20)
    } else {
        WHITESPACE.binary_search(&cp).is_ok()
    };
    Flags {
        category,
        whitespace,
    }
}

/// GPT-2's reversible map from bytes to printable code points: printable Latin-1 bytes map to
/// themselves, the other 68 to U+0100 upwards in byte order.
pub(crate) fn byte_to_char(b: u8) -> char {
    byte_tables().0[b as usize]
}

/// The byte a GPT-2 mapped code point stands for, if any.
pub(crate) fn char_to_byte(c: char) -> Option<u8> {
    let cp = c as u32;
    if cp < 0x144 {
        byte_tables().1[cp as usize]
    } else {
        None
    }
}

#[allow(clippy::type_complexity)]
fn byte_tables() -> &'static ([char; 256], [Option<u8>; 0x144]) {
    static TABLES: OnceLock<([char; 256], [Option<u8>; 0x144])> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut to_char = ['\0'; 256];
        let mut to_byte = [None; 0x144];
        let mut extra = 0u32;
        for b in 0..=255u8 {
            let printable = matches!(b, 0x21..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF);
            let cp = if printable {
                u32::from(b)
            } else {
                extra += 1;
                255 + extra
            };
            let c = char::from_u32(cp).expect("below U+0144");
            to_char[b as usize] = c;
            to_byte[cp as usize] = Some(b);
        }
        (to_char, to_byte)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_byte_map_is_a_bijection_with_known_points() {
        assert_eq!(byte_to_char(b' '), 'Ġ');
        assert_eq!(byte_to_char(b'\n'), 'Ċ');
        assert_eq!(byte_to_char(b'a'), 'a');
        assert_eq!(byte_to_char(0xAD), 'Ń');
        let mut seen = std::collections::HashSet::new();
        for b in 0..=255u8 {
            let c = byte_to_char(b);
            assert!(seen.insert(c));
            assert_eq!(char_to_byte(c), Some(b));
        }
        assert_eq!(char_to_byte('€'), None);
    }

    #[test]
    fn classification_follows_llama_cpp_tables() {
        assert!(flags('7').is_number() && flags('٣').is_number() && flags('½').is_number());
        assert!(flags('a').is_letter() && flags('é').is_letter() && flags('中').is_letter());
        assert!(
            flags(' ').whitespace && flags('\u{3000}').whitespace && !flags('\u{200B}').whitespace
        );
        assert_eq!(flags('!').category, PUNCTUATION);
        assert!(
            flags('\u{E000}').is_some(),
            "private use still counts as a code point"
        );
        assert!(!flags('😀').is_letter() && flags('😀').is_some());
    }
}
