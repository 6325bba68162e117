//! The resolved Model: what a checked `.res` file means, with names resolved to indices,
//! units checked and constants folded. The planner and the runtime read only this.
//!
//! Why one file of ~1,050 lines: it is the language's meaning as data — type definitions
//! and their small accessors, no logic — and reading it top to bottom, in the order of
//! docs/language.md, is how one learns what a checked file can say.

use serde::Serialize;

use crate::diagnostic::{FileId, Span};
/// The `learn` and `forecast` clauses are the learner's own input types (one definition).
pub use crate::learn::input::{ForecastMethod, ForecastModel, LearnModel, LogFormat};
use crate::syntax::ast::{BinaryOp, Edge, UnaryOp};
use crate::units::*;

/// Where a declaration or condition was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Origin {
    #[serde(skip)]
    pub file: FileId,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub params: Vec<ParamModel>,
    pub data: Vec<DataModel>,
    pub systems: Vec<SystemModel>,
    pub traffics: Vec<TrafficModel>,
    pub faults: Vec<FaultModel>,
    pub windows: Vec<WindowModel>,
    pub events: Vec<EventModel>,
    pub slos: Vec<SloModel>,
    /// `abort when` at the top level of any loaded file: they guard every scenario.
    pub aborts: Vec<Condition>,
    pub remedies: Vec<RemedyModel>,
    pub scenarios: Vec<ScenarioModel>,
    /// The root file's own scenarios, as indices into `scenarios` in the order written: those
    /// it declares, then those it imports by name. An import brings only the names it lists,
    /// so the other scenarios of an imported file are checked but not this file's to run.
    pub own_scenarios: Vec<usize>,
    /// Every `env("NAME")` and `secret("NAME")` of the loaded files: what a run reads from
    /// its environment (`res check` names the unset ones).
    pub env: Vec<EnvUse>,
}

/// One `env(...)` or `secret(...)` call.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvUse {
    pub name: String,
    /// The fallback written after the name; `secret(...)` has none.
    pub default: Option<String>,
    pub origin: Origin,
}

impl Model {
    /// The environment variables the file reads that are not set in `lookup`'s environment,
    /// once each, in the order first used, with whether a default stands in.
    pub fn unset_env(&self, lookup: impl Fn(&str) -> bool) -> Vec<(&str, Option<&str>)> {
        let mut out: Vec<(&str, Option<&str>)> = Vec::new();
        for u in &self.env {
            if !lookup(&u.name) && !out.iter().any(|(n, _)| *n == u.name) {
                out.push((&u.name, u.default.as_deref()));
            }
        }
        out
    }
}

impl Model {
    /// A scenario of the root file by name (its own first; then any loaded one, for models
    /// built without a root).
    pub fn scenario(&self, name: &str) -> Option<&ScenarioModel> {
        self.own()
            .find(|s| s.name == name)
            .or_else(|| self.scenarios.iter().find(|s| s.name == name))
    }

    /// The root file's own scenarios (see `own_scenarios`).
    pub fn own(&self) -> impl Iterator<Item = &ScenarioModel> + '_ {
        self.own_scenarios
            .iter()
            .filter_map(|&i| self.scenarios.get(i))
    }
}

/// The type of a value or expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ty {
    Number,
    Duration,
    Rate,
    Size,
    Bandwidth,
    Percent,
    Multiplier,
    Status,
    Timestamp,
    Time,
    String,
    Bool,
    Service,
    System,
    Traffic,
    Fault,
    Slo,
    /// An expression whose type could not be found (an error was already reported).
    Unknown,
}

