//! Predicted remedy triggers (`when predicted COND at LOAD`) during `res run`. When the plan's
//! steps are over, each predicted trigger is evaluated by the prediction engine: the capacity
//! and latency models of the system's services are fitted from every earlier recorded run
//! plus the seconds of this one, the load `at LOAD` is split over the services by the mix, and
//! COND is evaluated against the predicted values instead of measured ones. A condition that
//! holds fires the remedy (with the prediction as its evidence); one that does not is said,
//! with the predicted value, so the summary shows the remedy was evaluated.
//!
//! Verifying what a predicted trigger did needs load: the interpreter sends a short load at
//! the predicted rate after the action, and COND must be measured false over it
//! ([`verdict`]).

use std::collections::BTreeMap;
use std::path::Path;

use crate::check::eval::{eval, EvalEnv};
use crate::check::{Condition, Metric, Model, ScenarioModel, TExpr, Value};
use crate::predict::engine::{models, recorded_shares};
use crate::predict::history::{fault_windows, History, Second};
use crate::predict::service::AtRate;
use crate::remedy::{Evidence, TriggerRecord};
use crate::report::{FaultEvent, SeriesPoint};
use crate::units::{Duration, Percent, Rate};

/// The run id this run's seconds are filed under while predicting (it is not in the database
/// the history was read from).
const THIS_RUN: u64 = u64::MAX;

/// A predicted trigger of an armed remedy.
#[derive(Debug, Clone)]
pub struct PredictedTrigger {
    /// Index into the engine's remedies.
    pub remedy: usize,
    pub cond: Condition,
    pub at: Option<TExpr>,
}

/// What evaluating one predicted trigger found.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// The total rate of the system the prediction was made at.
    pub rate: f64,
    /// Whether the condition holds at that rate.
    pub holds: bool,
    pub trigger: TriggerRecord,
    /// One line for the run's events: the predicted values against the condition.
    pub line: String,
}

/// The earlier runs of the scenario's systems, read before the recorder opens the database
/// (it keeps the file locked while the run records). Empty when there is none yet.
pub fn prior_history(db: &Path) -> History {
    if !db.exists() {
        return History::default();
    }
    crate::profile::ProfileStore::open(db)
        .and_then(|s| History::read(&s, None))
        .unwrap_or_default()
}

/// The history plus this run's seconds (faulted seconds flagged, as the database would have
/// them).
pub fn with_this_run(prior: &History, series: &[SeriesPoint], faults: &[FaultEvent]) -> History {
    let mut h = prior.clone();
    let spans = fault_windows(faults.iter().map(|f| {
        (
            f.fault.as_str(),
            f.target.as_str(),
            f.action.as_str(),
            f.at_s,
        )
    }));
    let seconds = series.iter().map(|p| {
        let faulted = spans
            .iter()
            .any(|&(a, b)| (p.t as f64) >= a && (p.t as f64) < b);
        (p.service.as_str(), Second::from_point(THIS_RUN, p, faulted))
    });
    h.add_run(THIS_RUN, seconds);
    h
}

/// Inputs that do not change from one trigger to the next.
pub struct Context<'a> {
    pub model: &'a Model,
    pub scenario: &'a ScenarioModel,
    pub peaks: &'a BTreeMap<usize, f64>,
    pub base_dir: &'a Path,
    pub seed: u64,
}

/// Evaluates `trigger` of the remedy acting on `service` (`shop.checkout`) against
/// `history`. `Err` says why it could not be evaluated.
pub fn evaluate(
    cx: &Context<'_>,
    trigger: &PredictedTrigger,
    service: &str,
    history: &History,
) -> Result<Evaluation, String> {
    let rate = load_at(cx, trigger.at.as_ref())?;
    let system = service.split_once('.').map_or(service, |(s, _)| s);
    let spec = super::predict_input::predict_spec(
        cx.model,
        cx.scenario,
        Some(super::predict_input::At::Rate(rate)),
        None,
        cx.base_dir,
    )?;
    if history.is_empty() {
        return Err(format!(
            "no recorded second of system `{system}` to predict from"
        ));
    }
    let shares = if spec.mix.is_empty() {
        recorded_shares(history)
    } else {
        spec.mix.clone()
    };
    let mut at: BTreeMap<String, AtRate> = BTreeMap::new();
    for m in models(history, cx.seed) {
        if let Some(share) = shares.get(&m.service) {
            at.insert(m.service.clone(), m.at(rate * share));
        }
    }
    let env = PredictedEnv {
        model: cx.model,
        at: &at,
        peaks: cx.peaks,
    };
    let holds = match eval(&trigger.cond.expr, &env) {
        Ok(Value::Bool(b)) => b,
        Ok(v) => return Err(format!("`{}` is {v}, not a condition", trigger.cond.text)),
        Err(e) => {
            return Err(format!(
                "`{}` at {rate:.1}/s cannot be predicted: {e}",
                trigger.cond.text
            ))
        }
    };
    let mut evidence = super::remedies::evidence(&trigger.cond, &env);
    for e in &mut evidence {
        e.quantity = format!("predicted {}", e.quantity);
    }
    let shown = shown(&evidence, &at, service);
    let line = format!(
        "predicted at {rate:.1}/s: {shown}; `{}` {}",
        trigger.cond.text,
        if holds { "holds" } else { "does not hold" }
    );
    Ok(Evaluation {
        rate,
        holds,
        trigger: TriggerRecord {
            predicted: true,
            condition: trigger.cond.text.clone(),
            window_s: 0.0,
            evidence,
        },
        line,
    })
}

