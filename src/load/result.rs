//! What a run measured: totals per service, the per-second series and the send lag — the
//! data behind the report and `res load --format json`.
//!
//! Latencies are milliseconds. `latency_ms` counts from the intended send time (what a user
//! of the target would have seen), `service_time_ms` from the moment the request actually
//! left; in the closed model they are the same.

use hdrhistogram::Histogram;
use serde::Serialize;

use super::error_kind::ErrorCounts;
use super::stats::ServiceStats;

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Percentiles {
    /// From a histogram of microseconds.
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Percentiles {
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

/// One service over the whole run.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceTotals {
    pub service: String,
    /// Finished requests, failed ones included.
    pub requests: u64,
    pub errors: u64,
    pub errors_by_kind: ErrorCounts,
    /// Responses by status code (`"200": 950, "503": 50`), expected or not.
    pub statuses: std::collections::BTreeMap<u16, u64>,
    /// Finished requests per second of the run.
    pub rps: f64,
    pub latency_ms: Percentiles,
    pub service_time_ms: Percentiles,
}

impl ServiceTotals {
    pub(crate) fn of(service: &str, s: &ServiceStats, secs: f64) -> ServiceTotals {
        ServiceTotals {
            service: service.to_string(),
            requests: s.requests,
            errors: s.errors.total(),
            errors_by_kind: s.errors,
            statuses: s.statuses.by_code(),
            rps: if secs > 0.0 {
                s.requests as f64 / secs
            } else {
                0.0
            },
            latency_ms: Percentiles::of(&s.latency),
            service_time_ms: Percentiles::of(&s.service_time),
        }
    }
}

/// One service over one second of the run.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// The second, counted from 0 at the start: the sample covers `t..t+1`.
    pub t: u64,
    pub service: String,
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// The 99th percentile of service time (from the actual send).
    pub service_p99_ms: f64,
    pub errors: u64,
    pub errors_by_kind: ErrorCounts,
}

impl Sample {
    pub(crate) fn of(t: u64, service: &str, s: &ServiceStats, secs: f64) -> Sample {
        let l = Percentiles::of(&s.latency);
        Sample {
            t,
            service: service.to_string(),
            requests: s.requests,
            rps: if secs > 0.0 {
                s.requests as f64 / secs
            } else {
                0.0
            },
            p50_ms: l.p50,
            p90_ms: l.p90,
            p99_ms: l.p99,
            p999_ms: l.p999,
            max_ms: l.max,
            service_p99_ms: Percentiles::of(&s.service_time).p99,
            errors: s.errors.total(),
            errors_by_kind: s.errors,
        }
    }
}

/// How late requests left after their intended time (open and session models).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LagStats {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    /// `open`, `closed` or `sessions`.
    pub model: &'static str,
    /// From the start until issuing stopped (the end of the run, or `stop`).
    pub duration_s: f64,
    /// Finished requests, failed ones included.
    pub requests: u64,
    pub errors: u64,
    /// Finished requests per second of `duration_s`.
    pub achieved_rps: f64,
    /// Open model: requests the schedule called for (sessions: sessions started); closed
    /// model: equal to `requests`.
    pub intended: u64,
    /// Requests that were due but never sent because the run ended first.
    pub unsent: u64,
    pub send_lag_ms: LagStats,
    /// All services together.
    pub total: ServiceTotals,
    pub services: Vec<ServiceTotals>,
    pub series: Vec<Sample>,
}

/// What the engine publishes once a second while it runs.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The second just finished (the samples cover `t..t+1`).
    pub t: u64,
    pub elapsed: std::time::Duration,
    /// The last second, per service, in the order of [`Snapshot::intervals`].
    pub services: Vec<Sample>,
    /// The last second, all services together.
    pub total: Sample,
    /// The last second's raw histograms (microseconds), per service, so callers can merge
    /// windows of their own (an `expect … during step`).
    pub intervals: Vec<IntervalStats>,
    /// Since the start.
    pub requests: u64,
    pub errors: u64,
    pub scale: f64,
}

/// One service's raw measurements over an interval.
#[derive(Debug, Clone)]
pub struct IntervalStats {
    pub service: String,
    /// Microseconds from the intended send time.
    pub latency: Histogram<u64>,
    /// Microseconds from the actual send.
    pub service_time: Histogram<u64>,
    /// Finished requests, failed ones included.
    pub requests: u64,
    /// Requests the schedule issued in the interval (open and session models; in the closed
    /// model, requests that left).
    pub offered: u64,
    /// Requests sent but not finished at the end of the interval.
    pub in_flight: u64,
    pub errors: ErrorCounts,
}

impl Snapshot {
    pub(crate) fn empty(services: &[String]) -> Snapshot {
        let zero = ServiceStats::new();
        Snapshot {
            t: 0,
            elapsed: std::time::Duration::ZERO,
            services: services
                .iter()
                .map(|s| Sample::of(0, s, &zero, 1.0))
                .collect(),
            total: Sample::of(0, "all", &zero, 1.0),
            intervals: Vec::new(),
            requests: 0,
            errors: 0,
            scale: 1.0,
        }
    }

    /// The last second of one service.
    pub fn service(&self, name: &str) -> Option<&Sample> {
        self.services.iter().find(|s| s.service == name)
    }
}
