//! Forecasting the rate of a learned traffic: `forecast peak over 7d [quantile 0.95]
//! [method ...]` and `res forecast MODEL --horizon 7d`.
//!
//! The history is the model's hourly request counts. Candidate methods (seasonal naive,
//! seasonal mean of the last weeks, Holt–Winters with a daily or weekly season,
//! double-seasonal Holt–Winters) compete in a rolling-origin backtest on the history itself;
//! the one with the lowest MASE forecasts the horizon. Intervals come from the backtest's
//! errors, and the peak a load test should plan for is the interval's upper bound at the
//! requested quantile, not the mean.
//!
//! When the history is too short for a weekly season the forecast falls back to a daily one
//! (or to a flat recent mean) and says so in `notes`; only an explicit request for a
//! seasonality the history cannot support is an error.

mod backtest;
mod double_seasonal;
mod engine;
mod error;
pub mod history;
mod holt_winters;
mod intervals;
mod methods;
mod nelder_mead;
mod smoothing;

use serde::{Deserialize, Serialize};

pub use backtest::Scores;
pub use engine::{
    forecast_known, forecast_series, human_span, Candidate, Sampling, Season, SeriesForecast,
};
pub use error::ForecastError;
pub use methods::Method;

use super::histogram::round_sig;
pub use super::input::ForecastMethod;
use super::profile::TrafficProfile;
use crate::units::{Duration, Timestamp};

/// The longest span forecast: a leap year of hours.
const MAX_HOURS: usize = 8784;

/// Options of a forecast beyond the language's `horizon`, `quantile` and `method`.
#[derive(Debug, Clone, Copy)]
pub struct ForecastOptions {
    pub horizon: Duration,
    pub quantile: f64,
    pub method: ForecastMethod,
    pub season: Season,
    /// The present, in seconds since the epoch. When the log ended more than an hour before
    /// it, the forecast starts now rather than at the log's end (whose hours are the past);
    /// `None` forecasts from the log's end.
    pub now: Option<i64>,
}

/// A forecast of a learned traffic's rate (what `res forecast --format json` prints).
#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    /// The method used (chosen by the backtest under `method auto`).
    pub method: Method,
    /// `weekly`, `daily`, `daily+weekly` or `none`.
    pub seasonality: &'static str,
    pub quantile: f64,
    pub horizon_hours: usize,
    /// Hours of history used (filled gaps included) and the hours of it the log covers.
    pub history_hours: usize,
    pub covered_hours: f64,
    /// The seasonalities the history is long enough for: `daily` from 2 days, `weekly` from
    /// 2 weeks (empty below 2 days: the forecast is flat).
    pub usable_seasonalities: Vec<&'static str>,
    pub backtest: Backtest,
    /// Every method the backtest compared, with its scores.
    pub candidates: Vec<Candidate>,
    /// The busiest hour of the horizon, by the upper bound.
    pub peak: Peak,
    /// One point per hour of the horizon.
    pub series: Vec<Point>,
    /// Fallbacks and caveats, in words.
    pub notes: Vec<String>,
    /// Whole hours between the log's end and the forecast's start (0 when the log is fresh,
    /// or when the forecast starts at the log's end).
    pub stale_hours: usize,
}

/// How the chosen method did in the rolling-origin backtest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Backtest {
    /// Mean absolute percentage error over non-zero hours, percent.
    pub mape: Option<f64>,
    /// Mean absolute scaled error (below 1: better than the in-sample seasonal naive).
    pub mase: Option<f64>,
    /// Mean relative error of each day's busiest hour, percent.
    pub peak_error: Option<f64>,
    /// Fraction of held-out hours inside their interval (leave-one-origin-out).
    pub coverage: Option<f64>,
    /// The coverage the intervals aim at: 2 × quantile − 1.
    pub nominal_coverage: f64,
    pub origins: usize,
    pub window_hours: usize,
}

/// The forecast peak: its hour, the point forecast and the interval (requests per second).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Peak {
    pub at: String,
    pub rate_per_s: f64,
    pub lower: f64,
    pub upper: f64,
}

