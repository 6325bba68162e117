//! The layout tree: statements become nodes, a statement's text becomes pieces (text and
//! bracketed lists that may break one entry per line), and pieces render at a width.

use crate::diagnostic::Span;

use super::{INDENT, WIDTH};

/// Text, or a bracketed list that may be broken one entry per line.
#[derive(Debug, Clone)]
pub(super) enum Piece {
    Text(String),
    List(List),
}

#[derive(Debug, Clone)]
pub(super) struct List {
    pub(super) open: &'static str,
    pub(super) close: &'static str,
    /// `{ a, b }` rather than `{a, b}`.
    pub(super) pad: bool,
    pub(super) items: Vec<Vec<Piece>>,
}

/// A statement or declaration with the (trimmed) span it came from.
#[derive(Debug)]
pub(super) struct Node {
    pub(super) span: Span,
    pub(super) kind: NodeKind,
}

#[derive(Debug)]
pub(super) enum NodeKind {
    Leaf(Vec<Piece>),
    Block {
        header: Vec<Piece>,
        /// Byte offset just after the `{`.
        open: usize,
        /// Byte offset of the closing `}`.
        close: usize,
        children: Vec<Node>,
    },
}

/// Builds a piece list from text and lists.
#[derive(Default)]
pub(super) struct Pieces(pub(super) Vec<Piece>);

impl Pieces {
    pub(super) fn text(mut self, s: impl AsRef<str>) -> Self {
        let s = s.as_ref();
        if s.is_empty() {
            return self;
        }
        if let Some(Piece::Text(t)) = self.0.last_mut() {
            t.push_str(s);
        } else {
            self.0.push(Piece::Text(s.to_string()));
        }
        self
    }

    pub(super) fn list(
        mut self,
        open: &'static str,
        close: &'static str,
        pad: bool,
        items: Vec<Vec<Piece>>,
    ) -> Self {
        self.0.push(Piece::List(List {
            open,
            close,
            pad,
            items,
        }));
        self
    }

    pub(super) fn extend(mut self, other: Vec<Piece>) -> Self {
        for p in other {
            self = match p {
                Piece::Text(t) => self.text(t),
                Piece::List(l) => {
                    self.0.push(Piece::List(l));
                    self
                }
            };
        }
        self
    }

    pub(super) fn done(self) -> Vec<Piece> {
        self.0
    }
}

pub(super) fn width(s: &str) -> usize {
    s.chars().count()
}

pub(super) fn flat(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::List(l) => {
                out.push_str(l.open);
                if !l.items.is_empty() {
                    if l.pad {
                        out.push(' ');
                    }
                    let items: Vec<String> = l.items.iter().map(|i| flat(i)).collect();
                    out.push_str(&items.join(", "));
                    if l.pad {
                        out.push(' ');
                    }
                }
                out.push_str(l.close);
            }
        }
    }
    out
}

/// Renders pieces starting at `indent` levels; `extra` columns follow them on the line.
/// Continuation lines carry their own indentation; the first line does not.
pub(super) fn render(pieces: &[Piece], indent: usize, extra: usize) -> String {
    let f = flat(pieces);
    let has_list = pieces
        .iter()
        .any(|p| matches!(p, Piece::List(l) if !l.items.is_empty()));
    if !has_list || indent * INDENT.len() + width(&f) + extra <= WIDTH {
        return f;
    }
    let mut out = String::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::List(l) if l.items.is_empty() => out.push_str(&flat(std::slice::from_ref(p))),
            Piece::List(l) => {
                out.push_str(l.open);
                out.push('\n');
                for item in &l.items {
                    out.push_str(&INDENT.repeat(indent + 1));
                    out.push_str(&render(item, indent + 1, 1));
                    out.push_str(",\n");
                }
                out.push_str(&INDENT.repeat(indent));
                out.push_str(l.close);
            }
        }
    }
    out
}