/// The total rate `at LOAD` names; without `at`, the peak of the first traffic the scenario
/// loads.
fn load_at(cx: &Context<'_>, at: Option<&TExpr>) -> Result<f64, String> {
    let peaks = super::predict_input::Peaks(cx.peaks);
    match at {
        Some(e) => match eval(e, &peaks) {
            Ok(Value::Rate(r)) if r.0.is_finite() && r.0 > 0.0 => Ok(r.0),
            Ok(Value::Timestamp(t)) => Err(format!(
                "a predicted trigger `at {t}` is evaluated by `res predict --at {t}` and the \
                 orchestrator, not at the end of a run"
            )),
            Ok(v) => Err(format!("`at` is {v}, not a positive rate")),
            Err(e) => Err(format!("`at`: {e}")),
        },
        None => cx
            .peaks
            .values()
            .next()
            .copied()
            .filter(|r| *r > 0.0)
            .ok_or_else(|| "the trigger names no load (`at 800/s`) and no peak is known".into()),
    }
}

/// The predicted values the evidence names, with their intervals.
fn shown(evidence: &[Evidence], at: &BTreeMap<String, AtRate>, service: &str) -> String {
    let mut parts: Vec<String> = evidence
        .iter()
        .map(|e| format!("{} {:.1}{}", e.quantity, e.value, e.unit))
        .collect();
    if let Some(a) = at.get(service) {
        let p = a.p99_ms.value;
        parts.push(format!(
            "{service} at {:.1}/s: p99 {:.0} ms (90 %: {:.0}–{:.0} ms{}), saturation {:.0} %",
            a.rate,
            p.point,
            p.lo,
            p.hi,
            if a.p99_ms.extrapolated {
                ", extrapolated"
            } else {
                ""
            },
            a.saturation.value.point * 100.0
        ));
    }
    parts.join("; ")
}

/// Metrics answered from predictions at one rate.
struct PredictedEnv<'a> {
    model: &'a Model,
    at: &'a BTreeMap<String, AtRate>,
    peaks: &'a BTreeMap<usize, f64>,
}

impl EvalEnv for PredictedEnv<'_> {
    fn metric(&self, metric: Metric, system: usize, service: Option<usize>) -> Option<Value> {
        let sys = self.model.systems.get(system)?;
        let picked: Vec<&AtRate> = match service {
            Some(s) => vec![self
                .at
                .get(&format!("{}.{}", sys.name, sys.services.get(s)?.name))?],
            None => {
                let prefix = format!("{}.", sys.name);
                self.at
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .map(|(_, v)| v)
                    .collect()
            }
        };
        if picked.is_empty() {
            return None;
        }
        let max = |f: &dyn Fn(&AtRate) -> f64| picked.iter().map(|a| f(a)).fold(0.0, f64::max);
        let total: f64 = picked.iter().map(|a| a.rate).sum();
        Some(match metric {
            Metric::P99 | Metric::P999 | Metric::MaxLatency => {
                Value::Duration(Duration(max(&|a| a.p99_ms.value.point)))
            }
            Metric::ErrorRate | Metric::Availability => {
                let errors: f64 = picked
                    .iter()
                    .map(|a| a.rate * a.error_rate.value.point)
                    .sum();
                let rate = if total > 0.0 { errors / total } else { 0.0 };
                if metric == Metric::ErrorRate {
                    Value::Percent(Percent(rate * 100.0))
                } else {
                    Value::Percent(Percent((1.0 - rate) * 100.0))
                }
            }
            Metric::Saturation => {
                Value::Percent(Percent(max(&|a| a.saturation.value.point) * 100.0))
            }
            Metric::Throughput => Value::Rate(Rate(total)),
            // The models predict p99, errors and saturation; other quantities are not predicted.
            _ => return None,
        })
    }

    fn peak(&self, traffic: usize) -> Option<Value> {
        self.peaks.get(&traffic).map(|r| Value::Rate(Rate(*r)))
    }
}
