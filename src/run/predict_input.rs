//! The scenario side of a prediction: which system, what load (the learned traffic's
//! forecast upper bound hour by hour × any event's `expect Nx` while it lasts × the scenario's
//! margin, or a rate given with `--at`), split by which mix, held against which SLO limits.
//! The prediction engine (`crate::predict`) knows nothing of the language; this is the
//! translation.

use std::collections::BTreeMap;
use std::path::Path;

use super::build;
use super::learn_input::{forecast_of, learn_traffic, learning_traffic};
use crate::check::eval::{eval, EvalEnv};
use crate::check::{ExpectKind, Metric, Model, ScenarioModel, StepKind, TExpr, TKind, Value};
use crate::predict::input::{Demand, PredictSpec, Quantity, SloLimit};
use crate::syntax::ast::BinaryOp;
use crate::units::{Duration, Timestamp};

/// Where the user asked to predict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum At {
    /// A total rate for the system (requests per second), split by the mix.
    Rate(f64),
    /// The forecast hour containing this time.
    Time(Timestamp),
}

/// Translates `scenario` of `model`. `base_dir` resolves learned logs.
pub fn predict_spec(
    model: &Model,
    scenario: &ScenarioModel,
    at: Option<At>,
    horizon: Option<Duration>,
    base_dir: &Path,
) -> Result<PredictSpec, String> {
    let traffic = scenario.steps.iter().find_map(|s| match s.kind {
        StepKind::Load { traffic, .. } => Some(traffic),
        _ => None,
    });
    let system = traffic
        .and_then(|t| build::traffic_system(model, t))
        .or_else(|| (model.systems.len() == 1).then_some(0))
        .ok_or_else(|| {
            format!(
                "scenario `{}` loads no traffic with a system: nothing to predict",
                scenario.name
            )
        })?;
    let sys = &model.systems[system];
    let qualified = |svc: usize| format!("{}.{}", sys.name, sys.services[svc].name);
    let mut notes = Vec::new();
    let mut mix = BTreeMap::new();
    if let Some(t) = traffic {
        for m in &model.traffics[t].mix {
            if m.system == system {
                *mix.entry(qualified(m.service)).or_insert(0.0) += m.share;
            }
        }
    }
    let margin = margin(model);
    let demand = match at {
        Some(At::Rate(r)) => Demand::Rate(r),
        _ => {
            let t = traffic.ok_or("no traffic to forecast: give --at RATE")?;
            let mut hours = forecast_hours(model, t, horizon, base_dir, &mut notes)?;
            apply_events(model, &mut hours, &mut notes);
            for h in &mut hours {
                h.1 *= margin;
            }
            if margin != 1.0 {
                notes.push(format!("margin {margin}x applied"));
            }
            match at {
                Some(At::Time(ts)) => {
                    let hour = ts.0.div_euclid(3600) * 3600;
                    let one: Vec<(i64, f64)> = hours.into_iter().filter(|h| h.0 == hour).collect();
                    if one.is_empty() {
                        return Err(format!("{ts} lies outside the forecast horizon"));
                    }
                    Demand::Hours(one)
                }
                _ => Demand::Hours(hours),
            }
        }
    };
    Ok(PredictSpec {
        system: sys.name.clone(),
        mix,
        demand,
        slos: slo_limits(model, scenario),
        notes,
    })
}

/// The scenario's margin: a multiplier param whose name contains `margin` (`peak_margin`),
/// else 1.
fn margin(model: &Model) -> f64 {
    model
        .params
        .iter()
        .filter(|p| p.name.contains("margin"))
        .find_map(|p| match p.value {
            Value::Multiplier(m) if m.0.is_finite() && m.0 > 0.0 => Some(m.0),
            _ => None,
        })
        .unwrap_or(1.0)
}

/// The forecast's upper bound per hour for traffic `t` (or the traffic it is `like`).
fn forecast_hours(
    model: &Model,
    t: usize,
    horizon: Option<Duration>,
    base_dir: &Path,
    notes: &mut Vec<String>,
) -> Result<Vec<(i64, f64)>, String> {
    let Some(li) = learning_traffic(model, t) else {
        return Err(format!(
            "traffic `{}` learns from no log, so there is no forecast: give --at RATE",
            model.traffics[t].name
        ));
    };
    let tm = &model.traffics[li];
    let fm = forecast_of(tm);
    let (_, profile) = learn_traffic(tm, base_dir)?;
    let f = crate::learn::forecast::forecast(
        &profile,
        horizon.unwrap_or(fm.horizon),
        fm.quantile,
        fm.method,
    )
    .map_err(|e| format!("traffic `{}`: forecasting: {e}", tm.name))?;
    let scale = model.traffics[t].scale.0 * if li != t { tm.scale.0 } else { 1.0 };
    notes.push(format!(
        "forecast of traffic {} over {} h, upper {:.0} % bound",
        tm.name,
        f.series.len(),
        fm.quantile * 100.0
    ));
    Ok(f.series
        .iter()
        .filter_map(|p| Some((Timestamp::parse(&p.at)?.0, p.upper * scale)))
        .collect())
}

