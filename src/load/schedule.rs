//! The arrival rate over time: piecewise-linear stages of ramps and holds.
//!
//! A traffic's `ramp from -> to over D` and `hold D at R` statements become [`RateStage`]s;
//! after the last stage its final rate holds until the run ends. The arrival generator asks
//! this module how far in time a given "area" (expected number of arrivals) reaches, which
//! is what makes ramping Poisson arrivals exact rather than approximated per tick.

use crate::units::{Duration, Rate};

/// One stage: the rate moves linearly from `from` to `to` over `over` (a hold when equal).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateStage {
    pub from: Rate,
    pub to: Rate,
    pub over: Duration,
}

/// A sequence of stages; empty means no arrivals.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RateSchedule {
    pub stages: Vec<RateStage>,
    /// A shard sends only its share of the schedule's arrivals ([`crate::load::shard`]).
    pub share: Option<ArrivalShare>,
}

/// Which of a schedule's arrivals this process sends: the whole sequence is drawn from its
/// own seeded stream, the same in every shard, and shard `index` of `count` keeps arrivals
/// `index`, `index + count`, … — so the shards together send exactly the sequence of
/// `--shard 1/1`, whatever the arrival law. A schedule without a share sends
/// [`ArrivalShare::whole`] of its run's seed: a plain run is `--shard 1/1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrivalShare {
    /// 0-based.
    pub index: u32,
    pub count: u32,
    /// Seeds the arrival stream (the same in every shard of a run).
    pub seed: u64,
}

/// The stream number of the arrival sequence (mixed with the run's seed).
const ARRIVAL_STREAM: u64 = 0x5348_4152_4400;

impl ArrivalShare {
    /// Every arrival of the sequence of a run seeded with `seed`.
    pub fn whole(seed: u64) -> ArrivalShare {
        ArrivalShare {
            index: 0,
            count: 1,
            seed: super::shared::stream_seed(seed, ARRIVAL_STREAM),
        }
    }
}

impl RateSchedule {
    /// The same rate for the whole run.
    pub fn constant(rate: Rate) -> RateSchedule {
        RateSchedule {
            stages: vec![RateStage {
                from: rate,
                to: rate,
                over: Duration::ZERO,
            }],
            share: None,
        }
    }

    /// Appends a ramp from the current final rate (or `from`) to `to`.
    pub fn ramp(mut self, from: Option<Rate>, to: Rate, over: Duration) -> RateSchedule {
        let from = from.unwrap_or_else(|| self.final_rate());
        self.stages.push(RateStage { from, to, over });
        self
    }

    /// Appends a hold at `at` (or the current final rate).
    pub fn hold(mut self, over: Duration, at: Option<Rate>) -> RateSchedule {
        let rate = at.unwrap_or_else(|| self.final_rate());
        self.stages.push(RateStage {
            from: rate,
            to: rate,
            over,
        });
        self
    }

    /// The part of the arrivals this process sends (1, or 1/N for a shard).
    pub fn sent_fraction(&self) -> f64 {
        self.share.map_or(1.0, |s| 1.0 / f64::from(s.count.max(1)))
    }

    /// The rate after the last stage.
    pub fn final_rate(&self) -> Rate {
        self.stages.last().map(|s| s.to).unwrap_or_default()
    }

    /// The total length of the stages.
    pub fn stages_duration(&self) -> Duration {
        Duration(self.stages.iter().map(|s| s.over.0).sum())
    }

    /// The rate (per second) `t` seconds after the start.
    pub fn rate_at(&self, t: f64) -> f64 {
        let mut start = 0.0;
        for s in &self.stages {
            let len = s.over.secs();
            if t < start + len {
                let frac = (t - start) / len;
                return s.from.0 + (s.to.0 - s.from.0) * frac;
            }
            start += len;
        }
        self.final_rate().0
    }

    /// The expected number of arrivals between 0 and `t` seconds, times `scale`.
    pub fn area(&self, t: f64) -> f64 {
        let mut start = 0.0;
        let mut total = 0.0;
        for s in &self.stages {
            let len = s.over.secs();
            if t <= start + len {
                let x = t - start;
                let slope = if len > 0.0 {
                    (s.to.0 - s.from.0) / len
                } else {
                    0.0
                };
                return total + s.from.0 * x + slope * x * x / 2.0;
            }
            total += (s.from.0 + s.to.0) / 2.0 * len;
            start += len;
        }
        total + self.final_rate().0 * (t - start)
    }

    /// The time (seconds) at which `area` expected arrivals, at `scale` times the rate, have
    /// accumulated after `t`; `None` when that is never the case before `end`.
    pub fn advance(&self, t: f64, area: f64, scale: f64, end: f64) -> Option<f64> {
        if scale <= 0.0 {
            return None;
        }
        let mut need = area / scale;
        let mut start = 0.0;
        let mut t = t;
        for s in &self.stages {
            let len = s.over.secs();
            let stop = start + len;
            if t < stop {
                let slope = (s.to.0 - s.from.0) / len;
                let r = s.from.0 + slope * (t - start);
                let left = stop - t;
                let here = r * left + slope * left * left / 2.0;
                if here >= need {
                    return within(t + solve(r, slope, need), end);
                }
                need -= here;
                t = stop;
            }
            start = stop;
        }
        let r = self.final_rate().0;
        if r <= 0.0 {
            return None;
        }
        within(t + need / r, end)
    }
}

/// The `x >= 0` where `r x + slope x² / 2 = need`, in the form that stays accurate when
/// `slope` is near zero.
fn solve(r: f64, slope: f64, need: f64) -> f64 {
    let disc = (r * r + 2.0 * slope * need).max(0.0);
    let denom = r + disc.sqrt();
    if denom <= 0.0 {
        0.0
    } else {
        2.0 * need / denom
    }
}

fn within(t: f64, end: f64) -> Option<f64> {
    (t < end).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_advances_by_the_gap() {
        let s = RateSchedule::constant(Rate(100.0));
        let t = s.advance(0.0, 1.0, 1.0, 10.0).unwrap();
        assert!((t - 0.01).abs() < 1e-12);
        assert!((s.advance(0.0, 1.0, 2.0, 10.0).unwrap() - 0.005).abs() < 1e-12);
        assert_eq!(s.advance(9.995, 1.0, 1.0, 10.0), None);
    }

    #[test]
    fn ramp_area_matches_advance() {
        let s = RateSchedule::default()
            .ramp(Some(Rate(0.0)), Rate(100.0), Duration::from_secs(10.0))
            .hold(Duration::from_secs(5.0), None);
        // 500 arrivals over the ramp, then 100/s.
        assert!((s.area(10.0) - 500.0).abs() < 1e-9);
        let t = s.advance(0.0, 500.0, 1.0, 100.0).unwrap();
        assert!((t - 10.0).abs() < 1e-9, "{t}");
        let t = s.advance(0.0, 600.0, 1.0, 100.0).unwrap();
        assert!((t - 11.0).abs() < 1e-9, "{t}");
        let t = s.advance(2.0, 10.0, 1.0, 100.0).unwrap();
        assert!((s.area(t) - s.area(2.0) - 10.0).abs() < 1e-9);
    }

    #[test]
    fn zero_rate_never_arrives() {
        let s = RateSchedule::constant(Rate(0.0));
        assert_eq!(s.advance(0.0, 1.0, 1.0, 10.0), None);
    }
}
