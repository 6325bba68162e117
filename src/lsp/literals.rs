//! What a literal means, in words a reader checks at a glance: `250ms` is "duration: 250 ms",
//! `500/s` "rate: 500 per second", `64KiB` "size: 65,536 bytes". Also how a constant value
//! of the checker's model is shown (`param` hovers).

use crate::check::{StrValue, Ty, Value};
use crate::syntax::ast::LitValue;
use crate::units::{trim, Duration, StatusPattern};

/// "duration: 250 ms" and the like; `None` for strings and invalid literals.
pub fn describe(value: &LitValue) -> Option<String> {
    Some(match value {
        LitValue::Number(n) => format!("number: {}", group(*n)),
        LitValue::Duration(d) => format!("duration: {}", duration(*d)),
        LitValue::Rate(r) => {
            let per_sec = r.per_sec();
            let mut s = format!("rate: {} per second", group(per_sec));
            if per_sec != 0.0 && per_sec < 1.0 {
                s.push_str(&format!(" ({} per hour)", group(per_sec * 3600.0)));
            }
            s
        }
        LitValue::Size(b) => format!("size: {}", bytes(b.0)),
        LitValue::Bandwidth(b) => format!("bandwidth: {} per second", bytes(b.0)),
        LitValue::Percent(p) => format!(
            "percent: {}% (a fraction of {})",
            trim(p.0),
            trim(p.fraction())
        ),
        LitValue::Multiplier(m) => format!("multiplier: ×{}", trim(m.0)),
        LitValue::Status(StatusPattern::Class(c)) => {
            format!("status: any {c}xx status ({c}00–{c}99)")
        }
        LitValue::Status(StatusPattern::Exact(s)) => format!("status: {s}"),
        LitValue::Timestamp(t) => format!("timestamp: {}", t.to_rfc3339()),
        LitValue::TimeOfDay(t) => format!("time of day: {t}"),
        LitValue::Bool(b) => format!("bool: {b}"),
        LitValue::String(_) | LitValue::Invalid => return None,
    })
}

/// A duration in one unit a person reads, with the compound form when that helps.
fn duration(d: Duration) -> String {
    let ms = d.ms();
    if ms < 1.0 && ms > 0.0 {
        return format!("{} µs", group(ms * 1000.0));
    }
    if ms < 1000.0 {
        return format!("{} ms", group(ms));
    }
    let secs = d.secs();
    if secs < 60.0 {
        return format!("{} s", group(secs));
    }
    format!("{} s ({d})", group(secs))
}

fn bytes(b: f64) -> String {
    if b == 1.0 {
        "1 byte".into()
    } else {
        format!("{} bytes", group(b))
    }
}

/// A number with thousands separators: `65536` → `65,536`; fractions kept (`1,234.5`).
pub fn group(v: f64) -> String {
    let s = trim(v);
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", s.as_str()),
    };
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return format!("{sign}{s}");
    }
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// The type name as written in `param x: TYPE`.
pub fn type_name(ty: Ty) -> &'static str {
    Ty::NAMES
        .iter()
        .copied()
        .find(|n| Ty::from_name(n) == Some(ty))
        .unwrap_or("value")
}

/// A constant as a `.res` author would write it; secrets stay unread.
pub fn value(v: &Value) -> String {
    match v {
        Value::Str(StrValue::Literal { value }) => format!("{value:?}"),
        Value::Str(StrValue::Env {
            name,
            default: Some(d),
        }) => format!("env({name:?}, {d:?})"),
        Value::Str(StrValue::Env {
            name,
            default: None,
        }) => format!("env({name:?})"),
        Value::Str(StrValue::Secret { name }) => format!("secret({name:?})"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::{Bytes, Rate};

    #[test]
    fn words_for_units() {
        let d = |t: &str| describe(&LitValue::Duration(Duration::parse(t).unwrap())).unwrap();
        assert_eq!(d("250ms"), "duration: 250 ms");
        assert_eq!(d("30s"), "duration: 30 s");
        assert_eq!(d("1h30m"), "duration: 5,400 s (1h30m)");
        assert_eq!(
            describe(&LitValue::Rate(Rate::parse("500/s").unwrap())).unwrap(),
            "rate: 500 per second"
        );
        assert_eq!(
            describe(&LitValue::Size(Bytes::parse("64KiB").unwrap())).unwrap(),
            "size: 65,536 bytes"
        );
        assert_eq!(group(1234567.5), "1,234,567.5");
        assert_eq!(group(-1000.0), "-1,000");
        assert_eq!(type_name(Ty::Multiplier), "multiplier");
    }
}
