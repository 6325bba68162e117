//! Load levels: one run's recorded seconds of a service cut into plateaus of steady offered
//! rate (`plateaus.rs`) and pooled by rate, so that a step-load run of ten steps gives ten
//! points, each with its throughput (answered over seconds), its concurrency by Little's law,
//! and the p99 of all its requests together (`mixture.rs`). The prediction engine fits its
//! models on levels, which keeps a prediction's cost independent of how many seconds were
//! recorded.
//!
//! The reduction lives here because the profile stores its result: when a run finishes, its
//! levels are written to the `levels` table (see `levels_table.rs`), a few rows per service
//! instead of one per second, and schema version 5's migration derives them again for runs
//! recorded before. `predict::levels` merges the levels of several runs.

use super::mixture::{self, Tail};
use super::plateaus::plateaus;
use crate::predict::finite;
use crate::report::SeriesPoint;

/// One run's load levels, by service.
pub type RunLevels = std::collections::BTreeMap<String, Vec<Level>>;

/// Plateaus whose offered rate is within this fraction of a level's lowest join that level.
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
    /// Requests answered, errors included: the weight of its latencies.
    pub answered: f64,
    /// Requests in flight at the end of the second, as recorded (0 when none were).
    pub in_flight: f64,
    /// Latency quantiles of the second, ms.
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Errors over answered requests, 0..=1.
    pub error_rate: f64,
    pub faulted: bool,
}

