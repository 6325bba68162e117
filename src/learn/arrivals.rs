//! The arrival law: is the traffic Poisson, or burstier (or smoother) than Poisson?
//!
//! The test is the index of dispersion (variance / mean) of per-second request counts. The
//! rate itself changes over the day, which would inflate a plain variance, so the variance is
//! taken within each minute around that minute's mean and pooled: the diurnal swing inside one
//! minute is negligible. Counts near-Poisson give an index near 1.
//!
//! When the index says "not Poisson", the gaps between requests are fitted. Gaps are measured
//! in units of the local mean gap (gap × hourly rate), so a fitted law has mean 1 and the load
//! generator can stretch it to any rate. With sub-second timestamps the gaps are fitted by
//! maximum likelihood to a Gamma and to a lognormal (statrs), and the likelier one is kept;
//! with one-second timestamps the gaps cannot be seen, and a Gamma is matched to the index
//! (a renewal process's counts have an index of dispersion near its gaps' squared CV).
//!
//! Caveat: at rates well under one request per second, per-second counts are mostly 0 or 1
//! and the index is near 1 whatever the process; such logs (e.g. sampled ones) read as
//! Poisson.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Gamma, LogNormal};
use statrs::function::gamma::ln_gamma;

use super::histogram::round_sig;
use super::hours::HourVec;

/// Seconds kept open for late (out-of-order) lines; a line later than this is a clock jump.
pub const RING: usize = 4096;

/// Sums of the gaps that end in one hour.
#[derive(Debug, Clone, Copy, Default)]
pub struct GapSums {
    n: f64,
    sum: f64,
    sum_ln: f64,
    sum_ln2: f64,
}

/// Streaming state for the arrival law.
#[derive(Clone)]
pub struct ArrivalStats {
    ring: Vec<u32>,
    /// The oldest second not yet folded into the minute sums.
    flushed_to: Option<i64>,
    latest: i64,
    minute: i64,
    minute_sum: f64,
    minute_sum2: f64,
    minute_secs: u32,
    pooled_ss: f64,
    pooled_df: f64,
    total: f64,
    seconds: f64,
    last_us: Option<i64>,
    subsecond: bool,
    gaps: HourVec<GapSums>,
}

impl Default for ArrivalStats {
    fn default() -> Self {
        ArrivalStats {
            ring: vec![0; RING],
            flushed_to: None,
            latest: i64::MIN,
            minute: i64::MIN,
            minute_sum: 0.0,
            minute_sum2: 0.0,
            minute_secs: 0,
            pooled_ss: 0.0,
            pooled_df: 0.0,
            total: 0.0,
            seconds: 0.0,
            last_us: None,
            subsecond: false,
            gaps: HourVec::default(),
        }
    }
}

/// The fitted arrival law, as stored in the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrivalLaw {
    /// `poisson`, `gamma` or `lognormal`.
    pub law: String,
    /// Index of dispersion of per-second counts (pooled within minutes).
    pub dispersion: f64,
    /// Gamma shape and rate of the unit-mean gap (shape = rate), when `law` is `gamma`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Lognormal location and scale of the unit-mean gap, when `law` is `lognormal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mu: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma: Option<f64>,
    /// How the parameters were found: `dispersion` (one-second timestamps) or `gaps` (MLE).
    pub fitted_on: String,
}

impl ArrivalStats {
    /// Records one request at `sec` (whole seconds) / `us` (microseconds). The caller has
    /// already rejected lines older than the ring allows.
    #[inline]
    pub fn record(&mut self, sec: i64, us: i64, subsecond: bool) {
        match self.flushed_to {
            None => {
                self.flushed_to = Some(sec);
                self.latest = sec;
            }
            Some(from) => {
                if sec > self.latest {
                    self.latest = sec;
                    let keep_from = sec - (RING as i64 - 64);
                    if keep_from > from {
                        self.flush(from, keep_from);
                    }
                }
                if sec < self.flushed_to.unwrap_or(sec) {
                    return; // too late for the ring: left out of the dispersion
                }
            }
        }
        self.ring[(sec as usize) & (RING - 1)] += 1;
        if subsecond {
            self.subsecond = true;
            if let Some(last) = self.last_us {
                let gap = us - last;
                if gap > 0 {
                    if let Some(g) = self.gaps.slot(us.div_euclid(3_600_000_000)) {
                        let x = gap as f64 / 1e6;
                        let l = x.ln();
                        g.n += 1.0;
                        g.sum += x;
                        g.sum_ln += l;
                        g.sum_ln2 += l * l;
                    }
                }
            }
            if self.last_us.is_none_or(|l| us > l) {
                self.last_us = Some(us);
            }
        }
    }

    /// Folds seconds `from..to` into the per-minute sums and clears their ring slots.
    fn flush(&mut self, from: i64, to: i64) {
        let mut s = from;
        // A long silence: the ring holds nothing older than RING seconds, so skip ahead.
        if to - from > RING as i64 {
            for sec in from..from + RING as i64 {
                self.fold(sec);
            }
            self.close_minute();
            s = to - RING as i64;
            self.minute = s.div_euclid(60);
        }
        while s < to {
            self.fold(s);
            s += 1;
        }
        self.flushed_to = Some(to);
    }

    #[inline]
    fn fold(&mut self, sec: i64) {
        let m = sec.div_euclid(60);
        if m != self.minute {
            self.close_minute();
            self.minute = m;
        }
        let slot = &mut self.ring[(sec as usize) & (RING - 1)];
        let c = *slot as f64;
        *slot = 0;
        self.minute_sum += c;
        self.minute_sum2 += c * c;
        self.minute_secs += 1;
    }

