//! The verdict of a run: abort conditions checked each second, expectations evaluated over
//! their windows at the end, the send lag, and the outcome — expectations, then load steps
//! short of their plan, then parts skipped or only advised (a run with any is incomplete,
//! never a pass).

use std::collections::BTreeMap;

use super::metrics::{Metrics, Window, WindowEnv};
use crate::check::eval::{eval, metrics_in};
use crate::check::{Condition, ExpectKind, ExpectScopeModel, Model, ScenarioModel, Value};
use crate::load::LoadResult;
use crate::report::{ExpectationResult, Outcome, SendLag, SkippedPart, StepRate};

/// An `abort when` condition and how long it has held.
pub(super) struct Abort {
    pub cond: Condition,
    pub held_s: f64,
}

/// How many percent below its plan a step may send before the run fails (and, for steps of
/// few requests, three standard deviations of a Poisson count).
pub const SHORT_LIMIT_PCT: f64 = 10.0;

/// The outcome: a tool error or an abort stands; otherwise failed expectations, then load
/// steps short of their plan, fail the run; a pass with skipped or only advised parts is
/// incomplete.
pub(super) fn verdict(
    outcome: Outcome,
    reason: Option<String>,
    expectations: &[ExpectationResult],
    steps: &[StepRate],
    skipped: &[SkippedPart],
    allow_short: bool,
) -> (Outcome, Option<String>) {
    if outcome != Outcome::Pass {
        return (outcome, reason);
    }
    let failed: Vec<&str> = expectations
        .iter()
        .filter(|e| !e.passed)
        .map(|e| e.text.as_str())
        .collect();
    if !failed.is_empty() {
        return (
            Outcome::Fail,
            Some(format!("expectation failed: {}", failed.join("; "))),
        );
    }
    let short: Vec<String> = steps
        .iter()
        .filter(|s| s.short)
        .map(|s| {
            format!(
                "step {} sent {:.1}/s, {:.0}% short of its planned {:.1}/s",
                s.step, s.achieved_rps, s.short_pct, s.planned_rps
            )
        })
        .collect();
    if !short.is_empty() && !allow_short {
        return (
            Outcome::Fail,
            Some(format!(
                "{} (more than {SHORT_LIMIT_PCT:.0}% short fails the run; --allow-short accepts it)",
                short.join("; ")
            )),
        );
    }
    if !skipped.is_empty() {
        let parts: Vec<String> = skipped
            .iter()
            .map(|s| format!("{} {} ({})", s.part, s.name, s.how))
            .collect();
        return (
            Outcome::Incomplete,
            Some(format!("not every part ran: {}", parts.join(", "))),
        );
    }
    (Outcome::Pass, None)
}

/// Checks every abort condition on the last second; returns why the run must stop.
pub(super) fn check_aborts(aborts: &mut [Abort], metrics: &Metrics) -> Option<String> {
    let last = metrics.last(1);
    let peaks = BTreeMap::new();
    let env = WindowEnv {
        metrics,
        windows: &last,
        peaks: &peaks,
    };
    for a in aborts.iter_mut() {
        match eval(&a.cond.expr, &env) {
            Ok(Value::Bool(true)) => {
                a.held_s += 1.0;
                if a.held_s * 1000.0 >= a.cond.sustain.0.max(1.0) {
                    return Some(format!(
                        "abort when {} held for {}s ({})",
                        a.cond.text,
                        a.held_s,
                        observed(&a.cond.expr, &env)
                    ));
                }
            }
            _ => a.held_s = 0.0,
        }
    }
    None
}

/// "p99(shop.checkout) = 212ms; error_rate(shop) = 0.3%".
fn observed(e: &crate::check::TExpr, env: &WindowEnv) -> String {
    let mut ms = Vec::new();
    metrics_in(e, &mut ms);
    let parts: Vec<String> = ms
        .iter()
        .map(|(m, sys, svc)| {
            let target = match svc {
                Some(v) => env
                    .metrics
                    .service_name(*sys, *v)
                    .unwrap_or("?")
                    .to_string(),
                None => env.metrics_system_name(*sys),
            };
            match crate::check::eval::EvalEnv::metric(env, *m, *sys, *svc) {
                Some(v) => format!("{}({target}) = {}", m.name(), show(&v)),
                None => format!("{}({target}) = no data", m.name()),
            }
        })
        .collect();
    parts.join("; ")
}

fn show(v: &Value) -> String {
    match v {
        Value::Duration(d) => format!("{:.1}ms", d.0),
        Value::Percent(p) => format!("{:.2}%", p.0),
        Value::Rate(r) => format!("{:.1}/s", r.0),
        other => other.to_string(),
    }
}

