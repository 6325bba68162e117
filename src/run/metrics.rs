//! The run's measurements: one record per service per second from the load generator,
//! merged into the windows that expectations, abort conditions and stress targeting read.
//!
//! Memory is bounded by the number of services and scopes, not the run's length: windows
//! hold merged HDR histograms, and the per-second series keeps a few numbers per second.

use std::collections::{BTreeMap, VecDeque};

use hdrhistogram::Histogram;

use crate::check::eval::EvalEnv;
use crate::check::{Metric, Model, Value};
use crate::report::{Percentiles, SeriesPoint, ServiceSummary};
use crate::units::{Duration, Percent, Rate};

/// A latency histogram in microseconds.
pub fn histogram() -> Histogram<u64> {
    let mut h = Histogram::new(3).expect("3 significant digits is valid");
    h.auto(true);
    h
}

/// One service's second, as the load generator reports it.
#[derive(Clone)]
pub struct ServiceSecond {
    /// `system.service`.
    pub service: String,
    pub requests: u64,
    /// Requests the schedule meant to send in this second.
    pub offered: u64,
    /// Requests in flight at the end of the second.
    pub in_flight: u64,
    pub errors: u64,
    pub errors_by_kind: Vec<(String, u64)>,
    /// From the intended send time, µs.
    pub latency: Histogram<u64>,
    /// From the actual send, µs.
    pub service_time: Histogram<u64>,
}

/// Merged measurements over some stretch of time.
#[derive(Clone)]
pub struct Window {
    pub requests: u64,
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub latency: Histogram<u64>,
    pub service_time: Histogram<u64>,
    /// Seconds of load merged in.
    pub seconds: u64,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            requests: 0,
            errors: 0,
            errors_by_kind: BTreeMap::new(),
            latency: histogram(),
            service_time: histogram(),
            seconds: 0,
        }
    }
}

impl Window {
    pub fn add(&mut self, s: &ServiceSecond) {
        self.requests += s.requests;
        self.errors += s.errors;
        for (k, v) in &s.errors_by_kind {
            *self.errors_by_kind.entry(k.clone()).or_default() += v;
        }
        let _ = self.latency.add(&s.latency);
        let _ = self.service_time.add(&s.service_time);
        self.seconds += 1;
    }

    pub fn merge(&mut self, o: &Window) {
        self.requests += o.requests;
        self.errors += o.errors;
        for (k, v) in &o.errors_by_kind {
            *self.errors_by_kind.entry(k.clone()).or_default() += v;
        }
        let _ = self.latency.add(&o.latency);
        let _ = self.service_time.add(&o.service_time);
        self.seconds = self.seconds.max(o.seconds);
    }

    fn quantile_ms(h: &Histogram<u64>, q: f64) -> f64 {
        if h.is_empty() {
            0.0
        } else {
            h.value_at_quantile(q) as f64 / 1000.0
        }
    }

    pub fn percentiles(h: &Histogram<u64>) -> Percentiles {
        Percentiles {
            p50: Self::quantile_ms(h, 0.5),
            p90: Self::quantile_ms(h, 0.9),
            p99: Self::quantile_ms(h, 0.99),
            p999: Self::quantile_ms(h, 0.999),
            max: if h.is_empty() {
                0.0
            } else {
                h.max() as f64 / 1000.0
            },
        }
    }

    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }

    pub fn summary(&self) -> ServiceSummary {
        ServiceSummary {
            requests: self.requests,
            errors: self.errors,
            errors_by_kind: self.errors_by_kind.clone(),
            rps: if self.seconds == 0 {
                0.0
            } else {
                self.requests as f64 / self.seconds as f64
            },
            latency_ms: Self::percentiles(&self.latency),
            service_time_ms: Self::percentiles(&self.service_time),
        }
    }
}

/// A window that expectations read: open while its scope is.
pub struct Scope {
    /// The run seconds it covers: `from..until` (until the end when `until` is None). Seconds
    /// reach the metrics about a second after they end, so scopes are kept by time, not by
    /// whether they are open when a second arrives.
    pub from: Option<u64>,
    pub until: Option<u64>,
    pub per_service: BTreeMap<String, Window>,
}

impl Scope {
    pub fn covers(&self, t: u64) -> bool {
        self.from.is_some_and(|f| f <= t) && self.until.is_none_or(|u| t < u)
    }
}

