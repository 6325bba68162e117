//! `then remediate with …` during `res run`: the scenario's remedies are armed from the
//! start, their measured triggers are evaluated every second against the run's metrics (as
//! `abort` conditions are), and what fires goes to the remediation engine
//! ([`crate::remedy::Engine`]). A decision acted on is verified over the following seconds:
//! the condition must clear within twice its window, or the state read before is restored.
//!
//! Actuators come from what the language already says: a `builtin demo_shop` system is
//! scaled through the embedded shop's admin API, and `do webhook URL` posts to its URL. Other
//! actions (scale of other systems, shift, failover, exec) have no actuator in the language
//! yet; their decisions fail with "no actuator". Predicted triggers are evaluated by the
//! prediction engine when the plan's steps are over ([`super::predicted`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use super::metrics::{Metrics, WindowEnv};
use super::setup::Setup;
use crate::check::eval::eval;
use crate::check::{ActionModel, Condition, Model, ScenarioModel, SystemTarget, TKind, Value};
use crate::remedy::{
    Action, ActionKind, DecisionRecord, DemoAdmin, Engine, EngineOptions, Evidence, Fired, Mode,
    Outcome, Remedy, TriggerRecord, Verification, Webhook,
};
use crate::report::SkippedPart;
use crate::syntax::ast::BinaryOp;

/// A measured trigger and how long it has held.
struct Armed {
    /// Index into the engine's remedies.
    remedy: usize,
    cond: Condition,
    held_s: f64,
}

/// The remedies of one run.
pub(super) struct Remediation {
    engine: Engine,
    armed: Vec<Armed>,
    /// Per decision being verified: its condition and the seconds left.
    verifying: BTreeMap<u64, (Condition, f64)>,
    /// Predicted triggers, evaluated when the plan's steps are over ([`super::predicted`]).
    pub predicted: Vec<super::predicted::PredictedTrigger>,
    pub skipped: Vec<SkippedPart>,
}

impl Remediation {
    /// Arms the scenario's remedies; `None` when it names none.
    pub fn new(
        model: &Model,
        scenario: &ScenarioModel,
        setup: &Setup,
        (mode, allow_exec): (Option<Mode>, bool),
        audit: Option<crate::remedy::Audit>,
    ) -> Option<Remediation> {
        if scenario.remediate.is_empty() {
            return None;
        }
        let mut remedies = Vec::new();
        let mut actuators: Vec<(String, ActionKind, Arc<dyn crate::remedy::Actuator>)> = Vec::new();
        let mut armed = Vec::new();
        let mut predicted = Vec::new();
        let mut skipped = Vec::new();
        for &r in &scenario.remediate {
            let rm = &model.remedies[r];
            for action in &rm.actions {
                let (service, act) = match action {
                    ActionModel::ScaleBy {
                        system,
                        service,
                        by,
                    } => (service_name(model, *system, *service), Action::ScaleBy(*by)),
                    ActionModel::ScaleTo {
                        system,
                        service,
                        to,
                    } => (service_name(model, *system, *service), Action::ScaleTo(*to)),
                    ActionModel::Shift { fraction, from, to } => (
                        service_name(model, from.0, from.1),
                        Action::Shift {
                            from: service_name(model, from.0, from.1),
                            to: service_name(model, to.0, to.1),
                            fraction: *fraction,
                        },
                    ),
                    ActionModel::Failover {
                        system,
                        service,
                        to,
                    } => (
                        service_name(model, *system, *service),
                        Action::Failover { to: to.display() },
                    ),
                    ActionModel::Exec(cmd) => {
                        skipped.push(part(
                            &rm.name,
                            format!("`do exec {}` has no actuator in this build", cmd.display()),
                        ));
                        continue;
                    }
                    ActionModel::Webhook(url) => {
                        let key = format!("webhook {}", url.display());
                        match url.resolve() {
                            Ok(u) => {
                                let mut hook = Webhook::new(&u);
                                if let crate::check::StrValue::Secret { .. } = url {
                                    hook = hook.with_secret(&u);
                                }
                                actuators.push((key.clone(), ActionKind::Webhook, Arc::new(hook)));
                            }
                            Err(var) => skipped.push(part(
                                &rm.name,
                                format!("the webhook URL needs ${var}, which is not set"),
                            )),
                        }
                        (key, Action::Webhook)
                    }
                };
                if let ActionModel::ScaleBy {
                    system,
                    service: svc,
                    ..
                }
                | ActionModel::ScaleTo {
                    system,
                    service: svc,
                    ..
                } = action
                {
                    let sys = &model.systems[*system];
                    if let (SystemTarget::Builtin(_), Some(base)) =
                        (&sys.target, setup.targets.get(system))
                    {
                        let name = &sys.services[*svc].name;
                        actuators.push((
                            service.clone(),
                            ActionKind::Scale,
                            Arc::new(DemoAdmin::new(base, name)),
                        ));
                    }
                }
                let mut remedy = Remedy::new(&rm.name, &service, act);
                remedy.cooldown = StdDuration::from_secs_f64(rm.cooldown.0.max(0.0) / 1000.0);
                remedy.limit = rm
                    .limit
                    .map(|(n, d)| (n, StdDuration::from_secs_f64(d.0.max(0.0) / 1000.0)));
                let index = remedies.len();
                remedies.push(remedy);
                for t in &rm.triggers {
                    if t.predicted {
                        predicted.push(super::predicted::PredictedTrigger {
                            remedy: index,
                            cond: t.cond.clone(),
                            at: t.at.clone(),
                        });
                    } else {
                        armed.push(Armed {
                            remedy: index,
                            cond: t.cond.clone(),
                            held_s: 0.0,
                        });
                    }
                }
            }
        }
        let mut engine = Engine::new(
            remedies,
            EngineOptions {
                mode,
                allow_exec,
                ..EngineOptions::default()
            },
            audit,
        );
        for (service, kind, a) in actuators {
            engine.add_actuator(&service, kind, a);
        }
        Some(Remediation {
            engine,
            armed,
            verifying: BTreeMap::new(),
            predicted,
            skipped,
        })
    }