impl Ty {
    /// Words with an example, for "expected a duration such as `30s`".
    pub fn describe(self) -> &'static str {
        match self {
            Ty::Number => "a number such as `3`",
            Ty::Duration => "a duration such as `30s`",
            Ty::Rate => "a rate such as `500/s`",
            Ty::Size => "a size such as `64KiB`",
            Ty::Bandwidth => "a bandwidth such as `1MiB/s`",
            Ty::Percent => "a percentage such as `5%`",
            Ty::Multiplier => "a multiplier such as `1.5x`",
            Ty::Status => "an HTTP status such as `503` or `5xx`",
            Ty::Timestamp => "a timestamp such as `2026-11-27T00:00Z`",
            Ty::Time => "a time of day such as `02:00`",
            Ty::String => "a string such as \"text\"",
            Ty::Bool => "a condition such as `p99(shop) < 300ms`",
            Ty::Service => "a service such as `shop.checkout`",
            Ty::System => "a system name",
            Ty::Traffic => "a traffic name",
            Ty::Fault => "a fault name",
            Ty::Slo => "an slo name",
            Ty::Unknown => "a value",
        }
    }

    /// The short noun: "a duration".
    pub fn noun(self) -> &'static str {
        match self {
            Ty::Number => "a number",
            Ty::Duration => "a duration",
            Ty::Rate => "a rate",
            Ty::Size => "a size",
            Ty::Bandwidth => "a bandwidth",
            Ty::Percent => "a percentage",
            Ty::Multiplier => "a multiplier",
            Ty::Status => "a status",
            Ty::Timestamp => "a timestamp",
            Ty::Time => "a time of day",
            Ty::String => "a string",
            Ty::Bool => "a condition",
            Ty::Service => "a service",
            Ty::System => "a system",
            Ty::Traffic => "a traffic",
            Ty::Fault => "a fault",
            Ty::Slo => "an slo",
            Ty::Unknown => "a value",
        }
    }

    /// Parses a type name as written in `param x: duration` or a template parameter.
    pub fn from_name(name: &str) -> Option<Ty> {
        Some(match name {
            "number" => Ty::Number,
            "duration" => Ty::Duration,
            "rate" => Ty::Rate,
            "size" => Ty::Size,
            "bandwidth" => Ty::Bandwidth,
            "percent" => Ty::Percent,
            "multiplier" => Ty::Multiplier,
            "status" => Ty::Status,
            "timestamp" => Ty::Timestamp,
            "time" => Ty::Time,
            "string" => Ty::String,
            "bool" => Ty::Bool,
            "service" => Ty::Service,
            "system" => Ty::System,
            "traffic" => Ty::Traffic,
            "fault" => Ty::Fault,
            "slo" => Ty::Slo,
            _ => return None,
        })
    }

    pub const NAMES: &'static [&'static str] = &[
        "number",
        "duration",
        "rate",
        "size",
        "bandwidth",
        "percent",
        "multiplier",
        "status",
        "timestamp",
        "time",
        "string",
        "bool",
        "service",
        "system",
        "traffic",
        "fault",
        "slo",
    ];
}

/// A string value: literal, or read from the environment when the run starts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StrValue {
    Literal {
        value: String,
    },
    Env {
        name: String,
        default: Option<String>,
    },
    /// Never printed: reports show `***`.
    Secret {
        name: String,
    },
}

impl StrValue {
    /// The value, reading the environment. `Err` names the missing variable.
    pub fn resolve(&self) -> Result<String, String> {
        match self {
            StrValue::Literal { value } => Ok(value.clone()),
            StrValue::Env { name, default } => std::env::var(name)
                .ok()
                .or_else(|| default.clone())
                .ok_or_else(|| name.clone()),
            StrValue::Secret { name } => std::env::var(name).map_err(|_| name.clone()),
        }
    }

    /// How the value may be shown: secrets are redacted.
    pub fn display(&self) -> String {
        match self {
            StrValue::Literal { value } => value.clone(),
            StrValue::Env { name, .. } => format!("env(\"{name}\")"),
            StrValue::Secret { .. } => "***".into(),
        }
    }
}

/// A constant value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Duration(Duration),
    Rate(Rate),
    Size(Bytes),
    Bandwidth(Bandwidth),
    Percent(Percent),
    Multiplier(Multiplier),
    Status(StatusPattern),
    Timestamp(Timestamp),
    Time(TimeOfDay),
    Str(StrValue),
    Bool(bool),
}