/// Multiplies the hours an event covers by its `expect Nx`.
fn apply_events(model: &Model, hours: &mut [(i64, f64)], notes: &mut Vec<String>) {
    for e in &model.events {
        let from = e.at.0;
        let to = from + e.lasts.secs() as i64;
        let mut hit = false;
        for h in hours.iter_mut() {
            if h.0 + 3600 > from && h.0 < to {
                h.1 *= e.expect.0;
                hit = true;
            }
        }
        if hit {
            notes.push(format!("event {} expects {}x", e.name, e.expect.0));
        }
    }
}

/// Every `p99(…) < X`, `error_rate(…) < X`, `saturation(…) < X` the scenario expects,
/// directly or through an SLO.
fn slo_limits(model: &Model, scenario: &ScenarioModel) -> Vec<SloLimit> {
    let mut out = Vec::new();
    for x in &scenario.expects {
        match &x.kind {
            ExpectKind::Slo(i) => {
                let slo = &model.slos[*i];
                for c in &slo.objectives {
                    limits_in(model, &c.expr, &slo.name, &mut out);
                }
            }
            ExpectKind::Cond(e) => limits_in(model, e, &x.text, &mut out),
        }
    }
    out
}

struct NoRun;

impl EvalEnv for NoRun {
    fn metric(&self, _: Metric, _: usize, _: Option<usize>) -> Option<Value> {
        None
    }
    fn peak(&self, _: usize) -> Option<Value> {
        None
    }
}

fn limits_in(model: &Model, e: &TExpr, name: &str, out: &mut Vec<SloLimit>) {
    let TKind::Binary(op, l, r) = &e.kind else {
        return;
    };
    match op {
        BinaryOp::And => {
            limits_in(model, l, name, out);
            limits_in(model, r, name, out);
        }
        BinaryOp::Lt | BinaryOp::Le => {
            let TKind::Metric {
                metric,
                system,
                service,
            } = &l.kind
            else {
                return;
            };
            let quantity = match metric {
                Metric::P99 => Quantity::P99Ms,
                Metric::ErrorRate => Quantity::ErrorRate,
                Metric::Saturation => Quantity::Saturation,
                _ => return,
            };
            let limit = match eval(r, &NoRun) {
                Ok(Value::Duration(d)) => d.ms(),
                Ok(Value::Percent(p)) => p.fraction(),
                _ => return,
            };
            let sys = &model.systems[*system];
            out.push(SloLimit {
                name: name.to_string(),
                service: service.map(|s| format!("{}.{}", sys.name, sys.services[s].name)),
                quantity,
                limit,
            });
        }
        _ => {}
    }
}

/// The forecast peaks a run learned, for `predict at peak(t)` and a predicted trigger's `at`.
pub(super) struct Peaks<'a>(pub &'a BTreeMap<usize, f64>);

impl EvalEnv for Peaks<'_> {
    fn metric(&self, _: Metric, _: usize, _: Option<usize>) -> Option<Value> {
        None
    }
    fn peak(&self, traffic: usize) -> Option<Value> {
        self.0
            .get(&traffic)
            .map(|r| Value::Rate(crate::units::Rate(*r)))
    }
}

/// What the run knows that a prediction after it needs.
#[derive(Clone, Copy)]
pub struct RunFacts<'a> {
    /// Forecast peaks per traffic, for `predict at peak(t)`.
    pub peaks: &'a BTreeMap<usize, f64>,
    /// The scenario file's folder, where learned logs are found.
    pub base_dir: &'a Path,
    /// The profile database the run was recorded into.
    pub db: &'a Path,
    pub seed: u64,
    pub now: Timestamp,
}

/// The scenario statement `predict [at …]`, run once the run is recorded and the database
/// closed: predicts from the history plus this run and stores the predictions. `Err` says why
/// nothing was predicted, in words for the run's events.
pub fn after_run(
    model: &Model,
    scenario: &ScenarioModel,
    at: Option<&TExpr>,
    run: &RunFacts<'_>,
) -> Result<crate::predict::engine::Outcome, String> {
    let RunFacts {
        peaks,
        base_dir,
        db,
        seed,
        now,
    } = *run;
    let at = match at {
        None => None,
        Some(e) => match eval(e, &Peaks(peaks)) {
            Ok(Value::Rate(r)) => Some(At::Rate(r.per_sec())),
            Ok(Value::Timestamp(t)) => Some(At::Time(t)),
            Ok(v) => return Err(format!("`predict at` is {v}, neither a rate nor a time")),
            Err(e) => return Err(format!("`predict at`: {e}")),
        },
    };
    let spec = predict_spec(model, scenario, at, None, base_dir)?;
    crate::predict::engine::predict(db, &spec, seed, now, true).map_err(|e| e.to_string())
}
