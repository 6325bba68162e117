//! Counters of one proxy, updated with relaxed atomics on the data path.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// A proxy's counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProxyStats {
    /// Client connections accepted.
    pub connections: u64,
    /// Client connections open now.
    pub active_connections: u64,
    /// HTTP requests received (HTTP mode).
    pub requests: u64,
    pub bytes_to_upstream: u64,
    pub bytes_to_client: u64,
    /// Upstream connections that failed (refused, timed out) or broke mid-request.
    pub upstream_errors: u64,
    /// Connections (TCP) or requests (HTTP) a fault acted on.
    pub faulted: u64,
    pub resets: u64,
    /// HTTP error answers injected.
    pub injected_errors: u64,
    /// Connections or requests closed by a `timeout` fault.
    pub timeouts: u64,
    /// Connections or requests held by a `blackhole` fault.
    pub blackholed: u64,
    pub delayed: u64,
    /// HTTP mode: requests answered or dropped (an `on stressed(...)` ranking reads these for
    /// services only the proxy sees), how many of those were 5xx or dropped, and the sum of
    /// their times from request to response headers (microseconds), faults included.
    pub answered: u64,
    pub failed_answers: u64,
    pub latency_us_sum: u64,
    /// A splitting proxy: requests answered 503, or connections closed, because no server
    /// was ready with a weight (all in `drain` or `maint`, or weighted 0).
    pub no_server: u64,
    pub active_faults: usize,
}

#[derive(Debug, Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub active_connections: AtomicU64,
    pub requests: AtomicU64,
    pub bytes_to_upstream: AtomicU64,
    pub bytes_to_client: AtomicU64,
    pub upstream_errors: AtomicU64,
    pub faulted: AtomicU64,
    pub resets: AtomicU64,
    pub injected_errors: AtomicU64,
    pub timeouts: AtomicU64,
    pub blackholed: AtomicU64,
    pub delayed: AtomicU64,
    pub answered: AtomicU64,
    pub failed_answers: AtomicU64,
    pub latency_us_sum: AtomicU64,
    pub no_server: AtomicU64,
}

#[inline]
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

#[inline]
pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    pub fn snapshot(&self, active_faults: usize) -> ProxyStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        ProxyStats {
            connections: g(&self.connections),
            active_connections: g(&self.active_connections),
            requests: g(&self.requests),
            bytes_to_upstream: g(&self.bytes_to_upstream),
            bytes_to_client: g(&self.bytes_to_client),
            upstream_errors: g(&self.upstream_errors),
            faulted: g(&self.faulted),
            resets: g(&self.resets),
            injected_errors: g(&self.injected_errors),
            timeouts: g(&self.timeouts),
            blackholed: g(&self.blackholed),
            delayed: g(&self.delayed),
            answered: g(&self.answered),
            failed_answers: g(&self.failed_answers),
            latency_us_sum: g(&self.latency_us_sum),
            no_server: g(&self.no_server),
            active_faults,
        }
    }
}

/// Decrements `active_connections` when a connection task ends, however it ends.
pub struct ActiveGuard<'a>(pub &'a Counters);

impl<'a> ActiveGuard<'a> {
    pub fn new(c: &'a Counters) -> ActiveGuard<'a> {
        bump(&c.connections);
        bump(&c.active_connections);
        ActiveGuard(c)
    }
}

impl Drop for ActiveGuard<'_> {
    fn drop(&mut self) {
        self.0.active_connections.fetch_sub(1, Ordering::Relaxed);
    }
}
