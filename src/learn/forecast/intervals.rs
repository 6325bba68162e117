//! Prediction intervals from backtest residuals.
//!
//! No distribution is assumed: the interval is the forecast plus empirical quantiles of the
//! backtest errors. Errors grow with the level (a busy hour errs by more requests than a quiet
//! one), so they are divided by a scale (forecast + c)^p before taking quantiles, with p
//! chosen among 0, ½ (Poisson-like counts) and 1 (proportional errors) by a Gaussian
//! likelihood. Errors are pooled per day ahead when there are enough of them, since a
//! forecast six days out errs more than one for the next hour.
//!
//! Three corrections keep the interval honest where the errors are few or the horizon long:
//! with k origins the quantiles are widened by the ratio of Student's t with k − 1 degrees of
//! freedom to the normal quantile (few origins, little history: a wider interval); past the
//! backtest window they grow with the square root of the steps ahead over the window; and an
//! interval is never narrower than the Poisson noise of the forecast count (±z·√f), unless
//! every backtest error was zero (an exactly periodic history).
//!
//! Coverage is measured honestly: each origin's interval is built from the other origins'
//! errors only, with the same corrections.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::backtest::Outcome;

/// How errors are scaled: `c` softens the scale near zero; `counts` says the series counts
/// events (requests, calls), so no interval is narrower than the Poisson noise of its count.
#[derive(Debug, Clone, Copy)]
pub struct Scaling {
    pub c: f64,
    pub counts: bool,
}

/// Scaled backtest errors, sorted, per band of `band` steps ahead and pooled.
#[derive(Debug, Clone)]
pub struct Residuals {
    p: f64,
    c: f64,
    band: usize,
    bands: Vec<Vec<f64>>,
    pooled: Vec<f64>,
    /// Origins the errors come from, and the steps forecast from each.
    origins: usize,
    window: usize,
    /// Every error was zero: the history repeats exactly.
    periodic: bool,
    counts: bool,
}

/// The widest small-sample widening (a single origin).
const MAX_INFLATE: f64 = 4.0;

/// The standard normal quantile at `q`.
pub fn normal_q(q: f64) -> f64 {
    Normal::new(0.0, 1.0).map_or(1.645, |n| n.inverse_cdf(q))
}

/// Student's t over the normal quantile at `q` for `k` origins: how much wider an interval
/// from k samples of errors must be.
fn inflate(k: usize, q: f64) -> f64 {
    if k < 2 {
        return MAX_INFLATE;
    }
    let t = StudentsT::new(0.0, 1.0, (k - 1) as f64).map_or(MAX_INFLATE, |t| t.inverse_cdf(q));
    (t / normal_q(q)).clamp(1.0, MAX_INFLATE)
}

/// Errors per band below this count fall back to the pooled errors.
const MIN_BAND: usize = 30;

fn scale(f: f64, c: f64, p: f64) -> f64 {
    (f.max(0.0) + c).powf(p)
}

/// Linear-interpolated quantile of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let frac = pos - i as f64;
    let next = sorted[(i + 1).min(sorted.len() - 1)];
    sorted[i] + frac * (next - sorted[i])
}

/// (forecast, error, steps ahead) of every backtest point, skipping origin `skip`.
fn errors(
    o: &Outcome,
    y: &[f64],
    known: Option<&[bool]>,
    origins: &[usize],
    skip: Option<usize>,
) -> Vec<(f64, f64, usize)> {
    let mut out = Vec::new();
    for (j, (f, &origin)) in o.forecasts.iter().zip(origins).enumerate() {
        if Some(j) == skip {
            continue;
        }
        for (i, fv) in f.iter().enumerate() {
            if known.is_none_or(|k| k[origin + i]) {
                out.push((*fv, y[origin + i] - fv, i));
            }
        }
    }
    out
}

