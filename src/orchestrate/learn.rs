//! The loop's learning half: each declared log (`traffic … { learn from "…" }`) is learned
//! again when it changed (size or modification time: appended, rotated, replaced), and its
//! forecast refreshed then and at least every six hours of the loop's time, from the loop's
//! "now", with the events' `expect` applied while they last (as `peak()` does). Each learned
//! version is kept in the state table (`model/FILE#TRAFFIC`), so a restart continues the count.
//! A log that is gone or unreadable is said once and the loop goes on with what it had.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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
}

/// The learned profiles kept in memory between iterations.
#[derive(Default)]
pub struct Cache {
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

impl Cache {
    /// Learns and forecasts one traffic if due at `t`; `None` when nothing was due.
    pub fn step(&mut self, tr: &Traffic, mark: Option<&ModelMark>, t: i64) -> Option<Step> {
        let (len, modified) = match stat(&tr.path) {
            Ok(s) => s,
            Err(e) => {
                return Some(Step {
                    action: "skip",
                    reason: format!(
                        "learn {}: the log {} cannot be read ({e}); going on with {}",
                        tr.key,
                        tr.path.display(),
                        mark.map_or("no model yet".to_string(), |m| format!(
                            "model version {}",
                            m.version
                        ))
                    ),
                    mark: None,
                })
            }
        };
        let changed = mark.is_none_or(|m| m.len != len || m.modified_ns != modified);
        let stale = mark.is_none_or(|m| t - m.forecast_at >= REFRESH);
        if !changed && !stale {
            return None;
        }
        if changed || !self.profiles.contains_key(&tr.key) {
            match crate::learn::learn_file(
                &tr.path,
                tr.format,
                &crate::learn::LearnOptions::default(),
            ) {
                Ok(p) => {
                    self.profiles.insert(tr.key.clone(), p);
                }
                Err(e) => {
                    return Some(Step {
                        action: "skip",
                        reason: format!(
                            "learn {}: {}: {e}; going on with the model it had",
                            tr.key,
                            tr.path.display()
                        ),
                        mark: None,
                    })
                }
            }
        }
        let profile = self.profiles.get(&tr.key)?;
        let mut next = mark.cloned().unwrap_or_default();
        if changed {
            next.version += 1;
            next.len = len;
            next.modified_ns = modified;
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
        let (action, reason) = match forecast {
            Ok(mut f) => {
                let events = crate::schedule::event_peak(&tr.events, &mut f);
                next.peak_per_s = f.peak.upper * tr.scale;
                next.peak_at = f.peak.at.clone();
                (
                    if changed { "learn" } else { "forecast" },
                    format!(
                        "{} model version {} ({} requests from {}); forecast from {}: peak {:.1}/s at {}{}",
                        tr.key,
                        next.version,
                        profile.requests,
                        tr.path.display(),
                        Timestamp(t),
                        next.peak_per_s,
                        next.peak_at,
                        events.map(|e| format!("; {e}")).unwrap_or_default()
                    ),
                )
            }
            Err(e) => (
                "skip",
                format!("forecast {}: {e}; going on with the last forecast", tr.key),
            ),
        };
        Some(Step {
            action,
            reason,
            mark: Some(next),
        })
    }
}