impl WindowEnv<'_> {
    fn metrics_system_name(&self, sys: usize) -> String {
        self.metrics.system_name(sys).to_string()
    }
}

pub(super) fn evaluate(
    model: &Model,
    scenario: &ScenarioModel,
    metrics: &Metrics,
    scope_of: &[Option<usize>],
    peaks: &BTreeMap<usize, f64>,
) -> Vec<ExpectationResult> {
    let mut out = Vec::new();
    for (k, e) in scenario.expects.iter().enumerate() {
        let windows: &BTreeMap<String, Window> = match scope_of[k] {
            Some(s) => &metrics.scopes[s].per_service,
            None => &metrics.totals,
        };
        let env = WindowEnv {
            metrics,
            windows,
            peaks,
        };
        let scope = match e.scope {
            ExpectScopeModel::Whole => "whole run".to_string(),
            ExpectScopeModel::During(j) => format!("during {}", scenario.steps[j].name),
            ExpectScopeModel::After(j) => format!("after {}", scenario.steps[j].name),
        };
        let conds: Vec<(String, &crate::check::TExpr)> = match &e.kind {
            ExpectKind::Slo(i) => model.slos[*i]
                .objectives
                .iter()
                .map(|o| (o.text.clone(), &o.expr))
                .collect(),
            ExpectKind::Cond(t) => vec![(e.text.clone(), t)],
        };
        let mut passed = true;
        let mut seen = Vec::new();
        for (text, cond) in conds {
            let ok = matches!(eval(cond, &env), Ok(Value::Bool(true)));
            passed &= ok;
            let obs = observed(cond, &env);
            seen.push(if ok {
                obs
            } else {
                format!("{obs} (wanted {text})")
            });
        }
        out.push(ExpectationResult {
            text: e.text.clone(),
            scope,
            passed,
            observed: seen.join("; "),
        });
    }
    out
}

pub(super) fn lag(results: &[LoadResult]) -> Option<SendLag> {
    let open: Vec<&LoadResult> = results
        .iter()
        .filter(|r| r.model != "closed" && r.requests > 0)
        .collect();
    if open.is_empty() {
        return None;
    }
    Some(SendLag {
        median_ms: open
            .iter()
            .map(|r| r.send_lag_ms.p50_ms)
            .fold(0.0, f64::max),
        p99_ms: open
            .iter()
            .map(|r| r.send_lag_ms.p99_ms)
            .fold(0.0, f64::max),
        max_ms: open
            .iter()
            .map(|r| r.send_lag_ms.max_ms)
            .fold(0.0, f64::max),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(short: bool) -> StepRate {
        StepRate {
            step: "main".into(),
            traffic: "t".into(),
            unit: "requests".into(),
            start_s: 0.0,
            length_s: 30.0,
            planned_rps: 83.0,
            achieved_rps: if short { 60.0 } else { 82.0 },
            short_pct: if short { 27.7 } else { 1.2 },
            short,
        }
    }

    fn skipped() -> SkippedPart {
        SkippedPart {
            part: "remediate".into(),
            name: "grow".into(),
            how: "skipped".into(),
            reason: "not in this build".into(),
        }
    }

    #[test]
    fn a_step_short_of_its_plan_fails_the_run_unless_allowed() {
        let (o, r) = verdict(Outcome::Pass, None, &[], &[step(true)], &[], false);
        assert_eq!(o, Outcome::Fail);
        let r = r.unwrap();
        assert!(
            r.contains("step main sent 60.0/s, 28% short of its planned 83.0/s"),
            "{r}"
        );
        let (o, _) = verdict(Outcome::Pass, None, &[], &[step(true)], &[], true);
        assert_eq!(o, Outcome::Pass);
        let (o, _) = verdict(Outcome::Pass, None, &[], &[step(false)], &[], false);
        assert_eq!(o, Outcome::Pass);
    }

    #[test]
    fn skipped_parts_make_a_pass_incomplete_but_not_a_failure() {
        let (o, r) = verdict(
            Outcome::Pass,
            None,
            &[],
            &[step(false)],
            &[skipped()],
            false,
        );
        assert_eq!(o, Outcome::Incomplete);
        assert!(r.unwrap().contains("remediate grow (skipped)"));
        assert_eq!(o.exit_code(), 1);
        let (o, _) = verdict(Outcome::Pass, None, &[], &[step(true)], &[skipped()], false);
        assert_eq!(o, Outcome::Fail);
        let (o, _) = verdict(
            Outcome::Aborted,
            Some("x".into()),
            &[],
            &[],
            &[skipped()],
            false,
        );
        assert_eq!(o, Outcome::Aborted);
    }
}