impl Residuals {
    /// The residual model of a backtest outcome; `c` softens the scale near zero.
    pub fn fit(
        o: &Outcome,
        y: &[f64],
        known: Option<&[bool]>,
        origins: &[usize],
        band: usize,
        sc: Scaling,
        skip: Option<usize>,
    ) -> Option<Residuals> {
        let c = sc.c;
        let e = errors(o, y, known, origins, skip);
        if e.is_empty() {
            return None;
        }
        let periodic = e.iter().all(|&(_, r, _)| r == 0.0);
        let used = origins.len() - usize::from(skip.is_some_and(|j| j < origins.len()));
        let window = o.forecasts.first().map_or(1, |f| f.len().max(1));
        let n = e.len() as f64;
        let mut best = (f64::MIN, 0.0);
        for p in [0.0, 0.5, 1.0] {
            let log_s: f64 = e.iter().map(|&(f, _, _)| scale(f, c, p).ln()).sum();
            let ms = e
                .iter()
                .map(|&(f, r, _)| (r / scale(f, c, p)).powi(2))
                .sum::<f64>()
                / n;
            let ll = -log_s - 0.5 * n * ms.max(1e-300).ln();
            if ll > best.0 {
                best = (ll, p);
            }
        }
        let p = best.1;
        let band = band.max(1);
        let mut bands: Vec<Vec<f64>> = Vec::new();
        let mut pooled = Vec::with_capacity(e.len());
        for &(f, r, i) in &e {
            let z = r / scale(f, c, p);
            let b = i / band;
            if b >= bands.len() {
                bands.resize(b + 1, Vec::new());
            }
            bands[b].push(z);
            pooled.push(z);
        }
        for b in &mut bands {
            b.sort_by(f64::total_cmp);
        }
        pooled.sort_by(f64::total_cmp);
        Some(Residuals {
            p,
            c,
            band,
            bands,
            pooled,
            origins: used,
            window,
            periodic,
            counts: sc.counts,
        })
    }

    /// The interval (lower, upper) at central coverage 2q − 1 for forecast `f`, `i` steps
    /// after the origin (0-based). Steps past the backtest window use its last band.
    pub fn bounds(&self, f: f64, i: usize, q: f64) -> (f64, f64) {
        let b = (i / self.band).min(self.bands.len().saturating_sub(1));
        // The error quantiles of this band, never narrower than an earlier band's: a forecast
        // further out is not more certain, whatever a few errors say.
        let (mut zlo, mut zhi) = (0.0f64, 0.0f64);
        for band in 0..=b {
            let z = match self.bands.get(band) {
                Some(v) if v.len() >= MIN_BAND => v,
                _ => &self.pooled,
            };
            zlo = zlo.min(quantile(z, 1.0 - q));
            zhi = zhi.max(quantile(z, q));
        }
        let grow = if i >= self.window {
            ((i + 1) as f64 / self.window as f64).sqrt()
        } else {
            1.0
        };
        let k = inflate(self.origins, q) * grow;
        let s = scale(f, self.c, self.p) * k;
        let (mut lo, mut hi) = (f + zlo * s, f + zhi * s);
        if self.counts && !self.periodic {
            let noise = normal_q(q) * f.max(0.0).sqrt();
            lo = lo.min(f - noise);
            hi = hi.max(f + noise);
        }
        (lo.min(f).max(0.0), hi.max(f))
    }
}

/// Leave-one-origin-out coverage of the intervals at quantile `q` (in-sample with a single
/// origin).
pub fn coverage(
    o: &Outcome,
    y: &[f64],
    known: Option<&[bool]>,
    origins: &[usize],
    band: usize,
    sc: Scaling,
    q: f64,
) -> Option<f64> {
    let (mut inside, mut n) = (0.0, 0.0);
    for (j, (f, &origin)) in o.forecasts.iter().zip(origins).enumerate() {
        let skip = (origins.len() > 1).then_some(j);
        let r = Residuals::fit(o, y, known, origins, band, sc, skip)?;
        for (i, fv) in f.iter().enumerate() {
            if !known.is_none_or(|k| k[origin + i]) {
                continue;
            }
            let (lo, hi) = r.bounds(*fv, i, q);
            let a = y[origin + i];
            if a >= lo && a <= hi {
                inside += 1.0;
            }
            n += 1.0;
        }
    }
    (n > 0.0).then(|| inside / n)
}