    /// One second: which triggers fired (held for their `for D`), and the verifications
    /// that ended. Synchronous, so the caller's tick stays cheap; [`Remediation::act`] does
    /// the I/O.
    pub fn tick(&mut self, metrics: &Metrics) -> (Vec<Fired>, Vec<(u64, Verification)>) {
        let last = metrics.last(1);
        let peaks = BTreeMap::new();
        let env = WindowEnv {
            metrics,
            windows: &last,
            peaks: &peaks,
        };
        let mut fired = Vec::new();
        for a in self.armed.iter_mut() {
            if matches!(eval(&a.cond.expr, &env), Ok(Value::Bool(true))) {
                a.held_s += 1.0;
                if a.held_s * 1000.0 >= a.cond.sustain.0.max(1.0) {
                    fired.push(Fired {
                        remedy: a.remedy,
                        trigger: TriggerRecord {
                            predicted: false,
                            condition: a.cond.text.clone(),
                            window_s: (a.cond.sustain.0 / 1000.0).max(1.0),
                            evidence: evidence(&a.cond, &env),
                        },
                    });
                }
            } else {
                a.held_s = 0.0;
            }
        }
        let mut ended = Vec::new();
        for (id, (cond, left)) in self.verifying.iter_mut() {
            *left -= 1.0;
            // Cleared only when the condition is measured false: a second without data (the
            // load has stopped) proves nothing.
            if matches!(eval(&cond.expr, &env), Ok(Value::Bool(false))) {
                ended.push((*id, Verification::Verified));
            } else if *left <= 0.0 {
                ended.push((*id, Verification::NotCleared));
            }
        }
        (fired, ended)
    }

    /// Decides on what fired and ends the verifications that ended.
    pub async fn act(&mut self, fired: Vec<Fired>, ended: Vec<(u64, Verification)>) {
        for (id, outcome) in ended {
            self.verifying.remove(&id);
            self.engine.conclude(id, outcome).await;
        }
        if fired.is_empty() {
            return;
        }
        let conds: Vec<(usize, Condition)> = self
            .armed
            .iter()
            .map(|a| (a.remedy, a.cond.clone()))
            .collect();
        for id in self.engine.evaluate(fired).await {
            let Some(rec) = self.engine.record(id) else {
                continue;
            };
            if rec.verification != Verification::Pending {
                continue;
            }
            let window = rec.trigger.window_s;
            let cond = conds
                .iter()
                .find(|(_, c)| c.text == rec.trigger.condition)
                .map(|(_, c)| c.clone());
            if let Some(cond) = cond {
                self.verifying.insert(id, (cond, (window * 2.0).max(2.0)));
            }
        }
    }

