//! How a service changes across runs: its clean-second p99 and error rate per run, the
//! least-squares slope over runs with a 95 % interval, and a Welch t-test of the latest runs'
//! seconds against the earlier runs'.
//!
//! Runs at very different loads are not comparable; the trend means most across repeated
//! runs of one scenario. Seconds within a run are not independent, so the p-value is a guide
//! rather than an exact error rate.

use serde::{Deserialize, Serialize};

use super::obs::Obs;
use super::stats::{mean, median, ols_slope, welch};

/// Clean seconds a run needs to count in the trend.
const MIN_SECONDS: usize = 5;
/// How many of the latest runs are compared with the earlier ones.
pub const RECENT_RUNS: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub run_ids: Vec<u64>,
    /// Median clean p99 of each run, ms.
    pub p99_ms_by_run: Vec<f64>,
    /// Mean clean error rate of each run.
    pub error_rate_by_run: Vec<f64>,
    /// Change of the per-run p99 per run, ms; with three runs or more.
    pub p99_slope_ms_per_run: Option<f64>,
    pub p99_slope_ci95: Option<[f64; 2]>,
    pub error_rate_slope_per_run: Option<f64>,
    /// The latest runs against the ones before them.
    pub recent: Option<RecentChange>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentChange {
    pub recent_runs: usize,
    pub earlier_runs: usize,
    /// Mean p99 of the recent runs' clean seconds minus the earlier runs', ms.
    pub p99_delta_ms: f64,
    /// Welch one-sided p-value that recent p99 is higher.
    pub p99_p_value: Option<f64>,
    pub error_rate_delta: f64,
    pub error_rate_p_value: Option<f64>,
}

/// `runs` are (run id, clean seconds) in run order.
pub fn trend(runs: &[(u64, Vec<&Obs>)]) -> Option<Trend> {
    let runs: Vec<&(u64, Vec<&Obs>)> = runs
        .iter()
        .filter(|(_, s)| s.len() >= MIN_SECONDS)
        .collect();
    if runs.len() < 2 {
        return None;
    }
    let p99s = |s: &[&Obs]| s.iter().map(|o| o.p99_ms).collect::<Vec<_>>();
    let errs = |s: &[&Obs]| s.iter().map(|o| o.error_rate).collect::<Vec<_>>();
    let p99_by_run: Vec<f64> = runs.iter().filter_map(|(_, s)| median(&p99s(s))).collect();
    let err_by_run: Vec<f64> = runs.iter().filter_map(|(_, s)| mean(&errs(s))).collect();
    let xs: Vec<f64> = (0..runs.len()).map(|i| i as f64).collect();
    let p99_slope = ols_slope(&xs, &p99_by_run);
    let err_slope = ols_slope(&xs, &err_by_run);
    let recent_n = RECENT_RUNS.min(runs.len() / 2).max(1);
    let (earlier, recent) = runs.split_at(runs.len() - recent_n);
    let pool = |rs: &[&(u64, Vec<&Obs>)], f: &dyn Fn(&[&Obs]) -> Vec<f64>| {
        rs.iter().flat_map(|(_, s)| f(s)).collect::<Vec<f64>>()
    };
    let (e99, r99) = (pool(earlier, &p99s), pool(recent, &p99s));
    let (eerr, rerr) = (pool(earlier, &errs), pool(recent, &errs));
    let recent = match (mean(&e99), mean(&r99), mean(&eerr), mean(&rerr)) {
        (Some(a), Some(b), Some(c), Some(d)) => Some(RecentChange {
            recent_runs: recent.len(),
            earlier_runs: earlier.len(),
            p99_delta_ms: b - a,
            p99_p_value: welch(&e99, &r99).map(|w| w.p_greater),
            error_rate_delta: d - c,
            error_rate_p_value: welch(&eerr, &rerr).map(|w| w.p_greater),
        }),
        _ => None,
    };
    Some(Trend {
        run_ids: runs.iter().map(|(id, _)| *id).collect(),
        p99_ms_by_run: p99_by_run,
        error_rate_by_run: err_by_run,
        p99_slope_ms_per_run: p99_slope.map(|s| s.slope),
        p99_slope_ci95: p99_slope.map(|s| s.ci95),
        error_rate_slope_per_run: err_slope.map(|s| s.slope),
        recent,
    })
}
