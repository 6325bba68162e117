//! Syntax: `.res` text → [`ast::File`] with spans, and the formatter that prints it back.
//!
//! [`parse`] never panics on user input. Before pest sees the text it is checked for what
//! would hurt a recursive-descent parser — bytes that are not UTF-8, files over
//! [`MAX_FILE_BYTES`], brackets nested deeper than [`MAX_DEPTH`]; afterwards, expressions
//! longer than [`MAX_OPERATORS`] are refused, so every later recursive walk is bounded.

pub mod ast;
pub mod error;
pub mod format;
pub mod parser;
pub mod recover;

use crate::diagnostic::{Code, Diagnostic, FileId, Span};

pub use parser::Rule;

/// Largest file the parser accepts.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting of `(`, `[` and `{`.
pub const MAX_DEPTH: usize = 64;
/// Most operators in one expression (and most prefix operators in a row).
pub const MAX_OPERATORS: usize = 512;

/// The result of parsing one file: the tree and every diagnostic found. When the file does
/// not parse whole, the tree holds the items that parse on their own ([`recover`]).
#[derive(Debug, Default)]
pub struct Parsed {
    pub file: ast::File,
    pub diagnostics: Vec<Diagnostic>,
    /// Names declared by items that did not parse (see [`recover::Recovered::lost`]).
    pub lost: Vec<String>,
    /// Whether the file did not parse whole and `file` holds the items recovered around the
    /// error; then the first diagnostic is the whole-file parse's error, the one to show
    /// first.
    pub recovered: bool,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Decodes file bytes. Not-UTF-8 input yields lossy text (for display) and a diagnostic.
pub fn decode(bytes: &[u8], file: FileId) -> (String, Option<Diagnostic>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), None),
        Err(e) => {
            let at = e.valid_up_to();
            let text = String::from_utf8_lossy(bytes).into_owned();
            let shown = bytes.len().min(at + 1);
            let d = Diagnostic::error(
                Code::NotText,
                file,
                // In the repaired text the bad byte became U+FFFD, three bytes long.
                Span::new(at, at + '\u{FFFD}'.len_utf8()),
                "this file is not UTF-8 text",
            )
            .with_label(format!(
                "byte 0x{:02x} is not valid UTF-8",
                bytes[shown - 1]
            ))
            .with_help(".res files are UTF-8 text; is this the right file?");
            (text, Some(d))
        }
    }
}

/// Parses one file's text.
pub fn parse(text: &str, file: FileId) -> Parsed {
    let mut diagnostics = Vec::new();
    if text.len() > MAX_FILE_BYTES {
        diagnostics.push(
            Diagnostic::error(
                Code::TooLarge,
                file,
                Span::new(0, 0),
                format!(
                    "this file is {} bytes; the limit is {MAX_FILE_BYTES}",
                    text.len()
                ),
            )
            .with_label("file starts here")
            .with_help("split the scenario into modules and `import` them"),
        );
        return Parsed {
            diagnostics,
            ..Parsed::default()
        };
    }
    let first = match check_depth(text, file) {
        Some(d) => d,
        None => match parser::parse_file(text, file, &mut diagnostics) {
            Ok(f) => {
                return Parsed {
                    file: f,
                    diagnostics,
                    ..Parsed::default()
                }
            }
            Err(e) => error::from_pest(e, text, file),
        },
    };
    let at = first.span.start;
    diagnostics.push(first);
    let r = recover::recover(text, file, at);
    diagnostics.extend(r.diagnostics);
    Parsed {
        file: ast::File {
            items: r.items,
            span: Span::new(0, text.len()),
        },
        diagnostics,
        lost: r.lost,
        recovered: true,
    }
}

/// Parses a standalone value, as given to `--set name=value`.
pub fn parse_value(text: &str, file: FileId) -> Result<ast::Expr, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    if text.len() > 4096 || check_depth(text, file).is_some() {
        return Err(vec![Diagnostic::error(
            Code::TooDeep,
            file,
            Span::new(0, text.len().min(1)),
            "this value is too large or too deeply nested",
        )]);
    }
    match parser::parse_expr_text(text, file, &mut diags) {
        Ok(e) if diags.is_empty() => Ok(e),
        Ok(_) => Err(diags),
        Err(e) => Err(vec![error::from_pest(e, text, file)]),
    }
}

/// Scans the text outside strings and comments before pest does: brackets nested too deep,
/// brackets never closed or closed by the wrong kind, strings and block comments never
/// closed. These get a message naming the problem and pointing at where it starts, which
/// pest's "expected …" at the far end of the file would not.
fn check_depth(text: &str, file: FileId) -> Option<Diagnostic> {
    let b = text.as_bytes();
    let mut stack: Vec<(u8, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let open = i;
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if i >= b.len() || b[i] == b'\n' {
                    let end = i.min(b.len());
                    return Some(
                        Diagnostic::error(Code::Expected, file, Span::new(open, end.max(open + 1)), "this string is never closed")
                            .with_label("the string starts here")
                            .with_help("a string ends on the line it starts, with `\"`; write `\\\"` for a quote inside it"),
                    );
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let open = i;
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                if i >= b.len() {
                    return Some(
                        Diagnostic::error(
                            Code::Expected,
                            file,
                            Span::new(open, open + 2),
                            "this comment is never closed",
                        )
                        .with_label("the comment starts here")
                        .with_help("close block comments with `*/`"),
                    );
                }
                i += 1;
            }
            c @ (b'(' | b'[' | b'{') => {
                stack.push((c, i));
                if stack.len() > MAX_DEPTH {
                    return Some(
                        Diagnostic::error(
                            Code::TooDeep,
                            file,
                            Span::new(i, i + 1),
                            format!("brackets nest deeper than {MAX_DEPTH} levels"),
                        )
                        .with_label(format!("level {} opens here", stack.len()))
                        .with_help("flatten the structure; no scenario needs this much nesting"),
                    );
                }
            }
            c @ (b')' | b']' | b'}') => {
                let want = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                match stack.pop() {
                    Some((open, _)) if open == want => {}
                    Some((open, at)) => {
                        return Some(
                            Diagnostic::error(
                                Code::Expected,
                                file,
                                Span::new(i, i + 1),
                                format!("`{}` does not close `{}`", c as char, open as char),
                            )
                            .with_label(format!("expected `{}`", closer(open) as char))
                            .with_secondary(
                                Span::new(at, at + 1),
                                format!("`{}` opened here", open as char),
                            )
                            .with_help(format!(
                                "close `{}` with `{}` first",
                                open as char,
                                closer(open) as char
                            )),
                        );
                    }
                    // A stray closer: pest says what it expected there.
                    None => {}
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(&(open, at)) = stack.last() {
        return Some(
            Diagnostic::error(
                Code::Expected,
                file,
                Span::new(at, at + 1),
                format!("`{}` is never closed", open as char),
            )
            .with_label("opened here")
            .with_help(format!("add the matching `{}`", closer(open) as char)),
        );
    }
    None
}

fn closer(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}