impl Second {
    pub fn from_point(run: u64, p: &SeriesPoint, faulted: bool) -> Second {
        let errors = p.errors as f64;
        let goodput = (p.rps - errors).max(0.0);
        Second {
            run,
            t: p.t,
            offered: if p.offered_rps > 0.0 {
                p.offered_rps
            } else {
                p.rps
            },
            goodput,
            answered: p.rps,
            in_flight: p.concurrency as f64,
            p50_ms: p.p50_ms,
            p90_ms: p.p90_ms,
            p99_ms: p.p99_ms,
            p999_ms: p.p999_ms,
            max_ms: p.max_ms,
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

    /// The second's latency summary, weighted by the requests it answered.
    pub fn tail(&self) -> Tail {
        Tail {
            n: self.answered.max(0.0),
            p50: self.p50_ms,
            p90: self.p90_ms,
            p99: self.p99_ms,
            p999: self.p999_ms,
            max: self.max_ms,
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

/// One load level: one plateau of a run, or several of the same rate pooled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// The run the level was measured in (the newest one, once merged).
    pub run: u64,
    pub offered: f64,
    /// Requests answered without error per second: all of them over the level's seconds.
    pub goodput: f64,
    /// 5th and 95th percentiles of the per-second goodput.
    pub goodput_lo: f64,
    pub goodput_hi: f64,
    /// Mean requests in flight, by Little's law: answered per second × mean latency.
    pub concurrency: f64,
    /// The p99 of all the level's requests (their merged distribution, `mixture.rs`), and
    /// the 90 % interval another sample of as many requests would give.
    pub p99_ms: f64,
    pub p99_lo: f64,
    pub p99_hi: f64,
    pub error_rate: f64,
    pub seconds: usize,
    /// Requests answered, errors included, and the merged distribution's other quantiles:
    /// what merging the level with another needs.
    pub answered: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Level {
    /// The level's latency summary, weighted by the requests it answered.
    pub fn tail(&self) -> Tail {
        Tail {
            n: self.answered.max(0.0),
            p50: self.p50_ms,
            p90: self.p90_ms,
            p99: self.p99_ms,
            p999: self.p999_ms,
            max: self.max_ms,
        }
    }
}

/// The levels of the unfaulted seconds that carried traffic, by rising offered rate. The
/// seconds are taken in time order and cut into plateaus (`plateaus.rs`) wherever a fault,
/// an idle second or a change of rate beyond noise intervenes; plateaus whose rates lie within
/// [`LEVEL_WIDTH`] of each other (a step revisited, a ramp up and down) are pooled.
pub fn levels(seconds: &[Second]) -> Vec<Level> {
    let mut s: Vec<&Second> = seconds.iter().collect();
    s.sort_by_key(|s| s.t);
    let usable = |s: &Second| !s.faulted && s.offered > 0.0 && s.offered.is_finite();
    let mut stretches: Vec<Vec<&Second>> = Vec::new();
    for chunk in s.split(|x| !usable(x)).filter(|c| !c.is_empty()) {
        let rates: Vec<f64> = chunk.iter().map(|x| x.offered).collect();
        for r in plateaus(&rates) {
            stretches.push(chunk[r].to_vec());
        }
    }
    let mean = |g: &[&Second]| g.iter().map(|x| x.offered).sum::<f64>() / g.len().max(1) as f64;
    stretches.sort_by(|a, b| mean(a).total_cmp(&mean(b)));
    let mut groups: Vec<(f64, Vec<&Second>)> = Vec::new();
    for p in stretches {
        let m = mean(&p);
        match groups.last_mut() {
            Some((low, g)) if m <= *low * (1.0 + LEVEL_WIDTH) + 0.5 => g.extend(p),
            _ => groups.push((m, p)),
        }
    }
    let mut groups: Vec<Vec<&Second>> = groups.into_iter().map(|(_, g)| g).collect();
    if groups.len() > MAX_LEVELS {
        let all: Vec<Vec<&Second>> = groups;
        let per = all.len().div_ceil(MAX_LEVELS);
        groups = all.chunks(per).map(|c| c.concat()).collect();
    }
    groups.iter().map(|g| level(g)).collect()
}

fn level(g: &[&Second]) -> Level {
    let n = g.len().max(1) as f64;
    let mean = |f: fn(&Second) -> f64| finite::or(g.iter().map(|s| f(s)).sum::<f64>() / n, 0.0);
    let goodput: Vec<f64> = g.iter().map(|s| s.goodput).collect();
    let tails: Vec<Tail> = g.iter().map(|s| s.tail()).collect();
    let merged = mixture::merge(&tails);
    let (p99_lo, p99_hi) = mixture::p99_interval(&tails);
    let answered: f64 = g.iter().map(|s| s.answered.max(0.0)).sum();
    let errors: f64 = g.iter().map(|s| s.answered.max(0.0) - s.goodput).sum();
    let goodput_mean = mean(|s| s.goodput);
    // Little's law over all the level's requests: N = X·R, with R their mean latency. The
    // in-flight count sampled at the end of each second, where recorded, is the fallback.
    let little = answered / n * mixture::mean(&tails) / 1000.0;
    let concurrency = if little > 0.0 {
        little
    } else {
        mean(|s| s.in_flight)
    };
    Level {
        run: g.iter().map(|s| s.run).max().unwrap_or(0),
        offered: mean(|s| s.offered),
        goodput: goodput_mean,
        goodput_lo: finite::quantile(&goodput, 0.05).unwrap_or(0.0),
        goodput_hi: finite::quantile(&goodput, 0.95).unwrap_or(0.0),
        concurrency: finite::or(concurrency, 0.0),
        p99_ms: finite::or(merged.p99, 0.0),
        p99_lo: finite::or(p99_lo, 0.0),
        p99_hi: finite::or(p99_hi, 0.0),
        error_rate: if answered > 0.0 {
            finite::or(errors / answered, 0.0).clamp(0.0, 1.0)
        } else {
            mean(|s| s.error_rate)
        },
        seconds: g.len(),
        answered,
        p50_ms: finite::or(merged.p50, 0.0),
        p90_ms: finite::or(merged.p90, 0.0),
        p999_ms: finite::or(merged.p999, 0.0),
        max_ms: finite::or(merged.max, 0.0),
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
