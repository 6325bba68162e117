//! The history a forecast may use, and the rules it must meet, said out loud.
//!
//! From a model's hourly series and its coverage: hours the log covers less than half are
//! not known; unknown hours at either end are dropped; a gap longer than a week cuts the
//! history (what came before it is not used — the traffic after a month of silence is not
//! the traffic before); shorter gaps are filled with the mean of the same hour of the week
//! (or of the day) over the known hours, and the backtest does not score them. Then the
//! rule: less than [`MIN_HISTORY_HOURS`] of covered history is refused.

use super::engine::human_span;
use super::error::ForecastError;
use crate::learn::profile::HourlySeries;
use crate::units::Timestamp;

/// The least covered history a forecast is made from, in hours (AWS predictive scaling asks
/// for the same day of data).
pub const MIN_HISTORY_HOURS: f64 = 24.0;
/// An hour covered less than this is not known.
pub const KNOWN: f64 = 0.5;
/// A gap of at least this many hours cuts the history.
pub const CUT_GAP_HOURS: usize = 168;

/// The history a forecast is made from.
#[derive(Debug, Clone)]
pub struct History {
    /// Requests per hour, unknown hours filled.
    pub y: Vec<f64>,
    /// Which hours are known (covered at least half).
    pub known: Vec<bool>,
    /// Seconds since the epoch of `y[0]`.
    pub start: i64,
    /// Hours the log covers within `y`.
    pub covered_hours: f64,
    pub notes: Vec<String>,
}

/// The usable history of `series` (whose start is `start`), or why there is none.
pub fn prepare(series: &HourlySeries, start: i64) -> Result<History, ForecastError> {
    let n = series.counts.len();
    if n == 0 {
        return Err(ForecastError::NoHistory);
    }
    let cov = |i: usize| series.coverage.get(i).copied().unwrap_or(1.0);
    let known: Vec<bool> = (0..n).map(|i| cov(i) >= KNOWN).collect();
    let mut notes = Vec::new();
    // The last long run of unknown hours cuts the history.
    let mut lo = 0;
    let mut i = 0;
    while i < n {
        if known[i] {
            i += 1;
            continue;
        }
        let j = (i..n).find(|&j| known[j]).unwrap_or(n);
        if j - i >= CUT_GAP_HOURS && j < n && (0..i).any(|k| known[k]) {
            lo = j;
            let at = |h: usize| Timestamp(start + h as i64 * 3600).to_rfc3339();
            notes.push(format!(
                "the log has a gap of {} ({} .. {}): missing data, not zero traffic; the {} of history before it is not used",
                human_span((j - i) as f64 * 3600.0),
                at(i),
                at(j),
                human_span(i as f64 * 3600.0),
            ));
        }
        i = j;
    }
    let first = (lo..n).find(|&i| known[i]);
    let last = (lo..n).rev().find(|&i| known[i]);
    let covered_total: f64 = (lo..n).map(cov).sum();
    let (Some(a), Some(b)) = (first, last) else {
        return Err(not_enough(covered_total, lo > 0));
    };
    let covered_hours: f64 = (a..=b).map(cov).sum();
    if covered_hours < MIN_HISTORY_HOURS {
        return Err(not_enough(covered_total, lo > 0));
    }
    let mut y: Vec<f64> = series.counts[a..=b].to_vec();
    let known: Vec<bool> = known[a..=b].to_vec();
    let start = start + a as i64 * 3600;
    let unknown = known.iter().filter(|k| !**k).count();
    if unknown > 0 {
        fill(&mut y, &known, start);
        let (what, are, they) = if unknown == 1 {
            ("1 hour".to_string(), "is", "it is")
        } else {
            (format!("{unknown} hours"), "are", "they are")
        };
        notes.push(format!(
            "{what} inside the history {are} not covered by the log (gaps, or less than half an hour of log): {they} filled with the mean of the same hour over the covered days, and the backtest does not score them"
        ));
    }
    Ok(History {
        y,
        known,
        start,
        covered_hours,
        notes,
    })
}

/// The minimum history in words: `24 hours`.
fn min_history() -> String {
    format!("{} hours", MIN_HISTORY_HOURS)
}

fn not_enough(covered_hours: f64, after_gap: bool) -> ForecastError {
    ForecastError::NotEnoughHistory {
        covers: human_span(covered_hours * 3600.0),
        needed: min_history(),
        after_gap,
    }
}

