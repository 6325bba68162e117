//! What to send, how often and to whom: the input of the load generator.
//!
//! A [`LoadSpec`] is plain data. The interpreter (src/run) builds one from a checked
//! `TrafficModel` and its system's routes, so the types mirror the Model's (`Protocol`,
//! `Arrival`, `RouteModel`'s method/path/body/expect/weight, `SessionModel`, `UsersModel`) and
//! keep its units (`Duration`, `Rate`, `Bytes`). `res load URL` builds one from flags.

use std::collections::HashMap;

pub use crate::check::model::{Arrival, Protocol};
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
        }
    }
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
    /// microseconds late), at the cost of a thread wake-up per request.
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
