//! Scoring stored predictions against what later runs measured: a prediction at a rate is
//! scored once a run newer than every run it was fitted on measured the service within ±5 %
//! of that rate; a capacity once a newer run drove the service past saturation. A prediction
//! for a forecast hour is scored against what a learned log recorded in that hour
//! ([`Observed`]: the real traffic, its p99 and errors), when a log covers the whole hour. The
//! summary says, per model, how far off the points were and how often the 90 % interval held
//! the measurement (it should, about 90 % of the time).

use std::collections::BTreeMap;

use serde::Serialize;

use super::history::History;
use super::levels::{merge, Level};
use super::service::{CapacityMethod, ServiceModel};
use super::store::StoredPrediction;

/// How close a later measurement's rate must be to the predicted one.
pub const RATE_TOLERANCE: f64 = 0.05;

/// One prediction and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub prediction: StoredPrediction,
    pub measured: f64,
    /// The runs the measurement came from (empty when a log gave it).
    pub outcome_runs: Vec<u64>,
    /// Where the measurement came from: `run`, or `log` for a forecast hour a learned log
    /// covers.
    pub source: &'static str,
    /// The log that covered the hour, when `source` is `log`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    /// The service's real rate in that hour (requests per second), when `source` is `log`:
    /// beside `at_rate`, how far the forecast load was from the load that came.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_rate: Option<f64>,
    /// (predicted − measured) / measured; 0 when both are 0.
    pub relative_error: f64,
    pub covered: bool,
}

/// Per model version, quantity and model: how the scored predictions fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSummary {
    pub model_version: String,
    pub quantity: String,
    pub model: String,
    pub scored: usize,
    pub mean_abs_relative_error: f64,
    /// Fraction of the 90 % intervals that held the measurement.
    pub coverage: f64,
}

/// Everything `res predict score` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    pub scored: Vec<Scored>,
    /// Predictions whose outcome does not exist yet.
    pub pending: usize,
    pub summary: Vec<ModelSummary>,
    /// Coverage over every scored prediction.
    pub coverage: f64,
    /// What each learned log read gave (`res predict score FILE`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<String>,
}

/// What a learned log recorded of one service in one whole hour it covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourOutcome {
    pub requests: u64,
    /// Requests per second over the hour.
    pub rate: f64,
    /// The p99 of the logged service times, when the log records them.
    pub p99_ms: Option<f64>,
    /// The share of 5xx answers.
    pub error_rate: f64,
    /// The log it was read from.
    pub log: String,
}

/// Hour outcomes by service and hour (its start, seconds since the epoch).
pub type Observed = BTreeMap<(String, i64), HourOutcome>;

/// Scores `predictions` against `history` (every run of the profile).
pub fn score(predictions: &[StoredPrediction], history: &History) -> Scores {
    score_with(predictions, history, &Observed::new())
}

/// Scores `predictions` against `history` and, for predictions at a forecast hour, against
/// what learned logs `observed` in that hour (which wins over a run: the prediction was about
/// that hour).
pub fn score_with(
    predictions: &[StoredPrediction],
    history: &History,
    observed: &Observed,
) -> Scores {
    let mut scored = Vec::new();
    let mut pending = 0;
    for p in predictions {
        let found = match from_log(p, observed) {
            Some((measured, hour)) => Some((measured, Vec::new(), Some(hour))),
            None => outcome(p, history).map(|(m, runs)| (m, runs, None)),
        };
        match found {
            Some((measured, runs, hour)) => {
                let relative_error = if measured.abs() > 1e-12 {
                    (p.point - measured) / measured
                } else if p.point.abs() > 1e-12 {
                    1.0
                } else {
                    0.0
                };
                scored.push(Scored {
                    prediction: p.clone(),
                    measured,
                    outcome_runs: runs,
                    source: if hour.is_some() { "log" } else { "run" },
                    log: hour.map(|h| h.log.clone()),
                    measured_rate: hour.map(|h| h.rate),
                    relative_error,
                    covered: measured >= p.lo && measured <= p.hi,
                });
            }
            None => pending += 1,
        }
    }
    let mut groups: BTreeMap<(String, String, String), Vec<&Scored>> = BTreeMap::new();
    for s in &scored {
        let p = &s.prediction;
        groups
            .entry((p.model_version.clone(), p.quantity.clone(), p.model.clone()))
            .or_default()
            .push(s);
    }
    let summary = groups
        .into_iter()
        .map(|((model_version, quantity, model), v)| ModelSummary {
            model_version,
            quantity,
            model,
            scored: v.len(),
            mean_abs_relative_error: v.iter().map(|s| s.relative_error.abs()).sum::<f64>()
                / v.len() as f64,
            coverage: v.iter().filter(|s| s.covered).count() as f64 / v.len() as f64,
        })
        .collect();
    let coverage = if scored.is_empty() {
        0.0
    } else {
        scored.iter().filter(|s| s.covered).count() as f64 / scored.len() as f64
    };
    Scores {
        scored,
        pending,
        summary,
        coverage,
        logs: Vec::new(),
    }
}

