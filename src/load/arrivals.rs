//! Intended send times: the arrival process of the open and session models.
//!
//! Times are offsets in seconds from the start of the run, drawn from a seeded stream of
//! their own (the run's seed mixed with a fixed stream number, [`ArrivalShare`]), so the same
//! seed and the same scale give the same sequence, whatever else the run draws (the mix,
//! template values, sessions). Each gap is an amount of "expected arrivals" (exponential for
//! Poisson, exactly one for constant, uniform on 0..2 for uniform) that
//! [`RateSchedule::advance`] turns into time under a ramping rate. A plain run keeps every
//! arrival of the sequence; shard `I` of `N` draws the same sequence and keeps arrivals
//! `I`, `I + N`, … — so a plain run is `--shard 1/1`, and the shards together are both.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::schedule::{ArrivalShare, RateSchedule};
use super::spec::{Arrival, LoadSpec, Workload};

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
    /// The stream the whole sequence is drawn from.
    rng: StdRng,
    /// This process keeps arrivals `index`, `index + count`, … of the sequence.
    index: u64,
    count: u64,
    drawn: u64,
}

impl Arrivals {
    /// The arrivals of `schedule` until `end` (seconds) for a run seeded with `seed`: all of
    /// them, or the schedule's share when it has one (a shard, whose share carries the seed
    /// of the whole run).
    pub fn new(schedule: RateSchedule, arrival: Arrival, end: f64, seed: u64) -> Arrivals {
        let share = schedule.share.unwrap_or_else(|| ArrivalShare::whole(seed));
        Arrivals {
            schedule,
            arrival,
            t: 0.0,
            end,
            started: false,
            rng: StdRng::seed_from_u64(share.seed),
            index: u64::from(share.index),
            count: u64::from(share.count.max(1)),
            drawn: 0,
        }
    }

    /// The next intended offset at `scale` times the scheduled rate.
    pub fn next(&mut self, scale: f64) -> Next {
        loop {
            match self.draw(scale) {
                Next::At(t) => {
                    let k = self.drawn;
                    self.drawn += 1;
                    if k % self.count == self.index {
                        return Next::At(t);
                    }
                }
                other => return other,
            }
        }
    }

    fn draw(&mut self, scale: f64) -> Next {
        let rng = &mut self.rng;
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

/// The intended send times of `spec`, in seconds from its start at its starting scale: the
/// sequence its open, session or learned-chain model sends (its shard's share, when split),
/// at most `limit` of them. `None` for the closed model, which has no schedule.
///
/// ```
/// use res::load::{arrival_times, shard::Shard, Arrival, LoadSpec, Pacing, RateSchedule};
/// use res::load::{RequestSpec, Workload};
/// use res::units::{Duration, Rate};
/// let spec = LoadSpec::new(
///     "http://127.0.0.1:1",
///     vec![RequestSpec::get("s", "/")],
///     Workload::Open {
///         schedule: RateSchedule::constant(Rate(12.0)),
///         arrival: Arrival::Poisson,
///         pacing: Pacing::Precise,
///     },
///     Duration::from_secs(10.0),
/// );
/// let plain = arrival_times(&spec, 10_000).unwrap();
/// assert_eq!(Some(plain), arrival_times(&Shard::WHOLE.split(spec), 10_000));
/// ```
pub fn arrival_times(spec: &LoadSpec, limit: usize) -> Option<Vec<f64>> {
    let (schedule, arrival) = match &spec.workload {
        Workload::Open {
            schedule, arrival, ..
        }
        | Workload::Sessions {
            schedule, arrival, ..
        }
        | Workload::Chain {
            schedule, arrival, ..
        } => (schedule.clone(), *arrival),
        Workload::Closed { .. } => return None,
    };
    let mut a = Arrivals::new(schedule, arrival, spec.duration.secs(), spec.seed);
    let mut out = Vec::new();
    while out.len() < limit {
        match a.next(spec.scale) {
            Next::At(t) => out.push(t),
            Next::Paused | Next::Ended => break,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Rate;

    fn offsets(arrival: Arrival, seed: u64) -> Vec<f64> {
        let mut a = Arrivals::new(RateSchedule::constant(Rate(1000.0)), arrival, 1.0, seed);
        let mut out = Vec::new();
        while let Next::At(t) = a.next(1.0) {
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
