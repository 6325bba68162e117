//! Fixed-resolution histograms of non-negative integers (bytes, microseconds).
//!
//! The learner must summarise millions of sizes and durations in memory bounded by the model,
//! so it keeps log-linear buckets (32 per power of two, a relative error under 3 %) instead of
//! the values. A histogram grows only up to the bucket of its largest value: about 500 buckets
//! for sizes up to a megabyte. The model file stores quantiles, not buckets.
//!
//! Why not `hdrhistogram` (the load engine's): measured on 2026-12-07 with hdrhistogram 7, its
//! nearest settings either halve this resolution (1 significant figure: 16 sub-buckets per
//! power of two, 2.3 KB for sizes to 1 MiB) or cost four times the memory (2 figures: 15 KB
//! for sizes to 1 MiB, 20 KB for durations to 60 s), against 4 KB here at 32 sub-buckets. The
//! learner keeps three per endpoint in a table of up to 1,000 endpoints, plus think times per
//! session state, so the trade is 45–60 MB of histograms or quantiles twice as coarse.

use serde::{Deserialize, Serialize};

const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;

/// Counts of values in log-linear buckets, plus exact count, sum, min and max.
#[derive(Debug, Clone, Default)]
pub struct LogHistogram {
    counts: Vec<u64>,
    n: u64,
    sum: f64,
    min: u64,
    max: u64,
}

fn bucket_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let k = 63 - v.leading_zeros();
    let sub = (v >> (k - SUB_BITS)) - SUB;
    (SUB + (k - SUB_BITS) as u64 * SUB + sub) as usize
}

/// The middle of a bucket: exact below 32, else the centre of its range.
fn bucket_value(i: usize) -> f64 {
    let i = i as u64;
    if i < SUB {
        return i as f64;
    }
    let k = (i - SUB) / SUB + SUB_BITS as u64;
    let sub = (i - SUB) % SUB;
    let width = 1u64 << (k - SUB_BITS as u64);
    ((SUB + sub) * width + width / 2) as f64
}

impl LogHistogram {
    #[inline]
    pub fn record(&mut self, v: u64) {
        let b = bucket_of(v);
        if b >= self.counts.len() {
            self.counts.resize(b + 1, 0);
        }
        self.counts[b] += 1;
        if self.n == 0 || v < self.min {
            self.min = v;
        }
        if v > self.max {
            self.max = v;
        }
        self.n += 1;
        self.sum += v as f64;
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }

    /// The value at quantile `q` (0..=1), within the bucket resolution and clamped to the
    /// observed min and max.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return bucket_value(i).clamp(self.min as f64, self.max as f64);
            }
        }
        self.max as f64
    }

    /// The summary stored in the model, with values multiplied by `unit` (e.g. 1e-3 to turn
    /// microseconds into milliseconds).
    pub fn summary(&self, unit: f64) -> Quantiles {
        Quantiles {
            count: self.n,
            mean: round_sig(self.mean() * unit),
            p50: round_sig(self.quantile(0.50) * unit),
            p90: round_sig(self.quantile(0.90) * unit),
            p95: round_sig(self.quantile(0.95) * unit),
            p99: round_sig(self.quantile(0.99) * unit),
            max: round_sig(self.max as f64 * unit),
        }
    }
}

/// A distribution summarised by quantiles, as stored in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

/// Rounds to 6 significant digits so model files diff cleanly between runs.
pub fn round_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return if x.is_finite() { 0.0 } else { x };
    }
    let digits = 6 - 1 - x.abs().log10().floor() as i32;
    let f = 10f64.powi(digits.clamp(-300, 300));
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in [0u64, 1, 31, 32, 33, 63, 64, 65, 1000, 1 << 20, u64::MAX / 2] {
            let b = bucket_of(v);
            assert!(b >= last);
            last = b;
            let mid = bucket_value(b);
            assert!(
                (mid - v as f64).abs() <= v as f64 / 32.0 + 0.5,
                "{v} -> {mid}"
            );
        }
    }

    #[test]
    fn quantiles_of_a_uniform_run() {
        let mut h = LogHistogram::default();
        for v in 1..=10_000u64 {
            h.record(v);
        }
        assert!((h.quantile(0.5) - 5000.0).abs() < 5000.0 * 0.03);
        assert!((h.quantile(0.99) - 9900.0).abs() < 9900.0 * 0.03);
        assert_eq!(h.quantile(1.0), 10_000.0);
        assert_eq!(round_sig(123.456789), 123.457);
    }
}
