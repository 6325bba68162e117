//! The forecasting engine on a plain series: which seasonalities the history supports,
//! which methods compete, the backtest that picks one, and the final forecast with intervals.
//!
//! It knows nothing of logs or timestamps — only steps, and how many steps make a day and a
//! week — so it also runs on public series with other sampling (five-minute call counts).

use super::backtest::{evaluate, mase_scale, plan, Outcome, Plan, Scores};
use super::error::ForecastError;
use super::intervals::{coverage, normal_q, quantile, Residuals, Scaling};
use super::methods::{Method, Spec};
use crate::learn::input::ForecastMethod;

/// How a series is sampled.
#[derive(Debug, Clone, Copy)]
pub struct Sampling {
    /// Steps per day and per week (a multiple of the day).
    pub day: usize,
    pub week: usize,
    /// Seconds per step, for messages.
    pub step_s: f64,
    /// Whether the values count events (requests, calls): intervals are then never narrower
    /// than the Poisson noise of the forecast count.
    pub counts: bool,
}

impl Sampling {
    /// Hourly counts.
    pub const HOURLY: Sampling = Sampling {
        day: 24,
        week: 168,
        step_s: 3600.0,
        counts: true,
    };
}

/// Which seasonality to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Season {
    /// The longest the history supports (weekly, else daily, else none), saying so.
    Auto,
    None,
    Daily,
    Weekly,
}

impl Season {
    pub fn parse(s: &str) -> Option<Season> {
        Some(match s {
            "auto" => Season::Auto,
            "none" => Season::None,
            "daily" | "day" => Season::Daily,
            "weekly" | "week" => Season::Weekly,
            _ => return None,
        })
    }
}

/// One competitor's backtest scores.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    pub method: Method,
    pub seasonality: &'static str,
    #[serde(flatten)]
    pub scores: Scores,
}

/// A forecast of a plain series.
#[derive(Debug, Clone)]
pub struct SeriesForecast {
    pub method: Method,
    pub seasonality: &'static str,
    pub point: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// The chosen method's backtest scores, when the history allowed a backtest.
    pub scores: Option<Scores>,
    pub coverage: Option<f64>,
    pub origins: usize,
    pub backtest_steps: usize,
    pub candidates: Vec<Candidate>,
    pub notes: Vec<String>,
}

/// A span in words: `3 days`, `6 days 16 hours`, `20 hours`, `2 weeks`.
pub fn human_span(secs: f64) -> String {
    let hours = (secs / 3600.0).round() as i64;
    let plural = |n: i64, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    if secs < 119.5 {
        return plural(secs.round() as i64, "second");
    }
    if hours < 24 {
        let mins = (secs / 60.0).round() as i64;
        return if mins < 120 {
            plural(mins, "minute")
        } else {
            plural(hours, "hour")
        };
    }
    if hours % 168 == 0 {
        return plural(hours / 168, "week");
    }
    let (d, h) = (hours / 24, hours % 24);
    if h == 0 {
        plural(d, "day")
    } else {
        format!("{} {}", plural(d, "day"), plural(h, "hour"))
    }
}

fn season_name(spec: &Spec, s: Sampling) -> &'static str {
    match spec.method {
        Method::DoubleSeasonal | Method::Combined => "daily+weekly",
        Method::Level => "none",
        _ if spec.period == s.week => "weekly",
        _ => "daily",
    }
}

fn spec(method: Method, period: usize, s: Sampling) -> Spec {
    Spec {
        method,
        period,
        period2: s.week,
        k: if period == s.week { 4 } else { 7 },
    }
}

/// Forecasts `horizon` steps after `y` at quantile `q` (the upper bound of the interval).
pub fn forecast_series(
    y: &[f64],
    s: Sampling,
    horizon: usize,
    q: f64,
    method: ForecastMethod,
    season: Season,
) -> Result<SeriesForecast, ForecastError> {
    forecast_known(y, None, s, horizon, q, method, season)
}

