//! Comments: pest skips them, so they are found again in the text (outside string
//! literals) to be re-attached to the tree by position.

use crate::diagnostic::Span;

/// A comment found in the source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    /// Byte range, from `//` or `/*` to the end of the line (without the newline) or `*/`.
    pub span: Span,
    /// `true` for `/* */`.
    pub block: bool,
}

/// Finds every comment in `text`, in order, skipping string literals (the `//` in
/// `"http://x"` is not a comment). Agrees with the grammar for any text that parses.
pub fn scan_comments(text: &str) -> Vec<Comment> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let start = i;
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                out.push(Comment {
                    span: Span::new(start, i),
                    block: false,
                });
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let start = i;
                i = match text[i + 2..].find("*/") {
                    Some(k) => i + 2 + k + 2,
                    None => b.len(),
                };
                out.push(Comment {
                    span: Span::new(start, i),
                    block: true,
                });
            }
            _ => i += 1,
        }
    }
    out
}
