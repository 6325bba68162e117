//! The session model: each arrival is a visitor who walks a session's visits in order,
//! waiting for each response and thinking before the next request.
//!
//! A session is a task of its own, but it sends through the shared queue, so the
//! `connections` bound still holds and every request's latency still counts from the moment
//! the visitor meant to send it (its arrival, or the end of its think time).

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::oneshot;

use super::queue::Ticket;
use super::shared::Shared;
use super::spec::{SessionSpec, VisitTarget};
use super::template::RenderState;

/// The sessions of a run, with their weights as a cumulative table.
pub(crate) struct SessionPlan {
    pub sessions: Vec<SessionSpec>,
    pub cumulative: Vec<f64>,
}

impl SessionPlan {
    pub fn new(sessions: Vec<SessionSpec>) -> Result<SessionPlan, String> {
        if sessions.is_empty() {
            return Err("the session model needs at least one session".into());
        }
        let mut sum = 0.0;
        let mut cumulative = Vec::new();
        for s in &sessions {
            if !(s.weight.is_finite() && s.weight > 0.0) {
                return Err(format!("session `{}` needs a positive weight", s.name));
            }
            if s.visits.is_empty() {
                return Err(format!("session `{}` has no visits", s.name));
            }
            sum += s.weight;
            cumulative.push(sum);
        }
        Ok(SessionPlan {
            sessions,
            cumulative,
        })
    }

    pub fn targets(&self) -> impl Iterator<Item = &VisitTarget> {
        self.sessions
            .iter()
            .flat_map(|s| s.visits.iter().map(|v| &v.target))
    }
}

pub(crate) async fn run_session(
    shared: Arc<Shared>,
    plan: Arc<SessionPlan>,
    kind: usize,
    seed: u64,
    start: Instant,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut rows = Vec::new();
    let mut intended = start;
    let mut seq = 0u64;
    for visit in &plan.sessions[kind].visits {
        for _ in 0..visit.repeat.max(1) {
            if shared.stop.is_set() || intended >= shared.end {
                return;
            }
            let request = shared.mix.pick_visit(&visit.target, &mut rng);
            if !visit_request(&shared, request, intended, &mut rng, seq, &mut rows).await {
                return;
            }
            seq += 1;
            let think = match visit.think {
                Some((lo, hi)) if hi.0 > lo.0 => rng.random_range(lo.secs()..hi.secs()),
                Some((lo, _)) => lo.secs(),
                None => 0.0,
            };
            intended = Instant::now() + Duration::from_secs_f64(think.max(0.0));
            if think > 0.0 {
                tokio::select! {
                    _ = tokio::time::sleep_until(tokio::time::Instant::from_std(intended)) => {}
                    _ = shared.stop.wait() => return,
                }
            }
        }
    }
}

/// One request of a session: rendered, queued for `intended`, and waited for. False once the
/// run is over. A template that does not render counts as an error of that request.
pub(crate) async fn visit_request(
    shared: &Shared,
    request: usize,
    intended: Instant,
    rng: &mut StdRng,
    seq: u64,
    rows: &mut Vec<Option<usize>>,
) -> bool {
    match queue_request(shared, request, intended, rng, seq, rows) {
        // An error means the queue was closed: the run is over.
        Some(rx) => rx.await.is_ok(),
        None => true,
    }
}

/// Renders a session's request, counts it as offered and queues it for `intended`; the
/// receiver is told when the response is in. `None` when the template did not render
/// (counted as an error of that request).
pub(crate) fn queue_request(
    shared: &Shared,
    request: usize,
    intended: Instant,
    rng: &mut StdRng,
    seq: u64,
    rows: &mut Vec<Option<usize>>,
) -> Option<oneshot::Receiver<()>> {
    let req = &shared.mix.requests[request];
    shared.offered[req.service].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut state = RenderState::new(rng, seq, rows, &shared.mix.feeders);
    match req.render(&mut state, &shared.mix.feeders) {
        Ok(rendered) => {
            let (tx, rx) = oneshot::channel();
            shared.queue.push(Ticket {
                intended,
                request,
                rendered,
                done: Some(tx),
            });
            Some(rx)
        }
        Err(_) => {
            shared.stats.record_unsendable(req.service);
            None
        }
    }
}
