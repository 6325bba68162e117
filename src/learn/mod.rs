//! Learning traffic from access logs, and forecasting its next peak.
//!
//! `traffic X { learn from "access.log" format combined  forecast peak over 7d }` asks for
//! synthetic load that mirrors real demand. This module is the learning half: it reads
//! access logs in one streaming pass ([`Learner`]) and writes a [`TrafficProfile`] — the
//! endpoint mix with status, size and service-time distributions, the rate by hour of week,
//! the arrival law and the session chain — which `res learn` saves as a diffable model file.
//! The [`forecast`] submodule predicts the coming rate from the profile's hourly history;
//! [`peak_rate`] is `peak(traffic)` for one log (a run also starts the forecast at its "now"
//! and counts events: `run/setup.rs`). What it is asked — [`LearnModel`], [`LogFormat`],
//! [`ForecastModel`], [`ForecastMethod`] — are its own types ([`input`]); a scenario's
//! traffic becomes them in `run/learn_input.rs`.
//!
//! Memory is bounded by the model, not the log: every aggregate is a capped table, a
//! fixed-resolution histogram, or a per-hour counter (see each file's notes).
//!
//! ```no_run
//! use res::learn::{learn_file, LearnOptions, LogFormat};
//! let profile = learn_file("access.log".as_ref(), LogFormat::Combined, &LearnOptions::default())?;
//! let f = res::learn::forecast::forecast(&profile, res::units::Duration::from_secs(7.0 * 86400.0), 0.95,
//!     res::learn::ForecastMethod::Auto)?;
//! println!("peak {} at {}", f.peak.upper, f.peak.at);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod alb;
mod arrivals;
mod clf;
mod coverage;
pub mod each;
mod endpoints;
mod error;
mod finish;
pub mod forecast;
pub mod format;
mod hash;
mod histogram;
mod hours;
pub mod input;
mod learner;
mod lines;
mod nginx_json;
mod options;
mod profile;
mod rate;
mod record;
pub mod replay;
mod scan;
mod sessions;
mod summary;
mod template;
mod timestamp;

use std::path::{Path, PathBuf};

pub use arrivals::ArrivalLaw;
pub use error::{BadLine, LearnError};
pub use forecast::{Forecast, ForecastError};
pub use format::LogFormat;
pub use histogram::Quantiles;
pub use learner::Learner;
pub use options::{LearnOptions, MaxBad};
pub use profile::{
    ChainState, Endpoint, Gap, HourlySeries, RateProfile, Sessions, Source, TrafficProfile,
    Transition, VERSION,
};
pub use record::Record;
pub use summary::summary;
pub use template::Templater;

pub use input::{ForecastMethod, ForecastModel, LearnModel};

/// Learns a traffic profile from one log file in `format`.
pub fn learn_file(
    path: &Path,
    format: LogFormat,
    options: &LearnOptions,
) -> Result<TrafficProfile, LearnError> {
    learn_files(&[path.to_path_buf()], Some(format), options)
}

/// Learns from several files read in order (rotated logs oldest first); `format: None`
/// detects it from the first readable line.
pub fn learn_files(
    paths: &[PathBuf],
    format: Option<LogFormat>,
    options: &LearnOptions,
) -> Result<TrafficProfile, LearnError> {
    let mut learner = Learner::new(format, options.clone())?;
    for p in paths {
        learner.read_path(p)?;
    }
    learner.finish()
}

/// Why `peak(traffic)` could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum PeakError {
    /// The log could not be learned from.
    #[error(transparent)]
    Learn(#[from] LearnError),
    /// The learned history could not be forecast.
    #[error(transparent)]
    Forecast(#[from] ForecastError),
}

/// `peak(traffic)`: learns the traffic's log (a path relative to the scenario's folder
/// `base_dir`) and forecasts it. Returns the peak rate per second at the forecast's upper
/// quantile — of the log as written, before any `scale` — and the whole forecast.
pub fn peak_rate(
    learn: &LearnModel,
    forecast: &ForecastModel,
    base_dir: &Path,
) -> Result<(f64, Forecast), PeakError> {
    let path = resolve(&learn.path, base_dir);
    let profile = learn_file(&path, learn.format, &LearnOptions::default())?;
    let f = forecast::forecast(
        &profile,
        forecast.horizon,
        forecast.quantile,
        forecast.method,
    )?;
    Ok((f.peak.upper, f))
}

/// A log path from a scenario, resolved against the scenario file's folder.
pub fn resolve(path: &str, base_dir: &Path) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    }
}
