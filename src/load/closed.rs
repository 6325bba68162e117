//! The closed model: a fixed number of virtual users, each with its own connection, sending a
//! request, waiting for the response, thinking, and again — what wrk does with no think time.
//!
//! Each user has its own RNG stream (the run's seed mixed with the user's number), so mix
//! choices and template values repeat with the seed. `set_scale` parks the users beyond
//! `users × scale` rather than changing anyone's pace.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::connection::Connection;
use super::error_kind::ErrorKind;
use super::shared::{stream_seed, Shared};
use super::template::RenderState;
use super::watchdog::Watchdog;
use super::worker::send;
use crate::units;

pub(crate) async fn user(
    shared: Arc<Shared>,
    index: u32,
    users: u32,
    think: Option<(units::Duration, units::Duration)>,
) {
    let mut rng = StdRng::seed_from_u64(stream_seed(shared.seed, u64::from(index)));
    let mut rows = Vec::new();
    let mut conn: Option<Connection> = None;
    let mut watchdog = Watchdog::new();
    let single = shared.mix.requests.len() == 1;
    loop {
        if shared.over() {
            return;
        }
        let active = (f64::from(users) * shared.scale()).ceil();
        if f64::from(index) >= active {
            conn = None;
            if pause(&shared, Duration::from_millis(100)).await {
                return;
            }
            continue;
        }
        let request = if single { 0 } else { shared.mix.pick(&mut rng) };
        let req = &shared.mix.requests[request];
        let rendered = if req.is_static() {
            None
        } else {
            let seq = shared
                .seq
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut state = RenderState::new(&mut rng, seq, &mut rows, &shared.mix.feeders);
            match req.render(&mut state, &shared.mix.feeders) {
                Ok(r) => r,
                Err(_) => {
                    shared.stats.record_unsendable(req.service);
                    continue;
                }
            }
        };
        let sent_at = Instant::now();
        shared.started(req.service);
        let result = send(&shared, &mut conn, &mut watchdog, req, rendered, sent_at).await;
        let elapsed = sent_at.elapsed();
        shared
            .stats
            .record(req.service, elapsed, elapsed, None, result.err());
        let wait = match (result, think) {
            // A target that refuses or cannot be reached is retried after a short pause
            // rather than in a tight loop.
            (Err(ErrorKind::Refused | ErrorKind::Dns | ErrorKind::Tls), _) => {
                Duration::from_millis(10)
            }
            (_, Some((lo, hi))) if hi.0 > lo.0 => {
                Duration::from_secs_f64(rng.random_range(lo.secs()..hi.secs()))
            }
            (_, Some((lo, _))) => lo.to_std(),
            (_, None) => Duration::ZERO,
        };
        if !wait.is_zero() && pause(&shared, wait).await {
            return;
        }
    }
}

/// Sleeps for `d`, cut short by the end of the run; true if the run is over.
async fn pause(shared: &Shared, d: Duration) -> bool {
    let until = (Instant::now() + d).min(shared.end);
    tokio::select! {
        _ = tokio::time::sleep_until(tokio::time::Instant::from_std(until)) => {}
        _ = shared.stop.wait() => return true,
    }
    shared.over()
}
