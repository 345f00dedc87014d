//! Untrusted text on its way to a terminal: names, titles, model output and error messages
//! can carry ESC sequences (colour, cursor moves, window titles, OSC 8 links) or other
//! control characters that a terminal would act on. They are shown as `\u{1b}` instead.

use std::borrow::Cow;

/// `text` with every control character except newline and tab written as `\u{..}`.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line for stderr: newlines become spaces, other control characters are escaped.
pub fn one_line(text: &str) -> String {
    clean(&text.replace(['\n', '\r'], " ")).replace('\t', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_made_visible_and_plain_text_is_untouched() {
        assert_eq!(clean("Ana — ✓"), "Ana — ✓");
        assert_eq!(clean("a\u{1b}[31mred\u{7}"), "a\\u{1b}[31mred\\u{7}");
        assert_eq!(clean("C1 \u{9b}2J"), "C1 \\u{9b}2J");
        assert_eq!(clean("keep\nlines\tand tabs"), "keep\nlines\tand tabs");
        assert_eq!(one_line("two\nlines\r\u{1b}]0;title\u{7}"), "two lines \\u{1b}]0;title\\u{7}");
    }
}