/// Everything measured in one run.
pub struct Metrics {
    /// `system.service` names by (system, service) index.
    names: BTreeMap<(usize, usize), String>,
    systems: Vec<String>,
    pub totals: BTreeMap<String, Window>,
    pub scopes: Vec<Scope>,
    /// The last few seconds, newest last, for abort conditions and stress targeting.
    recent: VecDeque<(u64, Vec<ServiceSecond>)>,
    pub series: Vec<SeriesPoint>,
    /// Lowest per-second median latency seen per service (µs): the unloaded service time.
    best_p50: BTreeMap<String, u64>,
    /// Fault reverts (run second) for `recovery`.
    pub reverts: Vec<u64>,
    pub injects: Vec<u64>,
    /// Per service, per second: (p99 µs, error rate) for recovery.
    history: BTreeMap<String, Vec<(u64, u64, f64)>>,
    /// `capacity N` as declared, by service name: `saturation()` measures against it.
    declared: BTreeMap<String, f64>,
    /// The capacity (requests per second) fitted from the profile, by service name, where no
    /// `capacity N` is declared: `saturation()` measures throughput against it. Fitted on first
    /// use (a bootstrap over every recorded run is not free), from `fit_from`.
    fitted: std::sync::OnceLock<BTreeMap<String, f64>>,
    fit_from: Option<(std::sync::Arc<crate::predict::history::History>, u64)>,
    /// A shard keeps every second's histograms, serialized, for `res merge`
    /// ([`super::shard`]); `None` otherwise.
    pub kept: Option<Vec<super::shard::SecondHistograms>>,
}

/// How many seconds `recent` keeps.
pub const RECENT_SECONDS: usize = 30;

impl Metrics {
    pub fn new(model: &Model, scopes: usize) -> Metrics {
        let mut names = BTreeMap::new();
        for (si, s) in model.systems.iter().enumerate() {
            for (vi, v) in s.services.iter().enumerate() {
                names.insert((si, vi), format!("{}.{}", s.name, v.name));
            }
        }
        Metrics {
            names,
            systems: model.systems.iter().map(|s| s.name.clone()).collect(),
            totals: BTreeMap::new(),
            scopes: (0..scopes)
                .map(|_| Scope {
                    from: None,
                    until: None,
                    per_service: BTreeMap::new(),
                })
                .collect(),
            recent: VecDeque::new(),
            series: Vec::new(),
            best_p50: BTreeMap::new(),
            reverts: Vec::new(),
            injects: Vec::new(),
            history: BTreeMap::new(),
            declared: model
                .systems
                .iter()
                .flat_map(|s| {
                    s.services.iter().filter_map(move |v| {
                        v.capacity.map(|c| (format!("{}.{}", s.name, v.name), c))
                    })
                })
                .collect(),
            fitted: std::sync::OnceLock::new(),
            fit_from: None,
            kept: None,
        }
    }

    /// Where `saturation()` takes capacities from when none is declared: the profile's
    /// history, fitted with `seed` (`predict::engine::fitted_capacities`) the first time a
    /// saturation is asked for, so a run that never asks pays nothing.
    pub fn fit_capacities_from(
        &mut self,
        history: std::sync::Arc<crate::predict::history::History>,
        seed: u64,
    ) {
        self.fit_from = Some((history, seed));
    }

    fn fitted(&self) -> &BTreeMap<String, f64> {
        self.fitted.get_or_init(|| match &self.fit_from {
            Some((history, seed)) => crate::predict::engine::fitted_capacities(history, *seed),
            None => BTreeMap::new(),
        })
    }

    pub fn system_name(&self, system: usize) -> &str {
        self.systems.get(system).map_or("?", String::as_str)
    }

    pub fn service_name(&self, system: usize, service: usize) -> Option<&str> {
        self.names.get(&(system, service)).map(String::as_str)
    }

    /// Adds one second of measurements (from every running load, already merged).
    pub fn add_second(&mut self, t: u64, seconds: Vec<ServiceSecond>) {
        for s in &seconds {
            if let Some(kept) = &mut self.kept {
                kept.push(super::shard::SecondHistograms::of(t, s));
            }
            self.totals.entry(s.service.clone()).or_default().add(s);
            for scope in self.scopes.iter_mut().filter(|sc| sc.covers(t)) {
                scope
                    .per_service
                    .entry(s.service.clone())
                    .or_default()
                    .add(s);
            }
            let p99 = if s.latency.is_empty() {
                0
            } else {
                s.latency.value_at_quantile(0.99)
            };
            let p50 = if s.latency.is_empty() {
                0
            } else {
                s.latency.value_at_quantile(0.5)
            };
            if s.requests > 0 {
                let best = self.best_p50.entry(s.service.clone()).or_insert(p50);
                *best = (*best).min(p50.max(1));
            }
            let er = if s.requests == 0 {
                0.0
            } else {
                s.errors as f64 / s.requests as f64
            };
            self.history
                .entry(s.service.clone())
                .or_default()
                .push((t, p99, er));
            let q = |q: f64| {
                if s.latency.is_empty() {
                    0.0
                } else {
                    s.latency.value_at_quantile(q) as f64 / 1000.0
                }
            };
            self.series.push(SeriesPoint {
                t,
                service: s.service.clone(),
                rps: s.requests as f64,
                offered_rps: s.offered as f64,
                concurrency: s.in_flight,
                p50_ms: p50 as f64 / 1000.0,
                p90_ms: q(0.9),
                p99_ms: p99 as f64 / 1000.0,
                p999_ms: q(0.999),
                max_ms: if s.latency.is_empty() {
                    0.0
                } else {
                    s.latency.max() as f64 / 1000.0
                },
                errors: s.errors,
                errors_by_kind: s.errors_by_kind.iter().cloned().collect(),
            });
        }
        self.recent.push_back((t, seconds));
        while self.recent.len() > RECENT_SECONDS {
            self.recent.pop_front();
        }
    }

