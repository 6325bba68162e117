//! What to send, how often and to whom: the input of the load generator.
//!
//! A [`LoadSpec`] is plain data in the load generator's own words. The interpreter
//! (`run/build.rs`) translates a checked `TrafficModel` and its system's routes into one, so
//! the load engine never reads the checker's Model; the units (`Duration`, `Rate`, `Bytes`)
//! are shared. `res load URL` builds one from flags.

use std::collections::HashMap;

use crate::units::{Bytes, Duration, Rate, StatusPattern};

use super::feeder::Feeder;
use super::schedule::RateSchedule;

/// Everything the engine needs for one run.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    /// `http://host:port[/prefix]` or `https://…`; request paths are appended to the prefix.
    pub base_url: String,
    pub protocol: Protocol,
    pub tls: TlsOptions,
    /// The request mix; at least one.
    pub requests: Vec<RequestSpec>,
    pub workload: Workload,
    /// How long requests are issued. The run ends when it is over (or at `stop`).
    pub duration: Duration,
    /// Per request, from the actual send (connecting included) to the last body byte.
    pub timeout: Duration,
    /// Open and session models: the most connections (workers) used at once. The closed model
    /// uses one connection per user instead.
    pub connections: usize,
    /// Seeds every random choice: arrival gaps, the mix, template values, think times.
    pub seed: u64,
    /// Feeders by name, for `{name.column}` placeholders.
    pub feeders: HashMap<String, Feeder>,
    /// Response bodies beyond this many bytes are an error (`body_too_large`) and are not read.
    pub body_limit: Bytes,
    /// Event-loop threads for the connections; 0 means one per CPU.
    pub threads: usize,
    /// The rate multiplier the load starts at (`LoadHandle::set_scale` changes it later).
    pub scale: f64,
    /// Where the schedule's time 0 is: a step's planned start, which has usually just passed
    /// when its load is built and started. The run then ends `duration` after it, so a stop
    /// at the step's planned end cuts nothing off, and arrivals due meanwhile leave at once,
    /// their latency counted from when they were due. `None`, or an instant still to come:
    /// when [`start`](super::start) is called.
    pub start_at: Option<std::time::Instant>,
}

impl LoadSpec {
    /// A spec with the defaults: HTTP/1.1, verified TLS, 10 s timeout, 64 connections, seed
    /// 0, no feeders, a 16 MiB body limit and one event-loop thread per CPU.
    pub fn new(
        base_url: impl Into<String>,
        requests: Vec<RequestSpec>,
        workload: Workload,
        duration: Duration,
    ) -> LoadSpec {
        LoadSpec {
            base_url: base_url.into(),
            protocol: Protocol::Http1,
            tls: TlsOptions::default(),
            requests,
            workload,
            duration,
            timeout: Duration::from_secs(10.0),
            connections: 64,
            seed: 0,
            feeders: HashMap::new(),
            body_limit: Bytes(16.0 * 1024.0 * 1024.0),
            threads: 0,
            scale: 1.0,
            start_at: None,
        }
    }
}

/// The HTTP version spoken to the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http1,
    Http2,
}

/// How the gaps between intended send times are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Exponential gaps: a Poisson process.
    Poisson,
    /// Equal gaps.
    Constant,
    /// Gaps uniform between 0 and twice the mean.
    Uniform,
}

/// TLS is used when the base URL is `https`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// Accept any certificate (self-signed test targets). Signatures are still checked.
    pub insecure: bool,
}

/// One route of the mix.
#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// The service every request of this route is attributed to in the statistics.
    pub service: String,
    pub method: String,
    /// A path template: `/items/{random.1000}?user={users.id}&n={seq}&id={uuid}`.
    pub path: String,
    pub body: Option<BodySpec>,
    /// `(name, value)`; values are templates too. `host` is set by the engine.
    pub headers: Vec<(String, String)>,
    /// Relative weight in the mix (any positive scale).
    pub weight: f64,
    /// Statuses that count as success; empty means 1xx, 2xx and 3xx.
    pub expect_status: Vec<StatusPattern>,
    /// Overrides [`LoadSpec::timeout`] for this route (a service's `timeout`).
    pub timeout: Option<Duration>,
}

impl RequestSpec {
    /// A `GET` of `path` attributed to `service`, weight 1.
    pub fn get(service: impl Into<String>, path: impl Into<String>) -> RequestSpec {
        RequestSpec {
            service: service.into(),
            method: "GET".into(),
            path: path.into(),
            body: None,
            headers: Vec::new(),
            weight: 1.0,
            expect_status: Vec::new(),
            timeout: None,
        }
    }
}

/// A request body. String values inside `Json` and the whole of `Raw` are templates.
#[derive(Debug, Clone)]
pub enum BodySpec {
    Json(serde_json::Value),
    /// That many bytes of filler.
    Size(Bytes),
    Raw(String),
    /// Filler whose size is drawn per request (a learned request-size distribution).
    Sized(Distribution),
}

/// How requests are issued over time.
#[derive(Debug, Clone)]
pub enum Workload {
    /// Requests arrive on a schedule whatever the target does; latency counts from the
    /// intended send time.
    Open {
        schedule: RateSchedule,
        arrival: Arrival,
        pacing: Pacing,
    },
    /// `users` virtual users, each sending, waiting for the response, then thinking.
    Closed {
        users: u32,
        think: Option<(Duration, Duration)>,
    },
    /// Sessions arrive on a schedule; each walks its visits with think time between them.
    Sessions {
        schedule: RateSchedule,
        arrival: Arrival,
        pacing: Pacing,
        sessions: Vec<SessionSpec>,
    },
    /// A learned model replayed: requests start on `schedule` by `arrival`, as in the open
    /// model, and sessions walking `chain` (thinking between requests) supply which request
    /// each start sends.
    Chain {
        schedule: RateSchedule,
        arrival: Arrival,
        pacing: Pacing,
        chain: ChainSpec,
    },
}