/// [`forecast_series`] where only the steps `known` marks are real data (the others are
/// filled gaps: the backtest neither scores them nor takes errors from them).
pub fn forecast_known(
    y: &[f64],
    known: Option<&[bool]>,
    s: Sampling,
    horizon: usize,
    q: f64,
    method: ForecastMethod,
    season: Season,
) -> Result<SeriesForecast, ForecastError> {
    let n = y.len();
    if n == 0 {
        return Err(ForecastError::NoHistory);
    }
    if !(q > 0.5 && q < 1.0) {
        return Err(ForecastError::BadQuantile(q));
    }
    let covers = human_span(n as f64 * s.step_s);
    let too_short = |steps: usize, season: &'static str| ForecastError::TooShort {
        needed: human_span(steps as f64 * s.step_s),
        season,
        covers: covers.clone(),
    };
    let weekly_ok = n >= 2 * s.week;
    let daily_ok = n >= 2 * s.day;
    let mut notes = Vec::new();
    // The seasonality in force: requested, or the longest the history supports.
    let chosen = match season {
        Season::Weekly if !weekly_ok => return Err(too_short(2 * s.week, "weekly")),
        Season::Daily if !daily_ok => return Err(too_short(2 * s.day, "daily")),
        Season::Auto if weekly_ok => Season::Weekly,
        Season::Auto if daily_ok => {
            notes.push(format!(
                "the history covers {covers}: weekly seasonality needs at least {}, so only daily seasonality is used",
                human_span(2.0 * s.week as f64 * s.step_s)
            ));
            Season::Daily
        }
        Season::Auto => {
            notes.push(format!(
                "the history covers {covers}: daily seasonality needs at least {}, so the forecast is the recent mean, flat",
                human_span(2.0 * s.day as f64 * s.step_s)
            ));
            Season::None
        }
        other => other,
    };
    if method == ForecastMethod::DoubleSeasonal && !weekly_ok {
        return Err(too_short(2 * s.week, "weekly"));
    }
    if method == ForecastMethod::DoubleSeasonal && chosen != Season::Weekly {
        return Err(ForecastError::TooShort {
            needed: "a weekly season".into(),
            season: "double (daily+weekly)",
            covers: format!("{covers}, and the seasonality asked for is not weekly"),
        });
    }
    if method != ForecastMethod::Auto && chosen == Season::None {
        return Err(too_short(2 * s.day, "daily"));
    }
    let longest = match chosen {
        Season::Weekly => s.week,
        Season::Daily => s.day,
        _ => 1,
    };
    let candidates: Vec<Spec> = match (method, chosen) {
        (ForecastMethod::Auto, Season::Weekly) => vec![
            spec(Method::SeasonalMean, s.week, s),
            spec(Method::HoltWinters, s.day, s),
            spec(Method::HoltWinters, s.week, s),
            spec(Method::DoubleSeasonal, s.day, s),
            Spec {
                k: 4,
                ..spec(Method::Combined, s.day, s)
            },
            spec(Method::SeasonalNaive, s.week, s),
            spec(Method::SeasonalMean, s.day, s),
            spec(Method::SeasonalNaive, s.day, s),
        ],
        (ForecastMethod::Auto, Season::Daily) => vec![
            spec(Method::SeasonalMean, s.day, s),
            spec(Method::HoltWinters, s.day, s),
            spec(Method::SeasonalNaive, s.day, s),
        ],
        (ForecastMethod::Auto, _) => vec![spec(Method::Level, s.day, s)],
        (ForecastMethod::SeasonalNaive, _) => vec![spec(Method::SeasonalNaive, longest, s)],
        (ForecastMethod::SeasonalMean, _) => vec![spec(Method::SeasonalMean, longest, s)],
        (ForecastMethod::HoltWinters, _) => vec![spec(Method::HoltWinters, longest, s)],
        (ForecastMethod::DoubleSeasonal, _) => vec![spec(Method::DoubleSeasonal, s.day, s)],
    };

    let min_train = candidates
        .iter()
        .map(|c| c.min_history())
        .max()
        .unwrap_or(1)
        .max(longest);
    let window = horizon.min(longest.max(s.day));
    let bt: Option<Plan> = if chosen == Season::None {
        plan(n, (n / 2).max(1), window, s.day)
    } else {
        plan(n, min_train, window, s.day)
    };
    let c = 0.1 * y.iter().map(|v| v.abs()).sum::<f64>() / n as f64 + 1e-9;

    let mut outcomes: Vec<Outcome> = Vec::new();
    if let Some(p) = &bt {
        let scale = mase_scale(&y[..p.origins[0]], longest);
        for cand in &candidates {
            outcomes.push(evaluate(*cand, y, known, p, scale, s.day));
        }
    }
    let best = outcomes
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.scores.mase.total_cmp(&b.1.scores.mase))
        .map(|(i, _)| i);
    let chosen_spec = best.map_or(candidates[0], |i| outcomes[i].spec);

    let params = chosen_spec.fit(y);
    let point: Vec<f64> = chosen_spec
        .forecast(y, &params, horizon)
        .into_iter()
        .map(|v| v.max(0.0))
        .collect();
    let q_hi = q;
    let (mut lower, mut upper) = (Vec::with_capacity(horizon), Vec::with_capacity(horizon));
    let mut cov = None;
    match (best, &bt) {
        (Some(i), Some(p)) => {
            let o = &outcomes[i];
            let sc = Scaling {
                c,
                counts: s.counts,
            };
            let r = Residuals::fit(o, y, known, &p.origins, s.day, sc, None);
            cov = coverage(o, y, known, &p.origins, s.day, sc, q_hi);
            for (i, &f) in point.iter().enumerate() {
                let (lo, hi) = r.as_ref().map_or((f, f), |r| r.bounds(f, i, q_hi));
                lower.push(lo);
                upper.push(hi);
            }
            if horizon > p.h {
                notes.push(format!(
                    "the backtest windows are {} long; intervals further out take the errors of the window's last day, widened by the square root of how far past the window they are",
                    human_span(p.h as f64 * s.step_s)
                ));
            }
        }
        _ => {
            notes.push("the history is too short for a backtest: the interval is the spread of the recent history".into());
            let mut recent: Vec<f64> = y[n.saturating_sub(s.week)..].to_vec();
            recent.sort_by(f64::total_cmp);
            let (lo, hi) = (quantile(&recent, 1.0 - q_hi), quantile(&recent, q_hi));
            // Counts: never narrower than the Poisson noise of the count itself.
            let z = if s.counts { normal_q(q_hi) } else { 0.0 };
            for &f in &point {
                let noise = z * f.sqrt();
                lower.push(lo.min(f - noise).max(0.0));
                upper.push(hi.max(f + noise));
            }
        }
    }
    let candidate_scores = outcomes
        .iter()
        .map(|o| Candidate {
            method: o.spec.method,
            seasonality: season_name(&o.spec, s),
            scores: o.scores,
        })
        .collect();
    Ok(SeriesForecast {
        method: chosen_spec.method,
        seasonality: season_name(&chosen_spec, s),
        point,
        lower,
        upper,
        scores: best.map(|i| outcomes[i].scores),
        coverage: cov,
        origins: bt.as_ref().map_or(0, |p| p.origins.len()),
        backtest_steps: bt.as_ref().map_or(0, |p| p.h),
        candidates: candidate_scores,
        notes,
    })
}
