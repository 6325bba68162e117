//! Effects to proxy toxics and `match` clauses to HTTP matchers, for the fault parts.
//!
//! The scenario Model is translated in `run/chaos.rs` (which service a fault hits, its routes,
//! its process, the fault request); this module only reads the effect and matcher values a
//! [`FaultRequest`](super::request::FaultRequest) carries.

use super::error::{ChaosError, Result};
use super::proxy::{HttpMatcher, Toxic};
use crate::check::{Effect, Matcher, StrValue};
use crate::units::{self, StatusPattern};

/// A duration of the model as a std one; out-of-range values (negative, not finite, beyond
/// a year) become a year, which every limit downstream then refuses with its reason.
pub fn std_duration(d: units::Duration) -> std::time::Duration {
    let year = std::time::Duration::from_secs(365 * 24 * 3600);
    std::time::Duration::try_from_secs_f64(d.secs())
        .ok()
        .filter(|d| *d <= year)
        .unwrap_or(year)
}

/// The proxy toxic of an effect, or `None` for process, host and network effects.
pub fn toxic_of(effect: &Effect) -> Option<Toxic> {
    Some(match effect {
        Effect::Latency {
            latency,
            jitter,
            per_chunk,
        } => Toxic::Latency {
            latency: std_duration(*latency),
            jitter: std_duration(*jitter),
            per_chunk: *per_chunk,
        },
        Effect::Errors { status, rate } => Toxic::Errors {
            status: status_of(*status),
            rate: *rate,
        },
        Effect::Reset { rate } => Toxic::Reset { rate: *rate },
        Effect::Blackhole { rate } => Toxic::Blackhole { rate: *rate },
        Effect::Timeout(d) => Toxic::Timeout {
            after: std_duration(*d),
        },
        Effect::Bandwidth(b) => Toxic::Bandwidth { bytes_per_sec: b.0 },
        Effect::SlowClose(d) => Toxic::SlowClose {
            delay: std_duration(*d),
        },
        Effect::Slice { size, delay } => Toxic::Slice {
            size: size.0.max(1.0) as usize,
            delay: std_duration(*delay),
        },
        _ => return None,
    })
}

/// The status an `errors` effect answers with: the exact code, or for a class the most
/// telling member (`5xx` → 503, `4xx` → 429).
pub fn status_of(pattern: StatusPattern) -> u16 {
    match pattern {
        StatusPattern::Exact(s) => s,
        StatusPattern::Class(5) => 503,
        StatusPattern::Class(4) => 429,
        StatusPattern::Class(c) => c * 100,
    }
}

fn resolve(value: &StrValue, what: &str) -> Result<String> {
    value.resolve().map_err(|var| {
        ChaosError::Invalid(format!(
            "{what} reads environment variable `{var}`, which is not set"
        ))
    })
}

/// `match` clauses as HTTP matchers, reading environment values.
pub fn matchers_of(matchers: &[Matcher]) -> Result<Vec<HttpMatcher>> {
    matchers
        .iter()
        .map(|m| {
            Ok(match m {
                Matcher::Method(method) => HttpMatcher::Method(method.clone()),
                Matcher::Path(path) => HttpMatcher::path(path),
                Matcher::Header { name, value } => HttpMatcher::Header {
                    name: name.to_ascii_lowercase(),
                    value: value
                        .as_ref()
                        .map(|v| resolve(v, &format!("the value of header `{name}`")))
                        .transpose()?,
                },
            })
        })
        .collect()
}
