//! The demo shop's `GET /metrics`, in the Prometheus text exposition format (version 0.0.4):
//! per service, requests answered by status class, a latency histogram (from the moment the
//! request reached the service's pool, queueing included, to its answer), and the pool's
//! capacity, in-flight requests, queue depth and rejections. What a real service exports for
//! Prometheus to scrape, and what `res orchestrate` reads as the system's current state.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{DemoStats, Service};

/// Upper bounds of the latency buckets, in seconds (`+Inf` is added).
pub const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Status classes counted: 2xx, 3xx, 4xx, 5xx.
const CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];

/// A per-service family read from the pool's stats: name, type, help, value.
type Family = (
    &'static str,
    &'static str,
    &'static str,
    fn(&super::ServiceStats) -> u64,
);

/// One service's counters. Lock-free: every request adds to a few atomics.
#[derive(Default)]
struct ServiceMetrics {
    by_class: [AtomicU64; 4],
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

/// The shop's request metrics.
#[derive(Default)]
pub struct Metrics {
    services: [ServiceMetrics; 3],
}

fn index(service: Service) -> usize {
    match service {
        Service::Catalog => 0,
        Service::Checkout => 1,
        Service::Payments => 2,
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn observe(&self, service: Service, status: u16, took: Duration) {
        let m = &self.services[index(service)];
        let class = usize::from(status / 100).clamp(2, 5) - 2;
        m.by_class[class].fetch_add(1, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            m.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        m.count.fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        m.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// The exposition text, with the pools' current `stats`.
    pub fn render(&self, stats: &DemoStats) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP res_demo_requests_total Requests answered by each service, by status class (503s of a full queue included)."
        );
        let _ = writeln!(out, "# TYPE res_demo_requests_total counter");
        for s in Service::ALL {
            let m = &self.services[index(s)];
            for (i, class) in CLASSES.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "res_demo_requests_total{{service=\"{s}\",code=\"{class}\"}} {}",
                    m.by_class[i].load(Ordering::Relaxed)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP res_demo_request_duration_seconds Time from reaching the service to its answer, queueing included."
        );
        let _ = writeln!(out, "# TYPE res_demo_request_duration_seconds histogram");
        for s in Service::ALL {
            let m = &self.services[index(s)];
            let mut cumulative = 0u64;
            for (i, le) in BUCKETS.iter().enumerate() {
                cumulative += m.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "res_demo_request_duration_seconds_bucket{{service=\"{s}\",le=\"{le}\"}} {cumulative}"
                );
            }
            let count = m.count.load(Ordering::Relaxed).max(cumulative);
            let _ = writeln!(
                out,
                "res_demo_request_duration_seconds_bucket{{service=\"{s}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "res_demo_request_duration_seconds_sum{{service=\"{s}\"}} {}",
                m.sum_us.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "res_demo_request_duration_seconds_count{{service=\"{s}\"}} {count}"
            );
        }
        let gauges: [Family; 4] = [
            (
                "res_demo_capacity",
                "gauge",
                "Workers of the service: requests served at once.",
                |st| st.capacity as u64,
            ),
            (
                "res_demo_in_flight",
                "gauge",
                "Requests holding a worker now.",
                |st| st.in_flight as u64,
            ),
            (
                "res_demo_queue_depth",
                "gauge",
                "Requests waiting for a worker now.",
                |st| st.queued as u64,
            ),
            (
                "res_demo_rejected_total",
                "counter",
                "Requests turned away with 503 because the queue was full.",
                |st| st.rejected,
            ),
        ];
        for (name, kind, help, get) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for s in Service::ALL {
                let _ = writeln!(out, "{name}{{service=\"{s}\"}} {}", get(&stats.get(s)));
            }
        }
        out
    }
}
