//! Recovery at top-level item boundaries: when a file does not parse as a whole, the items
//! that do parse are still read, so the checker can check them and tools can name them.
//!
//! The file is cut where a line starts (column 0, outside block comments) with an item
//! keyword (`system`, `traffic`, `scenario`, …): that is where `res fmt` puts every item.
//! Each piece is checked for bracket depth and parsed on its own, with spans counted from
//! the start of the file. The error of the whole-file parse stays the first error reported:
//! a piece's own error is kept only after the piece that error falls in, so `res check`
//! reports what it did before and, now, the problems of the other items too. An item
//! written across column-0 lines of another item's keywords (unformatted nesting) is cut
//! wrongly; that costs only recovery, never a valid file, which is parsed whole.

use super::ast::Item;
use super::{check_depth, error, parser};
use crate::diagnostic::{Diagnostic, FileId, Span};

/// The keywords that start a top-level item (grammar/res.pest's `item` rule).
pub const ITEM_KEYWORDS: &[&str] = &[
    "import", "param", "data", "system", "traffic", "fault", "window", "event", "slo", "abort",
    "remedy", "scenario", "template",
];

/// What recovery read from a file that does not parse whole.
#[derive(Debug, Default)]
pub struct Recovered {
    pub items: Vec<Item>,
    /// Problems of pieces after the one holding the first error.
    pub diagnostics: Vec<Diagnostic>,
    /// The names the pieces that did not parse would have declared (`traffic daily {` →
    /// `daily`), so the checker does not call their uses unknown.
    pub lost: Vec<String>,
}

/// Reads the items of `text` around the error at byte `first` (the whole-file error).
pub fn recover(text: &str, file: FileId, first: usize) -> Recovered {
    let mut starts = item_starts(text);
    if starts.first() != Some(&0) {
        starts.insert(0, 0);
    }
    let mut out = Recovered::default();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        let piece = &text[start..end];
        // The piece holding the first error, and those before it, report nothing new.
        let report = first < start;
        let mut diags = Vec::new();
        let parsed = match check_depth(piece, file) {
            Some(d) => Err(d),
            None => parser::parse_file_at(piece, start, file, &mut diags)
                .map_err(|e| error::from_pest(e, &text[start..], file)),
        };
        match parsed {
            Ok(f) => {
                out.items.extend(f.items);
                if report {
                    out.diagnostics.extend(diags);
                }
            }
            Err(d) => {
                if let Some(name) = declared_name(piece) {
                    out.lost.push(name.to_string());
                }
                if report {
                    out.diagnostics.push(shift(d, start));
                }
            }
        }
    }
    out
}

/// Byte offsets of the lines that start with an item keyword, outside block comments.
fn item_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut in_comment = false;
    let mut line_start = true;
    let mut i = 0;
    while i < b.len() {
        if line_start && !in_comment && starts_item(&text[i..]) {
            out.push(i);
        }
        line_start = false;
        match b[i] {
            b'\n' => line_start = true,
            b'*' if in_comment && b.get(i + 1) == Some(&b'/') => {
                in_comment = false;
                i += 1;
            }
            _ if in_comment => {}
            b'/' if b.get(i + 1) == Some(&b'*') => {
                in_comment = true;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i + 1 < b.len() && b[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                // Strings end on their line (an unclosed one ends at the newline).
                i += 1;
                while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if b.get(i) == Some(&b'\n') {
                    line_start = true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn starts_item(rest: &str) -> bool {
    ITEM_KEYWORDS.iter().any(|kw| {
        rest.starts_with(kw)
            && !rest
                .as_bytes()
                .get(kw.len())
                .is_some_and(|&b| is_ident_byte(b))
    })
}

/// `traffic daily {` → `daily`; `template fault slow(` → `slow`.
fn declared_name(piece: &str) -> Option<&str> {
    let mut words = piece
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty());
    let kw = words.next()?;
    if !ITEM_KEYWORDS.contains(&kw) || matches!(kw, "import" | "abort") {
        return None;
    }
    if kw == "template" {
        words.next()?;
    }
    words.next()
}

fn shift(mut d: Diagnostic, by: usize) -> Diagnostic {
    let move_span = |s: Span| Span::new(s.start + by, s.end + by);
    d.span = move_span(d.span);
    for l in &mut d.labels {
        l.span = move_span(l.span);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    const TWO_GOOD_ONE_BAD: &str =
        "param a = 1\n\ntraffic t {\n  rate 5/s\n  oops oops\n}\n\nparam b = 2\n";

    #[test]
    fn keywords_are_the_grammars_items() {
        let grammar = include_str!("../../grammar/res.pest");
        let rule = grammar
            .split("\nitem = _{")
            .nth(1)
            .and_then(|r| r.split('}').next())
            .unwrap();
        let mut from_grammar: Vec<&str> = rule
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter_map(|w| w.strip_suffix("_decl"))
            .collect();
        let mut ours = ITEM_KEYWORDS.to_vec();
        from_grammar.sort();
        ours.sort();
        assert_eq!(from_grammar, ours);
    }

    #[test]
    fn items_around_a_broken_one_are_kept_with_absolute_spans() {
        let p = parse(TWO_GOOD_ONE_BAD, 0);
        assert!(p.has_errors());
        let names: Vec<&str> = p
            .file
            .items
            .iter()
            .filter_map(|i| i.name())
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);
        let b = p.file.items[1].name().unwrap();
        assert_eq!(&TWO_GOOD_ONE_BAD[b.span.start..b.span.end], "b");
        assert_eq!(p.lost, ["t"]);
        // One error: the whole-file parse's, at the bad statement.
        let errors: Vec<_> = p.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert_eq!(errors.len(), 1);
        let at = errors[0].span.start;
        assert_eq!(&TWO_GOOD_ONE_BAD[at..at + 4], "oops");
    }

    #[test]
    fn the_first_error_is_the_whole_files_and_later_ones_follow() {
        let text =
            "system s {\n  service a { oops }\n}\n\nparam ok = 1\n\nfault f {\n  latency +\n}\n";
        let whole = crate::syntax::parser::parse_file(text, 0, &mut Vec::new()).unwrap_err();
        let expected = error::from_pest(whole, text, 0);
        let p = parse(text, 0);
        let errors: Vec<_> = p.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.len() >= 2, "{errors:?}");
        assert_eq!(errors[0].message, expected.message);
        assert_eq!(errors[0].span, expected.span);
        assert!(errors[1].span.start > text.find("fault f").unwrap());
        assert_eq!(p.file.items.len(), 1);
        assert_eq!(p.lost, ["s", "f"]);
    }

    #[test]
    fn an_unclosed_brace_loses_only_its_item() {
        let text = "param a = 1\ntraffic t {\n  rate 5/s\nparam b = 2\n/* system x {\n*/\n";
        let p = parse(text, 0);
        let names: Vec<&str> = p
            .file
            .items
            .iter()
            .filter_map(|i| i.name())
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert!(p.diagnostics[0].message.contains("never closed"));
    }

    #[test]
    fn keywords_in_comments_and_strings_do_not_cut() {
        let text = "/*\nsystem x {\n*/\nparam a = \"x\nparam b = 1\n";
        assert_eq!(
            item_starts(text),
            [text.find("param a").unwrap(), text.find("param b").unwrap()]
        );
        assert_eq!(item_starts("systemic = 1\n"), Vec::<usize>::new());
    }
}
