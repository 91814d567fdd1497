//! Text that came from the network, made safe for terminals, log lines and labels.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character escaped as `\u{…}`: C0 (ESC, CR, LF, TAB, ...), DEL,
/// C1 (U+0080 to U+009F) and the Unicode bidirectional overrides and isolates, which can make
/// a terminal show text in another order than it was sent.
///
/// A vendor's message is shown to people and written to logs; without this, a message such
/// as `"\u{1b}[2J"` clears the screen and a bare `\r` lets a vendor overwrite a table row with
/// text of its own. Every [`crate::Error`] message applies it to what the vendor sent; JSON
/// output needs nothing more (JSON escapes control characters itself).
///
/// ```
/// assert_eq!(balances::escape_control("a\u{1b}[2Jb\r"), "a\\u{1b}[2Jb\\u{d}");
/// assert_eq!(balances::escape_control("плохой ключ"), "плохой ключ");
/// ```
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            let _ = write!(escaped, "{}", c.escape_unicode());
        } else {
            escaped.push(c);
        }
    }
    Cow::Owned(escaped)
}

fn needs_escape(c: char) -> bool {
    // `is_control` is Unicode's Cc category: exactly C0, DEL and C1.
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_c0_c1_and_del_character_is_escaped() {
        for code in (0x00..=0x1f).chain(0x7f..=0x9f) {
            let c = char::from_u32(code).expect("a char");
            let escaped = escape_control(&c.to_string()).into_owned();
            assert_eq!(escaped, format!("\\u{{{code:x}}}"), "U+{code:04X}");
        }
    }

    #[test]
    fn bidi_overrides_are_escaped_and_plain_text_is_borrowed() {
        assert_eq!(escape_control("a\u{202e}b"), "a\\u{202e}b");
        assert!(matches!(escape_control("余额不足 ok"), Cow::Borrowed(_)));
    }
}
