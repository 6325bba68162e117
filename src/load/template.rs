//! Templates for paths, header values and body strings: `{feeder.column}`, `{random.N}`
//! (an integer from 1 to N), `{seq}` (the request's sequence number) and `{uuid}` (a random
//! version-4 UUID).
//!
//! Templates are compiled once when the run starts, so an unknown feeder or column is an
//! error before the first request rather than a failed request later; a template without
//! placeholders is flagged static so the request can be built once and reused. Random values
//! come from the RNG of whoever issues the request (the pacer, a user, a session), which is
//! what makes a seeded run repeatable.

use std::collections::HashMap;
use std::fmt::Write;

use rand::rngs::StdRng;
use rand::RngExt;

use super::feeder::Feeder;

/// A compiled template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Lit(String),
    Field { feeder: usize, column: usize },
    Random(u64),
    Seq,
    Uuid,
}

/// The feeders of a run, by index, for compiled templates to refer to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Feeders {
    names: Vec<String>,
    feeders: Vec<Feeder>,
}

impl Feeders {
    pub fn new(map: &HashMap<String, Feeder>) -> Feeders {
        let mut names: Vec<String> = map.keys().cloned().collect();
        names.sort();
        let feeders = names.iter().map(|n| map[n].clone()).collect();
        Feeders { names, feeders }
    }

    pub fn len(&self) -> usize {
        self.feeders.len()
    }
}

/// Per-issuer scratch state: the row chosen for each feeder within one request.
pub(crate) struct RenderState<'a> {
    pub rng: &'a mut StdRng,
    pub seq: u64,
    rows: &'a mut Vec<Option<usize>>,
}

impl<'a> RenderState<'a> {
    /// Starts a request: no rows chosen yet.
    pub fn new(
        rng: &'a mut StdRng,
        seq: u64,
        rows: &'a mut Vec<Option<usize>>,
        feeders: &Feeders,
    ) -> RenderState<'a> {
        rows.clear();
        rows.resize(feeders.len(), None);
        RenderState { rng, seq, rows }
    }
}

/// How rendered text is escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escape {
    /// Percent-encode what a URI cannot carry (spaces, quotes, non-ASCII…).
    Uri,
    None,
}

impl Template {
    /// Compiles `text`; `Err` says which placeholder is wrong.
    pub fn compile(text: &str, feeders: &Feeders) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                break;
            };
            let inner = &rest[open + 1..open + close];
            lit.push_str(&rest[..open]);
            match placeholder(inner, feeders)? {
                Some(part) => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(part);
                }
                // Braces around something that is not a name (JSON, regexes) stay literal.
                None => lit.push_str(&rest[open..=open + close]),
            }
            rest = &rest[open + close + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Lit(lit));
        }
        Ok(Template { parts })
    }

    /// True when the template has no placeholders.
    pub fn is_static(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// The text of a static template.
    pub fn literal(&self) -> String {
        let mut out = String::new();
        for p in &self.parts {
            if let Part::Lit(s) = p {
                out.push_str(s);
            }
        }
        out
    }

    pub fn render_into(
        &self,
        out: &mut String,
        state: &mut RenderState<'_>,
        feeders: &Feeders,
        escape: Escape,
    ) {
        for p in &self.parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Field { feeder, column } => {
                    let row = *state.rows[*feeder]
                        .get_or_insert_with(|| feeders.feeders[*feeder].pick(state.rng));
                    let value = feeders.feeders[*feeder].value(row, *column);
                    match escape {
                        Escape::Uri => push_uri_escaped(out, value),
                        Escape::None => out.push_str(value),
                    }
                }
                Part::Random(n) => {
                    let _ = write!(out, "{}", state.rng.random_range(1..=*n));
                }
                Part::Seq => {
                    let _ = write!(out, "{}", state.seq);
                }
                Part::Uuid => push_uuid(out, state.rng),
            }
        }
    }

    pub fn render(&self, state: &mut RenderState<'_>, feeders: &Feeders, escape: Escape) -> String {
        let mut out = String::new();
        self.render_into(&mut out, state, feeders, escape);
        out
    }
}

/// Parses the inside of `{…}`: `Ok(None)` when it is not a placeholder at all.
fn placeholder(inner: &str, feeders: &Feeders) -> Result<Option<Part>, String> {
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    let (head, tail) = match inner.split_once('.') {
        Some((h, t)) => (h, Some(t)),
        None => (inner, None),
    };
    if !is_name(head) || tail.is_some_and(|t| !is_name(t)) {
        return Ok(None);
    }
    match (head, tail) {
        ("seq", None) => Ok(Some(Part::Seq)),
        ("uuid", None) => Ok(Some(Part::Uuid)),
        ("random", Some(n)) => match n.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(Some(Part::Random(n))),
            _ => Err(format!("`{{random.{n}}}`: the bound must be a whole number of at least 1")),
        },
        (feeder, Some(column)) => {
            let Some(f) = feeders.names.iter().position(|n| n == feeder) else {
                return Err(format!("`{{{inner}}}`: no data named `{feeder}`"));
            };
            let Some(c) = feeders.feeders[f].column(column) else {
                return Err(format!(
                    "`{{{inner}}}`: `{feeder}` has no column `{column}` (columns: {})",
                    feeders.feeders[f].columns().join(", ")
                ));
            };
            Ok(Some(Part::Field { feeder: f, column: c }))
        }
        (name, None) => Err(format!(
            "`{{{name}}}` is not a placeholder: use {{data.column}}, {{random.N}}, {{seq}} or {{uuid}}"
        )),
    }
}

