//! Load levels: one run's recorded seconds of a service grouped by offered rate, so that a
//! step-load run of ten steps gives ten points, each with its mean throughput and concurrency
//! and the spread of its p99 across seconds. The prediction engine fits its models on levels,
//! which keeps a prediction's cost independent of how many seconds were recorded.
//!
//! The reduction lives here because the profile stores its result: when a run finishes, its
//! levels are written to the `levels` table (see `levels_table.rs`), a few dozen rows per
//! service instead of one per second, and schema version 4's migration derives them for runs
//! recorded before. `predict::levels` merges the levels of several runs. The quantiles come
//! from `predict::finite`, the one leaf of the prediction engine used here.

use crate::predict::finite;
use crate::report::SeriesPoint;

/// One run's load levels, by service.
pub type RunLevels = std::collections::BTreeMap<String, Vec<Level>>;

/// Seconds whose offered rate is within this fraction of a level's lowest join that level.
pub const LEVEL_WIDTH: f64 = 0.05;
/// More levels than this (a long ramp) are merged into this many groups of equal size.
pub const MAX_LEVELS: usize = 100;

/// One second of one service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Second {
    pub run: u64,
    pub t: u64,
    /// Requests the schedule meant to send (the achieved rate under a closed model).
    pub offered: f64,
    /// Requests answered without an error.
    pub goodput: f64,
    /// Requests in flight: as recorded, or by Little's law from goodput × median latency.
    pub concurrency: f64,
    pub p99_ms: f64,
    /// Errors over answered requests, 0..=1.
    pub error_rate: f64,
    pub faulted: bool,
}

impl Second {
    pub fn from_point(run: u64, p: &SeriesPoint, faulted: bool) -> Second {
        let errors = p.errors as f64;
        let goodput = (p.rps - errors).max(0.0);
        let concurrency = if p.concurrency > 0 {
            p.concurrency as f64
        } else {
            goodput * p.p50_ms / 1000.0
        };
        Second {
            run,
            t: p.t,
            offered: if p.offered_rps > 0.0 {
                p.offered_rps
            } else {
                p.rps
            },
            goodput,
            concurrency,
            p99_ms: p.p99_ms,
            error_rate: if p.rps > 0.0 {
                (errors / p.rps).clamp(0.0, 1.0)
            } else if p.errors > 0 {
                1.0
            } else {
                0.0
            },
            faulted,
        }
    }
}

/// The spans during which some fault was in place, from the run's fault log as
/// (fault, target, action, at_s): from each `inject` to its `revert`, or to the end when it
/// was never reverted.
pub fn fault_windows<'a>(
    faults: impl IntoIterator<Item = (&'a str, &'a str, &'a str, f64)>,
) -> Vec<(f64, f64)> {
    let mut open: std::collections::BTreeMap<(&str, &str), f64> = Default::default();
    let mut spans = Vec::new();
    for (fault, target, action, at_s) in faults {
        let key = (fault, target);
        match action {
            "inject" => {
                open.entry(key).or_insert(at_s);
            }
            "revert" => {
                if let Some(start) = open.remove(&key) {
                    spans.push((start, at_s));
                }
            }
            _ => {}
        }
    }
    spans.extend(open.into_values().map(|start| (start, f64::INFINITY)));
    spans
}

/// One load level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// The run the level was measured in (the newest one, once merged).
    pub run: u64,
    pub offered: f64,
    pub goodput: f64,
    /// 5th and 95th percentiles of the per-second goodput.
    pub goodput_lo: f64,
    pub goodput_hi: f64,
    pub concurrency: f64,
    /// Median p99 of the level's seconds, and its 5th and 95th percentiles.
    pub p99_ms: f64,
    pub p99_lo: f64,
    pub p99_hi: f64,
    pub error_rate: f64,
    pub seconds: usize,
}

/// The levels of the unfaulted seconds that carried traffic, by rising offered rate.
pub fn levels(seconds: &[Second]) -> Vec<Level> {
    let mut s: Vec<&Second> = seconds
        .iter()
        .filter(|s| !s.faulted && s.offered > 0.0 && s.offered.is_finite())
        .collect();
    s.sort_by(|a, b| a.offered.total_cmp(&b.offered));
    let mut groups: Vec<Vec<&Second>> = Vec::new();
    for sec in s {
        match groups.last_mut() {
            Some(g) if sec.offered <= g[0].offered * (1.0 + LEVEL_WIDTH) + 0.5 => g.push(sec),
            _ => groups.push(vec![sec]),
        }
    }
    if groups.len() > MAX_LEVELS {
        let all: Vec<&Second> = groups.into_iter().flatten().collect();
        let per = all.len().div_ceil(MAX_LEVELS);
        groups = all.chunks(per).map(|c| c.to_vec()).collect();
    }
    groups.iter().map(|g| level(g)).collect()
}

fn level(g: &[&Second]) -> Level {
    let n = g.len().max(1) as f64;
    let mean = |f: fn(&Second) -> f64| finite::or(g.iter().map(|s| f(s)).sum::<f64>() / n, 0.0);
    let p99: Vec<f64> = g.iter().map(|s| s.p99_ms).collect();
    let goodput: Vec<f64> = g.iter().map(|s| s.goodput).collect();
    Level {
        run: g.iter().map(|s| s.run).max().unwrap_or(0),
        offered: mean(|s| s.offered),
        goodput: mean(|s| s.goodput),
        goodput_lo: finite::quantile(&goodput, 0.05).unwrap_or(0.0),
        goodput_hi: finite::quantile(&goodput, 0.95).unwrap_or(0.0),
        concurrency: mean(|s| s.concurrency),
        p99_ms: finite::quantile(&p99, 0.5).unwrap_or(0.0),
        p99_lo: finite::quantile(&p99, 0.05).unwrap_or(0.0),
        p99_hi: finite::quantile(&p99, 0.95).unwrap_or(0.0),
        error_rate: mean(|s| s.error_rate),
        seconds: g.len(),
    }
}

/// One run's seconds, with the faults it logged as (fault, target, action, at_s), reduced to
/// the levels of each service that recorded a second (a service whose every second was
/// faulted has none). `wanted` picks the services.
pub fn run_levels<'a>(
    run: u64,
    points: &[SeriesPoint],
    faults: impl IntoIterator<Item = (&'a str, &'a str, &'a str, f64)>,
    wanted: impl Fn(&str) -> bool,
) -> RunLevels {
    let spans = fault_windows(faults);
    let mut by_service: std::collections::BTreeMap<&str, Vec<Second>> = Default::default();
    for p in points.iter().filter(|p| wanted(&p.service)) {
        let t = p.t as f64;
        let faulted = spans.iter().any(|&(a, b)| t >= a && t < b);
        by_service
            .entry(p.service.as_str())
            .or_default()
            .push(Second::from_point(run, p, faulted));
    }
    by_service
        .into_iter()
        .map(|(s, secs)| (s.to_string(), levels(&secs)))
        .collect()
}
