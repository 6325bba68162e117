//! Additive Holt–Winters with a damped trend and one season (a day or a week).
//!
//! level  l = α (y − s) + (1 − α)(l + φ b)
//! trend  b = β (l − l₋₁) + (1 − β) φ b
//! season s = γ (y − l) + (1 − γ) s₋ₘ
//! forecast ŷ(h) = l + (φ + … + φʰ) b + s(h)
//!
//! The state starts from the first season: the level is its mean, the seasonal terms its
//! deviations from the mean, the trend zero.

use super::smoothing::{Smoother, PHI};

#[derive(Debug, Clone)]
pub struct HoltWinters {
    alpha: f64,
    beta: f64,
    gamma: f64,
    level: f64,
    trend: f64,
    season: Vec<f64>,
    pos: usize,
}

impl HoltWinters {
    /// Parameters `[α, β, γ]`; `init` holds at least one season of `m` values.
    pub fn new(params: &[f64], init: &[f64], m: usize) -> HoltWinters {
        let first = &init[..m.min(init.len())];
        let level = first.iter().sum::<f64>() / first.len().max(1) as f64;
        let season = first.iter().map(|v| v - level).collect();
        let mut hw = HoltWinters {
            alpha: params[0],
            beta: params[1],
            gamma: params[2],
            level,
            trend: 0.0,
            season,
            pos: 0,
        };
        for &v in &init[first.len()..] {
            hw.step(v);
        }
        hw
    }
}

impl Smoother for HoltWinters {
    #[inline]
    fn step(&mut self, y: f64) -> f64 {
        let s = self.season[self.pos];
        let damped = PHI * self.trend;
        let forecast = self.level + damped + s;
        let level = self.alpha * (y - s) + (1.0 - self.alpha) * (self.level + damped);
        self.trend = self.beta * (level - self.level) + (1.0 - self.beta) * damped;
        self.season[self.pos] = self.gamma * (y - level) + (1.0 - self.gamma) * s;
        self.level = level;
        self.pos = (self.pos + 1) % self.season.len();
        forecast
    }

    fn predict(&self, h: usize) -> Vec<f64> {
        let m = self.season.len();
        let mut damp = 0.0;
        let mut phi_i = 1.0;
        (0..h)
            .map(|i| {
                phi_i *= PHI;
                damp += phi_i;
                self.level + damp * self.trend + self.season[(self.pos + i) % m]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_clean_season() {
        let y: Vec<f64> = (0..240)
            .map(|t| 10.0 + [0.0, 5.0, -3.0, 1.0][t % 4])
            .collect();
        let mut hw = HoltWinters::new(&[0.3, 0.01, 0.3], &y[..4], 4);
        for &v in &y[4..] {
            hw.step(v);
        }
        let p = hw.predict(4);
        for (i, v) in p.iter().enumerate() {
            assert!((v - y[i]).abs() < 1e-6, "{p:?}"); // 240 is a whole number of seasons
        }
    }
}
