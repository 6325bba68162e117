//! From the Model to what the load generator needs: a traffic declaration, its system's
//! routes and the values only known at run time (environment, secrets, forecasts) become a
//! [`LoadSpec`]. Every problem is found here, before the first request is sent.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::check::eval::{eval, EvalEnv};
use crate::check::{
    BodyModel, Metric, Model, Stage, StrValue, SystemModel, TExpr, TrafficModel, Value,
};
use crate::load::feeder::{DataFormat, DataOrder, Feeder};
use crate::load::schedule::RateSchedule;
use crate::load::spec::{
    Arrival, BodySpec, LoadSpec, Pacing, Protocol, RequestSpec, SessionSpec, VisitSpec,
    VisitTarget, Workload,
};
use crate::units::{Duration, Rate, Timestamp};

use super::setup::Learned;

/// Why a load could not be prepared.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildError(pub String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Run-time values for expressions outside metric windows: only forecasts.
pub struct PeakEnv<'a> {
    pub peaks: &'a BTreeMap<usize, f64>,
}

impl EvalEnv for PeakEnv<'_> {
    fn metric(&self, _: Metric, _: usize, _: Option<usize>) -> Option<Value> {
        None
    }

    fn peak(&self, traffic: usize) -> Option<Value> {
        self.peaks.get(&traffic).map(|r| Value::Rate(Rate(*r)))
    }
}

/// Follows `like` to the first traffic (self included) for which `pick` says yes.
fn inherited<'m, T>(
    model: &'m Model,
    t: &'m TrafficModel,
    pick: impl Fn(&'m TrafficModel) -> Option<T>,
) -> Option<T> {
    let mut cur = t;
    for _ in 0..=model.traffics.len() {
        if let Some(v) = pick(cur) {
            return Some(v);
        }
        cur = &model.traffics[cur.like?];
    }
    None
}

/// The system a traffic sends to (its own, or inherited through `like`).
pub fn traffic_system(model: &Model, traffic: usize) -> Option<usize> {
    inherited(model, &model.traffics[traffic], |t| t.system)
}

/// The Model's arrival law in the load generator's words.
fn arrival(a: crate::check::Arrival) -> Arrival {
    match a {
        crate::check::Arrival::Poisson => Arrival::Poisson,
        crate::check::Arrival::Constant => Arrival::Constant,
        crate::check::Arrival::Uniform => Arrival::Uniform,
    }
}

fn rate(e: &TExpr, env: &dyn EvalEnv, what: &str) -> Result<Rate, BuildError> {
    match eval(e, env) {
        Ok(Value::Rate(r)) if r.0 >= 0.0 && r.0.is_finite() => Ok(r),
        Ok(v) => Err(BuildError(format!("{what} is {v}, not a usable rate"))),
        Err(err) => Err(BuildError(format!("{what}: {err}"))),
    }
}

pub fn resolve(s: &StrValue, what: &str) -> Result<String, BuildError> {
    s.resolve().map_err(|var| {
        BuildError(format!(
            "{what} needs the environment variable {var}, which is not set"
        ))
    })
}

/// The first route of `system` that serves a learned endpoint: its service's index and the
/// route.
pub fn route_of<'m>(
    system: &'m SystemModel,
    e: &crate::learn::Endpoint,
) -> Option<(usize, &'m crate::check::RouteModel)> {
    system.services.iter().enumerate().find_map(|(v, svc)| {
        svc.routes
            .iter()
            .find(|r| r.method.eq_ignore_ascii_case(&e.method) && matches(&r.path, &e.template))
            .map(|r| (v, r))
    })
}

/// Whether a route's path (`/items/{items.id}`) and a learned template (`/items/{id}`) name
/// the same endpoint: the same segments, placeholders matching anything.
pub(crate) fn matches(route: &str, learned: &str) -> bool {
    let segments = |p: &str| -> Vec<String> {
        p.split('?')
            .next()
            .unwrap_or("")
            .trim_matches('/')
            .split('/')
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (segments(route), segments(learned));
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || x.starts_with('{') || y.starts_with('{'))
}

