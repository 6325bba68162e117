//! The traffic model file: what `res learn` writes and `res forecast` and the interpreter read.
//!
//! It is meant to be committed and diffed, so it is plain JSON with stable field order,
//! numbers rounded to six significant digits, endpoints sorted by share and states named by
//! `METHOD template` rather than by index. `version` is checked on load; a file from a newer
//! `res` is refused with a message instead of being misread.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::arrivals::ArrivalLaw;
use super::error::{BadLine, LearnError};
use super::histogram::Quantiles;

/// The model file format version this build writes and reads.
pub const VERSION: u32 = 1;

/// A learned traffic model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficProfile {
    pub version: u32,
    pub source: Source,
    /// Requests learned from (lines used).
    pub requests: u64,
    /// Endpoints by decreasing share; a `*` `*` row collects requests past the endpoint cap.
    pub endpoints: Vec<Endpoint>,
    pub rate: RateProfile,
    pub arrival: ArrivalLaw,
    pub sessions: Sessions,
    /// Requests per hour, the history the forecaster works on.
    pub series: HourlySeries,
}

/// Where the model comes from and how clean the log was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub files: Vec<String>,
    pub format: String,
    /// Non-blank lines read.
    pub lines: u64,
    /// Lines not used (malformed, other format, clock jumps); `bad_examples` shows the first.
    pub bad_lines: u64,
    pub bad_examples: Vec<BadLine>,
    /// Lines more than the tolerance older than an earlier line (counted in `bad_lines`).
    pub clock_jumps: u64,
    /// First and last request time, RFC 3339.
    pub first: String,
    pub last: String,
    pub span_s: f64,
    /// Whether timestamps had sub-second precision.
    pub subsecond: bool,
    /// Seconds of the span the log covers: the span less its gaps (with second-resolution
    /// timestamps, the last second counts as covered).
    #[serde(default)]
    pub covered_s: f64,
    /// Pauses judged missing data rather than silence (see `gap_count` for how many; the
    /// first 100 are listed).
    #[serde(default)]
    pub gaps: Vec<Gap>,
    #[serde(default)]
    pub gap_count: u64,
}

/// A stretch of time the log does not cover: the last request before it and the first after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub from: String,
    pub to: String,
    pub duration_s: f64,
}

/// One endpoint: a method and a path template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    pub method: String,
    pub template: String,
    /// Fraction of all requests (0..1).
    pub share: f64,
    pub requests: u64,
    /// Fraction of this endpoint's requests by status code.
    pub status: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_bytes: Option<Quantiles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_bytes: Option<Quantiles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_time_ms: Option<Quantiles>,
    /// Share of all requests in each hour of the day (UTC) that went to this endpoint.
    pub share_by_hour: Vec<f64>,
}

impl Endpoint {
    /// The state name used in the session chain: `GET /items/{id}`.
    pub fn name(&self) -> String {
        format!("{} {}", self.method, self.template)
    }
}

/// The request rate by time of week, and its trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateProfile {
    /// Requests per second over the whole log.
    pub mean_per_s: f64,
    /// The busiest hour of the history and its rate per second.
    pub peak_hour_at: String,
    pub peak_hour_per_s: f64,
    /// The fraction of that hour the log covers (its rate is over the covered part).
    #[serde(default = "one")]
    pub peak_hour_coverage: f64,
    /// Mean requests per second by hour of week, Monday 00:00 UTC first (168 slots; null
    /// where the log has no such hour).
    pub per_hour_of_week: Vec<Option<f64>>,
    /// Mean requests per second by hour of day, UTC (24 slots).
    pub per_hour_of_day: Vec<Option<f64>>,
    /// Relative change of the rate per week (0.02 = +2 %/week), net of the seasonal pattern.
    pub trend_per_week: f64,
    /// The seasonal pattern removed before fitting the trend: `weekly`, `daily` or `none`.
    pub trend_basis: String,
}

