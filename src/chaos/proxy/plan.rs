//! What the faults in force do to one request, decided once from its method, path and
//! headers; shared by the hyper path ([`super::http`]) and the HTTP/1.1 forwarding path
//! ([`super::h1`]), with the splitter's per-request choice.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::fault::{FaultId, Toxic};
use super::io::ConnState;
use super::matcher::RequestView;
use super::schedule::{jittered, Shaping};
use super::table::{coin, FaultSet};
use super::Shared;

/// What the faults in force do to one request.
#[derive(Debug, Default)]
pub(super) struct RequestPlan {
    pub hit: bool,
    pub reset: bool,
    pub blackhole: Option<FaultId>,
    pub timeout: Option<Duration>,
    pub error: Option<(u16, String)>,
    pub delay: Duration,
    pub shaping: Shaping,
}

impl RequestPlan {
    pub fn of<R: RequestView + ?Sized>(set: &FaultSet, req: &R) -> RequestPlan {
        let mut plan = RequestPlan::default();
        for fault in &set.faults {
            let spec = &fault.spec;
            if !spec.routes.is_empty() && !spec.routes.iter().any(|r| r.matches(req)) {
                continue;
            }
            if !spec.matchers.iter().all(|m| m.matches(req)) || !coin(spec.toxicity) {
                continue;
            }
            let mut acted = false;
            for toxic in &spec.toxics {
                match toxic {
                    Toxic::Latency {
                        latency,
                        jitter,
                        per_chunk: false,
                    } => {
                        plan.delay += jittered(*latency, *jitter);
                        acted = true;
                    }
                    Toxic::Latency { .. } | Toxic::Bandwidth { .. } | Toxic::Slice { .. } => {
                        plan.shaping.add(toxic);
                        acted = true;
                    }
                    Toxic::Errors { status, rate } => {
                        if plan.error.is_none() && coin(*rate) {
                            plan.error = Some((*status, spec.name.clone()));
                            acted = true;
                        }
                    }
                    Toxic::Reset { rate } => {
                        if coin(*rate) {
                            plan.reset = true;
                            acted = true;
                        }
                    }
                    Toxic::Blackhole { rate } => {
                        if plan.blackhole.is_none() && coin(*rate) {
                            plan.blackhole = Some(fault.id);
                            acted = true;
                        }
                    }
                    Toxic::Timeout { after } => {
                        plan.timeout = Some(plan.timeout.map_or(*after, |t| t.min(*after)));
                        acted = true;
                    }
                    // Acts on the connection's close, in `ProxyIo`.
                    Toxic::SlowClose { .. } => {}
                }
            }
            if acted {
                fault.hits.fetch_add(1, Ordering::Relaxed);
                plan.hit = true;
            }
        }
        plan
    }
}

/// Waits until fault `id` is removed or the proxy stops.
pub(super) async fn until_removed(shared: &Shared, id: FaultId) {
    let mut stop = shared.stop.clone();
    loop {
        let changed = shared.table.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        if !shared.table.snapshot().contains(id) || *stop.borrow() {
            return;
        }
        tokio::select! {
            _ = &mut changed => {}
            _ = stop.changed() => {}
        }
    }
}

/// The server a request goes to: 0 with one upstream, else the splitter's next choice;
/// `None` when no server takes traffic.
#[inline]
pub(super) fn choose(shared: &Shared, conn: &ConnState) -> Option<usize> {
    let Some(split) = &shared.split else {
        return Some(0);
    };
    let picked = split.pick(&mut conn.split.lock().unwrap_or_else(|e| e.into_inner()));
    if let Some(i) = picked {
        split.sent(i);
    }
    picked
}

/// Records a connection's outcome or a broken request on a splitter's server.
pub(super) fn note(shared: &Shared, server: usize, connected: bool) {
    if let Some(split) = &shared.split {
        split.connected(server, connected);
    }
}

/// Whether a fault in `set` shapes response bodies (bandwidth, slices, per-chunk latency):
/// those stay on hyper's body path, which stamps chunks as they arrive.
pub(super) fn shapes(set: &FaultSet) -> bool {
    set.faults.iter().any(|f| {
        f.spec.toxics.iter().any(|t| {
            matches!(
                t,
                Toxic::Bandwidth { .. }
                    | Toxic::Slice { .. }
                    | Toxic::Latency {
                        per_chunk: true,
                        ..
                    }
            )
        })
    })
}