/// The base URL of a system whose target is resolved (a `base`, or the demo shop's address).
pub struct Target {
    pub base_url: String,
}

/// Builds the load of one `load` step that starts at `start` on the calendar (where in the
/// week a learned replay begins).
#[allow(clippy::too_many_arguments)]
pub fn load_spec(
    model: &Model,
    traffic: usize,
    target: &Target,
    duration: Duration,
    start: Timestamp,
    seed: u64,
    peaks: &BTreeMap<usize, f64>,
    feeders: &HashMap<String, Feeder>,
    learned: Option<&Learned>,
) -> Result<LoadSpec, BuildError> {
    let t = &model.traffics[traffic];
    let env = PeakEnv { peaks };
    let sys_index = traffic_system(model, traffic)
        .ok_or_else(|| BuildError(format!("traffic `{}` has no system to send to", t.name)))?;
    let system = &model.systems[sys_index];
    let explicit_mix = inherited(model, t, |x| (!x.mix.is_empty()).then_some(()));
    let learned_mix = learned.map(|l| l.mix.as_slice());
    let mut requests = requests(model, t, system, sys_index, learned_mix)?;
    if requests.is_empty() {
        return Err(BuildError(format!(
            "traffic `{}` has nothing to request: system `{}` declares no routes",
            t.name, system.name
        )));
    }
    // `scale` is the traffic's own: a learned traffic's scale is already in its forecast peak,
    // and a traffic `like` another does not inherit how that one's log was sampled.
    let scale = if t.rate.is_none() && t.learn.is_some() {
        1.0
    } else {
        t.scale.0
    };
    let arrival = arrival(t.arrival);
    let users = inherited(model, t, |x| x.users.clone());
    let sessions = inherited(model, t, |x| {
        (!x.sessions.is_empty()).then(|| x.sessions.clone())
    });
    // The rate: declared, inherited, or the forecast peak of a learned traffic.
    let base_rate = match inherited(model, t, |x| x.rate.clone()) {
        Some(e) => Some(rate(&e, &env, &format!("the rate of `{}`", t.name))?),
        None => None,
    };
    let stages = inherited(model, t, |x| {
        (!x.stages.is_empty()).then(|| x.stages.clone())
    })
    .unwrap_or_default();
    // A learned traffic whose stages name no rate (`hold 20s` alone) replays the learned
    // rate over them rather than holding 0/s.
    let rateless = base_rate.is_none()
        && learned.is_some()
        && stages
            .iter()
            .all(|s| matches!(s, Stage::Hold { at: None, .. }));
    let mut schedule = RateSchedule::default();
    for s in stages.iter().filter(|_| !rateless) {
        schedule = match s {
            Stage::Ramp { from, to, over } => {
                let from = from
                    .as_ref()
                    .map(|f| rate(f, &env, "a ramp's start"))
                    .transpose()?;
                schedule.ramp(from, rate(to, &env, "a ramp's end")?, *over)
            }
            Stage::Hold { duration, at } => {
                let at = match at {
                    Some(a) => Some(rate(a, &env, "a hold's rate")?),
                    None if schedule.stages.is_empty() => base_rate,
                    None => None,
                };
                schedule.hold(*duration, at)
            }
        };
    }
    if schedule.stages.is_empty() {
        if let Some(r) = base_rate {
            schedule = RateSchedule::constant(r);
        }
    }
    for st in &mut schedule.stages {
        st.from = Rate(st.from.0 * scale);
        st.to = Rate(st.to.0 * scale);
    }
    // A learned traffic with no rate of its own replays the forecast: the upper bound the
    // forecast gives each hour of the week (the learned rate where the horizon does not
    // reach), from the step's start on, times the learning traffic's scale (and this one's).
    if schedule.stages.is_empty() && users.is_none() {
        if let Some(l) = learned {
            let own = if l.origin == traffic { 1.0 } else { t.scale.0 };
            schedule = super::replay::schedule(
                &l.profile,
                Some(&l.forecast_week),
                start.0,
                1.0,
                l.scale * own,
                duration,
            );
        }
    }
    let workload = if let Some(u) = users {
        Workload::Closed {
            users: u.count,
            think: u.think,
        }
    } else if let Some(sessions) = sessions {
        let specs = sessions
            .iter()
            .map(|s| SessionSpec {
                name: s.name.clone(),
                weight: s.weight,
                visits: s
                    .visits
                    .iter()
                    .map(|v| VisitSpec {
                        target: VisitTarget::Service(format!(
                            "{}.{}",
                            model.systems[v.system].name,
                            model.systems[v.system].services[v.service].name
                        )),
                        think: v.think,
                        repeat: v.repeat.max(1),
                    })
                    .collect(),
            })
            .collect();
        Workload::Sessions {
            schedule,
            arrival,
            pacing: Pacing::Precise,
            sessions: specs,
        }
    } else if let Some(chain) = learned
        .filter(|_| explicit_mix.is_none())
        .and_then(|l| learned_chain(model, sys_index, l, &mut requests))
    {
        Workload::Chain {
            schedule,
            arrival,
            pacing: Pacing::Precise,
            chain,
        }
    } else {
        if schedule.stages.is_empty() {
            return Err(BuildError(format!(
                "traffic `{}` has no rate: give it `rate`, `ramp`, `users`, or learn it from a log",
                t.name
            )));
        }
        Workload::Open {
            schedule,
            arrival,
            pacing: Pacing::Precise,
        }
    };
    let mut spec = LoadSpec::new(target.base_url.clone(), requests, workload, duration);
    spec.protocol = match system.protocol {
        crate::check::Protocol::Http1 => Protocol::Http1,
        crate::check::Protocol::Http2 => Protocol::Http2,
    };
    spec.seed = seed;
    if let Some(timeout) = system.timeout {
        spec.timeout = timeout;
    }
    spec.feeders = feeders.clone();
    spec.connections = 256;
    Ok(spec)
}

