//! Once a second, the aggregator drains the shards into one interval per service, appends
//! the interval to the series and the totals, and publishes a [`Snapshot`] for the progress
//! line, abort conditions and stress targeting. At the end it turns what it kept into the
//! [`LoadResult`].

use std::sync::atomic::Ordering;
use std::time::Instant;

use hdrhistogram::Histogram;

use super::result::{IntervalStats, LagStats, LoadResult, Sample, ServiceTotals, Snapshot};
use super::shared::Shared;
use super::stats::{histogram, ServiceStats};

pub(crate) struct Aggregator {
    services: Vec<String>,
    interval: Vec<ServiceStats>,
    totals: Vec<ServiceStats>,
    lag: Histogram<u64>,
    series: Vec<Sample>,
    started: Instant,
    last: Instant,
    second: u64,
    requests: u64,
    errors: u64,
    /// Per service, since the start: requests started and finished, for `in_flight`.
    sent: Vec<u64>,
    finished: Vec<u64>,
    /// The closed model has no schedule: what it offers is what it sends.
    closed: bool,
}

impl Aggregator {
    pub fn new(services: Vec<String>, started: Instant, closed: bool) -> Aggregator {
        let n = services.len();
        Aggregator {
            services,
            interval: (0..n).map(|_| ServiceStats::new()).collect(),
            totals: (0..n).map(|_| ServiceStats::new()).collect(),
            lag: histogram(),
            series: Vec::new(),
            started,
            last: started,
            second: 0,
            requests: 0,
            errors: 0,
            sent: vec![0; n],
            finished: vec![0; n],
            closed,
        }
    }

    /// Closes the current interval at `now`; `partial` intervals (the last, shorter one) are
    /// kept only if something happened in them.
    pub fn tick(&mut self, shared: &Shared, now: Instant, partial: bool) -> Snapshot {
        shared.stats.drain(&mut self.interval, &mut self.lag);
        let secs = now.saturating_duration_since(self.last).as_secs_f64();
        let t = self.second;
        let mut all = ServiceStats::new();
        let mut samples = Vec::with_capacity(self.services.len());
        let mut intervals = Vec::with_capacity(self.services.len());
        for (i, name) in self.services.iter().enumerate() {
            let s = &self.interval[i];
            let started = shared.stats.started_total(i);
            let offered = if self.closed {
                started - self.sent[i]
            } else {
                shared.offered[i].swap(0, Ordering::Relaxed)
            };
            self.sent[i] = started;
            self.finished[i] += s.requests;
            samples.push(Sample::of(t, name, s, secs));
            intervals.push(IntervalStats {
                service: name.clone(),
                latency: s.latency.clone(),
                service_time: s.service_time.clone(),
                requests: s.requests,
                offered,
                in_flight: started.saturating_sub(self.finished[i]),
                errors: s.errors,
            });
            all.merge(s);
            self.totals[i].merge(s);
        }
        self.requests += all.requests;
        self.errors += all.errors.total();
        if !partial || all.requests > 0 {
            self.series.extend(samples.iter().cloned());
        }
        for s in &mut self.interval {
            s.reset();
        }
        self.last = now;
        self.second += 1;
        Snapshot {
            t,
            elapsed: now.saturating_duration_since(self.started),
            services: samples,
            total: Sample::of(t, "all", &all, secs),
            intervals,
            requests: self.requests,
            errors: self.errors,
            scale: shared.scale(),
        }
    }

    /// The result of the run, `duration_s` seconds of issuing long.
    pub fn result(
        &self,
        model: &'static str,
        duration_s: f64,
        intended: Option<u64>,
        unsent: u64,
    ) -> LoadResult {
        let mut all = ServiceStats::new();
        for s in &self.totals {
            all.merge(s);
        }
        let lag = if self.lag.is_empty() {
            LagStats::default()
        } else {
            LagStats {
                p50_ms: self.lag.value_at_quantile(0.5) as f64 / 1000.0,
                p99_ms: self.lag.value_at_quantile(0.99) as f64 / 1000.0,
                max_ms: self.lag.max() as f64 / 1000.0,
                mean_ms: self.lag.mean() / 1000.0,
            }
        };
        LoadResult {
            model,
            duration_s,
            requests: all.requests,
            errors: all.errors.total(),
            achieved_rps: if duration_s > 0.0 {
                all.requests as f64 / duration_s
            } else {
                0.0
            },
            intended: intended.unwrap_or(all.requests),
            unsent,
            send_lag_ms: lag,
            total: ServiceTotals::of("all", &all, duration_s),
            services: self
                .services
                .iter()
                .zip(&self.totals)
                .map(|(n, s)| ServiceTotals::of(n, s, duration_s))
                .collect(),
            series: self.series.clone(),
        }
    }
}
