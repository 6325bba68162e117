//! From the checked scenario model to the engine's terms: effects to toxics, routes to
//! patterns, matchers and process declarations to their resolved forms.
//!
//! The interpreter resolves *which* service a fault hits (`on shop.payments`, or the worst
//! services for `on stressed(...)`); these helpers turn that service's declarations into what
//! [`ChaosEngine::inject`](super::ChaosEngine::inject) takes.

use super::error::{ChaosError, Result};
use super::process::ProcessSpec;
use super::proxy::{HttpMatcher, RoutePattern, Toxic};
use super::request::{FaultRequest, ResolvedTarget};
use crate::check::{Effect, Matcher, Model, ProcessModel, ServiceModel, StrValue};
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

/// A service's routes as patterns, for faults on a front proxy shared with other services.
pub fn routes_of(service: &ServiceModel) -> Vec<RoutePattern> {
    service
        .routes
        .iter()
        .map(|r| RoutePattern::new(Some(r.method.as_str()), &r.path))
        .collect()
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

/// A service's `process` declaration, with environment values read.
pub fn process_of(process: &ProcessModel) -> Result<ProcessSpec> {
    Ok(match process {
        ProcessModel::Pidfile(p) => ProcessSpec::Pidfile(resolve(p, "the pid file")?.into()),
        ProcessModel::Name(n) => ProcessSpec::Name(resolve(n, "the process name")?),
        ProcessModel::Command(c) => ProcessSpec::Command(resolve(c, "the process command")?),
    })
}

impl FaultRequest {
    /// The request for fault `fault` of `model`, aimed at `target` (which the interpreter
    /// resolved, including for `on stressed(...)`). A `via toxiproxy` clause replaces the
    /// target's proxy by the Toxiproxy one; its proxy name defaults to the service's name.
    pub fn from_model(
        model: &Model,
        fault: usize,
        mut target: ResolvedTarget,
        deadline: std::time::SystemTime,
    ) -> Result<FaultRequest> {
        let f = model
            .faults
            .get(fault)
            .ok_or_else(|| ChaosError::Invalid(format!("no fault number {fault} in the model")))?;
        if let Some((api, proxy)) = &f.toxiproxy {
            let api = resolve(api, "the Toxiproxy address")?;
            let proxy = match proxy {
                Some(p) => resolve(p, "the Toxiproxy proxy name")?,
                None => target
                    .label
                    .rsplit('.')
                    .next()
                    .unwrap_or(&target.label)
                    .to_string(),
            };
            target = target.with_toxiproxy(api, proxy);
        }
        Ok(FaultRequest {
            name: f.name.clone(),
            target,
            effects: f.effects.clone(),
            toxicity: f.toxicity,
            matchers: f.matchers.clone(),
            deadline,
        })
    }
}