/// What a load plans to send: the unit its schedule counts (`requests`, or `sessions` in the
/// session model) and the mean rate over its duration at `share` of the schedule. `None` for
/// the closed model, whose rate is whatever its users achieve.
pub fn planned(spec: &LoadSpec, share: f64) -> Option<(&'static str, f64)> {
    let len = spec.duration.secs();
    if len <= 0.0 {
        return None;
    }
    let (unit, schedule) = match &spec.workload {
        Workload::Open { schedule, .. } | Workload::Chain { schedule, .. } => {
            ("requests", schedule)
        }
        Workload::Sessions { schedule, .. } => ("sessions", schedule),
        Workload::Closed { .. } => return None,
    };
    Some((
        unit,
        schedule.area(len) * schedule.sent_fraction() * share / len,
    ))
}

/// The learned session chain over the system's routes: one request per learned endpoint a
/// route matches (these replace `requests`), sized from the learned request sizes when the
/// route declares no body. `None` when the log showed no sessions over matched endpoints.
fn learned_chain(
    model: &Model,
    sys: usize,
    learned: &Learned,
    requests: &mut Vec<RequestSpec>,
) -> Option<crate::load::ChainSpec> {
    let system = &model.systems[sys];
    let mut added: Vec<Option<usize>> = Vec::new();
    let mut extra = Vec::new();
    for e in &learned.profile.endpoints {
        let Some((v, route)) = route_of(system, e) else {
            added.push(None);
            continue;
        };
        let Ok(mut spec) = route_request(model, sys, v, route, e.share.max(1e-9)) else {
            added.push(None);
            continue;
        };
        if spec.body.is_none() && matches!(e.method.as_str(), "POST" | "PUT" | "PATCH") {
            spec.body = super::replay::request_sizes(&learned.profile, e).map(BodySpec::Sized);
        }
        added.push(Some(extra.len()));
        extra.push(spec);
    }
    let chain = super::replay::chain(&learned.profile, |i| added.get(i).copied().flatten(), 1.0)?;
    *requests = extra;
    Some(chain)
}

