//! Degradation under a fault: how much worse a service did with a fault of some kind active
//! than it did at the same load without one.
//!
//! Each second under the fault is matched with the clean seconds (any run) whose offered
//! rate was within 10 % of its own; the difference to their median p99 (and p50, and mean
//! error rate) is that second's delta. The reported deltas are the means of those, with a 95 %
//! interval and a one-sided p-value that the fault raised p99 at all. Seconds with fewer than
//! three matches are left out and counted as unmatched.

use serde::{Deserialize, Serialize};

use super::obs::Obs;
use super::stats::{mean, mean_above_zero, mean_ci95, median};

/// Matching window around a faulted second's offered rate.
const RATE_MATCH: f64 = 0.10;
/// Clean seconds needed to call a faulted second matched.
const MIN_MATCHES: usize = 3;

/// What a kind of fault did to a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultImpact {
    /// Seconds with load under this kind of fault.
    pub seconds: usize,
    /// Of those, the seconds with clean seconds at a similar load to compare with.
    pub matched_seconds: usize,
    /// Mean p99 increase against the same load without a fault, ms.
    pub p99_delta_ms: Option<f64>,
    /// 95 % interval of `p99_delta_ms`.
    pub p99_delta_ci95: Option<[f64; 2]>,
    /// One-sided p-value that the fault raised p99.
    pub p99_p_value: Option<f64>,
    pub p50_delta_ms: Option<f64>,
    /// Mean error-rate increase (a fraction: 0.05 is five percentage points).
    pub error_rate_delta: Option<f64>,
    /// Median seconds from revert to recovery, over the reverts that recovered.
    pub recovery_s: Option<f64>,
    /// Reverts with a measured recovery.
    pub recoveries: usize,
    /// Reverts after which the service had not recovered when the run or the next fault came.
    pub not_recovered: usize,
}

/// `clean` must be sorted by offered rate.
pub fn degradation(faulted: &[&Obs], clean: &[&Obs]) -> FaultImpact {
    let (mut d99, mut d50, mut derr) = (Vec::new(), Vec::new(), Vec::new());
    for o in faulted {
        let lo = o.offered * (1.0 - RATE_MATCH);
        let hi = o.offered * (1.0 + RATE_MATCH);
        let from = clean.partition_point(|c| c.offered < lo);
        let to = clean.partition_point(|c| c.offered <= hi);
        let matched = &clean[from..to];
        if matched.len() < MIN_MATCHES {
            continue;
        }
        let p99: Vec<f64> = matched.iter().map(|c| c.p99_ms).collect();
        let p50: Vec<f64> = matched.iter().map(|c| c.p50_ms).collect();
        let err: Vec<f64> = matched.iter().map(|c| c.error_rate).collect();
        if let (Some(m99), Some(m50), Some(merr)) = (median(&p99), median(&p50), mean(&err)) {
            d99.push(o.p99_ms - m99);
            d50.push(o.p50_ms - m50);
            derr.push(o.error_rate - merr);
        }
    }
    FaultImpact {
        seconds: faulted.len(),
        matched_seconds: d99.len(),
        p99_delta_ms: mean(&d99),
        p99_delta_ci95: mean_ci95(&d99).map(|(_, ci)| ci),
        p99_p_value: mean_above_zero(&d99),
        p50_delta_ms: mean(&d50),
        error_rate_delta: mean(&derr),
        recovery_s: None,
        recoveries: 0,
        not_recovered: 0,
    }
}
