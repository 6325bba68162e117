//! The formatter behind `res fmt`: `.res` text → canonical `.res` text.
//!
//! [`format_source`] parses the text, refuses it when it does not parse, and prints the tree
//! back in one canonical layout. The tree does not hold comments (pest skips them), so they
//! are found again by [`scan_comments`] and re-attached by position:
//!
//! - a comment on its own line belongs to the next statement (or declaration) and is printed
//!   above it, at its indentation; comments after the last statement of a block stay before
//!   the closing `}`, comments after the last declaration stay at the end of the file;
//! - a comment on the same line after a statement (or after a block's `{`) stays at the end
//!   of that line;
//! - a comment inside a statement (in an expression, a JSON body, a list) cannot keep its
//!   exact place: it moves to the end of the statement's line. Only one line comment fits
//!   there, so when a statement holds several, all but the last move above the statement.
//!
//! No comment is ever dropped or duplicated, and formatting is idempotent.
//!
//! The layout:
//!
//! - two spaces per level; one statement per line; `{` on the declaration's line;
//! - a block written on one line stays on one line (`service catalog { route GET "/x" }`) only
//!   when it holds exactly one simple statement, no comment, and the line fits in [`WIDTH`]
//!   columns; every other block is expanded (a block written expanded stays expanded), and an
//!   empty block is `name {}`;
//! - one blank line between top-level declarations, except between consecutive `import`s,
//!   `param`s or `data` declarations, which keep the (at most one) blank line written between
//!   them; inside blocks, at most one blank line written between statements is kept;
//! - single spaces around binary operators and after commas (but `every mon,tue 02:00..04:00`
//!   and `think 1s..3s` stay tight); literals, names and parentheses exactly as written;
//!   strings exactly as written too, escapes included (`"caf\u{e9}"` is not rewritten);
//! - lists (`import` names, `mix` entries, JSON bodies, template parameters and arguments) on
//!   one line when the statement fits in [`WIDTH`] columns, otherwise one entry per line with
//!   a trailing comma.

mod comments;
mod document;
mod nodes;
mod printing;

pub use comments::{scan_comments, Comment};
use document::*;

use super::ast::*;
use crate::diagnostic::{Diagnostic, Span};

/// The column limit for one-line blocks and lists.
pub const WIDTH: usize = 100;

const INDENT: &str = "  ";

/// Formats one file. Returns the parse errors instead when the text does not parse.
pub fn format_source(text: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = super::parse(text, 0);
    if parsed.has_errors() {
        return Err(parsed
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect());
    }
    let mut f = Formatter::new(text);
    let nodes: Vec<Node> = parsed.file.items.iter().map(|i| f.item(i)).collect();
    f.print_file(&parsed.file.items, &nodes);
    Ok(f.out)
}

/// Whether the first thing printed in a gap is preceded by a blank line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Blank {
    /// Never (the first thing after `{` or at the start of the file).
    No,
    /// Always (between top-level declarations).
    Yes,
    /// When the source had one.
    AsWritten,
}

struct Formatter<'a> {
    src: &'a str,
    comments: Vec<Comment>,
    /// The first comment not printed yet.
    next: usize,
    /// End of the last thing printed, in the source (for blank-line decisions).
    last_end: usize,
    out: String,
}

impl<'a> Formatter<'a> {
    fn new(src: &'a str) -> Self {
        Formatter {
            src,
            comments: scan_comments(src),
            next: 0,
            last_end: 0,
            out: String::new(),
        }
    }

    // ----- source positions ---------------------------------------------------------------

    fn comment_starting_at(&self, pos: usize) -> Option<&Comment> {
        self.comments
            .binary_search_by_key(&pos, |c| c.span.start)
            .ok()
            .map(|i| &self.comments[i])
    }

    fn comment_ending_at(&self, pos: usize) -> Option<&Comment> {
        self.comments
            .binary_search_by_key(&pos, |c| c.span.end)
            .ok()
            .map(|i| &self.comments[i])
    }

    /// pest spans of rules that end in an optional part swallow the whitespace and comments
    /// after them; cut those off.
    fn trim(&self, span: Span) -> Span {
        let b = self.src.as_bytes();
        let mut end = span.end.min(b.len());
        while end > span.start {
            if b[end - 1].is_ascii_whitespace() {
                end -= 1;
            } else if let Some(c) = self
                .comment_ending_at(end)
                .filter(|c| c.span.start >= span.start)
            {
                end = c.span.start;
            } else {
                break;
            }
        }
        Span::new(span.start, end)
    }

    /// The offset just after the first `{` at or after `from`, outside comments.
    fn open_brace(&self, from: usize) -> usize {
        let b = self.src.as_bytes();
        let mut i = from;
        while i < b.len() {
            if let Some(c) = self.comment_starting_at(i) {
                i = c.span.end;
                continue;
            }
            if b[i] == b'{' {
                return i + 1;
            }
            i += 1;
        }
        b.len()
    }

    fn slice(&self, span: Span) -> &'a str {
        &self.src[span.start..span.end]
    }

    fn blank_between(&self, from: usize, to: usize) -> bool {
        from < to && self.src[from..to].bytes().filter(|&b| b == b'\n').count() >= 2
    }

    fn same_line(&self, from: usize, to: usize) -> bool {
        from <= to && !self.src[from..to].contains('\n')
    }

    fn comment_text(&self, c: &Comment) -> String {
        let t = self.slice(c.span);
        if c.block {
            t.replace("\r\n", "\n")
        } else {
            t.trim_end().to_string()
        }
    }
}

fn text(s: impl Into<String>) -> Vec<Piece> {
    vec![Piece::Text(s.into())]
}

fn names(v: &[Ident]) -> String {
    v.iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Consecutive imports, params or data declarations may stay together without a blank line.
fn same_group(a: &Item, b: &Item) -> bool {
    matches!(
        (a, b),
        (Item::Import(_), Item::Import(_))
            | (Item::Param(_), Item::Param(_))
            | (Item::Data(_), Item::Data(_))
    )
}
