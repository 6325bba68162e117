//! Releasing the open model's requests on time, in three ways.
//!
//! With `RES_PACER=lanes` (Linux, plain requests), *precise* pacing runs the issuer on a
//! thread of its own that hands tickets a millisecond or two ahead of their time to the load
//! threads' lanes, which release each at its time from their own event loops
//! (`super::lanes`; [`ahead`] below). Otherwise (the default) precise pacing runs the issuer on a dedicated OS thread with a 1 µs timer slack, which
//! sleeps until the next intended time and hands over every ticket then due. Wake-ups are
//! batched: one closer than [`BATCH`] to the last release waits for the end of that window
//! and releases everything due by then in one go, so at high rates the pacer thread and the
//! workers' event loops wake once per batch rather than once per request (a wake-up costs
//! tens of microseconds of CPU, several times what sending the request does). Each ticket
//! keeps its own intended time, so the wait counts in its latency and its send lag (at most
//! `BATCH`); when arrivals are further apart than `BATCH` each leaves on its own time, as
//! before. *Batched* pacing runs it as a task on the runtime, waking on tokio's millisecond
//! timer and releasing everything due: about a millisecond of lag, fewer wake-ups still. Both
//! stop refilling the queue when the workers fall behind and catch up from the schedule
//! afterwards, so nothing is dropped.

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

/// Whether precise pacing of plain requests uses the load threads' lanes: only when
/// `RES_PACER=lanes` asks for it (on Linux). Measured on the 2-core benchmark machine
/// (docs/benchmarks.md) it keeps the send lag of a wake-up per request (median 0.03–0.05 ms
/// at 5,000/s) but costs about as much CPU as that too, so the pacer thread with batched
/// wake-ups stays the default.
pub(crate) fn use_lanes() -> bool {
    cfg!(target_os = "linux") && std::env::var("RES_PACER").is_ok_and(|v| v.trim() == "lanes")
}

/// How far ahead of their time [`ahead`] hands tickets to the lanes: between half this and
/// this. Larger means fewer wake-ups of the pacer thread, but a rate change or a stop takes
/// effect that much later.
const LEAD: Duration = Duration::from_millis(2);

/// [`LEAD`], or `RES_PACER_LEAD_US` microseconds (at least 100; for benchmarks).
fn lead() -> Duration {
    std::env::var("RES_PACER_LEAD_US")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(LEAD, |us| Duration::from_micros(us.clamp(100, 100_000)))
}

/// Runs `issuer` on its own thread, handing tickets ahead of time to the lanes; `done`
/// fires when it has finished.
pub(crate) fn spawn_ahead(mut issuer: Issuer, done: oneshot::Sender<()>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("res-pacer".into())
        .spawn(move || {
            ahead(&mut issuer);
            finish(&mut issuer);
            let _ = done.send(());
        })
        .map(|_| ())
}

/// Issues every ticket due within [`lead`], then sleeps until the next is due within it, at
/// least `LEAD / 2` later: one wake-up per millisecond or so, whatever the rate.
fn ahead(issuer: &mut Issuer) {
    const SLICE: Duration = Duration::from_millis(5);
    let lead = lead();
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
                if t > now + lead {
                    let wake = (t - lead).max(now + lead / 2);
                    std::thread::sleep((wake - now).min(SLICE));
                } else if issuer.backlogged() {
                    std::thread::sleep(Duration::from_micros(200));
                } else {
                    issuer.issue();
                }
            }
        }
    }
}

/// Wake-ups of the precise pacer closer together than this are merged into one.
pub(crate) const BATCH: Duration = Duration::from_micros(500);

/// The batch window: [`BATCH`], or `RES_PACER_BATCH_US` microseconds (0: a wake-up per
/// request, as before batching; for benchmarks/bench-load.sh to compare in one run).
fn batch_window() -> Duration {
    std::env::var("RES_PACER_BATCH_US")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(BATCH, |us| Duration::from_micros(us.min(100_000)))
}

fn precise(issuer: &mut Issuer) {
    const SLICE: Duration = Duration::from_millis(5);
    let batch = batch_window();
    // When the pacer last released a batch: the next wake-up is at least `BATCH` later.
    let mut released: Option<Instant> = None;
    let mut releasing = false;
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
                    // A batch ends with the first ticket not yet due.
                    releasing = false;
                    let wake = released.map_or(t, |r| t.max(r + batch));
                    if wake > now {
                        std::thread::sleep((wake - now).min(SLICE));
                    }
                } else if issuer.backlogged() {
                    std::thread::sleep(Duration::from_micros(200));
                } else {
                    if !releasing {
                        releasing = true;
                        released = Some(now);
                    }
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