/// One hour of the forecast (requests per second).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Point {
    pub at: String,
    pub rate_per_s: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Forecasts a traffic over `horizon`; `quantile` sets the interval (0.95 → 5 %..95 %).
pub fn forecast(
    profile: &TrafficProfile,
    horizon: Duration,
    quantile: f64,
    method: ForecastMethod,
) -> Result<Forecast, ForecastError> {
    forecast_with(
        profile,
        &ForecastOptions {
            horizon,
            quantile,
            method,
            season: Season::Auto,
            now: None,
        },
    )
}

/// [`forecast`] with every option.
pub fn forecast_with(
    profile: &TrafficProfile,
    opts: &ForecastOptions,
) -> Result<Forecast, ForecastError> {
    let series = &profile.series;
    if series.step_s != 3600 {
        return Err(ForecastError::BadSeries(format!(
            "step {} s, expected 3600",
            series.step_s
        )));
    }
    let start = series
        .start_secs()
        .ok_or_else(|| ForecastError::BadSeries(format!("bad start {:?}", series.start)))?;
    let hours = (opts.horizon.secs() / 3600.0).ceil();
    if !(1.0..=MAX_HOURS as f64).contains(&hours) {
        return Err(ForecastError::BadHorizon(opts.horizon.to_string()));
    }
    let horizon = hours as usize;
    if let Some((i, c)) = series
        .counts
        .iter()
        .enumerate()
        .find(|(_, c)| !c.is_finite() || **c < 0.0)
    {
        return Err(ForecastError::BadSeries(format!(
            "series.counts[{i}] is {c}: an hourly count must be a finite number, not negative"
        )));
    }
    let hist = history::prepare(series, start)?;
    let (y, start) = (&hist.y, hist.start);
    let log_end = start + y.len() as i64 * 3600;
    // A stale log: the hours between its end and now are forecast too, and skipped.
    let stale = match opts.now {
        Some(now) if now - log_end >= 3600 => ((now - log_end) / 3600) as usize,
        _ => 0,
    };
    if stale + horizon > MAX_HOURS {
        return Err(ForecastError::Stale {
            ended: Timestamp(log_end).to_rfc3339(),
            ago: human_span(stale as f64 * 3600.0),
        });
    }
    let known = (!hist.known.iter().all(|k| *k)).then_some(&hist.known[..]);
    let f = forecast_known(
        y,
        known,
        Sampling::HOURLY,
        stale + horizon,
        opts.quantile,
        opts.method,
        opts.season,
    )?;
    let per_s = |v: f64| round_sig(v / 3600.0);
    let at = |i: usize| Timestamp(log_end + i as i64 * 3600).to_rfc3339();
    let points: Vec<Point> = (stale..stale + horizon)
        .map(|i| Point {
            at: at(i),
            rate_per_s: per_s(f.point[i]),
            lower: per_s(f.lower[i]),
            upper: per_s(f.upper[i]),
        })
        .collect();
    let mut notes = hist.notes.clone();
    notes.extend(f.notes);
    if stale > 0 {
        notes.push(format!(
            "the log is stale: it ends at {}, {} ago; the forecast starts now ({}), so the {} between are forecast, not known; learn a recent log for a sharper forecast",
            Timestamp(log_end).to_rfc3339(),
            human_span(stale as f64 * 3600.0),
            at(stale),
            human_span(stale as f64 * 3600.0),
        ));
    }
    // The peak of the hours shown (from now on a stale log), not of the skipped ones.
    let peak_i = (stale..stale + horizon)
        .max_by(|&a, &b| f.upper[a].total_cmp(&f.upper[b]).then(b.cmp(&a)))
        .map_or(0, |i| i - stale);
    let peak = Peak {
        at: points[peak_i].at.clone(),
        rate_per_s: points[peak_i].rate_per_s,
        lower: points[peak_i].lower,
        upper: points[peak_i].upper,
    };
    let r = |v: Option<f64>| v.map(round_sig);
    Ok(Forecast {
        method: f.method,
        seasonality: f.seasonality,
        quantile: opts.quantile,
        horizon_hours: horizon,
        history_hours: y.len(),
        covered_hours: round_sig(hist.covered_hours),
        usable_seasonalities: match y.len() {
            n if n >= 336 => vec!["daily", "weekly"],
            n if n >= 48 => vec!["daily"],
            _ => vec![],
        },
        backtest: Backtest {
            mape: r(f.scores.and_then(|s| s.mape)),
            mase: r(f.scores.map(|s| s.mase)),
            peak_error: r(f.scores.and_then(|s| s.peak_error)),
            coverage: r(f.coverage),
            nominal_coverage: round_sig(2.0 * opts.quantile - 1.0),
            origins: f.origins,
            window_hours: f.backtest_steps,
        },
        candidates: f
            .candidates
            .into_iter()
            .map(|mut c| {
                c.scores.mae = round_sig(c.scores.mae);
                c.scores.mase = round_sig(c.scores.mase);
                c.scores.mape = r(c.scores.mape);
                c.scores.peak_error = r(c.scores.peak_error);
                c
            })
            .collect(),
        peak,
        series: points,
        notes,
        stale_hours: stale,
    })
}