    /// The last `n` seconds merged, per service.
    pub fn last(&self, n: usize) -> BTreeMap<String, Window> {
        let mut out: BTreeMap<String, Window> = BTreeMap::new();
        for (_, secs) in self.recent.iter().rev().take(n) {
            for s in secs {
                out.entry(s.service.clone()).or_default().add(s);
            }
        }
        out
    }

    /// Per-service summaries for the report.
    pub fn summaries(&self) -> BTreeMap<String, ServiceSummary> {
        self.totals
            .iter()
            .map(|(k, w)| (k.clone(), w.summary()))
            .collect()
    }

    /// Saturation of a window. With `capacity N` declared: requests in flight (Little's law)
    /// over N, above 1 when the service queues. Else, with a capacity fitted from the profile:
    /// the answered throughput over it. Without either: the share of the median latency
    /// spent beyond the service's best observed median — waiting, not working; 0 when idle,
    /// towards 1 when queueing.
    pub fn saturation(&self, service: &str, w: &Window) -> f64 {
        if w.latency.is_empty() {
            return 0.0;
        }
        // Declared `capacity N` (requests served at once): the requests in flight by Little's
        // law, throughput × mean latency, over N. Above 1 the service queues.
        if let Some(&cap) = self.declared.get(service).filter(|c| **c > 0.0) {
            let rate = w.requests as f64 / w.seconds.max(1) as f64;
            let in_flight = rate * w.latency.mean() / 1e6;
            return if in_flight.is_finite() {
                (in_flight / cap).max(0.0)
            } else {
                0.0
            };
        }
        // A capacity fitted from the profile: the answered throughput over it.
        if let Some(&cap) = self.fitted().get(service).filter(|c| **c > 0.0) {
            let rate = w.requests.saturating_sub(w.errors) as f64 / w.seconds.max(1) as f64;
            return finite_or_zero(rate / cap).max(0.0);
        }
        let now = w.latency.value_at_quantile(0.5).max(1) as f64;
        let best = self.best_p50.get(service).copied().unwrap_or(now as u64) as f64;
        (1.0 - best / now).clamp(0.0, 1.0)
    }

    /// Seconds from the last fault revert until p99 and error rate are back within 10 % of
    /// their level before the first injection. `None` without a fault or a baseline.
    pub fn recovery(&self, service: &str) -> Option<f64> {
        let (&first_inject, &last_revert) = (self.injects.first()?, self.reverts.last()?);
        let h = self.history.get(service)?;
        let base: Vec<&(u64, u64, f64)> = h.iter().filter(|(t, _, _)| *t < first_inject).collect();
        if base.is_empty() {
            return None;
        }
        let mut p99s: Vec<u64> = base.iter().map(|(_, p, _)| *p).collect();
        p99s.sort_unstable();
        let base_p99 = p99s[p99s.len() / 2] as f64;
        let base_err = base.iter().map(|(_, _, e)| *e).sum::<f64>() / base.len() as f64;
        let after: Vec<&(u64, u64, f64)> = h.iter().filter(|(t, _, _)| *t >= last_revert).collect();
        for (t, p99, e) in &after {
            if (*p99 as f64) <= base_p99 * 1.1 + 1000.0 && *e <= base_err * 1.1 + 0.001 {
                return Some((t - last_revert) as f64);
            }
        }
        // Not recovered by the end: report the whole observed tail.
        after.last().map(|(t, _, _)| (t - last_revert) as f64 + 1.0)
    }