fn push_uri_escaped(out: &mut String, value: &str) {
    for b in value.bytes() {
        let keep = b.is_ascii_graphic() && !b"\"<>\\^`{|}#".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

fn push_uuid(out: &mut String, rng: &mut StdRng) {
    let mut b: [u8; 16] = rng.random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{byte:02x}");
    }
}

/// A JSON body whose strings are templates.
#[derive(Debug, Clone)]
pub(crate) enum JsonTemplate {
    /// A subtree without placeholders.
    Value(serde_json::Value),
    Str(Template),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    pub fn compile(value: &serde_json::Value, feeders: &Feeders) -> Result<JsonTemplate, String> {
        Ok(match value {
            serde_json::Value::String(s) => {
                let t = Template::compile(s, feeders)?;
                if t.is_static() {
                    JsonTemplate::Value(value.clone())
                } else {
                    JsonTemplate::Str(t)
                }
            }
            serde_json::Value::Array(items) => {
                let items = items
                    .iter()
                    .map(|v| JsonTemplate::compile(v, feeders))
                    .collect::<Result<Vec<_>, _>>()?;
                if items.iter().all(|i| matches!(i, JsonTemplate::Value(_))) {
                    JsonTemplate::Value(value.clone())
                } else {
                    JsonTemplate::Array(items)
                }
            }
            serde_json::Value::Object(map) => {
                let fields = map
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), JsonTemplate::compile(v, feeders)?)))
                    .collect::<Result<Vec<_>, String>>()?;
                if fields
                    .iter()
                    .all(|(_, i)| matches!(i, JsonTemplate::Value(_)))
                {
                    JsonTemplate::Value(value.clone())
                } else {
                    JsonTemplate::Object(fields)
                }
            }
            other => JsonTemplate::Value(other.clone()),
        })
    }

    pub fn render(&self, state: &mut RenderState<'_>, feeders: &Feeders) -> serde_json::Value {
        match self {
            JsonTemplate::Value(v) => v.clone(),
            JsonTemplate::Str(t) => {
                serde_json::Value::String(t.render(state, feeders, Escape::None))
            }
            JsonTemplate::Array(items) => {
                serde_json::Value::Array(items.iter().map(|i| i.render(state, feeders)).collect())
            }
            JsonTemplate::Object(fields) => serde_json::Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.render(state, feeders)))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::feeder::DataOrder;
    use rand::SeedableRng;

    fn feeders() -> Feeders {
        let mut m = HashMap::new();
        m.insert(
            "users".to_string(),
            Feeder::from_csv("id,name\n1,ann lee\n2,bob\n", DataOrder::Cycle).unwrap(),
        );
        Feeders::new(&m)
    }

    #[test]
    fn renders_placeholders() {
        let f = feeders();
        let t = Template::compile(
            "/u/{users.id}/{users.name}?n={seq}&r={random.5}&x={json}",
            &f,
        );
        assert!(t.is_err());
        let t = Template::compile(
            "/u/{users.id}/{users.name}?n={seq}&r={random.5}&j={\"a\":1}",
            &f,
        )
        .unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let mut rows = Vec::new();
        let mut st = RenderState::new(&mut rng, 42, &mut rows, &f);
        let s = t.render(&mut st, &f, Escape::Uri);
        assert!(s.starts_with("/u/1/ann%20lee?n=42&r="), "{s}");
        assert!(s.ends_with("&j={\"a\":1}"), "{s}");
    }

    #[test]
    fn unknown_columns_are_errors() {
        let f = feeders();
        let e = Template::compile("/{users.email}", &f).unwrap_err();
        assert!(e.contains("no column `email`"), "{e}");
        assert!(Template::compile("/{orders.id}", &f)
            .unwrap_err()
            .contains("no data named"));
        assert!(Template::compile("/{random.0}", &f).is_err());
    }

    #[test]
    fn uuid_shape() {
        let f = Feeders::default();
        let t = Template::compile("{uuid}", &f).unwrap();
        let mut rng = StdRng::seed_from_u64(1);
        let mut rows = Vec::new();
        let mut st = RenderState::new(&mut rng, 0, &mut rows, &f);
        let s = t.render(&mut st, &f, Escape::None);
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
    }
}