/// Parses a method name as written in `.res` files and on the command line.
pub fn parse_method(s: &str) -> Option<ForecastMethod> {
    Some(match s {
        "auto" => ForecastMethod::Auto,
        "seasonal_naive" => ForecastMethod::SeasonalNaive,
        "seasonal_mean" => ForecastMethod::SeasonalMean,
        "holt_winters" => ForecastMethod::HoltWinters,
        "double_seasonal" => ForecastMethod::DoubleSeasonal,
        _ => return None,
    })
}

/// The forecast as text: the method and its backtest, the peak, then one line per hour.
pub fn to_text(f: &Forecast) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let opt = |v: Option<f64>, unit: &str| v.map_or("n/a".to_string(), |v| format!("{v:.3}{unit}"));
    let _ = writeln!(
        o,
        "method     {} ({} seasonality), {} h of history ({} covered by the log)",
        f.method.name(),
        f.seasonality,
        f.history_hours,
        human_span(f.covered_hours * 3600.0)
    );
    let _ = writeln!(
        o,
        "seasons    usable: {}",
        if f.usable_seasonalities.is_empty() {
            "none (under 2 days of history: the forecast is flat)".to_string()
        } else {
            f.usable_seasonalities.join(", ")
        }
    );
    let b = &f.backtest;
    let _ = writeln!(
        o,
        "backtest   {} origins × {} h: MASE {}, MAPE {}, daily-peak error {}, coverage {} (nominal {:.0}%)",
        b.origins,
        b.window_hours,
        opt(b.mase, ""),
        opt(b.mape, "%"),
        opt(b.peak_error, "%"),
        b.coverage.map_or("n/a".into(), |c| format!("{:.0}%", c * 100.0)),
        b.nominal_coverage * 100.0
    );
    for c in &f.candidates {
        let _ = writeln!(
            o,
            "  {:<16} {:<13} MASE {:.3}",
            c.method.name(),
            c.seasonality,
            c.scores.mase
        );
    }
    for n in &f.notes {
        let _ = writeln!(o, "note       {n}");
    }
    let _ = writeln!(
        o,
        "peak       {}  {:.4}/s  (interval {:.4} .. {:.4}/s at quantile {})",
        f.peak.at, f.peak.rate_per_s, f.peak.lower, f.peak.upper, f.quantile
    );
    let _ = writeln!(
        o,
        "{:<22} {:>12} {:>12} {:>12}",
        "hour", "rate/s", "lower", "upper"
    );
    for p in &f.series {
        let _ = writeln!(
            o,
            "{:<22} {:>12.4} {:>12.4} {:>12.4}",
            p.at, p.rate_per_s, p.lower, p.upper
        );
    }
    o
}