    /// A metric over some windows (per service), for conditions.
    pub fn metric(
        &self,
        windows: &BTreeMap<String, Window>,
        metric: Metric,
        system: usize,
        service: Option<usize>,
    ) -> Option<Value> {
        let keys: Vec<String> = match service {
            Some(v) => vec![self.names.get(&(system, v))?.clone()],
            None => {
                let prefix = format!("{}.", self.systems.get(system)?);
                windows
                    .keys()
                    .filter(|k| k.starts_with(&prefix))
                    .cloned()
                    .collect()
            }
        };
        if metric == Metric::Recovery {
            let worst = keys
                .iter()
                .filter_map(|k| self.recovery(k))
                .fold(None, |a: Option<f64>, r| Some(a.map_or(r, |a| a.max(r))))?;
            return Some(Value::Duration(Duration::from_secs(worst)));
        }
        let mut merged = Window::default();
        let mut any = false;
        for k in &keys {
            if let Some(w) = windows.get(k) {
                merged.merge(w);
                any = true;
            }
        }
        if !any || merged.requests == 0 {
            return None;
        }
        let q = |q: f64| {
            Value::Duration(Duration(
                merged.latency.value_at_quantile(q) as f64 / 1000.0,
            ))
        };
        Some(match metric {
            Metric::P50 => q(0.5),
            Metric::P90 => q(0.9),
            Metric::P95 => q(0.95),
            Metric::P99 => q(0.99),
            Metric::P999 => q(0.999),
            Metric::MaxLatency => Value::Duration(Duration(merged.latency.max() as f64 / 1000.0)),
            Metric::ErrorRate => Value::Percent(Percent(merged.error_rate() * 100.0)),
            Metric::Availability => Value::Percent(Percent((1.0 - merged.error_rate()) * 100.0)),
            Metric::Throughput => {
                Value::Rate(Rate(merged.requests as f64 / merged.seconds.max(1) as f64))
            }
            Metric::Saturation => {
                let worst = keys
                    .iter()
                    .filter_map(|k| windows.get(k).map(|w| self.saturation(k, w)))
                    .fold(0.0, f64::max);
                Value::Percent(Percent(worst * 100.0))
            }
            Metric::Recovery => return None,
        })
    }
}

/// Evaluates conditions against a set of windows.
pub struct WindowEnv<'a> {
    pub metrics: &'a Metrics,
    pub windows: &'a BTreeMap<String, Window>,
    /// Forecast peaks by traffic index (requests per second).
    pub peaks: &'a BTreeMap<usize, f64>,
}

impl EvalEnv for WindowEnv<'_> {
    fn metric(&self, metric: Metric, system: usize, service: Option<usize>) -> Option<Value> {
        self.metrics.metric(self.windows, metric, system, service)
    }

    fn peak(&self, traffic: usize) -> Option<Value> {
        self.peaks.get(&traffic).map(|r| Value::Rate(Rate(*r)))
    }
}

/// One service's stress over the last window, and why it ranks where it does.
#[derive(Debug, Clone, PartialEq)]
pub struct Stress {
    pub service: usize,
    pub score: f64,
    pub reason: String,
}

impl Metrics {
    /// Ranks the services of `system` by stress over the last `seconds` seconds, worst first:
    /// latency growth (p99 against the service's best p50 seen), error rate and saturation,
    /// or one of them alone. Services with no requests in the window rank last.
    pub fn stressed(
        &self,
        system: usize,
        seconds: usize,
        by: crate::check::StressMetric,
    ) -> Vec<Stress> {
        use crate::check::StressMetric;
        let window = self.last(seconds);
        let mut out: Vec<Stress> = Vec::new();
        for (&(sys, svc), name) in &self.names {
            if sys != system {
                continue;
            }
            let Some(w) = window.get(name).filter(|w| w.requests > 0) else {
                out.push(Stress {
                    service: svc,
                    score: -1.0,
                    reason: format!("{name}: no requests in the last {seconds}s"),
                });
                continue;
            };
            let p99 = w.latency.value_at_quantile(0.99).max(1) as f64;
            let best = self
                .best_p50
                .get(name)
                .copied()
                .unwrap_or(p99 as u64)
                .max(1) as f64;
            let growth = p99 / best;
            let errors = w.error_rate();
            let saturation = self.saturation(name, w);
            // Comparable scales: 10x latency growth, 100 % errors and full saturation all
            // count about the same.
            let score = match by {
                StressMetric::Latency => growth,
                StressMetric::Errors => errors,
                StressMetric::Saturation => saturation,
                StressMetric::Any => ((growth - 1.0) / 9.0).max(errors).max(saturation),
            };
            out.push(Stress {
                service: svc,
                score,
                reason: format!(
                    "{name}: p99 {:.1}ms ({growth:.1}× its best median), errors {:.2}%, saturation {:.0}%",
                    p99 / 1000.0,
                    errors * 100.0,
                    saturation * 100.0
                ),
            });
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.service.cmp(&b.service)));
        out
    }
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}
