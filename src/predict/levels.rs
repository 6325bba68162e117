//! Load levels: the recorded seconds of a service grouped by offered rate, so that a step-load
//! run of ten steps gives ten points, each with its mean throughput and concurrency and the
//! spread of its p99 across seconds. Models are fitted on levels, which keeps the fit's cost
//! independent of how many seconds were recorded.
//!
//! Each run is reduced to its levels once, when it finishes, and the profile stores them
//! (`profile::levels`, whose [`levels`] is re-exported here); a run without stored levels is
//! reduced as it is read. The levels of all runs are merged ([`merge`]) by the same rule, so
//! memory grows with runs × levels, not with seconds: a thousand ten-minute runs of twenty
//! services fit in a few megabytes.

use super::finite;
#[cfg(test)]
use crate::profile::levels::Second;
pub use crate::profile::levels::{levels, Level, LEVEL_WIDTH, MAX_LEVELS};
use crate::profile::mixture::{self, Tail};

/// How far a newer run's goodput may sit from older runs' at the same rate before the system
/// is taken to have changed (beyond the older seconds' own 5–95 % spread too).
const CHANGED_GOODPUT: f64 = 0.15;
/// The same for p99: a factor, beyond the older seconds' spread.
const CHANGED_P99: f64 = 2.0;

/// The levels of the runs since the system last changed. Walking from the newest run back, an
/// older run joins while, at every rate both measured, its goodput and p99 agree with the runs
/// already kept; the first that does not describes a system that no longer exists (scaled,
/// redeployed, reconfigured), and it and everything older are left out. Returns the kept
/// levels and, when some were left out, the oldest run kept (where the change was seen).
pub fn since_change(all: Vec<Level>) -> (Vec<Level>, Option<u64>) {
    let mut runs: Vec<u64> = all.iter().map(|l| l.run).collect();
    runs.sort_unstable_by(|a, b| b.cmp(a));
    runs.dedup();
    let of = |r: u64| all.iter().filter(move |l| l.run == r).copied();
    let Some(&newest) = runs.first() else {
        return (all, None);
    };
    let mut kept: Vec<Level> = of(newest).collect();
    for pair in runs.windows(2) {
        let older: Vec<Level> = of(pair[1]).collect();
        if disagree(&kept, &older) {
            return (kept, Some(pair[0]));
        }
        kept.extend(older);
    }
    (all, None)
}

/// Whether `older` measured, at a rate `kept` also measured, a goodput or p99 that `kept`
/// does not allow.
fn disagree(kept: &[Level], older: &[Level]) -> bool {
    older.iter().any(|o| {
        let near: Vec<Level> = kept
            .iter()
            .filter(|k| {
                (k.offered - o.offered).abs() <= o.offered.max(k.offered) * LEVEL_WIDTH + 0.5
            })
            .copied()
            .collect();
        if near.is_empty() {
            return false;
        }
        let k = combine_roughly(&near);
        let goodput = (o.goodput - k.goodput).abs() > CHANGED_GOODPUT * o.goodput.max(k.goodput)
            && (o.goodput < k.goodput_lo.min(o.goodput_hi)
                || o.goodput > k.goodput_hi.max(o.goodput_lo));
        let (lo, hi) = (o.p99_ms.min(k.p99_ms), o.p99_ms.max(k.p99_ms));
        let p99 = lo > 0.0
            && hi / lo > CHANGED_P99
            && (o.p99_ms < k.p99_lo || o.p99_ms > k.p99_hi)
            && (k.p99_ms < o.p99_lo || k.p99_ms > o.p99_hi);
        goodput || p99
    })
}

/// Merges levels (of several runs) whose offered rates lie within [`LEVEL_WIDTH`] of each
/// other: means weighted by seconds, latency quantiles those of the levels' distributions
/// merged by requests (`profile::mixture`), the goodput spread by the seconds-weighted
/// quantile of the levels' own (an approximation that keeps no seconds).
pub fn merge(mut all: Vec<Level>) -> Vec<Level> {
    all.retain(|l| l.offered > 0.0 && l.offered.is_finite() && l.seconds > 0);
    all.sort_by(|a, b| a.offered.total_cmp(&b.offered));
    let mut groups: Vec<Vec<Level>> = Vec::new();
    for l in all {
        match groups.last_mut() {
            Some(g) if l.offered <= g[0].offered * (1.0 + LEVEL_WIDTH) + 0.5 => g.push(l),
            _ => groups.push(vec![l]),
        }
    }
    if groups.len() > MAX_LEVELS {
        let flat: Vec<Level> = groups.into_iter().flatten().collect();
        let per = flat.len().div_ceil(MAX_LEVELS);
        groups = flat.chunks(per).map(|c| c.to_vec()).collect();
    }
    groups.iter().map(|g| combine(g)).collect()
}

