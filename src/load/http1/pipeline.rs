//! The closed model with HTTP/1.1 pipelining: each user keeps up to `depth` requests in
//! flight on its connection, writing new ones in one `write` as responses come back, as wrk's
//! pipelining scripts do. For maximum-throughput runs against servers that allow it; the
//! plain closed loop (`super::super::closed`) is the default.
//!
//! Each request's latency runs from its own write to the end of its own response. When the
//! connection breaks, the request whose response was being read gets the error's kind and the
//! ones queued behind it are counted as resets: they were sent and never answered.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::Http1;
use crate::load::connection::resolve;
use crate::load::error_kind::ErrorKind;
use crate::load::shared::{stream_seed, Shared};
use crate::load::template::RenderState;
use crate::load::watchdog::Watchdog;

/// One pipelining user; `depth` ≥ 1 requests in flight at most.
pub(crate) async fn user(shared: Arc<Shared>, index: u32, users: u32, depth: usize) {
    let mut rng = StdRng::seed_from_u64(stream_seed(shared.seed, u64::from(index)));
    let mut rows = Vec::new();
    let mut conn: Option<Http1> = None;
    let mut watchdog = Watchdog::new();
    let mut inflight: VecDeque<(Instant, usize)> = VecDeque::with_capacity(depth);
    loop {
        let over = shared.over();
        if over && inflight.is_empty() {
            return;
        }
        let active = (f64::from(users) * shared.scale()).ceil();
        if inflight.is_empty() && f64::from(index) >= active {
            conn = None;
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        let c = match conn.as_mut().filter(|c| c.open) {
            Some(c) => c,
            None => {
                fail_all(&shared, &mut inflight, ErrorKind::Reset);
                if over {
                    return;
                }
                let started = Instant::now();
                let deadline =
                    tokio::time::Instant::from_std(started + shared.mix.requests[0].timeout);
                match watchdog.run(deadline, connect(&shared)).await {
                    Some(Ok(c)) => conn.insert(c),
                    failed => {
                        let kind = failed
                            .map_or(ErrorKind::Timeout, |r| r.err().unwrap_or(ErrorKind::Other));
                        let service = shared.mix.requests[0].service;
                        shared.started(service);
                        let elapsed = started.elapsed();
                        shared
                            .stats
                            .record(service, elapsed, elapsed, None, Some(kind));
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                }
            }
        };
        // Top up the window once it is half empty, with new requests in one write: a write
        // per response would cost a system call per request.
        let refill = inflight.len() <= depth / 2;
        for _ in 0..depth * 2 {
            if over || !refill || inflight.len() >= depth {
                break;
            }
            let request = shared.mix.pick(&mut rng);
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
            let mut scratch = std::mem::take(&mut c.scratch);
            if let Some(wire) = req.wire(rendered, &mut scratch) {
                scratch.extend_from_slice(wire);
            }
            c.scratch = scratch;
            shared.started(req.service);
            inflight.push_back((Instant::now(), request));
        }
        if !c.scratch.is_empty() {
            if let Err(kind) = c.send_scratch().await {
                fail_all(&shared, &mut inflight, kind);
                conn = None;
                continue;
            }
        }
        let Some(&(sent_at, request)) = inflight.front() else {
            // Nothing could be rendered: let the others run rather than spin.
            tokio::task::yield_now().await;
            continue;
        };
        let req = &shared.mix.requests[request];
        let deadline = tokio::time::Instant::from_std(sent_at + req.timeout);
        let result = watchdog
            .run(deadline, c.receive(req.is_head(), shared.body_limit))
            .await
            .unwrap_or(Err(ErrorKind::Timeout));
        inflight.pop_front();
        let error = match result {
            Ok(status) => {
                shared.stats.status(req.service, status);
                (!req.accepts(status)).then_some(ErrorKind::Status)
            }
            Err(kind) => {
                c.open = false;
                Some(kind)
            }
        };
        let elapsed = sent_at.elapsed();
        shared
            .stats
            .record(req.service, elapsed, elapsed, None, error);
    }
}

async fn connect(shared: &Shared) -> Result<Http1, ErrorKind> {
    let addr = resolve(&shared.target).await?;
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| ErrorKind::from_io(&e))?;
    let _ = tcp.set_nodelay(true);
    Ok(Http1::new(tcp))
}

/// Counts every request still in flight as failed with `kind`.
fn fail_all(shared: &Shared, inflight: &mut VecDeque<(Instant, usize)>, kind: ErrorKind) {
    for (sent_at, request) in inflight.drain(..) {
        let service = shared.mix.requests[request].service;
        let elapsed = sent_at.elapsed();
        shared
            .stats
            .record(service, elapsed, elapsed, None, Some(kind));
    }
}
