//! Time, injected: the interpreter asks a [`Clock`] what time it is in the run and sleeps on
//! it, so tests can drive a scenario of minutes in milliseconds with a [`ManualClock`].
//!
//! The clock also says what time it is on the calendar ([`Clock::wall`]): the run's wall
//! start (the system clock, or `--now`) plus the run time. [`system_now`] is the one place
//! the run reads the system's calendar clock; everything else asks a `Clock`.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::units::{Duration, Timestamp};

/// The system's calendar time, whole seconds since the epoch (UTC).
pub fn system_now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    )
}

/// How long from now (the system's calendar time, to the microsecond) until `at`; zero when
/// it has passed. A sharded run sleeps this long so that every shard starts at `at`.
pub fn until_wall(at: Timestamp) -> std::time::Duration {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(at.0.max(0) as u64);
    at.duration_since(std::time::SystemTime::now())
        .unwrap_or_default()
}

/// The system's calendar time in milliseconds since the epoch, fractions kept: when a shard
/// started, so the merge can say how close together the shards began.
pub fn system_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Run time: a monotonic offset from the run's start.
pub trait Clock: Send + Sync {
    /// Time since the run started.
    fn now(&self) -> Duration;
    /// Completes when `now() >= at`.
    fn sleep_until(&self, at: Duration) -> Sleep;
    /// The calendar time when the run started.
    fn wall_start(&self) -> Timestamp;
    /// The calendar time now: the wall start plus the run time, whole seconds.
    fn wall(&self) -> Timestamp {
        Timestamp(self.wall_start().0 + (self.now().secs().floor() as i64))
    }
}

/// The wall clock (tokio's monotonic timer).
pub struct RealClock {
    start: tokio::time::Instant,
    wall_start: Timestamp,
}

impl RealClock {
    /// Starts now; the calendar says `wall_start` at this instant (the system clock, or a
    /// fixed `--now`).
    pub fn start(wall_start: Timestamp) -> RealClock {
        RealClock {
            start: tokio::time::Instant::now(),
            wall_start,
        }
    }
}

impl Clock for RealClock {
    fn now(&self) -> Duration {
        Duration(self.start.elapsed().as_secs_f64() * 1000.0)
    }

    fn sleep_until(&self, at: Duration) -> Sleep {
        let deadline = self.start + at.to_std();
        Box::pin(tokio::time::sleep_until(deadline))
    }

    fn wall_start(&self) -> Timestamp {
        self.wall_start
    }
}

/// A seed for a run that was given none: the low bits of the system clock's nanoseconds
/// (recorded in the report, so the run can be repeated).
pub fn fresh_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 & 0xffff_ffff)
        .unwrap_or(1)
}

/// A clock that only moves when told to: `advance` wakes every sleeper whose time has come.
#[derive(Clone, Default)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Default)]
struct ManualInner {
    now_ms: Mutex<f64>,
    moved: Notify,
    wall_start: Timestamp,
}

impl ManualClock {
    /// Starts at run time 0, on the calendar at the epoch.
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// Starts at run time 0, on the calendar at `wall_start`.
    pub fn at(wall_start: Timestamp) -> ManualClock {
        ManualClock {
            inner: Arc::new(ManualInner {
                wall_start,
                ..ManualInner::default()
            }),
        }
    }

    /// Moves time forward and wakes the sleepers that are due.
    pub fn advance(&self, by: Duration) {
        *self.inner.now_ms.lock().unwrap_or_else(|p| p.into_inner()) += by.0;
        self.inner.moved.notify_waiters();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration(*self.inner.now_ms.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn sleep_until(&self, at: Duration) -> Sleep {
        let inner = self.inner.clone();
        Box::pin(async move {
            loop {
                let notified = inner.moved.notified();
                if *inner.now_ms.lock().unwrap_or_else(|p| p.into_inner()) >= at.0 {
                    return;
                }
                notified.await;
            }
        })
    }

    fn wall_start(&self) -> Timestamp {
        self.inner.wall_start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_wakes_sleepers_in_order() {
        let clock = ManualClock::new();
        let c2 = clock.clone();
        let woke = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for at in [3000.0, 1000.0, 2000.0] {
            let (c, w) = (c2.clone(), woke.clone());
            tasks.push(tokio::spawn(async move {
                c.sleep_until(Duration(at)).await;
                w.lock().unwrap().push((at, c.now().0));
            }));
        }
        tokio::task::yield_now().await;
        for _ in 0..3 {
            clock.advance(Duration(1000.0));
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        let w = woke.lock().unwrap();
        assert_eq!(w.len(), 3);
        assert!(w.iter().all(|(at, now)| now >= at), "{w:?}");
    }
}