/// Sessions as a Markov chain over endpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sessions {
    pub idle_cutoff_s: f64,
    pub count: u64,
    /// Sessions ended early because too many clients were active at once.
    pub forced_ends: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_session: Option<Quantiles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<Quantiles>,
    /// One entry per state with outgoing transitions, START first.
    pub chain: Vec<ChainState>,
}

/// The transitions out of one state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainState {
    /// `START` or an endpoint name (`GET /items/{id}`).
    pub from: String,
    pub next: Vec<Transition>,
    /// Think time after this state's request when the session goes on (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think_s: Option<Quantiles>,
}

/// One transition of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// An endpoint name or `EXIT`.
    pub to: String,
    pub p: f64,
    pub count: u64,
}

/// Requests per hour from `start` (an hour boundary, RFC 3339), one value per `step_s`.
/// Each count is the hour's requests over the part of the hour the log covers, scaled to a
/// full hour; `coverage` says what part that was (0 in a gap: the count then means nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourlySeries {
    pub start: String,
    pub step_s: u32,
    pub counts: Vec<f64>,
    /// The fraction (0..1) of each hour the log covers; absent in models from before it was
    /// recorded (every hour then counts as covered).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<f64>,
}

fn one() -> f64 {
    1.0
}

impl HourlySeries {
    /// Seconds since the epoch of the first slot.
    pub fn start_secs(&self) -> Option<i64> {
        crate::units::Timestamp::parse(&self.start).map(|t| t.0)
    }
}

impl TrafficProfile {
    /// Writes the model; the extension picks the format (`.json` or `.toml`).
    pub fn save(&self, path: &Path) -> Result<(), LearnError> {
        let text = self.to_text(path)?;
        std::fs::write(path, text).map_err(|e| LearnError::Model {
            path: path.display().to_string(),
            reason: format!("cannot write: {e}"),
        })
    }

    /// The model as the text of a file with `path`'s extension.
    pub fn to_text(&self, path: &Path) -> Result<String, LearnError> {
        match extension(path).as_str() {
            "json" => serde_json::to_string_pretty(self)
                .map(|s| s + "\n")
                .map_err(|e| LearnError::Model {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                }),
            // TOML has no null: go through JSON and drop absent values.
            "toml" => serde_json::to_value(self)
                .map(strip_nulls)
                .map_err(|e| e.to_string())
                .and_then(|v| toml::to_string_pretty(&v).map_err(|e| e.to_string()))
                .map_err(|reason| LearnError::Model {
                    path: path.display().to_string(),
                    reason,
                }),
            other => Err(unsupported(path, other)),
        }
    }

    /// Whether `path` has an extension this build can write a model as.
    pub fn load_check_extension(path: &Path) -> Result<(), LearnError> {
        match extension(path).as_str() {
            "json" | "toml" => Ok(()),
            other => Err(unsupported(path, other)),
        }
    }