/// Fills unknown hours: the mean of the known hours at the same hour of the week when there
/// is one, else of the day, else of all known hours.
fn fill(y: &mut [f64], known: &[bool], start: i64) {
    let h0 = start.div_euclid(3600) + 3 * 24; // hours since a Monday 00:00
    let (mut week, mut day) = ([(0.0f64, 0.0f64); 168], [(0.0f64, 0.0f64); 24]);
    let (mut s, mut k) = (0.0, 0.0);
    for (i, v) in y.iter().enumerate() {
        if known[i] {
            let h = h0 + i as i64;
            let w = &mut week[h.rem_euclid(168) as usize];
            *w = (w.0 + v, w.1 + 1.0);
            let d = &mut day[h.rem_euclid(24) as usize];
            *d = (d.0 + v, d.1 + 1.0);
            s += v;
            k += 1.0;
        }
    }
    let overall = if k > 0.0 { s / k } else { 0.0 };
    let mean = |(s, k): (f64, f64)| (k > 0.0).then(|| s / k);
    for i in 0..y.len() {
        if !known[i] {
            let h = h0 + i as i64;
            y[i] = mean(week[h.rem_euclid(168) as usize])
                .or_else(|| mean(day[h.rem_euclid(24) as usize]))
                .unwrap_or(overall);
        }
    }
}

/// In words, what a history of `covered_hours` supports: refused, flat, daily, or daily and
/// weekly seasonality.
pub fn supports(covered_hours: f64) -> String {
    let covers = human_span(covered_hours * 3600.0);
    if covered_hours < MIN_HISTORY_HOURS {
        format!(
            "not possible: a forecast needs at least {} of history, the log covers {covers}",
            min_history()
        )
    } else if covered_hours < 48.0 {
        format!("flat (no seasonality): daily seasonality needs 2 days of history, the log covers {covers}")
    } else if covered_hours < 336.0 {
        format!("daily seasonality only: weekly seasonality needs 2 weeks of history, the log covers {covers}")
    } else {
        "daily and weekly seasonality".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(counts: Vec<f64>, coverage: Vec<f64>) -> HourlySeries {
        HourlySeries {
            start: "2026-11-02T00:00:00Z".into(),
            step_s: 3600,
            counts,
            coverage,
        }
    }

    const MONDAY: i64 = 1_793_577_600;

    #[test]
    fn thin_ends_are_dropped_and_a_short_gap_is_filled_from_the_same_hour() {
        // Three days; the first hour a quarter covered, hour 30 in a gap.
        let counts: Vec<f64> = (0..72).map(|i| 100.0 + (i % 24) as f64).collect();
        let mut cov = vec![1.0; 72];
        cov[0] = 0.25;
        cov[30] = 0.0;
        let mut c = counts.clone();
        c[30] = 0.0;
        let h = prepare(&series(c, cov), MONDAY).unwrap();
        assert_eq!(h.start, MONDAY + 3600);
        assert_eq!(h.y.len(), 71);
        assert!(!h.known[29]);
        assert_eq!(h.y[29], 106.0, "hour 6 of the day, from the other days");
        assert!((h.covered_hours - 70.0).abs() < 1e-9);
        assert!(
            h.notes[0].starts_with("1 hour inside the history is not covered"),
            "{:?}",
            h.notes
        );
    }

    #[test]
    fn a_gap_over_a_week_cuts_and_under_a_day_is_refused() {
        let n = 48 + 200 + 30;
        let mut cov = vec![1.0; n];
        cov[48..248].iter_mut().for_each(|c| *c = 0.0);
        let h = prepare(&series(vec![5.0; n], cov.clone()), MONDAY).unwrap();
        assert_eq!(h.y.len(), 30);
        assert!(h.notes[0].contains("not used"), "{:?}", h.notes);
        cov.truncate(48 + 200 + 20);
        let e = prepare(&series(vec![5.0; cov.len()], cov), MONDAY).unwrap_err();
        assert_eq!(
            e.to_string(),
            "not enough history to forecast: the log covers 20 hours after its last gap longer than a week, and a forecast needs at least 24 hours: learn a longer log"
        );
        // A model from before coverage was recorded: every hour counts.
        assert_eq!(
            prepare(&series(vec![1.0; 24], vec![]), MONDAY)
                .unwrap()
                .y
                .len(),
            24
        );
        assert!(supports(23.0).starts_with("not possible"));
        assert!(supports(100.0).starts_with("daily seasonality only"));
    }
}
