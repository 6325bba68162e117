//! Sustainable throughput: the highest offered rate the service kept its SLO at.
//!
//! Clean seconds are bucketed by offered rate. A bucket keeps the SLO when at least 95 % of
//! its seconds had p99 and error rate within it. Going up from the lowest rate, the last
//! bucket before the first one that broke the SLO is the sustainable one, and the highest
//! offered rate among its good seconds is the answer. When no bucket broke the SLO, that
//! is a lower bound: the runs never pushed hard enough to find the limit.

use super::buckets::Bucket;
use super::obs::Slo;

/// Share of a bucket's seconds that must keep the SLO.
pub const GOOD_SHARE: f64 = 0.95;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sustainable {
    pub rps: f64,
    /// The SLO never broke: the true limit is higher than `rps`.
    pub lower_bound: bool,
}

pub fn sustainable(buckets: &[Bucket<'_>], slo: &Slo) -> Option<Sustainable> {
    if buckets.is_empty() {
        return None;
    }
    let mut best = 0.0;
    for b in buckets {
        let good: Vec<f64> = b
            .seconds
            .iter()
            .filter(|o| o.within(slo))
            .map(|o| o.offered)
            .collect();
        if (good.len() as f64) < GOOD_SHARE * b.seconds.len() as f64 {
            return Some(Sustainable {
                rps: best,
                lower_bound: false,
            });
        }
        best = good.iter().copied().fold(best, f64::max);
    }
    Some(Sustainable {
        rps: best,
        lower_bound: true,
    })
}
