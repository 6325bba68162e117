//! Intended send times: the arrival process of the open and session models.
//!
//! Times are offsets in seconds from the start of the run, drawn from the run's seeded RNG,
//! so the same seed and the same scale give the same sequence. Each gap is an amount of
//! "expected arrivals" (exponential for Poisson, exactly one for constant, uniform on 0..2
//! for uniform) that [`RateSchedule::advance`] turns into time under a ramping rate.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::schedule::RateSchedule;
use super::spec::Arrival;

/// What the generator has next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Next {
    /// An arrival at this offset (seconds).
    At(f64),
    /// The rate is zero for now (scale 0): ask again later.
    Paused,
    /// No arrival before the end of the run.
    Ended,
}

pub(crate) struct Arrivals {
    schedule: RateSchedule,
    arrival: Arrival,
    t: f64,
    end: f64,
    started: bool,
    /// A shard's share: its own stream of the whole sequence, and how many were drawn.
    share: Option<(StdRng, u32, u32)>,
    drawn: u64,
}

impl Arrivals {
    pub fn new(schedule: RateSchedule, arrival: Arrival, end: f64) -> Arrivals {
        let share = schedule_share(&schedule);
        Arrivals {
            schedule,
            arrival,
            t: 0.0,
            end,
            started: false,
            share,
            drawn: 0,
        }
    }

    /// The next intended offset at `scale` times the scheduled rate. A shard draws the whole
    /// sequence from its own stream (not `rng`) and keeps its share of it.
    pub fn next(&mut self, rng: &mut StdRng, scale: f64) -> Next {
        let Some((mut own, index, count)) = self.share.take() else {
            return self.draw(rng, scale);
        };
        let next = loop {
            match self.draw(&mut own, scale) {
                Next::At(t) => {
                    let k = self.drawn;
                    self.drawn += 1;
                    if k % u64::from(count) == u64::from(index) {
                        break Next::At(t);
                    }
                }
                other => break other,
            }
        };
        self.share = Some((own, index, count));
        next
    }

    fn draw(&mut self, rng: &mut StdRng, scale: f64) -> Next {
        if self.t >= self.end {
            return Next::Ended;
        }
        if scale <= 0.0 {
            return Next::Paused;
        }
        let area = if self.started {
            match self.arrival {
                Arrival::Constant => 1.0,
                Arrival::Uniform => rng.random::<f64>() * 2.0,
                Arrival::Poisson => -(1.0 - rng.random::<f64>()).ln(),
            }
        } else {
            // The first arrival sits half a gap in, so a constant rate R over D seconds
            // yields exactly R·D arrivals.
            self.started = true;
            match self.arrival {
                Arrival::Constant => 0.5,
                Arrival::Uniform => rng.random::<f64>(),
                Arrival::Poisson => -(1.0 - rng.random::<f64>()).ln(),
            }
        };
        let next = self.schedule.advance(self.t, area, scale, self.end);
        self.land(next)
    }

    /// Moves the clock to the drawn arrival; `None` (the gap reaches past the end, or the
    /// rate is zero from here on) ends the arrivals.
    fn land(&mut self, next: Option<f64>) -> Next {
        match next {
            Some(t) => {
                self.t = t;
                Next::At(t)
            }
            None => {
                self.t = self.end;
                Next::Ended
            }
        }
    }

    /// Moves the clock on without arrivals (after a pause, so the missed time is not made
    /// up in a burst).
    pub fn skip_to(&mut self, t: f64) {
        if t > self.t {
            self.t = t;
        }
    }
}

fn schedule_share(schedule: &RateSchedule) -> Option<(StdRng, u32, u32)> {
    schedule
        .share
        .map(|s| (StdRng::seed_from_u64(s.seed), s.index, s.count.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Rate;
    use rand::SeedableRng;

    fn offsets(arrival: Arrival, seed: u64) -> Vec<f64> {
        let mut a = Arrivals::new(RateSchedule::constant(Rate(1000.0)), arrival, 1.0);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut out = Vec::new();
        while let Next::At(t) = a.next(&mut rng, 1.0) {
            out.push(t);
        }
        out
    }

    #[test]
    fn constant_gives_rate_times_duration() {
        assert_eq!(offsets(Arrival::Constant, 1).len(), 1000);
    }

    #[test]
    fn poisson_is_seeded_and_near_the_rate() {
        let a = offsets(Arrival::Poisson, 3);
        assert_eq!(a, offsets(Arrival::Poisson, 3));
        assert_ne!(a, offsets(Arrival::Poisson, 4));
        assert!((900..1100).contains(&a.len()), "{}", a.len());
    }
}
