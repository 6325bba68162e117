//! Turns pest's first syntax error into a diagnostic that speaks the user's language.
//!
//! pest reports the grammar rules it tried at the furthest position. Users never see rule
//! names: each rule is described in words ("a duration such as `30s`"), values and operators
//! are collapsed into one phrase, and the span covers the offending token, not one byte.

use pest::error::{ErrorVariant, InputLocation};

use super::parser::{is_keyword, Rule};
use crate::diagnostic::{Code, Diagnostic, FileId, Span};

/// Describes a grammar rule in words, for messages like "expected …".
pub fn describe(rule: Rule) -> &'static str {
    use Rule::*;
    match rule {
        EOI => "a new declaration or the end of the file",
        file | item => "a declaration such as `system`, `traffic`, `fault` or `scenario`",
        ident | type_name | arg_label | call_name => "a name",
        path_ref => "a name such as `shop.checkout`",
        string | string_inner => "a string in double quotes",
        number | json_number => "a number",
        duration => "a duration such as `30s`",
        rate => "a rate such as `500/s`",
        size => "a size such as `64KiB`",
        bandwidth => "a bandwidth such as `1MiB/s`",
        percent => "a percentage such as `5%`",
        multiplier => "a multiplier such as `1.5x`",
        status_class => "a status class such as `5xx`",
        status_pattern => "a status such as `2xx` or `503`",
        timestamp => "a timestamp such as `2026-11-27T00:00Z`",
        time_of_day => "a time of day such as `02:00`",
        time_zone => "a time zone such as `UTC` or `+01:00`",
        boolean | json_true | json_false => "`true` or `false`",
        json_null => "`null`",
        method => "an HTTP method such as `GET` or `POST`",
        expr | ramp_from | objective => "a value or an expression",
        call => "a function call such as `p99(shop)`",
        paren => "`(`",
        json_object => "a JSON object `{ ... }`",
        json_array => "a JSON array `[ ... ]`",
        template_call => "a template call such as `slow_dependency(on: shop.catalog)`",
        template_params => "a parameter list `( ... )`",
        stressed => "`stressed(system, top N)`",
        op_or | op_and | op_eq | op_ne | op_le | op_ge | op_lt | op_gt | op_add | op_sub
        | op_mul | op_div => "an operator",
        op_neg | op_pos | op_not => "a value or an expression",
        step_point => "a step name such as `main` or `main.start`",
        offset => "an offset such as `+ 2m`",
        range_dots => "`..` and the most instances",
        _ => "something else",
    }
}

/// Rules that stand for "some value": collapsed into one phrase when several are expected.
fn is_value(rule: Rule) -> bool {
    use Rule::*;
    matches!(
        rule,
        number
            | duration
            | rate
            | size
            | bandwidth
            | percent
            | multiplier
            | status_class
            | timestamp
            | time_of_day
            | boolean
            | string
            | call
            | paren
            | path_ref
            | op_neg
            | op_pos
            | op_not
            | expr
    )
}

fn keyword_text(rule: Rule) -> String {
    format!("`{}`", format!("{rule:?}").trim_start_matches("kw_"))
}

/// Words for a set of expected rules and literal tokens.
pub fn expected_words(positives: &[Rule], literals: &[String]) -> String {
    let values = positives.iter().filter(|r| is_value(**r)).count();
    let mut words: Vec<String> = Vec::new();
    fn push(words: &mut Vec<String>, w: String) {
        if !words.contains(&w) {
            words.push(w);
        }
    }
    // Between declarations pest lists every declaration keyword and the end of the file:
    // say that in one phrase.
    let item_kws = [
        Rule::kw_import,
        Rule::kw_param,
        Rule::kw_data,
        Rule::kw_system,
        Rule::kw_traffic,
        Rule::kw_fault,
        Rule::kw_window,
        Rule::kw_event,
        Rule::kw_slo,
        Rule::kw_abort,
        Rule::kw_remedy,
        Rule::kw_scenario,
        Rule::kw_template,
    ];
    let top_level = positives.contains(&Rule::EOI)
        || positives.iter().filter(|r| item_kws.contains(r)).count() >= 5;
    let positives: Vec<Rule> = if top_level {
        push(
            &mut words,
            "a new declaration such as `system`, `traffic`, `fault` or `scenario`".to_string(),
        );
        positives
            .iter()
            .copied()
            .filter(|r| !item_kws.contains(r) && !matches!(r, Rule::EOI | Rule::file | Rule::item))
            .collect()
    } else {
        positives.to_vec()
    };
    let positives = positives.as_slice();
    if values >= 3 {
        push(
            &mut words,
            "a value such as `30s`, `500/s`, `5%` or a name".to_string(),
        );
    }
    for r in positives {
        if values >= 3 && is_value(*r) {
            continue;
        }
        if is_keyword(*r) {
            push(&mut words, keyword_text(*r));
        } else {
            push(&mut words, describe(*r).to_string());
        }
    }
    // Operators are always possible after a value; they only matter when nothing else is.
    if words.len() > 1 {
        words.retain(|w| w != "an operator");
    }
    // A set of statement keywords is what may start a statement; the block may also end.
    if !positives.is_empty() && positives.iter().all(|r| is_keyword(*r)) && positives.len() > 2 {
        push(&mut words, "`}`".to_string());
    }
    for l in literals {
        push(&mut words, format!("`{l}`"));
    }
    join_or(&words)
}

fn join_or(words: &[String]) -> String {
    const MAX: usize = 8;
    match words.len() {
        0 => "something else".into(),
        1 => words[0].clone(),
        n if n <= MAX => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
        n => format!(
            "{}, or one of {} more",
            words[..MAX - 1].join(", "),
            n - (MAX - 1)
        ),
    }
}

