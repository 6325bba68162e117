//! Time, injected: the interpreter asks a [`Clock`] what time it is in the run and sleeps on
//! it, so tests can drive a scenario of minutes in milliseconds with a [`ManualClock`].

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::units::Duration;

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Run time: a monotonic offset from the run's start.
pub trait Clock: Send + Sync {
    /// Time since the run started.
    fn now(&self) -> Duration;
    /// Completes when `now() >= at`.
    fn sleep_until(&self, at: Duration) -> Sleep;
}

/// The wall clock (tokio's monotonic timer).
pub struct RealClock {
    start: tokio::time::Instant,
}

impl RealClock {
    pub fn start() -> RealClock {
        RealClock {
            start: tokio::time::Instant::now(),
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
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock::default()
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
