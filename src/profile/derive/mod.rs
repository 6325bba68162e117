//! The resilience profile: what the recorded seconds say about each service, across runs.
//!
//! Per service: the sustainable throughput (highest offered rate that kept the SLO), the knee
//! of its latency-vs-load curve, and per kind of fault the latency and error deltas against
//! the same load without a fault and the time to recover after the revert; plus how the
//! service trends across runs. Each number has its own file, which says how it is computed.
//!
//! Everything here is pure: it takes [`RunObs`] (runs reduced to per-second observations)
//! and returns serialisable numbers, so it is tested on synthetic data with known answers.

mod buckets;
mod degradation;
mod knee;
mod obs;
mod recovery;
pub mod stats;
mod sustainable;
mod timeline;
mod trend;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

pub use degradation::FaultImpact;
pub use obs::{Obs, RunObs, Slo, SloJson};
pub use recovery::{Recovery, BASELINE_S, ERROR_SLACK, TOLERANCE};
pub use timeline::{windows, FaultWindow, ServiceRun};
pub use trend::{RecentChange, Trend, RECENT_RUNS};

/// The derived profile of one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceProfile {
    /// `system.service`.
    pub service: String,
    /// Runs with samples of this service.
    pub runs: usize,
    /// Seconds with load.
    pub seconds: usize,
    /// Seconds with load, no fault active and not recovering from one.
    pub clean_seconds: usize,
    /// Highest offered rate (requests/s) whose clean seconds kept the SLO.
    pub sustainable_rps: Option<f64>,
    /// The SLO never broke, so the true sustainable rate is above `sustainable_rps`.
    pub sustainable_is_lower_bound: bool,
    /// Offered rate (requests/s) past which p99 climbs faster.
    pub knee_rps: Option<f64>,
    /// The slowest recovery: the largest of the per-fault-kind median recovery times, s.
    pub recovery_s: Option<f64>,
    /// Median p99 of the clean seconds, ms.
    pub baseline_p99_ms: Option<f64>,
    /// Mean error rate of the clean seconds.
    pub baseline_error_rate: Option<f64>,
    /// By fault kind.
    pub faults: BTreeMap<String, FaultImpact>,
    pub trend: Option<Trend>,
}

/// The profile of every service in the runs it was derived from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub slo: SloJson,
    /// Runs the profile was derived from.
    pub runs: usize,
    pub services: Vec<ServiceProfile>,
}

/// Derives the profile of every service in `runs` (oldest run first).
pub fn derive(runs: &[RunObs], slo: &Slo) -> Profile {
    let windows: Vec<Vec<FaultWindow>> =
        runs.iter().map(|r| timeline::windows(&r.faults)).collect();
    let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.services.keys()).collect();
    let services = names
        .into_iter()
        .map(|name| service_profile(name, runs, &windows, slo))
        .collect();
    Profile {
        slo: SloJson::from(slo),
        runs: runs.len(),
        services,
    }
}

fn service_profile(
    name: &str,
    runs: &[RunObs],
    windows: &[Vec<FaultWindow>],
    slo: &Slo,
) -> ServiceProfile {
    let classified: Vec<(u64, ServiceRun<'_>)> = runs
        .iter()
        .zip(windows)
        .filter_map(|(r, w)| {
            let obs = r.services.get(name)?;
            let end = r
                .services
                .values()
                .filter_map(|s| s.last())
                .map(|o| o.t as f64 + 1.0)
                .fold(0.0, f64::max);
            Some((r.id, ServiceRun::new(obs, w, end)))
        })
        .collect();
    let mut clean: Vec<&Obs> = classified.iter().flat_map(|(_, s)| s.clean()).collect();
    let seconds = classified
        .iter()
        .map(|(_, s)| s.obs.iter().filter(|o| o.loaded()).count())
        .sum();
    let buckets = buckets::by_rate(&clean);
    let sustainable = sustainable::sustainable(&buckets, slo);
    let knee_rps = knee::knee(&buckets);
    let baseline_p99_ms = stats::median(&clean.iter().map(|o| o.p99_ms).collect::<Vec<_>>());
    let baseline_error_rate = stats::mean(&clean.iter().map(|o| o.error_rate).collect::<Vec<_>>());
    clean.sort_by(|a, b| a.offered.total_cmp(&b.offered));

    let kinds: BTreeSet<&str> = classified
        .iter()
        .flat_map(|(_, s)| s.windows.iter().map(|w| w.kind.as_str()))
        .collect();
    let mut faults = BTreeMap::new();
    for kind in kinds {
        let under: Vec<&Obs> = classified.iter().flat_map(|(_, s)| s.under(kind)).collect();
        let mut impact = degradation::degradation(&under, &clean);
        let mut recovered = Vec::new();
        for (_, s) in &classified {
            for r in s
                .recoveries
                .iter()
                .filter(|r| s.windows[r.window].kind == kind)
            {
                match r.recovery_s {
                    Some(v) => recovered.push(v),
                    None => impact.not_recovered += 1,
                }
            }
        }
        impact.recoveries = recovered.len();
        impact.recovery_s = stats::median(&recovered);
        faults.insert(kind.to_string(), impact);
    }
    let recovery_s = faults
        .values()
        .filter_map(|f| f.recovery_s)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let per_run: Vec<(u64, Vec<&Obs>)> = classified
        .iter()
        .map(|(id, s)| (*id, s.clean().collect()))
        .collect();
    ServiceProfile {
        service: name.to_string(),
        runs: classified.len(),
        seconds,
        clean_seconds: clean.len(),
        sustainable_rps: sustainable.map(|s| s.rps),
        sustainable_is_lower_bound: sustainable.is_some_and(|s| s.lower_bound),
        knee_rps,
        recovery_s,
        baseline_p99_ms,
        baseline_error_rate,
        faults,
        trend: trend::trend(&per_run),
    }
}
