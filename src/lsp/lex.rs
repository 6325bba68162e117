//! A forgiving tokenizer for the text before the cursor, for completion's context only.
//!
//! Why it is still here: declarations, imports, references and diagnostics come from the
//! checker, which recovers the items that parse; but the cursor is almost always in the one
//! item being typed, which does not parse, so only tokens can say which block is open and
//! which words precede the cursor ([`super::context`]). This splits any text into words,
//! numbers, strings and punctuation, skipping comments, and never fails: an unclosed string
//! ends at its line, an unclosed comment at the end of the text.

use crate::diagnostic::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A name or keyword: `shop`, `latency`.
    Word,
    /// A literal that starts with a digit: `250ms`, `500/s`, `2026-11-27T00:00Z`.
    Number,
    /// A string literal with its quotes (the closing one may be missing).
    Str,
    /// Any other single character: `{`, `.`, `=`.
    Punct(char),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub span: Span,
}

impl Token {
    pub fn text<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.span.start..self.span.end).unwrap_or("")
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.kind == Kind::Punct(c)
    }
}

pub fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Where the text at `offset` is not code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inside {
    Code,
    Comment,
    /// In a string literal that starts at this offset.
    Str(usize),
}

/// Tokens of `text`, up to `limit` bytes (the cursor, for completion), and what `limit` is in.
pub fn tokens_until(text: &str, limit: usize) -> (Vec<Token>, Inside) {
    let b = text.as_bytes();
    let limit = limit.min(b.len());
    let mut out = Vec::new();
    let mut i = 0;
    while i < limit {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                if limit <= i && limit > start + 1 {
                    return (out, Inside::Comment);
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                let end = (i + 2).min(b.len());
                if limit < end && limit > start + 1 {
                    return (out, Inside::Comment);
                }
                i = end;
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                let closed = i < b.len() && b[i] == b'"';
                let end = if closed { i + 1 } else { i.min(b.len()) };
                if limit > start && (limit < end || (!closed && limit <= end)) {
                    return (out, Inside::Str(start));
                }
                out.push(Token {
                    kind: Kind::Str,
                    span: Span::new(start, end),
                });
                i = end;
            }
            c if c.is_ascii_digit() => {
                i += 1;
                while i < b.len() {
                    let d = b[i];
                    let next = b.get(i + 1).copied().unwrap_or(0);
                    let more = is_ident_byte(d)
                        || d == b'%'
                        || (d == b'.' && next.is_ascii_digit())
                        || (d == b'/' && next.is_ascii_alphabetic())
                        || ((d == b'-' || d == b':' || d == b'+') && next.is_ascii_digit());
                    if !more {
                        break;
                    }
                    i += 1;
                }
                out.push(Token {
                    kind: Kind::Number,
                    span: Span::new(start, i),
                });
            }
            c if is_ident_byte(c) => {
                while i < b.len() && is_ident_byte(b[i]) {
                    i += 1;
                }
                out.push(Token {
                    kind: Kind::Word,
                    span: Span::new(start, i),
                });
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
                i += ch.len_utf8().max(1);
                out.push(Token {
                    kind: Kind::Punct(ch),
                    span: Span::new(start, i),
                });
            }
        }
    }
    (out, Inside::Code)
}

/// Every token of `text`.
#[cfg(test)]
fn tokens(text: &str) -> Vec<Token> {
    tokens_until(text, text.len()).0
}

/// The identifier-ish word around `offset` (letters, digits, `_`), if any.
pub fn word_at(text: &str, offset: usize) -> Option<Span> {
    let b = text.as_bytes();
    let offset = offset.min(b.len());
    let mut start = offset;
    while start > 0 && is_ident_byte(b[start - 1]) {
        start -= 1;
    }
    let mut end = offset;
    while end < b.len() && is_ident_byte(b[end]) {
        end += 1;
    }
    (start < end).then(|| Span::new(start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        tokens(text)
            .iter()
            .map(|t| (t.kind, t.text(text)))
            .collect()
    }

    #[test]
    fn splits_tokens() {
        let k = kinds("rate 500/s // c\nramp 0/s -> rate over 1h30m \"a // b\" 02:00..04:00");
        let texts: Vec<&str> = k.iter().map(|(_, t)| *t).collect();
        assert_eq!(
            texts,
            [
                "rate",
                "500/s",
                "ramp",
                "0/s",
                "-",
                ">",
                "rate",
                "over",
                "1h30m",
                "\"a // b\"",
                "02:00",
                ".",
                ".",
                "04:00"
            ]
        );
    }

    #[test]
    fn knows_what_the_cursor_is_in() {
        let text = "a \"str // x\" // c\n/* b */ d";
        assert_eq!(tokens_until(text, 5).1, Inside::Str(2));
        assert_eq!(tokens_until(text, 16).1, Inside::Comment);
        assert_eq!(tokens_until(text, 21).1, Inside::Comment);
        assert_eq!(tokens_until(text, text.len()).1, Inside::Code);
        assert_eq!(tokens_until("x \"open", 7).1, Inside::Str(2));
    }

    #[test]
    fn never_fails() {
        for text in ["\"", "/*", "é\"\\", "1.", "\u{0}\u{7f}", "{{{(("] {
            let _ = tokens(text);
            for i in 0..=text.len() {
                let _ = tokens_until(text, i);
                let _ = word_at(text, i);
            }
        }
    }
}