impl Value {
    pub fn ty(&self) -> Ty {
        match self {
            Value::Number(_) => Ty::Number,
            Value::Duration(_) => Ty::Duration,
            Value::Rate(_) => Ty::Rate,
            Value::Size(_) => Ty::Size,
            Value::Bandwidth(_) => Ty::Bandwidth,
            Value::Percent(_) => Ty::Percent,
            Value::Multiplier(_) => Ty::Multiplier,
            Value::Status(_) => Ty::Status,
            Value::Timestamp(_) => Ty::Timestamp,
            Value::Time(_) => Ty::Time,
            Value::Str(_) => Ty::String,
            Value::Bool(_) => Ty::Bool,
        }
    }

    /// The magnitude in the unit's base (ms, /s, bytes, %, factor), for comparisons.
    pub fn magnitude(&self) -> Option<f64> {
        Some(match self {
            Value::Number(v) => *v,
            Value::Duration(v) => v.0,
            Value::Rate(v) => v.0,
            Value::Size(v) => v.0,
            Value::Bandwidth(v) => v.0,
            Value::Percent(v) => v.0,
            Value::Multiplier(v) => v.0,
            Value::Timestamp(v) => v.0 as f64,
            Value::Time(v) => v.0 as f64,
            _ => return None,
        })
    }

    /// A value of type `ty` with magnitude `m` (the inverse of [`Value::magnitude`]).
    pub fn with_magnitude(ty: Ty, m: f64) -> Option<Value> {
        Some(match ty {
            Ty::Number => Value::Number(m),
            Ty::Duration => Value::Duration(Duration(m)),
            Ty::Rate => Value::Rate(Rate(m)),
            Ty::Size => Value::Size(Bytes(m)),
            Ty::Bandwidth => Value::Bandwidth(Bandwidth(m)),
            Ty::Percent => Value::Percent(Percent(m)),
            Ty::Multiplier => Value::Multiplier(Multiplier(m)),
            _ => return None,
        })
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Number(v) => f.write_str(&trim(*v)),
            Value::Duration(v) => v.fmt(f),
            Value::Rate(v) => v.fmt(f),
            Value::Size(v) => v.fmt(f),
            Value::Bandwidth(v) => v.fmt(f),
            Value::Percent(v) => v.fmt(f),
            Value::Multiplier(v) => v.fmt(f),
            Value::Status(v) => v.fmt(f),
            Value::Timestamp(v) => v.fmt(f),
            Value::Time(v) => v.fmt(f),
            Value::Str(s) => write!(f, "\"{}\"", s.display()),
            Value::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// What a name in an expression refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefTarget {
    System(usize),
    Service(usize, usize),
    Traffic(usize),
    Fault(usize),
    Slo(usize),
    /// A template parameter while the template itself is checked.
    Placeholder,
}

/// The metrics a condition can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    P50,
    P90,
    P95,
    P99,
    P999,
    MaxLatency,
    ErrorRate,
    Throughput,
    Saturation,
    Availability,
    Recovery,
}

impl Metric {
    pub const ALL: &'static [(&'static str, Metric)] = &[
        ("p50", Metric::P50),
        ("p90", Metric::P90),
        ("p95", Metric::P95),
        ("p99", Metric::P99),
        ("p999", Metric::P999),
        ("max_latency", Metric::MaxLatency),
        ("error_rate", Metric::ErrorRate),
        ("throughput", Metric::Throughput),
        ("saturation", Metric::Saturation),
        ("availability", Metric::Availability),
        ("recovery", Metric::Recovery),
    ];

    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
    }

    pub fn name(self) -> &'static str {
        Metric::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    pub fn ty(self) -> Ty {
        match self {
            Metric::ErrorRate | Metric::Saturation | Metric::Availability => Ty::Percent,
            Metric::Throughput => Ty::Rate,
            _ => Ty::Duration,
        }
    }
}

/// A typed expression that may need run-time data (metrics, forecasts, environment).
#[derive(Debug, Clone, PartialEq)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TKind {
    Const(Value),
    Ref(RefTarget),
    Metric {
        metric: Metric,
        system: usize,
        service: Option<usize>,
    },
    /// The forecast (or declared) peak rate of a traffic.
    Peak(usize),
    Unary(UnaryOp, Box<TExpr>),
    Binary(BinaryOp, Box<TExpr>, Box<TExpr>),
    /// Stands in after an error, so one mistake does not cascade.
    Error,
}

