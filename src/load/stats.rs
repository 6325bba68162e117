//! Recording outcomes as they happen: HDR histograms in a few shards, merged once a second.
//!
//! Workers never keep samples: each outcome is two histogram increments and a counter in the
//! shard of the thread it completes on (a mutex nobody else takes except the once-a-second
//! collector), so memory does not grow with the run and 10,000 connections do not mean
//! 10,000 histograms. Latencies are in microseconds with three significant digits.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use hdrhistogram::Histogram;

use super::error_kind::{ErrorCounts, ErrorKind};

/// A latency histogram: microseconds, 3 significant digits, growing as needed.
pub(crate) fn histogram() -> Histogram<u64> {
    let mut h = Histogram::new(3).expect("3 significant digits is a valid histogram");
    h.auto(true);
    h
}

pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Records `d`, growing the histogram as needed (`saturating_record` would clamp instead).
fn record(h: &mut Histogram<u64>, d: Duration) {
    let v = micros(d);
    if h.record(v).is_err() {
        h.saturating_record(v);
    }
}

/// What one service accumulated in one interval.
#[derive(Clone)]
pub(crate) struct ServiceStats {
    /// From the intended send time to the last byte of the response.
    pub latency: Histogram<u64>,
    /// From the actual send to the last byte.
    pub service_time: Histogram<u64>,
    pub requests: u64,
    pub errors: ErrorCounts,
    /// Responses by status code, expected or not.
    pub statuses: StatusCounts,
}

/// Responses counted by status code, in the order first seen: a handful of codes in
/// practice, so a short list beats a map on the per-request path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StatusCounts(Vec<(u16, u64)>);

impl StatusCounts {
    pub fn add(&mut self, code: u16, n: u64) {
        match self.0.iter_mut().find(|(c, _)| *c == code) {
            Some((_, count)) => *count += n,
            None => self.0.push((code, n)),
        }
    }

    pub fn merge(&mut self, other: &StatusCounts) {
        for &(code, n) in &other.0 {
            self.add(code, n);
        }
    }

    /// The counts by code, lowest code first.
    pub fn by_code(&self) -> std::collections::BTreeMap<u16, u64> {
        self.0.iter().copied().collect()
    }
}

impl ServiceStats {
    pub fn new() -> ServiceStats {
        ServiceStats {
            latency: histogram(),
            service_time: histogram(),
            requests: 0,
            errors: ErrorCounts::default(),
            statuses: StatusCounts::default(),
        }
    }

    pub fn merge(&mut self, other: &ServiceStats) {
        // Both histograms auto-resize, so adding cannot fail for lack of range.
        let _ = self.latency.add(&other.latency);
        let _ = self.service_time.add(&other.service_time);
        self.requests += other.requests;
        self.errors.merge(&other.errors);
        self.statuses.merge(&other.statuses);
    }

    pub fn reset(&mut self) {
        self.latency.reset();
        self.service_time.reset();
        self.requests = 0;
        self.errors = ErrorCounts::default();
        self.statuses = StatusCounts::default();
    }
}

/// One shard: per-service stats and the send lag.
pub(crate) struct Shard {
    pub services: Vec<ServiceStats>,
    pub lag: Histogram<u64>,
}

/// All shards of one run.
pub(crate) struct Stats {
    shards: Box<[Mutex<Shard>]>,
    /// Per shard, per service: requests that left. Counted when a request starts, outside
    /// the lock; each shard's counters are a separate allocation, so threads do not contend
    /// for a cache line.
    started: Box<[Box<[AtomicU64]>]>,
}

static NEXT_THREAD: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static THREAD_SLOT: usize = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
}

impl Stats {
    pub fn new(services: usize) -> Stats {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        let shards = (threads * 2).clamp(2, 32);
        Stats {
            shards: (0..shards)
                .map(|_| {
                    Mutex::new(Shard {
                        services: (0..services).map(|_| ServiceStats::new()).collect(),
                        lag: histogram(),
                    })
                })
                .collect(),
            started: (0..shards)
                .map(|_| (0..services).map(|_| AtomicU64::new(0)).collect())
                .collect(),
        }
    }

    fn slot(&self) -> usize {
        THREAD_SLOT.with(|s| *s) % self.shards.len()
    }

    fn shard(&self) -> MutexGuard<'_, Shard> {
        self.shards[self.slot()]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// A request for `service` leaves.
    pub fn started(&self, service: usize) {
        self.started[self.slot()][service].fetch_add(1, Ordering::Relaxed);
    }

    /// Requests for `service` that left since the start.
    pub fn started_total(&self, service: usize) -> u64 {
        self.started
            .iter()
            .map(|s| s[service].load(Ordering::Relaxed))
            .sum()
    }

    /// A request finished (successfully or not). `lag` is how late it was sent after its
    /// intended time; `None` in the closed model, where there is no schedule to be late for.
    /// A request that could not be built (a template rendered to an invalid URI or header):
    /// an error of its service that took no time.
    pub fn record_unsendable(&self, service: usize) {
        self.record(
            service,
            Duration::ZERO,
            Duration::ZERO,
            None,
            Some(ErrorKind::Other),
        );
    }

    pub fn record(
        &self,
        service: usize,
        latency: Duration,
        service_time: Duration,
        lag: Option<Duration>,
        error: Option<ErrorKind>,
    ) {
        let mut shard = self.shard();
        if let Some(lag) = lag {
            record(&mut shard.lag, lag);
        }
        let s = &mut shard.services[service];
        record(&mut s.latency, latency);
        record(&mut s.service_time, service_time);
        s.requests += 1;
        if let Some(kind) = error {
            s.errors.add(kind);
        }
    }

    /// A response with status `code` arrived for `service` (whether the request expects it
    /// or not), so summaries can say which codes the target answered.
    pub fn status(&self, service: usize, code: u16) {
        self.shard().services[service].statuses.add(code, 1);
    }

    /// Moves every shard's contents into `into` (per service) and `lag`, leaving the
    /// shards empty.
    pub fn drain(&self, into: &mut [ServiceStats], lag: &mut Histogram<u64>) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            for (dst, src) in into.iter_mut().zip(shard.services.iter_mut()) {
                if src.requests > 0 {
                    dst.merge(src);
                    src.reset();
                }
            }
            let _ = lag.add(&shard.lag);
            shard.lag.reset();
        }
    }
}
