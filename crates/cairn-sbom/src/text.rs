//! Text from an image, made safe to print on a terminal.

use std::borrow::Cow;

/// Whether a character could make a terminal do something or show something other than
/// what is written: control characters (escape sequences start with ESC, lines with LF/CR)
/// and the Unicode bidirectional overrides and isolates.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every unsafe character written as an escape (`\n`, `\u{1b}`), so text that came
/// from an image (package fields, file names, garbage quoted in a warning) cannot send
/// escape sequences to the user's terminal or forge a line of output.
pub fn escape_control(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::escape_control;

    #[test]
    fn escape_sequences_and_line_breaks_are_escaped() {
        assert_eq!(escape_control("plain text ü"), "plain text ü");
        assert_eq!(
            escape_control("a\u{1b}[31mred\nline\r\u{7}"),
            "a\\u{1b}[31mred\\nline\\r\\u{7}"
        );
        assert_eq!(escape_control("abc\u{202e}def"), "abc\\u{202e}def");
    }
}
