//! The loop's learning half: each declared log (`traffic … { learn from "…" }`) is followed
//! between iterations (`tail.rs`): what was appended is fed to the traffic's streaming
//! learner, a rotated log is read to its end and the new one from its start, and the model is
//! a snapshot of the learner. The forecast is refreshed then and at least every six hours of
//! the loop's time, from the loop's "now", with the events' `expect` applied while they last
//! (as `peak()` does). Each model version is kept in the state table: the latest as
//! `model/FILE#TRAFFIC` ([`ModelMark`], so a restart continues the count) and every version as
//! `model_version/FILE#TRAFFIC/NNNNNNNNNN` ([`ModelVersion`]: how it was learned, from which
//! byte, the lines it added). The learner lives in memory: a restart learns each log whole once.
//! A log that is gone or unreadable is said once and the loop goes on with what it had.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::tail::{th, Follow, How};
use crate::check::Model;
use crate::learn::TrafficProfile;
use crate::learn::{ForecastModel, LogFormat};
use crate::units::Timestamp;

/// How often a forecast is refreshed when nothing changed.
pub const REFRESH: i64 = 6 * 3600;

/// What is kept of a learned model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMark {
    pub version: u64,
    pub len: u64,
    pub modified_ns: i128,
    pub requests: u64,
    /// The loop's time of the last forecast (seconds since the epoch).
    pub forecast_at: i64,
    pub peak_per_s: f64,
    pub peak_at: String,
    /// Bytes of whole lines learned from the current file.
    #[serde(default)]
    pub offset: u64,
    /// Lines the last version added, and how it was learned (`whole`, `appended`, `rotated`).
    #[serde(default)]
    pub lines_added: u64,
    #[serde(default)]
    pub how: String,
}

/// One model version, kept for good (`model_version/FILE#TRAFFIC/NNNNNNNNNN`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub traffic: String,
    pub version: u64,
    /// The loop's time, RFC 3339.
    pub at: String,
    /// `whole`, `appended` or `rotated`.
    pub how: String,
    /// Where it read from, in words.
    pub from: String,
    pub offset: u64,
    pub lines_added: u64,
    /// Every line the model holds (used or not).
    pub lines: u64,
    pub requests: u64,
    pub peak_per_s: f64,
    pub peak_at: String,
    #[serde(default)]
    pub note: Option<String>,
    /// Wall time spent reading the new lines and taking the model (milliseconds).
    #[serde(default)]
    pub learn_ms: f64,
}

/// One traffic that learns from a log.
pub struct Traffic {
    /// `FILE#TRAFFIC`.
    pub key: String,
    pub path: PathBuf,
    format: LogFormat,
    scale: f64,
    forecast: ForecastModel,
    events: Vec<crate::check::EventModel>,
}

/// The traffics of a model that learn from logs.
pub fn traffics(model: &Model, file_key: &str, base_dir: &std::path::Path) -> Vec<Traffic> {
    model
        .traffics
        .iter()
        .filter_map(|t| {
            let learn = t.learn.as_ref()?;
            Some(Traffic {
                key: format!("{file_key}#{}", t.name),
                path: crate::learn::resolve(&learn.path, base_dir),
                format: learn.format,
                scale: t.scale.0,
                forecast: crate::run::learn_input::forecast_of(t),
                events: model.events.clone(),
            })
        })
        .collect()
}

/// What one step did for one traffic, for the audit log.
pub struct Step {
    pub action: &'static str,
    pub reason: String,
    pub mark: Option<ModelMark>,
    /// A new model version, to keep.
    pub version: Option<ModelVersion>,
}

/// The followed logs and their learned profiles, kept in memory between iterations.
#[derive(Default)]
pub struct Cache {
    follows: HashMap<String, Follow>,
    profiles: HashMap<String, TrafficProfile>,
}

fn stat(path: &std::path::Path) -> std::io::Result<(u64, i128)> {
    let m = std::fs::metadata(path)?;
    let modified = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    Ok((m.len(), modified))
}

fn skip(reason: String) -> Option<Step> {
    Some(Step {
        action: "skip",
        reason,
        mark: None,
        version: None,
    })
}

