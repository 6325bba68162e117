//! Double-seasonal additive Holt–Winters (Taylor, 2003): a daily and a weekly season on one
//! level with a damped trend. The weekly term carries only what differs between days of the
//! week, so a Saturday keeps its own shape while sharing the daily pattern's updates.
//!
//! l = α (y − d − w) + (1 − α)(l + φ b)
//! b = β (l − l₋₁) + (1 − β) φ b
//! d = γ (y − l − w) + (1 − γ) d₋ₘ₁
//! w = ω (y − l − d) + (1 − ω) w₋ₘ₂
//!
//! The state starts from the first week: level its mean, daily terms the mean deviation per
//! slot of the day, weekly terms what is left.

use super::smoothing::{Smoother, PHI};

#[derive(Debug, Clone)]
pub struct DoubleSeasonal {
    p: [f64; 4],
    level: f64,
    trend: f64,
    day: Vec<f64>,
    week: Vec<f64>,
    pd: usize,
    pw: usize,
}

impl DoubleSeasonal {
    /// Parameters `[α, β, γ, ω]`; `init` holds at least one week (`m2`, a multiple of `m1`).
    pub fn new(params: &[f64], init: &[f64], m1: usize, m2: usize) -> DoubleSeasonal {
        let first = &init[..m2.min(init.len())];
        let level = first.iter().sum::<f64>() / first.len().max(1) as f64;
        let mut day = vec![0.0; m1];
        let mut n = vec![0.0f64; m1];
        for (i, v) in first.iter().enumerate() {
            day[i % m1] += v - level;
            n[i % m1] += 1.0;
        }
        for (d, k) in day.iter_mut().zip(&n) {
            *d /= k.max(1.0);
        }
        let week = first
            .iter()
            .enumerate()
            .map(|(i, v)| v - level - day[i % m1])
            .collect();
        let mut ds = DoubleSeasonal {
            p: [params[0], params[1], params[2], params[3]],
            level,
            trend: 0.0,
            day,
            week,
            pd: first.len() % m1,
            pw: 0,
        };
        for &v in &init[first.len()..] {
            ds.step(v);
        }
        ds
    }
}

impl Smoother for DoubleSeasonal {
    #[inline]
    fn step(&mut self, y: f64) -> f64 {
        let [a, b, g, o] = self.p;
        let d = self.day[self.pd];
        let w = self.week[self.pw];
        let damped = PHI * self.trend;
        let forecast = self.level + damped + d + w;
        let level = a * (y - d - w) + (1.0 - a) * (self.level + damped);
        self.trend = b * (level - self.level) + (1.0 - b) * damped;
        self.day[self.pd] = g * (y - level - w) + (1.0 - g) * d;
        self.week[self.pw] = o * (y - level - d) + (1.0 - o) * w;
        self.level = level;
        self.pd = (self.pd + 1) % self.day.len();
        self.pw = (self.pw + 1) % self.week.len();
        forecast
    }

    fn predict(&self, h: usize) -> Vec<f64> {
        let (m1, m2) = (self.day.len(), self.week.len());
        let mut damp = 0.0;
        let mut phi_i = 1.0;
        (0..h)
            .map(|i| {
                phi_i *= PHI;
                damp += phi_i;
                self.level
                    + damp * self.trend
                    + self.day[(self.pd + i) % m1]
                    + self.week[(self.pw + i) % m2]
            })
            .collect()
    }
}
