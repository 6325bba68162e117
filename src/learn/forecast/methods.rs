//! The forecasting methods as one enum: which periods they use, how they are fitted, and
//! how they forecast from an origin.
//!
//! The simple methods (seasonal naive, seasonal mean, level) read the history directly. The
//! smoothing methods are fitted once on the history before the first backtest origin and
//! then run forward through the series with fixed parameters, emitting a forecast at each
//! origin: a rolling-origin backtest that never looks past its origin.

use serde::{Deserialize, Serialize};

use super::double_seasonal::DoubleSeasonal;
use super::holt_winters::HoltWinters;
use super::smoothing::{fit, Smoother};

/// A forecasting method, as reported in a forecast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Repeat the last season.
    SeasonalNaive,
    /// The mean of the same slot over the last k seasons.
    SeasonalMean,
    /// Additive Holt–Winters with one season.
    HoltWinters,
    /// Additive Holt–Winters with a daily and a weekly season.
    DoubleSeasonal,
    /// The mean of the last day, flat (history too short for any season).
    Level,
    /// The average of double-seasonal Holt–Winters and the seasonal mean of the last four
    /// weeks: the two err in different ways (one adapts fast, the other is steady), so their
    /// mean errs less than either.
    Combined,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::SeasonalNaive => "seasonal_naive",
            Method::SeasonalMean => "seasonal_mean",
            Method::HoltWinters => "holt_winters",
            Method::DoubleSeasonal => "double_seasonal",
            Method::Level => "level",
            Method::Combined => "combined",
        }
    }
}

/// A method with its periods: what the backtest compares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    pub method: Method,
    /// The season length in steps (the daily one for double seasonal; unused by level).
    pub period: usize,
    /// The weekly period of double seasonal.
    pub period2: usize,
    /// Seasons averaged by seasonal mean.
    pub k: usize,
}

const ALPHA: &[f64] = &[0.05, 0.2, 0.5];
const BETA: &[f64] = &[0.001, 0.02];
const GAMMA: &[f64] = &[0.05, 0.2, 0.5];

impl Spec {
    /// Steps of history the method needs before it can forecast.
    pub fn min_history(&self) -> usize {
        match self.method {
            Method::DoubleSeasonal | Method::Combined => self.period2,
            Method::Level => 1,
            _ => self.period,
        }
    }

    /// Fitted parameters from `y` (empty for methods without parameters).
    pub fn fit(&self, y: &[f64]) -> Vec<f64> {
        match self.method {
            Method::HoltWinters => fit(
                y,
                self.period,
                &[ALPHA, BETA, GAMMA],
                &[0.2, 0.01, 0.1],
                |p| HoltWinters::new(p, &y[..self.period], self.period),
            ),
            Method::DoubleSeasonal | Method::Combined => fit(
                y,
                self.period2,
                &[ALPHA, BETA, GAMMA, GAMMA],
                &[0.2, 0.01, 0.1, 0.1],
                |p| DoubleSeasonal::new(p, &y[..self.period2], self.period, self.period2),
            ),
            _ => Vec::new(),
        }
    }

    /// Forecasts of `h` steps from each origin (ascending; each ≥ `min_history`).
    pub fn at_origins(
        &self,
        y: &[f64],
        params: &[f64],
        origins: &[usize],
        h: usize,
    ) -> Vec<Vec<f64>> {
        match self.method {
            Method::HoltWinters => run(
                HoltWinters::new(params, &y[..self.period], self.period),
                self.period,
                y,
                origins,
                h,
            ),
            Method::DoubleSeasonal => run(
                DoubleSeasonal::new(params, &y[..self.period2], self.period, self.period2),
                self.period2,
                y,
                origins,
                h,
            ),
            Method::Combined => {
                let ds = Spec {
                    method: Method::DoubleSeasonal,
                    ..*self
                };
                let mean = Spec {
                    method: Method::SeasonalMean,
                    period: self.period2,
                    ..*self
                };
                let a = ds.at_origins(y, params, origins, h);
                let b = mean.at_origins(y, params, origins, h);
                a.into_iter()
                    .zip(b)
                    .map(|(a, b)| a.iter().zip(&b).map(|(x, y)| 0.5 * (x + y)).collect())
                    .collect()
            }
            _ => origins.iter().map(|&o| self.direct(&y[..o], h)).collect(),
        }
    }

    /// The forecast of `h` steps after all of `y`.
    pub fn forecast(&self, y: &[f64], params: &[f64], h: usize) -> Vec<f64> {
        self.at_origins(y, params, &[y.len()], h)
            .pop()
            .unwrap_or_default()
    }

    fn direct(&self, y: &[f64], h: usize) -> Vec<f64> {
        let n = y.len();
        match self.method {
            Method::SeasonalNaive => (0..h)
                .map(|i| y[n - self.period + i % self.period])
                .collect(),
            Method::SeasonalMean => {
                let k = self.k.min(n / self.period).max(1);
                (0..h)
                    .map(|i| {
                        let slot = n - self.period + i % self.period;
                        (0..k).map(|j| y[slot - j * self.period]).sum::<f64>() / k as f64
                    })
                    .collect()
            }
            _ => {
                let recent = &y[n.saturating_sub(self.period.max(1))..];
                let mean = recent.iter().sum::<f64>() / recent.len().max(1) as f64;
                vec![mean; h]
            }
        }
    }
}

/// Runs a smoother through `y`, snapshotting an `h`-step forecast at each origin.
fn run<S: Smoother>(
    mut s: S,
    init: usize,
    y: &[f64],
    origins: &[usize],
    h: usize,
) -> Vec<Vec<f64>> {
    let mut out = Vec::with_capacity(origins.len());
    let mut t = init;
    for &o in origins {
        while t < o {
            s.step(y[t]);
            t += 1;
        }
        out.push(s.predict(h));
    }
    out
}