    /// Reads a model file written by `res learn`.
    pub fn load(path: &Path) -> Result<TrafficProfile, LearnError> {
        let model_err = |reason: String| LearnError::Model {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| LearnError::Io {
            path: path.display().to_string(),
            source: e,
        })?;
        let value: serde_json::Value = match extension(path).as_str() {
            "json" => serde_json::from_str(&text)
                .map_err(|e| model_err(format!("not a JSON model file: {e}")))?,
            "toml" => {
                let t: toml::Value = toml::from_str(&text)
                    .map_err(|e| model_err(format!("not a TOML model file: {e}")))?;
                serde_json::to_value(t).map_err(|e| model_err(e.to_string()))?
            }
            other => return Err(unsupported(path, other)),
        };
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == VERSION as u64 => {}
            Some(v) => {
                return Err(model_err(format!(
                    "model file version {v}, but this res reads version {VERSION}: learn the log again"
                )))
            }
            None => {
                return Err(model_err(
                    "not a traffic model: no \"version\" field (write one with res learn LOG -o MODEL.json)".into(),
                ))
            }
        }
        let model: TrafficProfile = serde_json::from_value(value)
            .map_err(|e| model_err(format!("not a traffic model: {e}")))?;
        model.validate().map_err(model_err)?;
        Ok(model)
    }

    /// Refuses numbers no log can produce, naming the field: a negative or non-finite count
    /// or rate, a share outside 0..1, an hourly count beyond [`MAX_PER_HOUR`]. A hand-edited
    /// or damaged model would otherwise forecast absurd peaks (1e308 an hour became
    /// 2.8e304/s) and drive load at them.
    pub fn validate(&self) -> Result<(), String> {
        let s = &self.series;
        if s.step_s != 3600 {
            return Err(format!(
                "series.step_s is {}, but the hourly series has a step of 3600",
                s.step_s
            ));
        }
        if s.start_secs().is_none() {
            return Err(format!(
                "series.start {:?} is not an RFC 3339 time",
                s.start
            ));
        }
        for (i, c) in s.counts.iter().enumerate() {
            count(&format!("series.counts[{i}]"), *c, MAX_PER_HOUR)?;
        }
        if !s.coverage.is_empty() && s.coverage.len() != s.counts.len() {
            return Err(format!(
                "series.coverage has {} values for {} counts: one per hour is needed",
                s.coverage.len(),
                s.counts.len()
            ));
        }
        for (i, c) in s.coverage.iter().enumerate() {
            count(&format!("series.coverage[{i}]"), *c, 1.0)?;
        }
        let max_per_s = MAX_PER_HOUR / 3600.0;
        let r = &self.rate;
        count("rate.mean_per_s", r.mean_per_s, max_per_s)?;
        count("rate.peak_hour_per_s", r.peak_hour_per_s, max_per_s)?;
        for (i, v) in r.per_hour_of_week.iter().enumerate() {
            if let Some(v) = v {
                count(&format!("rate.per_hour_of_week[{i}]"), *v, max_per_s)?;
            }
        }
        for (i, v) in r.per_hour_of_day.iter().enumerate() {
            if let Some(v) = v {
                count(&format!("rate.per_hour_of_day[{i}]"), *v, max_per_s)?;
            }
        }
        if !r.trend_per_week.is_finite() || r.trend_per_week <= -1.0 {
            return Err(format!(
                "rate.trend_per_week is {}: a weekly change must be finite and above -100 %",
                r.trend_per_week
            ));
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            count(&format!("endpoints[{i}].share"), e.share, 1.0)?;
            for (j, v) in e.share_by_hour.iter().enumerate() {
                count(&format!("endpoints[{i}].share_by_hour[{j}]"), *v, 1.0)?;
            }
            for (code, v) in &e.status {
                count(&format!("endpoints[{i}].status.{code}"), *v, 1.0)?;
            }
        }
        for (i, st) in self.sessions.chain.iter().enumerate() {
            for (j, t) in st.next.iter().enumerate() {
                count(&format!("sessions.chain[{i}].next[{j}].p"), t.p, 1.0)?;
            }
        }
        Ok(())
    }
}

/// The most requests per hour a model may hold: 10^10 an hour is about 2.8 million a second,
/// far past any log one machine learns from, and far below what overflows arithmetic.
pub const MAX_PER_HOUR: f64 = 1e10;

/// `field` must be a finite number in `0..=max`.
fn count(field: &str, v: f64, max: f64) -> Result<(), String> {
    if !v.is_finite() {
        return Err(format!("{field} is {v}: it must be a finite number"));
    }
    if v < 0.0 {
        return Err(format!("{field} is {v}: it cannot be negative"));
    }
    if v > max {
        return Err(format!(
            "{field} is {v}, more than the plausible maximum of {max}: the model is damaged or \
             was edited by hand; learn the log again"
        ));
    }
    Ok(())
}

fn strip_nulls(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.into_iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k, strip_nulls(x)))
                .collect(),
        ),
        serde_json::Value::Array(a) => serde_json::Value::Array(
            a.into_iter()
                .filter(|x| !x.is_null())
                .map(strip_nulls)
                .collect(),
        ),
        other => other,
    }
}

fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

fn unsupported(path: &Path, ext: &str) -> LearnError {
    LearnError::Model {
        path: path.display().to_string(),
        reason: format!("a model file ends in .json or .toml, not `.{ext}`"),
    }
}
