//! Service times of the demo shop: lognormal around a median, from a seeded generator.
//!
//! Real request latencies are skewed, with a long right tail: most requests take about the
//! median, a few take several times as long. A lognormal with location `ln(median)` and
//! shape σ has exactly that median, a mean of `median × e^(σ²/2)` and a p99 of
//! `median × e^(2.326 σ)`. Each service draws from a generator of its own, seeded from the
//! shop's seed, so the sequence of draws is the same on every run with the same seed.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::SeedableRng;
use statrs::distribution::LogNormal;

/// No draw exceeds this many medians, so a freak sample cannot stall a worker for minutes.
const MAX_MEDIANS: f64 = 50.0;

pub struct ServiceTime {
    median: Duration,
    shape: Option<LogNormal>,
    rng: Mutex<SmallRng>,
}

impl ServiceTime {
    /// `sigma` of 0 (or anything that is not a positive finite number) gives a constant
    /// service time of `median`.
    pub fn new(median: Duration, sigma: f64, seed: u64) -> ServiceTime {
        let location = median.as_secs_f64().max(f64::MIN_POSITIVE).ln();
        let shape = if sigma > 0.0 && sigma.is_finite() && median > Duration::ZERO {
            LogNormal::new(location, sigma).ok()
        } else {
            None
        };
        ServiceTime {
            median,
            shape,
            rng: Mutex::new(SmallRng::seed_from_u64(seed)),
        }
    }

    pub fn median(&self) -> Duration {
        self.median
    }

    /// The next service time.
    pub fn sample(&self) -> Duration {
        let Some(shape) = &self.shape else {
            return self.median;
        };
        let secs = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            rand::distr::Distribution::sample(shape, &mut *rng)
        };
        let cap = self.median.as_secs_f64() * MAX_MEDIANS;
        Duration::try_from_secs_f64(secs.clamp(0.0, cap)).unwrap_or(self.median)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws() {
        let a = ServiceTime::new(Duration::from_millis(10), 0.5, 7);
        let b = ServiceTime::new(Duration::from_millis(10), 0.5, 7);
        let xs: Vec<_> = (0..100).map(|_| a.sample()).collect();
        let ys: Vec<_> = (0..100).map(|_| b.sample()).collect();
        assert_eq!(xs, ys);
    }

    #[test]
    fn median_is_the_median() {
        let t = ServiceTime::new(Duration::from_millis(10), 0.5, 3);
        let mut xs: Vec<_> = (0..4001).map(|_| t.sample()).collect();
        xs.sort();
        let median = xs[2000].as_secs_f64();
        assert!((0.009..0.011).contains(&median), "median {median}");
        let p99 = xs[3960].as_secs_f64();
        assert!(p99 > 0.025, "p99 {p99} shows no tail");
    }

    #[test]
    fn zero_sigma_is_constant() {
        let t = ServiceTime::new(Duration::from_millis(4), 0.0, 1);
        assert!((0..10).all(|_| t.sample() == Duration::from_millis(4)));
    }
}
