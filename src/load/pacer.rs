//! Releasing the open model's requests on time, in two ways.
//!
//! *Precise* pacing runs the issuer on a dedicated OS thread with a 1 µs timer slack, which
//! sleeps until each intended time and hands the ticket over: send lag is tens of
//! microseconds, at the price of a thread wake-up per request. *Batched* pacing runs it as a
//! task on the runtime, waking on tokio's millisecond timer and releasing everything due: about
//! a millisecond of lag, fewer wake-ups. Both stop refilling the queue when the workers fall
//! behind and catch up from the schedule afterwards, so nothing is dropped.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::issuer::{Due, Issuer};

/// Runs `issuer` on its own thread; `done` fires when it has finished.
pub(crate) fn spawn_precise(mut issuer: Issuer, done: oneshot::Sender<()>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("res-pacer".into())
        .spawn(move || {
            #[cfg(target_os = "linux")]
            let _ = nix::sys::prctl::set_timerslack(1_000);
            precise(&mut issuer);
            finish(&mut issuer);
            let _ = done.send(());
        })
        .map(|_| ())
}

fn precise(issuer: &mut Issuer) {
    const SLICE: Duration = Duration::from_millis(5);
    loop {
        if issuer.shared.stop.is_set() {
            return;
        }
        match issuer.due() {
            Due::Ended => return,
            Due::Paused => {
                std::thread::sleep(SLICE);
                issuer.skip_to_now();
            }
            Due::At(t) => {
                let now = Instant::now();
                if t > now {
                    std::thread::sleep((t - now).min(SLICE));
                } else if issuer.backlogged() {
                    std::thread::sleep(Duration::from_micros(200));
                } else {
                    issuer.issue();
                }
            }
        }
    }
}

/// Runs `issuer` as a task on the runtime.
pub(crate) async fn batched(mut issuer: Issuer) {
    loop {
        if issuer.shared.stop.is_set() {
            break;
        }
        match issuer.due() {
            Due::Ended => break,
            Due::Paused => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                issuer.skip_to_now();
            }
            Due::At(t) => {
                let now = Instant::now();
                if t > now {
                    let shared = issuer.shared.clone();
                    tokio::select! {
                        _ = tokio::time::sleep_until(tokio::time::Instant::from_std(t)) => {}
                        _ = shared.stop.wait() => {}
                    }
                } else if issuer.backlogged() {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                } else {
                    issuer.issue();
                }
            }
        }
    }
    finish(&mut issuer);
}

fn finish(issuer: &mut Issuer) {
    let overdue = issuer.count_overdue();
    issuer.shared.unsent.fetch_add(overdue, Ordering::Relaxed);
    issuer.shared.intended.fetch_add(overdue, Ordering::Relaxed);
}