fn combine(g: &[Level]) -> Level {
    if let [one] = g {
        return *one;
    }
    let n: f64 = g.iter().map(|l| l.seconds as f64).sum::<f64>().max(1.0);
    let mean = |f: fn(&Level) -> f64| {
        finite::or(
            g.iter().map(|l| f(l) * l.seconds as f64).sum::<f64>() / n,
            0.0,
        )
    };
    let q = |f: fn(&Level) -> f64, at: f64| weighted_quantile(g, f, at);
    let tails: Vec<Tail> = g.iter().map(|l| l.tail()).collect();
    let merged = mixture::merge(&tails);
    let (p99_lo, p99_hi) = mixture::p99_interval(&tails);
    let answered: f64 = g.iter().map(|l| l.answered).sum();
    let errors: f64 = g.iter().map(|l| l.answered * l.error_rate).sum();
    Level {
        run: g.iter().map(|l| l.run).max().unwrap_or(0),
        offered: mean(|l| l.offered),
        goodput: mean(|l| l.goodput),
        goodput_lo: q(|l| l.goodput_lo, 0.05),
        goodput_hi: q(|l| l.goodput_hi, 0.95),
        concurrency: mean(|l| l.concurrency),
        p99_ms: merged.p99,
        p99_lo,
        p99_hi,
        error_rate: if answered > 0.0 {
            finite::or(errors / answered, 0.0)
        } else {
            mean(|l| l.error_rate)
        },
        seconds: g.iter().map(|l| l.seconds).sum(),
        answered,
        p50_ms: merged.p50,
        p90_ms: merged.p90,
        p999_ms: merged.p999,
        max_ms: merged.max,
    }
}

/// [`combine`] for the change test, which runs for every level of every older run against the
/// runs already kept: the p99 and its spread by the seconds-weighted quantiles of the levels'
/// own, which costs a sort where merging their distributions costs a bisection over all.
fn combine_roughly(g: &[Level]) -> Level {
    let q = |f: fn(&Level) -> f64, at: f64| weighted_quantile(g, f, at);
    let n: f64 = g.iter().map(|l| l.seconds as f64).sum::<f64>().max(1.0);
    Level {
        goodput: finite::or(
            g.iter().map(|l| l.goodput * l.seconds as f64).sum::<f64>() / n,
            0.0,
        ),
        goodput_lo: q(|l| l.goodput_lo, 0.05),
        goodput_hi: q(|l| l.goodput_hi, 0.95),
        p99_ms: q(|l| l.p99_ms, 0.5),
        p99_lo: q(|l| l.p99_lo, 0.05),
        p99_hi: q(|l| l.p99_hi, 0.95),
        ..g[0]
    }
}

/// The `at` quantile of `f` over the levels, each weighted by its seconds.
fn weighted_quantile(g: &[Level], f: fn(&Level) -> f64, at: f64) -> f64 {
    let mut v: Vec<(f64, usize)> = g
        .iter()
        .map(|l| (f(l), l.seconds))
        .filter(|(x, _)| x.is_finite())
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: usize = v.iter().map(|x| x.1).sum();
    let target = at * total as f64;
    let mut seen = 0.0;
    for (x, w) in &v {
        seen += *w as f64;
        if seen >= target {
            return *x;
        }
    }
    v.last().map(|x| x.0).unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sec(offered: f64, p99: f64, faulted: bool) -> Second {
        Second {
            run: 1,
            t: 0,
            offered,
            goodput: offered,
            answered: offered,
            in_flight: offered / 10.0,
            p50_ms: p99 / 4.0,
            p90_ms: p99 / 2.0,
            p99_ms: p99,
            p999_ms: p99 * 2.0,
            max_ms: p99 * 3.0,
            error_rate: 0.0,
            faulted,
        }
    }

    #[test]
    fn groups_by_offered_rate_and_drops_faulted_seconds() {
        let s = [
            sec(100.0, 10.0, false),
            sec(101.0, 12.0, false),
            sec(200.0, 20.0, false),
            sec(199.0, 22.0, false),
            sec(300.0, 900.0, true),
            sec(0.0, 0.0, false),
        ];
        let l = levels(&s);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].seconds, 2);
        assert!((l[1].offered - 199.5).abs() < 1e-9);
    }

    #[test]
    fn runs_merge_into_shared_levels() {
        let mut a: Vec<Second> = (0..10).map(|_| sec(100.0, 10.0, false)).collect();
        let b: Vec<Second> = (0..30)
            .map(|_| Second {
                run: 2,
                ..sec(102.0, 20.0, false)
            })
            .collect();
        a.push(sec(300.0, 50.0, false));
        let mut all = levels(&a);
        all.extend(levels(&b));
        let m = merge(all);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].seconds, 40);
        assert_eq!(m[0].run, 2);
        assert!((m[0].offered - 101.5).abs() < 1e-9);
        // The p99 of both runs' requests together: between the two, nearer the busier.
        assert!(m[0].p99_ms > 15.0 && m[0].p99_ms < 20.0, "{}", m[0].p99_ms);
        assert!(m[0].p99_lo <= m[0].p99_ms && m[0].p99_ms <= m[0].p99_hi);
    }

    #[test]
    fn a_long_ramp_is_merged() {
        let s: Vec<Second> = (1..=1000)
            .map(|i| sec(i as f64 * 10.0, 1.0, false))
            .collect();
        assert!(levels(&s).len() <= MAX_LEVELS);
    }
}