impl Workload {
    /// A constant open rate with constant gaps and precise pacing.
    pub fn constant_rate(rate: Rate) -> Workload {
        Workload::Open {
            schedule: RateSchedule::constant(rate),
            arrival: Arrival::Constant,
            pacing: Pacing::Precise,
        }
    }
}

/// How the open model keeps its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pacing {
    /// A dedicated pacer thread releases each request at its intended time (tens of
    /// microseconds late) when requests are more than half a millisecond apart; closer
    /// together, it wakes once per half millisecond and releases everything due (at most that
    /// late), rather than once per request.
    #[default]
    Precise,
    /// A task on the runtime releases whatever is due on each timer tick (about 1 ms late),
    /// which is cheaper at high rates.
    Batched,
}

/// One kind of session in the session model.
#[derive(Debug, Clone)]
pub struct SessionSpec {
    pub name: String,
    /// Relative weight among the sessions.
    pub weight: f64,
    pub visits: Vec<VisitSpec>,
}

/// One step of a session.
#[derive(Debug, Clone)]
pub struct VisitSpec {
    pub target: VisitTarget,
    /// Think time after each response, drawn uniformly from the range.
    pub think: Option<(Duration, Duration)>,
    /// How many times the visit is made in a row (at least once).
    pub repeat: u32,
}

/// What a visit requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitTarget {
    /// One request of [`LoadSpec::requests`], by index.
    Request(usize),
    /// Any request of that service, chosen by weight.
    Service(String),
}

/// A Markov chain of requests: what a learned traffic's sessions do.
#[derive(Debug, Clone)]
pub struct ChainSpec {
    /// Where a session begins: a state index and its probability.
    pub start: Vec<(usize, f64)>,
    pub states: Vec<ChainStateSpec>,
}

/// One state of the chain: a request, where the session goes after it, and the think time
/// before the next request.
#[derive(Debug, Clone)]
pub struct ChainStateSpec {
    /// One request of [`LoadSpec::requests`], by index.
    pub request: usize,
    /// The next state and its probability; `None` ends the session.
    pub next: Vec<(Option<usize>, f64)>,
    /// Seconds between this state's response and the next request.
    pub think: Option<Distribution>,
}

/// A distribution of non-negative values given by quantiles, sampled by interpolating its
/// inverse CDF linearly between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    /// `(cumulative probability, value)`, both increasing, from probability 0 to 1.
    points: Vec<(f64, f64)>,
}

impl Distribution {
    /// A distribution through these `(probability, value)` points. Points are sorted, values
    /// made non-decreasing and non-negative, and the ends pinned at probabilities 0 and 1.
    pub fn from_points(mut points: Vec<(f64, f64)>) -> Option<Distribution> {
        points.retain(|(q, v)| q.is_finite() && v.is_finite() && (0.0..=1.0).contains(q));
        if points.is_empty() {
            return None;
        }
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut last = 0.0f64;
        for p in &mut points {
            p.1 = p.1.max(last).max(0.0);
            last = p.1;
        }
        if points[0].0 > 0.0 {
            points.insert(0, (0.0, points[0].1));
        }
        let (_, v) = points[points.len() - 1];
        if points[points.len() - 1].0 < 1.0 {
            points.push((1.0, v));
        }
        Some(Distribution { points })
    }

    /// From the quantiles a learned model keeps (p50, p90, p95, p99, max) and its mean: the
    /// lowest value, which the model does not keep, is chosen so that the distribution's mean
    /// is the learned one (as far as a value between 0 and the median allows).
    pub fn from_quantiles(
        mean: f64,
        p50: f64,
        p90: f64,
        p95: f64,
        p99: f64,
        max: f64,
    ) -> Option<Distribution> {
        let upper = [(0.5, p50), (0.9, p90), (0.95, p95), (0.99, p99), (1.0, max)];
        let mut d = Distribution::from_points(std::iter::once((0.0, 0.0)).chain(upper).collect())?;
        let rest = d.mean() - 0.25 * d.points[1].1;
        let low = ((mean - rest - 0.25 * d.points[1].1) / 0.25).clamp(0.0, d.points[1].1);
        if low.is_finite() {
            d.points[0].1 = low;
        }
        Some(d)
    }

    /// The value at cumulative probability `u` (0..1).
    pub fn at(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        let i = self.points.partition_point(|(q, _)| *q <= u);
        if i == 0 {
            return self.points[0].1;
        }
        if i >= self.points.len() {
            return self.points[self.points.len() - 1].1;
        }
        let (q0, v0) = self.points[i - 1];
        let (q1, v1) = self.points[i];
        if q1 <= q0 {
            v1
        } else {
            v0 + (v1 - v0) * (u - q0) / (q1 - q0)
        }
    }

    /// The exact mean of the interpolated distribution.
    pub fn mean(&self) -> f64 {
        self.points
            .windows(2)
            .map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0)
            .sum()
    }

    /// The same distribution with every value multiplied by `k`.
    pub fn scaled(&self, k: f64) -> Distribution {
        Distribution {
            points: self.points.iter().map(|&(q, v)| (q, v * k)).collect(),
        }
    }
}