impl Cache {
    /// Learns what is new and forecasts one traffic if due at `t`; `None` when nothing was due.
    pub fn step(&mut self, tr: &Traffic, mark: Option<&ModelMark>, t: i64) -> Option<Step> {
        let (len, modified) = match stat(&tr.path) {
            Ok(s) => s,
            Err(e) => {
                return skip(format!(
                    "learn {}: the log {} cannot be read ({e}); going on with {}",
                    tr.key,
                    tr.path.display(),
                    mark.map_or("no model yet".to_string(), |m| format!(
                        "model version {}",
                        m.version
                    ))
                ))
            }
        };
        let changed = mark.is_none_or(|m| m.len != len || m.modified_ns != modified);
        let stale = mark.is_none_or(|m| t - m.forecast_at >= REFRESH);
        if !changed && !stale {
            return None;
        }
        let mut read = None;
        let clock = std::time::Instant::now();
        if changed || !self.follows.contains_key(&tr.key) {
            let got = match self.follows.get_mut(&tr.key) {
                Some(f) => f.read_new(&tr.path),
                None => Follow::start(&tr.path, tr.format).map(|(f, r)| {
                    self.follows.insert(tr.key.clone(), f);
                    Some(r)
                }),
            };
            match got {
                Ok(r) => read = r,
                Err(e) => {
                    return skip(format!(
                        "learn {}: {}: {e}; going on with the model it had",
                        tr.key,
                        tr.path.display()
                    ))
                }
            }
            if read.is_some() {
                match self.follows.get(&tr.key).map(|f| f.learner.snapshot()) {
                    Some(Ok(p)) => {
                        self.profiles.insert(tr.key.clone(), p);
                    }
                    Some(Err(e)) => {
                        return skip(format!(
                            "learn {}: {}: {e}; going on with the model it had",
                            tr.key,
                            tr.path.display()
                        ))
                    }
                    None => {}
                }
            }
        }
        let learn_ms = clock.elapsed().as_secs_f64() * 1000.0;
        if read.is_none() && !stale {
            // Only a line still being written: nothing new to learn yet.
            return None;
        }
        let profile = self.profiles.get(&tr.key)?;
        let new_version = changed && read.is_some();
        let mut next = mark.cloned().unwrap_or_default();
        if new_version {
            let r = read.as_ref()?;
            next.version += 1;
            next.len = len;
            next.modified_ns = modified;
            next.offset = self.follows.get(&tr.key).map_or(0, |f| f.offset);
            next.lines_added = r.lines;
            next.how = r.how.word().into();
        }
        next.requests = profile.requests;
        next.forecast_at = t;
        let opts = crate::learn::forecast::ForecastOptions {
            horizon: tr.forecast.horizon,
            quantile: tr.forecast.quantile,
            method: tr.forecast.method,
            season: crate::learn::forecast::Season::Auto,
            now: Some(t),
        };
        let forecast = crate::learn::forecast::forecast_with(profile, &opts).or_else(|_| {
            crate::learn::forecast::forecast_with(profile, &{
                let mut o = opts;
                o.now = None;
                o
            })
        });
        let learned = match read.as_ref().filter(|_| new_version) {
            Some(r) => {
                let what = match r.how {
                    How::Appended => {
                        format!("appended {} lines (learned from {})", th(r.lines), r.from)
                    }
                    How::Whole => format!("learned whole: {} lines ({})", th(r.lines), r.from),
                    How::Rotated => format!("rotated: {} lines ({})", th(r.lines), r.from),
                };
                let note = r
                    .note
                    .as_ref()
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default();
                format!("{what}{note}; ")
            }
            None => String::new(),
        };
        let (action, reason) = match forecast {
            Ok(mut f) => {
                let events = crate::schedule::event_peak(&tr.events, &mut f);
                next.peak_per_s = f.peak.upper * tr.scale;
                next.peak_at = f.peak.at.clone();
                (
                    if new_version { "learn" } else { "forecast" },
                    format!(
                        "{} model version {}: {learned}{} requests from {}; forecast from {}: peak {:.1}/s at {}{}",
                        tr.key,
                        next.version,
                        th(profile.requests),
                        tr.path.display(),
                        Timestamp(t),
                        next.peak_per_s,
                        next.peak_at,
                        events.map(|e| format!("; {e}")).unwrap_or_default()
                    ),
                )
            }
            Err(e) => (
                if new_version { "learn" } else { "skip" },
                format!(
                    "{} model version {}: {learned}{} requests from {}; no forecast: {e}; going on with the last forecast",
                    tr.key,
                    next.version,
                    th(profile.requests),
                    tr.path.display()
                ),
            ),
        };
        let version = read.filter(|_| new_version).map(|r| ModelVersion {
            traffic: tr.key.clone(),
            version: next.version,
            at: Timestamp(t).to_rfc3339(),
            how: r.how.word().into(),
            from: r.from,
            offset: next.offset,
            lines_added: r.lines,
            lines: profile.source.lines,
            requests: profile.requests,
            peak_per_s: next.peak_per_s,
            peak_at: next.peak_at.clone(),
            note: r.note,
            learn_ms: (learn_ms * 10.0).round() / 10.0,
        });
        Some(Step {
            action,
            reason,
            mark: Some(next),
            version,
        })
    }
}
