//! Bootstrap 90 % intervals for a fitted scalability law: the points are resampled with
//! replacement, the law refitted from the original fit, and the 5th and 95th percentiles of
//! each quantity taken. The generator is seeded, so the same data give the same interval.

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

use super::finite;
use super::usl::{distinct, Usl, UslFit, MIN_LEVELS};

/// A point value and its 90 % interval. `lo <= point <= hi`, all finite.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub point: f64,
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    /// An interval that is sure to contain `point` (lo and hi are widened to it if needed).
    pub fn new(point: f64, lo: f64, hi: f64) -> Interval {
        let point = finite::or(point, 0.0);
        Interval {
            point,
            lo: finite::or(lo, point).min(point),
            hi: finite::or(hi, point).max(point),
        }
    }

    pub fn exact(point: f64) -> Interval {
        Interval::new(point, point, point)
    }

    pub fn contains(&self, x: f64) -> bool {
        x >= self.lo && x <= self.hi
    }

    /// Half the interval's width, for the "± h" rendering.
    pub fn half_width(&self) -> f64 {
        (self.hi - self.lo) / 2.0
    }
}

/// Intervals for the fitted law's parameters and its two derived numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UslIntervals {
    pub alpha: Interval,
    pub beta: Interval,
    pub gamma: Interval,
    /// `None` when the law has no peak (β = 0 at the fit).
    pub peak_concurrency: Option<Interval>,
    /// `None` when the law has no limit (α = β = 0 at the fit).
    pub max_throughput: Option<Interval>,
    /// Resamples that gave a fit.
    pub resamples: usize,
}

/// How many resamples an interval is drawn from.
pub const RESAMPLES: usize = 200;

pub fn intervals(points: &[(f64, f64)], fit: &UslFit, seed: u64) -> UslIntervals {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut draws: Vec<Usl> = Vec::with_capacity(RESAMPLES);
    let mut sample = Vec::with_capacity(points.len());
    for _ in 0..RESAMPLES {
        sample.clear();
        for _ in 0..points.len() {
            sample.push(points[rng.random_range(0..points.len())]);
        }
        if distinct(&sample) < MIN_LEVELS {
            continue;
        }
        if let Ok(f) = Usl::fit_rounds(&sample, Some(fit.usl), 2) {
            draws.push(f.usl);
        }
    }
    let usl = fit.usl;
    let band = |point: f64, f: &dyn Fn(&Usl) -> Option<f64>| -> Interval {
        let values: Vec<f64> = draws.iter().filter_map(f).collect();
        Interval::new(
            point,
            finite::quantile(&values, 0.05).unwrap_or(point),
            finite::quantile(&values, 0.95).unwrap_or(point),
        )
    };
    UslIntervals {
        alpha: band(usl.alpha, &|u| Some(u.alpha)),
        beta: band(usl.beta, &|u| Some(u.beta)),
        gamma: band(usl.gamma, &|u| Some(u.gamma)),
        peak_concurrency: usl
            .peak_concurrency()
            .map(|p| band(p, &|u| u.peak_concurrency())),
        max_throughput: usl
            .max_throughput()
            .map(|x| band(x, &|u| u.max_throughput())),
        resamples: draws.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_hold_the_fit_and_repeat() {
        let n = [1.0, 18.0, 36.0, 72.0, 108.0, 144.0, 216.0];
        let x = [64.9, 995.9, 1652.4, 1853.2, 1828.9, 1775.0, 1702.2];
        let pts: Vec<(f64, f64)> = n.iter().copied().zip(x).collect();
        let fit = Usl::fit(&pts, None).unwrap();
        let a = intervals(&pts, &fit, 7);
        let b = intervals(&pts, &fit, 7);
        assert_eq!(a, b);
        let xmax = a.max_throughput.unwrap();
        assert!(xmax.lo <= xmax.point && xmax.point <= xmax.hi);
        assert!(xmax.hi - xmax.lo < 0.2 * xmax.point, "{xmax:?}");
        assert!(a.resamples > RESAMPLES / 2);
    }
}
