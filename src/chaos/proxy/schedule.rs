//! When each piece of a shaped stream may leave: latency, jitter, slicing and bandwidth as
//! release times.
//!
//! A chunk is stamped the moment it is read and released at stamp + delay, never by sleeping
//! per chunk in turn: sleeping per chunk would add the latency once per chunk and turn a
//! 100 ms fault into seconds on a 1 MiB body. Slicing spaces pieces `delay` apart and the
//! bandwidth limit is a virtual clock that advances by `len / rate` per piece (a token bucket
//! with a burst of one piece). Release times never go backwards, so jitter cannot reorder bytes.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::fault::Toxic;

/// How early a timer may fire. tokio's timer has millisecond ticks: a deadline is rounded up
/// to the next tick and the driver's `epoll_wait` timeout is rounded up again, so a sleep
/// overshoots by about a millisecond on average (measured: +0.9 to +1.2 ms on a 100 ms fault).
/// Waiting until `due - TIMER_SLACK` and releasing whatever is due within the slack centres
/// the error on zero instead: a 100 ms fault adds 100 ms, not 101.
pub const TIMER_SLACK: Duration = Duration::from_millis(1);

/// A sleep of `d`, corrected for the timer's rounding (see [`TIMER_SLACK`]).
pub fn corrected(d: Duration) -> Duration {
    if d > TIMER_SLACK {
        d - TIMER_SLACK
    } else {
        d
    }
}

/// The shaping toxics in force for one stream.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Shaping {
    pub latency: Duration,
    pub jitter: Duration,
    pub bytes_per_sec: Option<f64>,
    pub slice: Option<(usize, Duration)>,
}

impl Shaping {
    pub fn is_none(&self) -> bool {
        self.latency.is_zero()
            && self.jitter.is_zero()
            && self.bytes_per_sec.is_none()
            && self.slice.is_none()
    }

    /// Adds a toxic's shaping; non-shaping toxics are ignored.
    pub fn add(&mut self, toxic: &Toxic) {
        match toxic {
            Toxic::Latency {
                latency, jitter, ..
            } => {
                self.latency += *latency;
                self.jitter += *jitter;
            }
            Toxic::Bandwidth { bytes_per_sec } => {
                self.bytes_per_sec = Some(match self.bytes_per_sec {
                    Some(b) => b.min(*bytes_per_sec),
                    None => *bytes_per_sec,
                })
            }
            Toxic::Slice { size, delay } => self.slice = Some((*size, *delay)),
            _ => {}
        }
    }
}

/// Piece size under a bandwidth limit: 1/20 s worth, so the rate is smooth at 50 ms.
fn bandwidth_piece(rate: f64) -> usize {
    ((rate / 20.0) as usize).clamp(1, 16 * 1024)
}

/// Release times of one stream.
#[derive(Debug)]
pub struct Schedule {
    pub shaping: Shaping,
    last_due: Option<Instant>,
    vclock: Option<Instant>,
}

impl Schedule {
    pub fn new(shaping: Shaping) -> Schedule {
        Schedule {
            shaping,
            last_due: None,
            vclock: None,
        }
    }

    /// Changes the shaping for chunks read from now on (already queued ones keep their time).
    pub fn reshape(&mut self, shaping: Shaping) {
        self.shaping = shaping;
        if shaping.bytes_per_sec.is_none() {
            self.vclock = None;
        }
    }

    /// Queues `chunk`, read at `now`, as pieces with their release times.
    pub fn push(&mut self, now: Instant, chunk: Bytes, out: &mut VecDeque<(Instant, Bytes)>) {
        let s = self.shaping;
        let mut due = now + self.delay();
        if let Some(last) = self.last_due {
            due = due.max(last);
        }
        let piece = match (s.slice, s.bytes_per_sec) {
            (Some((size, _)), Some(rate)) => size.min(bandwidth_piece(rate)),
            (Some((size, _)), None) => size,
            (None, Some(rate)) => bandwidth_piece(rate),
            (None, None) => chunk.len().max(1),
        };
        let mut rest = chunk;
        let mut first = true;
        while !rest.is_empty() {
            let part = rest.split_to(piece.min(rest.len()));
            if let (Some((_, gap)), false) = (s.slice, first) {
                due += gap;
            }
            first = false;
            if let Some(rate) = s.bytes_per_sec {
                let start = self.vclock.map_or(due, |v| v.max(due));
                self.vclock = Some(start + Duration::from_secs_f64(part.len() as f64 / rate));
                due = start;
            }
            self.last_due = Some(due);
            out.push_back((due, part));
        }
    }

    fn delay(&self) -> Duration {
        jittered(self.shaping.latency, self.shaping.jitter)
    }
}

/// `latency` plus a uniform draw in ±`jitter`, never below zero.
pub fn jittered(latency: Duration, jitter: Duration) -> Duration {
    if jitter.is_zero() {
        return latency;
    }
    let offset = (rand::random::<f64>() * 2.0 - 1.0) * jitter.as_secs_f64();
    Duration::from_secs_f64((latency.as_secs_f64() + offset).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_shifts_and_slices_space() {
        let t0 = Instant::now();
        let mut q = VecDeque::new();
        let mut s = Schedule::new(Shaping {
            latency: Duration::from_millis(100),
            slice: Some((4, Duration::from_millis(1))),
            ..Default::default()
        });
        s.push(t0, Bytes::from_static(b"0123456789"), &mut q);
        let dues: Vec<_> = q.iter().map(|(d, b)| (*d - t0, b.len())).collect();
        assert_eq!(
            dues,
            vec![
                (Duration::from_millis(100), 4),
                (Duration::from_millis(101), 4),
                (Duration::from_millis(102), 2)
            ]
        );
    }

    #[test]
    fn bandwidth_paces() {
        let t0 = Instant::now();
        let mut q = VecDeque::new();
        let mut s = Schedule::new(Shaping {
            bytes_per_sec: Some(1000.0),
            ..Default::default()
        });
        s.push(t0, Bytes::from(vec![0u8; 200]), &mut q);
        // 50-byte pieces at 1000 B/s: 0, 50, 100, 150 ms.
        let last = q.back().map(|(d, _)| *d - t0).unwrap_or_default();
        assert_eq!(q.len(), 4);
        assert_eq!(last, Duration::from_millis(150));
    }
}