    fn close_minute(&mut self) {
        let n = self.minute_secs as f64;
        if n >= 2.0 {
            self.pooled_ss += self.minute_sum2 - self.minute_sum * self.minute_sum / n;
            self.pooled_df += n - 1.0;
            self.total += self.minute_sum;
            self.seconds += n;
        }
        self.minute_sum = 0.0;
        self.minute_sum2 = 0.0;
        self.minute_secs = 0;
    }

    /// Fits the law. `hourly_rate(h)` is the request rate per second of hour `h`.
    pub fn finish(mut self, hourly_rate: impl Fn(i64) -> f64) -> ArrivalLaw {
        if let Some(from) = self.flushed_to {
            self.flush(from, self.latest + 1);
            self.close_minute();
        }
        let mean = if self.seconds > 0.0 {
            self.total / self.seconds
        } else {
            0.0
        };
        let var = if self.pooled_df > 0.0 {
            self.pooled_ss / self.pooled_df
        } else {
            0.0
        };
        let d = if mean > 0.0 { var / mean } else { 1.0 };
        // Under Poisson the index has a standard error of about sqrt(2 / seconds).
        let tolerance = 0.1f64.max(4.0 * (2.0 / self.seconds.max(1.0)).sqrt());
        let mut law = ArrivalLaw {
            law: "poisson".into(),
            dispersion: round_sig(d),
            shape: None,
            rate: None,
            mu: None,
            sigma: None,
            fitted_on: "dispersion".into(),
        };
        if (d - 1.0).abs() <= tolerance || mean == 0.0 {
            return law;
        }
        if self.subsecond {
            if let Some(fit) = fit_gaps(&self.gaps, &hourly_rate) {
                return ArrivalLaw {
                    dispersion: round_sig(d),
                    ..fit
                };
            }
        }
        let shape = 1.0 / d.max(1e-3);
        if Gamma::new(shape, shape).is_ok() {
            law.law = "gamma".into();
            law.shape = Some(round_sig(shape));
            law.rate = Some(round_sig(shape));
        }
        law
    }
}

/// Maximum-likelihood Gamma and lognormal fits of the rate-normalised gaps.
fn fit_gaps(gaps: &HourVec<GapSums>, hourly_rate: &impl Fn(i64) -> f64) -> Option<ArrivalLaw> {
    // Normalise each hour's gaps by its rate: x = g·λ, so ln x = ln g + ln λ.
    let (mut n, mut sx, mut sl, mut sl2) = (0.0, 0.0, 0.0, 0.0);
    for (h, g) in gaps.iter() {
        let lambda = hourly_rate(h);
        if g.n == 0.0 || lambda <= 0.0 {
            continue;
        }
        let ll = lambda.ln();
        n += g.n;
        sx += g.sum * lambda;
        sl += g.sum_ln + g.n * ll;
        sl2 += g.sum_ln2 + 2.0 * ll * g.sum_ln + g.n * ll * ll;
    }
    if n < 100.0 {
        return None;
    }
    let mean = sx / n;
    let mean_ln = sl / n;
    let var_ln = (sl2 / n - mean_ln * mean_ln).max(1e-12);
    // Gamma: Minka's closed-form start for the shape, two Newton steps on the MLE equation.
    let s = (mean.ln() - mean_ln).max(1e-9);
    let mut k = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
    for _ in 0..3 {
        let f = k.ln() - statrs::function::gamma::digamma(k) - s;
        let df = 1.0 / k - trigamma(k);
        let next = k - f / df;
        if next.is_finite() && next > 0.0 {
            k = next;
        }
    }
    let theta = mean / k;
    let ll_gamma = n * ((k - 1.0) * mean_ln - k * theta.ln() - ln_gamma(k)) - sx / theta;
    let sigma = var_ln.sqrt();
    let ll_lognormal = -n * (mean_ln + sigma.ln() + 0.5 * (2.0 * std::f64::consts::PI).ln() + 0.5);
    // Report the law for a unit-mean gap, so the generator can rescale it to any rate.
    if ll_gamma >= ll_lognormal {
        Gamma::new(k, k).ok()?;
        Some(ArrivalLaw {
            law: "gamma".into(),
            dispersion: 0.0,
            shape: Some(round_sig(k)),
            rate: Some(round_sig(k)),
            mu: None,
            sigma: None,
            fitted_on: "gaps".into(),
        })
    } else {
        let mu = -sigma * sigma / 2.0;
        LogNormal::new(mu, sigma).ok()?;
        Some(ArrivalLaw {
            law: "lognormal".into(),
            dispersion: 0.0,
            shape: None,
            rate: None,
            mu: Some(round_sig(mu)),
            sigma: Some(round_sig(sigma)),
            fitted_on: "gaps".into(),
        })
    }
}

/// The trigamma function ψ'(x) (asymptotic series after shifting x above 6).
fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 6.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let x2 = 1.0 / (x * x);
    acc + 1.0 / x + x2 / 2.0 + (1.0 / 6.0 - x2 * (1.0 / 30.0 - x2 / 42.0)) * x2 / x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigamma_values() {
        // ψ'(1) = π²/6
        assert!((trigamma(1.0) - std::f64::consts::PI.powi(2) / 6.0).abs() < 1e-8);
        assert!((trigamma(0.5) - std::f64::consts::PI.powi(2) / 2.0).abs() < 1e-8);
    }

    #[test]
    fn constant_counts_are_under_dispersed() {
        let mut a = ArrivalStats::default();
        for s in 0..10_000i64 {
            for _ in 0..5 {
                a.record(s, s * 1_000_000, false);
            }
        }
        let law = a.finish(|_| 5.0);
        assert!(law.dispersion < 0.1, "{law:?}");
        assert_eq!(law.law, "gamma");
    }
}