/// One route of a service as a request of the load, with the system's and service's headers.
fn route_request(
    model: &Model,
    si: usize,
    vi: usize,
    r: &crate::check::RouteModel,
    weight: f64,
) -> Result<RequestSpec, BuildError> {
    let sys = &model.systems[si];
    let svc = &sys.services[vi];
    let mut headers = Vec::new();
    for (k, v) in sys.headers.iter().chain(&svc.headers) {
        headers.push((k.clone(), resolve(v, &format!("header {k}"))?));
    }
    Ok(RequestSpec {
        service: format!("{}.{}", sys.name, svc.name),
        method: r.method.clone(),
        path: r.path.clone(),
        body: r.body.as_ref().map(|b| match b {
            BodyModel::Json(v) => BodySpec::Json(v.clone()),
            BodyModel::Size(s) => BodySpec::Size(*s),
            BodyModel::Raw(s) => BodySpec::Raw(s.clone()),
        }),
        headers,
        weight,
        expect_status: r.expect_status.clone(),
        timeout: svc.timeout,
    })
}

/// The request mix: the traffic's `mix` (or a learned one), else every route of the system.
fn requests(
    model: &Model,
    t: &TrafficModel,
    system: &SystemModel,
    sys_index: usize,
    learned_mix: Option<&[(usize, usize, f64)]>,
) -> Result<Vec<RequestSpec>, BuildError> {
    let mix: Vec<(usize, usize, f64)> =
        match inherited(model, t, |x| (!x.mix.is_empty()).then(|| x.mix.clone())) {
            Some(m) => m.iter().map(|e| (e.system, e.service, e.share)).collect(),
            None => match learned_mix {
                Some(m) if !m.is_empty() => m.to_vec(),
                _ => {
                    let routed: Vec<usize> = (0..system.services.len())
                        .filter(|&i| !system.services[i].routes.is_empty())
                        .collect();
                    routed
                        .iter()
                        .map(|&i| (sys_index, i, 1.0 / routed.len() as f64))
                        .collect()
                }
            },
        };
    let mut out = Vec::new();
    for (si, vi, share) in mix {
        let sys = &model.systems[si];
        let svc = &sys.services[vi];
        let total: f64 = svc.routes.iter().map(|r| r.weight).sum();
        if svc.routes.is_empty() {
            return Err(BuildError(format!(
                "the mix sends to `{}.{}`, which has no route",
                sys.name, svc.name
            )));
        }
        for r in &svc.routes {
            out.push(route_request(model, si, vi, r, share * r.weight / total)?);
        }
    }
    Ok(out)
}

/// Loads every `data` feeder, resolving paths against the scenario's folder.
pub fn feeders(model: &Model, base_dir: &Path) -> Result<HashMap<String, Feeder>, BuildError> {
    let mut out = HashMap::new();
    for d in &model.data {
        let path = base_dir.join(&d.path);
        let format = match d.format {
            crate::check::DataFormat::Csv => DataFormat::Csv,
            crate::check::DataFormat::Jsonl => DataFormat::Jsonl,
        };
        let order = match d.order {
            crate::check::DataOrder::Cycle => DataOrder::Cycle,
            crate::check::DataOrder::Random => DataOrder::Random,
        };
        let f = Feeder::load(&path, format, order)
            .map_err(|e| BuildError(format!("data `{}` ({}): {e}", d.name, path.display())))?;
        out.insert(d.name.clone(), f);
    }
    Ok(out)
}