/// What a learned log measured in the hour a prediction was made for: the p99 (when the log
/// records service times) or the error rate; `None` for capacities, for predictions at a
/// rate, and for hours no log covers or in which the service saw no request.
fn from_log<'o>(p: &StoredPrediction, observed: &'o Observed) -> Option<(f64, &'o HourOutcome)> {
    let at = crate::units::Timestamp::parse(p.at_time.as_deref()?)?;
    let hour = observed.get(&(p.service.clone(), at.0.div_euclid(3600) * 3600))?;
    if hour.requests == 0 {
        return None;
    }
    let measured = match p.quantity.as_str() {
        "p99_ms" => hour.p99_ms?,
        "error_rate" => hour.error_rate,
        _ => return None,
    };
    Some((measured, hour))
}

/// The measurement a prediction is held against, and the runs it came from.
fn outcome(p: &StoredPrediction, history: &History) -> Option<(f64, Vec<u64>)> {
    let newest = p.runs.iter().copied().max().unwrap_or(0);
    let later: Vec<Level> = history
        .services
        .get(&p.service)?
        .iter()
        .filter(|l| l.run > newest)
        .copied()
        .collect();
    if later.is_empty() {
        return None;
    }
    let mut runs: Vec<u64> = later.iter().map(|l| l.run).collect();
    runs.sort_unstable();
    runs.dedup();
    let lv = merge(later);
    let measured = match p.quantity.as_str() {
        "capacity" => {
            let m = ServiceModel::build(&p.service, lv, 0)?;
            (m.capacity.method == CapacityMethod::MeasuredPlateau)
                .then_some(m.capacity.rate.point)?
        }
        q => {
            let near: Vec<&Level> = lv
                .iter()
                .filter(|l| (l.offered - p.at_rate).abs() <= RATE_TOLERANCE * p.at_rate)
                .collect();
            let best = near.into_iter().min_by(|a, b| {
                (a.offered - p.at_rate)
                    .abs()
                    .total_cmp(&(b.offered - p.at_rate).abs())
            })?;
            match q {
                "p99_ms" => best.p99_ms,
                "error_rate" => best.error_rate,
                "saturation" => return None,
                _ => return None,
            }
        }
    };
    Some((measured, runs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::predict::history::Second;

    fn sec(run: u64, offered: f64, p99: f64) -> Second {
        Second {
            run,
            t: 0,
            offered,
            goodput: offered,
            answered: offered,
            in_flight: 1.0,
            p50_ms: p99 / 2.0,
            p90_ms: p99,
            p99_ms: p99,
            p999_ms: p99,
            max_ms: p99,
            error_rate: 0.0,
            faulted: false,
        }
    }

    fn pred(at_rate: f64, point: f64, lo: f64, hi: f64) -> StoredPrediction {
        StoredPrediction {
            id: 1,
            made_at: "2026-12-03T00:00:00Z".into(),
            runs: vec![1],
            model_version: "predict/1".into(),
            model: "interpolated".into(),
            service: "shop.catalog".into(),
            at_rate,
            at_time: None,
            quantity: "p99_ms".into(),
            point,
            lo,
            hi,
        }
    }

    #[test]
    fn scores_only_with_a_later_run_near_the_rate() {
        let mut h = History::default();
        h.add_run(1, [("shop.catalog", sec(1, 100.0, 10.0))]);
        h.add_run(
            2,
            [
                ("shop.catalog", sec(2, 102.0, 12.0)),
                ("shop.catalog", sec(2, 300.0, 50.0)),
            ],
        );
        let s = score(
            &[pred(100.0, 11.0, 10.0, 13.0), pred(200.0, 20.0, 15.0, 25.0)],
            &h,
        );
        assert_eq!(s.pending, 1);
        assert_eq!(s.scored.len(), 1);
        assert!((s.scored[0].measured - 12.0).abs() < 1e-9);
        assert!(s.scored[0].covered);
        assert!((s.coverage - 1.0).abs() < 1e-9);
        assert_eq!(s.summary[0].scored, 1);
    }
}
