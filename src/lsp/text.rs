//! Byte offsets ↔ LSP positions.
//!
//! Spans in res are byte offsets into UTF-8 text; LSP positions are a line and a count of
//! UTF-16 code units in that line (the protocol's default, and the one every client supports).
//! Lines end at `\n`, `\r\n` or a lone `\r`, as the protocol says. Every conversion clamps
//! instead of failing: an offset past the end, inside a character or inside a line break, and
//! a position past the end of its line or of the text, all map to the nearest valid place.

use tower_lsp_server::ls_types::{Position, Range};

use crate::diagnostic::Span;

/// Where each line starts, for one text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset of the first character of each line; the first is 0.
    starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 1;
                }
                b'\r' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        LineIndex {
            starts,
            len: text.len(),
        }
    }

    /// The byte range of line `line`'s content, without its line break.
    fn content(&self, text: &str, line: usize) -> (usize, usize) {
        let start = self.starts[line].min(text.len());
        let mut end = self
            .starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.len)
            .min(text.len());
        let b = text.as_bytes();
        if end > start && b[end - 1] == b'\n' {
            end -= 1;
        }
        if end > start && b[end - 1] == b'\r' {
            end -= 1;
        }
        (start, end)
    }

    /// The position of a byte offset.
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let (start, end) = self.content(text, line);
        let upto = offset.clamp(start, end);
        let character: usize = text[start..upto].chars().map(char::len_utf16).sum();
        Position::new(to_u32(line), to_u32(character))
    }

    /// The byte offset of a position.
    pub fn offset(&self, text: &str, pos: Position) -> usize {
        let line = pos.line as usize;
        if line >= self.starts.len() {
            return text.len();
        }
        let (start, end) = self.content(text, line);
        let mut units = 0usize;
        for (i, c) in text[start..end].char_indices() {
            if units >= pos.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    pub fn range(&self, text: &str, span: Span) -> Range {
        let start = self.position(text, span.start);
        let end = self.position(text, span.end.max(span.start));
        Range::new(start, end)
    }

    /// The byte span of a range (start and end put in order).
    #[cfg(test)]
    pub fn span(&self, text: &str, range: Range) -> Span {
        let a = self.offset(text, range.start);
        let b = self.offset(text, range.end);
        Span::new(a.min(b), a.max(b))
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position::new(line, character)
    }

    #[test]
    fn counts_utf16_units() {
        let text = "a\n😀é x\n";
        let idx = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(idx.position(text, x), pos(1, 4));
        assert_eq!(idx.offset(text, pos(1, 4)), x);
        // Inside the emoji's bytes: back to its start.
        assert_eq!(idx.position(text, 3), pos(1, 0));
    }

    #[test]
    fn handles_every_line_break() {
        let text = "a\r\nb\rc\nd";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, text.find('b').unwrap()), pos(1, 0));
        assert_eq!(idx.position(text, text.find('c').unwrap()), pos(2, 0));
        assert_eq!(idx.position(text, text.find('d').unwrap()), pos(3, 0));
        // The `\n` of a `\r\n` is not a column of the line.
        assert_eq!(idx.position(text, 2), pos(0, 1));
        assert_eq!(idx.offset(text, pos(0, 99)), 1);
    }

    #[test]
    fn clamps_out_of_range() {
        let text = "ab";
        let idx = LineIndex::new(text);
        assert_eq!(idx.position(text, 99), pos(0, 2));
        assert_eq!(idx.offset(text, pos(7, 0)), 2);
        assert_eq!(LineIndex::new("").position("", 5), pos(0, 0));
    }
}
