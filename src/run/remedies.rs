//! `then remediate with …` during `res run`: the scenario's remedies are armed from the
//! start, their measured triggers are evaluated every second against the run's metrics (as
//! `abort` conditions are), and what fires goes to the remediation engine
//! ([`crate::remedy::Engine`]). A decision acted on is verified over the following seconds:
//! the condition must clear within twice its window, or the state read before is restored.
//!
//! Actuators come from the services' declarations: `scale via exec … read …` (commands with
//! read-back), `balance via haproxy SOCKET backend NAME` or `balance via proxy ADMIN_URL`
//! (shift and failover through HAProxy or `res proxy serve`, servers named
//! like the services), and `scale via admin` — implicit on a `builtin demo_shop` — for the
//! embedded shop's admin API; `do exec` runs its command and `do webhook URL` posts to it. A
//! remedy's `mode`, `verify within`, `require approval`, `step at most` and the actuator's
//! `within` become the engine's rails. Predicted triggers are evaluated by the
//! prediction engine when the plan's steps are over ([`super::predicted`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use super::metrics::{Metrics, WindowEnv};
use super::setup::Setup;
use crate::check::eval::eval;
use crate::check::{
    ActionModel, ActuatorModel, Condition, Model, RemedyMode, ScenarioModel, StrValue,
    SystemTarget, TKind, Value,
};
use crate::remedy::{
    Action, ActionKind, Actuator, DecisionRecord, DemoAdmin, Engine, EngineOptions, Evidence,
    ExecCommand, ExecScale, Fired, HaproxyBalancer, Mode, Outcome, ProxySplitter, Remedy,
    TriggerRecord, Verification, Webhook,
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
    /// The run second of the latest tick, and when each measured decision was made in it.
    now_s: f64,
    decided_at: BTreeMap<u64, f64>,
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
                let w = match wire(model, setup, action) {
                    Ok(w) => w,
                    Err(why) => {
                        skipped.push(part(&rm.name, why));
                        continue;
                    }
                };
                let (service, act) = (w.service, w.action);
                if let Some((kind, a)) = w.actuator {
                    actuators.push((service.clone(), kind, a));
                }
                let mut remedy = Remedy::new(&rm.name, &service, act);
                remedy.cooldown = StdDuration::from_secs_f64(rm.cooldown.0.max(0.0) / 1000.0);
                remedy.limit = rm
                    .limit
                    .map(|(n, d)| (n, StdDuration::from_secs_f64(d.0.max(0.0) / 1000.0)));
                remedy.mode = rm.mode.map(|m| match m {
                    RemedyMode::Act => Mode::Act,
                    RemedyMode::Advise => Mode::Advise,
                });
                remedy.verify_within = rm
                    .verify_within
                    .map(|d| StdDuration::from_secs_f64(d.0.max(0.0) / 1000.0));
                remedy.require_approval = rm.require_approval;
                remedy.step_per_minute = rm.step_per_minute;
                remedy.within = w.within;
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
            now_s: 0.0,
            decided_at: BTreeMap::new(),
        })
    }

    /// One second: which triggers fired (held for their `for D`), and the verifications
    /// that ended. Synchronous, so the caller's tick stays cheap; [`Remediation::act`] does
    /// the I/O.
    pub fn tick(&mut self, metrics: &Metrics) -> (Vec<Fired>, Vec<(u64, Verification)>) {
        let last = metrics.last(1);
        self.now_s = metrics.series.last().map_or(0.0, |p| p.t as f64 + 1.0);
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
        // Approvals asked for by `res remedy approve` while this run holds the database.
        let approved = crate::remedy::approvals::serve(&mut self.engine).await;
        self.watch(approved);
        if fired.is_empty() {
            return;
        }
        let ids = self.engine.evaluate(fired).await;
        self.watch(ids);
    }

    /// Starts verifying the decisions acted on: the trigger must clear within `verify within
    /// D` (else twice its window).
    fn watch(&mut self, ids: Vec<u64>) {
        let conds: Vec<(usize, Condition)> = self
            .armed
            .iter()
            .map(|a| (a.remedy, a.cond.clone()))
            .collect();
        for id in ids {
            self.decided_at.entry(id).or_insert(self.now_s);
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
            // `verify within D`, else twice the trigger's window.
            let within = self
                .engine
                .remedy_of(id)
                .and_then(|r| r.verify_within)
                .map_or((window * 2.0).max(2.0), |d| d.as_secs_f64().max(1.0));
            if let Some(cond) = cond {
                self.verifying.insert(id, (cond, within));
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

    /// The decisions as the run's report shows them, with when each measured one was made.
    pub fn reports(&self) -> Vec<crate::remedy::ReportEntry> {
        self.records()
            .iter()
            .map(|d| crate::remedy::ReportEntry {
                at_s: self.decided_at.get(&d.id).copied(),
                ..d.report()
            })
            .collect()
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

/// An action of the language as the engine takes it: the service it is keyed by, the
/// engine's action, the actuator the service declares (or the embedded shop's admin API), and
/// the instance bounds of a scale actuator.
struct Wired {
    service: String,
    action: Action,
    actuator: Option<(ActionKind, Arc<dyn Actuator>)>,
    within: Option<(u64, u64)>,
}

/// Wires one declared action; `Err` says why it cannot run (an unset variable).
fn wire(model: &Model, setup: &Setup, action: &ActionModel) -> Result<Wired, String> {
    let balancer = |system: usize, service: usize| -> Result<_, String> {
        match model.systems[system].services[service].balancer() {
            Some(ActuatorModel::BalanceHaproxy { socket, backend }) => {
                let a: Arc<dyn Actuator> =
                    Arc::new(HaproxyBalancer::new(&resolve(socket)?, &resolve(backend)?));
                Ok(Some((ActionKind::Balance, a)))
            }
            Some(ActuatorModel::BalanceProxy { admin }) => {
                let a: Arc<dyn Actuator> = Arc::new(ProxySplitter::new(&resolve(admin)?));
                Ok(Some((ActionKind::Balance, a)))
            }
            _ => Ok(None),
        }
    };
    let short =
        |system: usize, service: usize| model.systems[system].services[service].name.clone();
    Ok(match action {
        ActionModel::ScaleBy {
            system,
            service,
            by,
        } => scale(model, setup, (*system, *service), Action::ScaleBy(*by))?,
        ActionModel::ScaleTo {
            system,
            service,
            to,
        } => scale(model, setup, (*system, *service), Action::ScaleTo(*to))?,
        ActionModel::Shift { fraction, from, to } => Wired {
            service: service_name(model, from.0, from.1),
            action: Action::Shift {
                from: short(from.0, from.1),
                to: short(to.0, to.1),
                fraction: *fraction,
            },
            actuator: balancer(from.0, from.1)?,
            within: None,
        },
        ActionModel::Failover {
            system,
            service,
            to,
        } => Wired {
            service: service_name(model, *system, *service),
            action: Action::Failover { to: resolve(to)? },
            actuator: balancer(*system, *service)?,
            within: None,
        },
        ActionModel::Exec(cmd) => {
            let command = resolve(cmd)?;
            Wired {
                service: format!("exec {}", cmd.display()),
                actuator: Some((
                    ActionKind::Command,
                    Arc::new(ExecCommand::new(&command)) as Arc<dyn Actuator>,
                )),
                action: Action::Exec(command),
                within: None,
            }
        }
        ActionModel::Webhook(url) => {
            let u = resolve(url)?;
            let mut hook = Webhook::new(&u);
            if let StrValue::Secret { .. } = url {
                hook = hook.with_secret(&u);
            }
            Wired {
                service: format!("webhook {}", url.display()),
                action: Action::Webhook,
                actuator: Some((ActionKind::Webhook, Arc::new(hook) as Arc<dyn Actuator>)),
                within: None,
            }
        }
    })
}

/// A scale action: the service's `scale via exec`, or the embedded shop's admin API (declared
/// with `scale via admin`, or implicit on `builtin demo_shop`), with its `within` bounds.
fn scale(
    model: &Model,
    setup: &Setup,
    (system, service): (usize, usize),
    action: Action,
) -> Result<Wired, String> {
    let sys = &model.systems[system];
    let svc = &sys.services[service];
    let builtin = matches!(sys.target, SystemTarget::Builtin(_));
    let actuator: Option<Arc<dyn Actuator>> = match svc.scaler() {
        Some(ActuatorModel::ScaleExec { set, read, .. }) => {
            Some(Arc::new(ExecScale::new(&resolve(set)?, &resolve(read)?)))
        }
        Some(ActuatorModel::ScaleAdmin { .. }) | None if builtin => setup
            .targets
            .get(&system)
            .map(|base| Arc::new(DemoAdmin::new(base, &svc.name)) as Arc<dyn Actuator>),
        _ => None,
    };
    Ok(Wired {
        service: service_name(model, system, service),
        action,
        actuator: actuator.map(|a| (ActionKind::Scale, a)),
        within: svc.scaler().and_then(|a| a.within()),
    })
}

/// A declared string's value; `Err` names the variable that is not set.
fn resolve(v: &StrValue) -> Result<String, String> {
    v.resolve()
        .map_err(|var| format!("`{}` needs ${var}, which is not set", v.display()))
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