    /// At the end of the run: verifications still going are left in place, `unverified`.
    pub async fn end(&mut self) {
        for id in std::mem::take(&mut self.verifying).into_keys() {
            self.engine.conclude(id, Verification::Unverified).await;
        }
    }

    /// The service (`shop.checkout`) and name of the engine's remedy `index`.
    pub fn remedy(&self, index: usize) -> Option<(&str, &str)> {
        self.engine
            .remedies()
            .get(index)
            .map(|r| (r.service.as_str(), r.name.as_str()))
    }

    /// How long a predicted trigger's verification load runs: `verify within D`, else 15 s.
    pub fn verify_length(&self, index: usize) -> StdDuration {
        self.engine
            .remedies()
            .get(index)
            .and_then(|r| r.verify_within)
            .unwrap_or(StdDuration::from_secs(15))
    }

    /// Decides on predicted triggers that hold; returns the decisions acted on, which wait
    /// for [`Remediation::conclude`] after their verification load.
    pub async fn decide(&mut self, fired: Vec<Fired>) -> Vec<u64> {
        let ids = self.engine.evaluate(fired).await;
        ids.into_iter()
            .filter(|id| {
                self.engine
                    .record(*id)
                    .is_some_and(|r| r.verification == Verification::Pending)
            })
            .collect()
    }

    /// Ends the verification of a decision acted on for a predicted trigger.
    pub async fn conclude(&mut self, id: u64, outcome: Verification) {
        self.engine.conclude(id, outcome).await;
    }

    /// A part of the remedy that could not run.
    pub fn skip(&mut self, remedy: &str, reason: String) {
        self.skipped.push(part(remedy, reason));
    }

    pub fn records(&self) -> &[DecisionRecord] {
        self.engine.records()
    }

    /// Parts that keep the run from passing: remedies only advised, failed, refused, pending
    /// or undone, and the triggers and actions this build cannot run.
    pub fn incomplete(&self) -> Vec<SkippedPart> {
        let mut out = self.skipped.clone();
        for r in self.records() {
            let how = match (r.result, &r.undo) {
                (_, Some(_)) => "undone",
                (Outcome::Advised, _) => "advised",
                (Outcome::Failed | Outcome::Refused, _) => "failed",
                (Outcome::PendingApproval, _) => "skipped",
                _ if r.verification == Verification::Unverified => "unverified",
                _ => continue,
            };
            out.push(SkippedPart {
                part: "remediate".into(),
                name: r.remedy.clone(),
                how: how.into(),
                reason: r.line(),
            });
        }
        out
    }
}

fn part(remedy: &str, reason: String) -> SkippedPart {
    SkippedPart {
        part: "remediate".into(),
        name: remedy.into(),
        how: "skipped".into(),
        reason,
    }
}

fn service_name(model: &Model, system: usize, service: usize) -> String {
    let sys = &model.systems[system];
    format!("{}.{}", sys.name, sys.services[service].name)
}

/// The measured value and threshold of a comparison (`p99(shop.checkout) > 400ms`).
pub(super) fn evidence(cond: &Condition, env: &dyn crate::check::eval::EvalEnv) -> Vec<Evidence> {
    let TKind::Binary(op, lhs, rhs) = &cond.expr.kind else {
        return Vec::new();
    };
    if !matches!(
        op,
        BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Eq | BinaryOp::Ne
    ) {
        return Vec::new();
    }
    let (Ok(v), Ok(t)) = (eval(lhs, env), eval(rhs, env)) else {
        return Vec::new();
    };
    let quantity = cond
        .text
        .split_once(&format!(" {} ", op.as_str()))
        .map_or(cond.text.clone(), |(l, _)| l.trim().to_string());
    let unit = match v {
        Value::Duration(_) => "ms",
        Value::Percent(_) => "%",
        Value::Rate(_) => "/s",
        _ => "",
    };
    vec![Evidence {
        quantity,
        value: v.magnitude().unwrap_or(0.0),
        threshold: t.magnitude().unwrap_or(0.0),
        unit: unit.into(),
    }]
}
