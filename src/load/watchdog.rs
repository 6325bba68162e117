//! Per-request timeouts without a timer registration per request.
//!
//! `tokio::time::timeout` arms and clears a timer-wheel entry for every request, a visible
//! cost at 100,000 requests a second. A worker's requests are sequential and their deadlines
//! only move forward, so one long-lived timer serves them all: it stays armed at some past
//! request's deadline, and when it fires early the watchdog re-arms it at the current
//! deadline instead of failing the request. It fires about once per timeout period, not once
//! per request.

use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::task::Poll;

use tokio::time::{Instant, Sleep};

pub(crate) struct Watchdog {
    timer: Pin<Box<Sleep>>,
}

impl Watchdog {
    pub fn new() -> Watchdog {
        Watchdog {
            timer: Box::pin(tokio::time::sleep_until(Instant::now())),
        }
    }

    /// Runs `work` until it finishes (`Some`) or `deadline` passes (`None`).
    pub async fn run<F: Future>(&mut self, deadline: Instant, work: F) -> Option<F::Output> {
        let mut work = pin!(work);
        if self.timer.deadline() > deadline {
            self.timer.as_mut().reset(deadline);
        }
        poll_fn(|cx| {
            if let Poll::Ready(out) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(out));
            }
            loop {
                match self.timer.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) if Instant::now() >= deadline => return Poll::Ready(None),
                    Poll::Ready(()) => self.timer.as_mut().reset(deadline),
                }
            }
        })
        .await
    }
}