impl TExpr {
    pub fn constant(&self) -> Option<&Value> {
        match &self.kind {
            TKind::Const(v) => Some(v),
            _ => None,
        }
    }
}

/// A condition with the text the user wrote, for reports ("p99(shop.checkout) < 400ms").
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub expr: TExpr,
    pub text: String,
    pub origin: Origin,
    /// For `abort when … for 15s`: how long the condition must hold.
    pub sustain: Duration,
}

#[derive(Debug, Clone)]
pub struct ParamModel {
    pub name: String,
    pub value: Value,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct DataModel {
    pub name: String,
    pub path: String,
    pub format: DataFormat,
    pub order: DataOrder,
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataOrder {
    Cycle,
    Random,
}

#[derive(Debug, Clone)]
pub struct SystemModel {
    pub name: String,
    pub target: SystemTarget,
    pub headers: Vec<(String, StrValue)>,
    pub timeout: Option<Duration>,
    pub protocol: Protocol,
    pub services: Vec<ServiceModel>,
    /// `metrics prometheus URL` and the system's `query` templates.
    pub metrics: Option<MetricsModel>,
    pub origin: Origin,
}

/// Where the real system's current metrics come from: a Prometheus server's HTTP API, one
/// instant PromQL query per service and quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsModel {
    pub url: StrValue,
    /// The system's own `query` templates (`$service` stands for the service's name).
    pub queries: Vec<(Quantity, String)>,
}

/// A quantity read from the real system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantity {
    /// Requests per second.
    Rate,
    /// The 99th latency percentile, seconds.
    P99,
    /// The share of answers that are errors (0..1).
    Errors,
}

impl Quantity {
    pub const ALL: [Quantity; 3] = [Quantity::Rate, Quantity::P99, Quantity::Errors];

    pub fn name(self) -> &'static str {
        match self {
            Quantity::Rate => "rate",
            Quantity::P99 => "p99",
            Quantity::Errors => "errors",
        }
    }

    /// The query used when neither the service nor its system says one: the conventional
    /// `http_requests_total` counter and `http_request_duration_seconds` histogram, with a
    /// `service` label and a `code` label.
    pub fn default_query(self) -> &'static str {
        match self {
            Quantity::Rate => r#"sum(rate(http_requests_total{service="$service"}[1m]))"#,
            Quantity::P99 => {
                r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{service="$service"}[1m])))"#
            }
            Quantity::Errors => {
                r#"sum(rate(http_requests_total{service="$service",code=~"5.."}[1m])) / sum(rate(http_requests_total{service="$service"}[1m]))"#
            }
        }
    }
}

