//! Formatting: `res fmt` as one edit.
//!
//! The edit replaces only the part that changes (the text between the longest common prefix
//! and suffix of the old and new text), so the editor keeps the cursor and folds where they
//! were. A document that does not parse is left alone: no edits, not an error, since the
//! diagnostics already say what is wrong.

use tower_lsp_server::ls_types::TextEdit;

use crate::diagnostic::Span;

use super::text::LineIndex;

pub fn format(text: &str) -> Vec<TextEdit> {
    let Ok(formatted) = crate::syntax::format::format_source(text) else {
        return Vec::new();
    };
    if formatted == text {
        return Vec::new();
    }
    let (old, new) = (text.as_bytes(), formatted.as_bytes());
    let mut prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    while !(text.is_char_boundary(prefix) && formatted.is_char_boundary(prefix)) {
        prefix -= 1;
    }
    let max_suffix = old.len().min(new.len()) - prefix;
    let mut suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !(text.is_char_boundary(old.len() - suffix)
        && formatted.is_char_boundary(new.len() - suffix))
    {
        suffix -= 1;
    }
    // Never split a `\r\n`: a client would see a lone `\r` as a line break of its own.
    let (mut start, mut end, mut new_end) = (prefix, old.len() - suffix, new.len() - suffix);
    if start > 0 && old[start - 1] == b'\r' {
        start -= 1;
    }
    if end < old.len() && end > start && old[end] == b'\n' && old[end - 1] == b'\r' {
        end += 1;
        new_end = (new_end + 1).min(new.len());
    }
    let lines = LineIndex::new(text);
    let range = lines.range(text, Span::new(start, end));
    let new_start = start.min(new_end);
    vec![TextEdit::new(
        range,
        formatted[new_start..new_end].to_string(),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(text: &str, edits: &[TextEdit]) -> String {
        let lines = LineIndex::new(text);
        let mut out = text.to_string();
        for e in edits.iter().rev() {
            let span = lines.span(text, e.range);
            out.replace_range(span.start..span.end, &e.new_text);
        }
        out
    }

    #[test]
    fn edits_produce_the_canonical_text() {
        for text in [
            "param   x = 1\r\nparam y=2\r\n",
            "system s {builtin demo_shop service a { route GET \"/é\" }}\n// café 😀\nparam  z = 3",
            "param x = 1\n",
        ] {
            let want = crate::syntax::format::format_source(text).unwrap();
            assert_eq!(apply(text, &format(text)), want, "{text:?}");
        }
        assert!(format("system {").is_empty());
    }
}