/// The span of the token at `pos`: a word, a number with its unit, a string, or one character.
pub fn token_at(text: &str, pos: usize) -> Span {
    let pos = pos.min(text.len());
    let rest = &text[pos..];
    let mut chars = rest.char_indices();
    let Some((_, first)) = chars.next() else {
        return Span::new(pos, pos);
    };
    let len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '%' | '/' | ':')))
            .unwrap_or(rest.len())
    } else if first == '"' {
        rest[1..].find(['"', '\n']).map_or(rest.len(), |i| i + 2)
    } else {
        first.len_utf8()
    };
    // Never run past the end of the line: a label spanning lines is hard to read.
    let len = rest[..len].find('\n').unwrap_or(len);
    Span::new(pos, pos + len.max(1).min(rest.len()))
}

/// What was found at the error position, in words.
fn found_words(text: &str, span: Span) -> String {
    if span.start >= text.len() {
        return "the end of the file".into();
    }
    let tok = &text[span.start..span.end];
    if tok.trim().is_empty() {
        return "a blank".into();
    }
    let shown: String = tok.chars().take(40).collect();
    format!("`{}`", shown.escape_debug())
}

pub fn from_pest(err: pest::error::Error<Rule>, text: &str, file: FileId) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut span = token_at(text, pos);
    // At the end of the file there is no token to underline: point at the last one.
    if span.start >= text.trim_end().len() {
        if let Some((i, c)) = text.trim_end().char_indices().next_back() {
            span = Span::new(i, i + c.len_utf8());
        }
    }
    match err.variant {
        ErrorVariant::ParsingError {
            positives,
            negatives: _,
        } => {
            let expected = expected_words(&positives, &[]);
            let found = found_words(text, span);
            let mut d = Diagnostic::error(
                Code::Expected,
                file,
                span,
                format!("expected {expected}, found {found}"),
            )
            .with_label(short(&expected));
            if let Some(help) = help_for(&positives, text, span) {
                d = d.with_help(help);
            }
            d
        }
        ErrorVariant::CustomError { message } => {
            Diagnostic::error(Code::Expected, file, span, message).with_label("here")
        }
    }
}

fn short(expected: &str) -> String {
    if expected.chars().count() > 60 {
        "unexpected here".into()
    } else {
        format!("expected {expected}")
    }
}

fn help_for(positives: &[Rule], text: &str, span: Span) -> Option<String> {
    let tok = &text[span.start.min(text.len())..span.end.min(text.len())];
    const UNITS: &[&str] = &[
        "x", "ms", "us", "s", "m", "h", "d", "w", "B", "KB", "kB", "MB", "GB", "TB", "KiB", "MiB",
        "GiB", "TiB", "%", "/s", "/m", "/h",
    ];
    let before = text[..span.start.min(text.len())].trim_end_matches([' ', '\t']);
    if before.len() < span.start
        && before.ends_with(|c: char| c.is_ascii_digit())
        && UNITS.contains(&tok)
    {
        let number: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Some(format!(
            "a unit follows its number without a space: write `{number}{tok}`"
        ));
    }
    const ITEMS: &[&str] = &[
        "import", "param", "data", "system", "traffic", "fault", "window", "event", "slo", "abort",
        "remedy", "scenario", "template",
    ];
    let top_level = positives
        .iter()
        .any(|r| matches!(r, Rule::file | Rule::item | Rule::EOI));
    let mut candidates: Vec<String> = positives
        .iter()
        .filter(|r| is_keyword(**r))
        .map(|r| format!("{r:?}").trim_start_matches("kw_").to_string())
        .collect();
    if top_level {
        candidates.extend(ITEMS.iter().map(|s| s.to_string()));
    }
    // A keyword spelt right is not a typo: what follows it is what went wrong.
    let spelt_right = Rule::all_rules()
        .iter()
        .any(|r| is_keyword(*r) && format!("{r:?}").strip_prefix("kw_") == Some(tok));
    if !spelt_right && tok.chars().all(|c| c.is_alphanumeric() || c == '_') {
        if let Some(k) = crate::diagnostic::suggest(tok, candidates.iter().map(String::as_str)) {
            return Some(format!("did you mean `{k}`?"));
        }
    }
    if top_level {
        return Some(
            "a file is a list of declarations: import, param, data, system, traffic, fault, window, event, slo, abort, remedy, scenario or template".into(),
        );
    }
    if tok.starts_with('\'') {
        return Some("strings use double quotes: \"like this\"".into());
    }
    if tok == ";" {
        return Some("statements need no `;`: put each on its own line".into());
    }
    let b = tok.as_bytes();
    if b.len() >= 4 && b[0].is_ascii_digit() && b[1] == b':' {
        return Some("times of day have two-digit hours, like `02:00`".into());
    }
    let is_literal = crate::units::Duration::parse(tok).is_some()
        || crate::units::Rate::parse(tok).is_some()
        || crate::units::Bytes::parse(tok).is_some()
        || crate::units::Bandwidth::parse(tok).is_some()
        || crate::units::Percent::parse(tok).is_some()
        || crate::units::Multiplier::parse(tok).is_some()
        || tok.parse::<f64>().is_ok();
    if tok.starts_with(|c: char| c.is_ascii_digit()) && !is_literal {
        let digits: String = tok
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        return Some(format!(
            "`{tok}` is not a number with a known unit; units are durations `{digits}ms` `{digits}s` `{digits}m` `{digits}h` `{digits}d` `{digits}w`, rates `{digits}/s` `{digits}/m` `{digits}/h`, sizes `{digits}B` `{digits}KiB` `{digits}MiB` `{digits}GiB`, `{digits}%` and `{digits}x`"
        ));
    }
    None
}