impl SystemModel {
    /// The PromQL for one quantity of one service: the service's own `query`, else the
    /// system's, else the default; `$service` replaced by the service's name.
    pub fn query(&self, service: &ServiceModel, q: Quantity) -> String {
        let find =
            |qs: &[(Quantity, String)]| qs.iter().find(|(k, _)| *k == q).map(|(_, v)| v.clone());
        let template = find(&service.queries)
            .or_else(|| self.metrics.as_ref().and_then(|m| find(&m.queries)))
            .unwrap_or_else(|| q.default_query().to_string());
        template.replace("$service", &service.name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SystemTarget {
    Builtin(String),
    Base(StrValue),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http1,
    Http2,
}

#[derive(Debug, Clone)]
pub struct ServiceModel {
    pub name: String,
    pub routes: Vec<RouteModel>,
    pub depends_on: Vec<usize>,
    pub upstream: Option<StrValue>,
    pub process: Option<ProcessModel>,
    pub headers: Vec<(String, StrValue)>,
    pub timeout: Option<Duration>,
    pub capacity: Option<f64>,
    /// How a remedy may act on this service (`scale via ...`, `balance via ...`), in
    /// declared order; at most one of each kind.
    pub actuators: Vec<ActuatorModel>,
    /// This service's own `query` statements (they win over the system's).
    pub queries: Vec<(Quantity, String)>,
    pub origin: Origin,
}

/// How a service can be changed by a remedy.
#[derive(Debug, Clone, PartialEq)]
pub enum ActuatorModel {
    /// `scale via admin [within LO..HI]`: the embedded demo shop's admin API (builtin
    /// demo_shop systems only).
    ScaleAdmin { within: Option<(u64, u64)> },
    /// `scale via exec "SET {instances}" read "READ" [within LO..HI]`
    ScaleExec {
        set: StrValue,
        read: StrValue,
        within: Option<(u64, u64)>,
    },
    /// `balance via haproxy "SOCKET" backend "NAME"`: shift and failover through HAProxy's
    /// runtime API (socket: a unix path or host:port).
    BalanceHaproxy { socket: StrValue, backend: StrValue },
    /// `balance via proxy "ADMIN_URL"`: shift and failover through the admin API of res's
    /// splitting proxy (`res proxy serve`), `http://HOST:PORT`.
    BalanceProxy { admin: StrValue },
}

impl ActuatorModel {
    /// The instance bounds of a scale actuator (`within LO..HI`), if declared.
    pub fn within(&self) -> Option<(u64, u64)> {
        match self {
            ActuatorModel::ScaleAdmin { within } | ActuatorModel::ScaleExec { within, .. } => {
                *within
            }
            ActuatorModel::BalanceHaproxy { .. } | ActuatorModel::BalanceProxy { .. } => None,
        }
    }

    /// Whether this actuator changes the instance count (`scale via ...`).
    pub fn scales(&self) -> bool {
        !matches!(
            self,
            ActuatorModel::BalanceHaproxy { .. } | ActuatorModel::BalanceProxy { .. }
        )
    }
}

impl ServiceModel {
    /// The service's scale actuator (`scale via ...`), if declared.
    pub fn scaler(&self) -> Option<&ActuatorModel> {
        self.actuators.iter().find(|a| a.scales())
    }

    /// The service's balancer (`balance via ...`), if declared.
    pub fn balancer(&self) -> Option<&ActuatorModel> {
        self.actuators.iter().find(|a| !a.scales())
    }
}

#[derive(Debug, Clone)]
pub struct RouteModel {
    pub method: String,
    /// The path template, `{feeder.column}` placeholders kept as written.
    pub path: String,
    pub body: Option<BodyModel>,
    pub expect_status: Vec<StatusPattern>,
    pub weight: f64,
}

#[derive(Debug, Clone)]
pub enum BodyModel {
    Json(serde_json::Value),
    Size(Bytes),
    Raw(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProcessModel {
    Pidfile(StrValue),
    Name(StrValue),
    Command(StrValue),
}

#[derive(Debug, Clone)]
pub struct TrafficModel {
    pub name: String,
    pub system: Option<usize>,
    pub learn: Option<LearnModel>,
    pub forecast: Option<ForecastModel>,
    pub like: Option<usize>,
    pub rate: Option<TExpr>,
    pub arrival: Arrival,
    pub stages: Vec<Stage>,
    pub mix: Vec<MixModel>,
    pub sessions: Vec<SessionModel>,
    pub users: Option<UsersModel>,
    pub scale: Multiplier,
    pub origin: Origin,
}

impl TrafficModel {
    /// The total length of the ramp and hold stages.
    pub fn stages_duration(&self) -> Duration {
        Duration(self.stages.iter().map(|s| s.duration().0).sum())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arrival {
    Poisson,
    Constant,
    Uniform,
}

#[derive(Debug, Clone)]
pub enum Stage {
    Ramp {
        from: Option<TExpr>,
        to: TExpr,
        over: Duration,
    },
    Hold {
        duration: Duration,
        at: Option<TExpr>,
    },
}

impl Stage {
    pub fn duration(&self) -> Duration {
        match self {
            Stage::Ramp { over, .. } => *over,
            Stage::Hold { duration, .. } => *duration,
        }
    }
}

#[derive(Debug, Clone)]
pub struct MixModel {
    pub system: usize,
    pub service: usize,
    /// A fraction in 0..=1.
    pub share: f64,
}

#[derive(Debug, Clone)]
pub struct SessionModel {
    pub name: String,
    pub weight: f64,
    pub visits: Vec<VisitModel>,
}

#[derive(Debug, Clone)]
pub struct VisitModel {
    pub system: usize,
    pub service: usize,
    pub think: Option<(Duration, Duration)>,
    pub repeat: u32,
}

#[derive(Debug, Clone)]
pub struct UsersModel {
    pub count: u32,
    pub think: Option<(Duration, Duration)>,
}

#[derive(Debug, Clone)]
pub struct FaultModel {
    pub name: String,
    pub target: FaultTarget,
    pub effects: Vec<Effect>,
    /// Fraction of connections or requests affected, 0..=1.
    pub toxicity: f64,
    pub matchers: Vec<Matcher>,
    pub toxiproxy: Option<(StrValue, Option<StrValue>)>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FaultTarget {
    Service {
        system: usize,
        service: usize,
    },
    Stressed {
        system: usize,
        top: u32,
        by: StressMetric,
    },
    /// A template parameter while the template itself is checked.
    Placeholder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StressMetric {
    /// Worst of latency growth, error rate and saturation.
    Any,
    Latency,
    Errors,
    Saturation,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Latency {
        latency: Duration,
        jitter: Duration,
        per_chunk: bool,
    },
    Errors {
        status: StatusPattern,
        rate: f64,
    },
    Reset {
        rate: f64,
    },
    Blackhole {
        rate: f64,
    },
    Timeout(Duration),
    Bandwidth(Bandwidth),
    SlowClose(Duration),
    Slice {
        size: Bytes,
        delay: Duration,
    },
    Kill {
        signal: Signal,
    },
    Pause {
        duration: Option<Duration>,
    },
    Restart {
        command: Option<StrValue>,
    },
    Cpu {
        cores: f64,
        load: f64,
    },
    Memory(Bytes),
    Disk {
        size: Bytes,
        path: Option<StrValue>,
    },
    Fds(u64),
    Loss(f64),
}

impl Effect {
    /// Why `res run` cannot inject this effect from a scenario, if it cannot: `loss` drops
    /// packets inside a network namespace around the service, which the runner does not set
    /// up. `res check` refuses such an inject step and `res run` refuses the scenario.
    pub fn run_refusal(&self) -> Option<String> {
        match self {
            Effect::Loss(_) => Some(format!(
                "`{}` drops packets inside a network namespace around the service, and `res run` \
                 does not put services in one (neither the embedded demo nor a declared process); \
                 for a lossy dependency use `errors`, `reset`, `timeout` or `blackhole` on the fault \
                 proxy, or inject loss through the chaos engine around a service you run in a \
                 namespace yourself (docs/chaos.md, \"Network faults\")",
                self.kind()
            )),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Effect::Latency { .. } => "latency",
            Effect::Errors { .. } => "errors",
            Effect::Reset { .. } => "reset",
            Effect::Blackhole { .. } => "blackhole",
            Effect::Timeout(_) => "timeout",
            Effect::Bandwidth(_) => "bandwidth",
            Effect::SlowClose(_) => "slow_close",
            Effect::Slice { .. } => "slice",
            Effect::Kill { .. } => "kill",
            Effect::Pause { .. } => "pause",
            Effect::Restart { .. } => "restart",
            Effect::Cpu { .. } => "cpu",
            Effect::Memory(_) => "memory",
            Effect::Disk { .. } => "disk",
            Effect::Fds(_) => "fds",
            Effect::Loss(_) => "loss",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Signal {
    Kill,
    Term,
    Int,
    Hup,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    Method(String),
    Path(String),
    Header {
        name: String,
        value: Option<StrValue>,
    },
}

#[derive(Debug, Clone)]
pub struct WindowModel {
    pub name: String,
    pub rules: Vec<WindowRule>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WindowRule {
    /// Weekdays as a bit set (bit 0 = Monday), daily from..to in a fixed UTC offset (minutes).
    Every {
        days: u8,
        from: TimeOfDay,
        to: TimeOfDay,
        utc_offset_min: i32,
    },
    Between {
        from: Timestamp,
        to: Timestamp,
    },
}

#[derive(Debug, Clone)]
pub struct EventModel {
    pub name: String,
    pub at: Timestamp,
    pub lasts: Duration,
    pub expect: Multiplier,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct SloModel {
    pub name: String,
    pub objectives: Vec<Condition>,
    pub origin: Origin,
}

#[derive(Debug, Clone)]
pub struct RemedyModel {
    pub name: String,
    pub triggers: Vec<Trigger>,
    pub actions: Vec<ActionModel>,
    pub cooldown: Duration,
    pub limit: Option<(u32, Duration)>,
    /// `mode act` / `mode advise`; `None` leaves it to `--remediate` and the defaults.
    pub mode: Option<RemedyMode>,
    /// `verify within D`: how long the trigger has to clear after acting.
    pub verify_within: Option<Duration>,
    /// `require approval`: a decision waits for `res remedy approve ID`.
    pub require_approval: bool,
    /// `step at most N per 1m`: at most N instances added per minute.
    pub step_per_minute: Option<u64>,
    pub origin: Origin,
}

/// Whether a remedy acts or only says what it would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RemedyMode {
    Act,
    Advise,
}

#[derive(Debug, Clone)]
pub struct Trigger {
    pub predicted: bool,
    pub cond: Condition,
    pub at: Option<TExpr>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ActionModel {
    ScaleBy {
        system: usize,
        service: usize,
        by: i64,
    },
    ScaleTo {
        system: usize,
        service: usize,
        to: u64,
    },
    Shift {
        fraction: f64,
        from: (usize, usize),
        to: (usize, usize),
    },
    Failover {
        system: usize,
        service: usize,
        to: StrValue,
    },
    Exec(StrValue),
    Webhook(StrValue),
}

#[derive(Debug, Clone)]
pub struct ScenarioModel {
    pub name: String,
    /// Where the scenario's name is written: diagnostics about the whole scenario point here.
    pub name_span: Span,
    pub windows: Vec<WindowRefModel>,
    pub steps: Vec<StepModel>,
    pub expects: Vec<ExpectModel>,
    pub aborts: Vec<Condition>,
    /// `skip when COND`: `res orchestrate` does not start the scenario while one holds of the
    /// real system's current metrics (rate, p99, error rate from its metrics source).
    pub skip_when: Vec<Condition>,
    /// `runs at most N per window`: runs the orchestrator may start in one occurrence of a
    /// window (1 when not said).
    pub runs_per_window: u32,
    pub record: bool,
    pub predict: Option<Option<TExpr>>,
    pub remediate: Vec<usize>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowRefModel {
    Window(usize),
    Before(usize),
}

#[derive(Debug, Clone)]
pub struct StepModel {
    pub name: String,
    pub kind: StepKind,
    pub relations: Vec<Relation>,
    /// `for D`.
    pub duration: Option<Duration>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// `at` is a fraction of the traffic's rate (1.0 when not given).
    Load {
        traffic: usize,
        at: f64,
    },
    Inject {
        fault: usize,
    },
    Wait(Duration),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub kind: RelationKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RelationKind {
    /// Start at `step`'s `edge` plus `offset`.
    After {
        step: usize,
        edge: Edge,
        offset: Duration,
    },
    /// Start when `step` starts plus `offset`.
    With { step: usize, offset: Duration },
    /// Start when `step` starts and end when it ends.
    During { step: usize },
    /// Start at an offset from the scenario start.
    At { offset: Duration },
}

#[derive(Debug, Clone)]
pub struct ExpectModel {
    pub text: String,
    pub kind: ExpectKind,
    pub scope: ExpectScopeModel,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExpectKind {
    Slo(usize),
    Cond(TExpr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectScopeModel {
    Whole,
    During(usize),
    After(usize),
}
