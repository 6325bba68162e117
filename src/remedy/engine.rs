//! The engine: takes the remedies whose triggers fired in one evaluation, passes each through
//! the rails, acts (or advises) through the service's actuator, records every decision in the
//! audit log, verifies what it did and undoes what did not help.
//!
//! The engine does not measure anything itself: the caller (the interpreter during `res run`,
//! a test, later the orchestrator) says which triggers fired with their evidence, and during
//! verification answers whether the condition has cleared. That keeps the engine the same for
//! measured and predicted triggers.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::actuator::{Actuator, Change};
use super::audit::Audit;
use super::error::AuditError;
use super::rails::{self, Past};
use super::record::{DecisionRecord, Mode, Outcome, TriggerRecord, UndoRecord, Verification};
use super::state::{ActuatorState, AdminState};

/// What a remedy does, as declared.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    ScaleBy(i64),
    ScaleTo(u64),
    /// Move `fraction` of `from`'s weight onto `to` (servers of the service's backend).
    Shift {
        from: String,
        to: String,
        fraction: f64,
    },
    /// Bring `to` (a backup server) into service and take the other active servers out.
    Failover {
        to: String,
    },
    Webhook,
    /// Run a declared command (`do exec "…"`); needs `--allow-exec`.
    Exec(String),
}

/// Which actuator of a service an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Scale,
    Balance,
    Webhook,
    Command,
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::ScaleBy(_) | Action::ScaleTo(_) => ActionKind::Scale,
            Action::Shift { .. } | Action::Failover { .. } => ActionKind::Balance,
            Action::Webhook => ActionKind::Webhook,
            Action::Exec(_) => ActionKind::Command,
        }
    }

    fn describe(&self, service: &str) -> String {
        match self {
            Action::ScaleBy(n) => format!("scale {service} by {n:+}"),
            Action::ScaleTo(n) => format!("scale {service} to {n}"),
            Action::Shift { from, to, fraction } => {
                format!(
                    "shift {}% of {service} from {from} to {to}",
                    fraction * 100.0
                )
            }
            Action::Failover { to } => format!("failover {service} to {to}"),
            Action::Webhook => format!("webhook for {service}"),
            Action::Exec(command) => format!("exec `{command}` for {service}"),
        }
    }
}

/// A remedy as the engine needs it.
#[derive(Debug, Clone)]
pub struct Remedy {
    pub name: String,
    /// `shop.checkout`: at most one decision per service per evaluation.
    pub service: String,
    pub action: Action,
    /// `mode act|advise` in the file, if written.
    pub mode: Option<Mode>,
    pub cooldown: Duration,
    pub limit: Option<(u32, Duration)>,
    /// `within LO..HI` for scaling.
    pub within: Option<(u64, u64)>,
    /// A declared step (instances per minute) instead of max(4, 100 %).
    pub step_per_minute: Option<u64>,
    pub require_approval: bool,
    /// `verify within D`; twice the trigger window when absent.
    pub verify_within: Option<Duration>,
}

impl Remedy {
    pub fn new(name: &str, service: &str, action: Action) -> Self {
        Remedy {
            name: name.to_string(),
            service: service.to_string(),
            action,
            mode: None,
            cooldown: Duration::ZERO,
            limit: None,
            within: None,
            step_per_minute: None,
            require_approval: false,
            verify_within: None,
        }
    }
}

/// A remedy whose trigger fired, with the evidence.
#[derive(Debug, Clone)]
pub struct Fired {
    /// Index into the engine's remedies (declared order).
    pub remedy: usize,
    pub trigger: TriggerRecord,
}

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// `--remediate advise|act`.
    pub mode: Option<Mode>,
    /// `--allow-exec`.
    pub allow_exec: bool,
    /// Under `CI=true`, advise is the default.
    pub ci: bool,
    /// How often verification asks whether the condition cleared.
    pub verify_every: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            mode: None,
            allow_exec: false,
            ci: rails::in_ci(),
            verify_every: Duration::from_secs(1),
        }
    }
}

/// What a verification check saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The condition no longer holds.
    Cleared,
    /// Still holds, not worse.
    Holding,
    /// Worse than when the action was taken.
    Worse,
}

/// The remediation engine of one run.
pub struct Engine {
    remedies: Vec<Remedy>,
    actuators: HashMap<(String, ActionKind), Arc<dyn Actuator>>,
    options: EngineOptions,
    audit: Option<Audit>,
    history: Vec<Past>,
    records: Vec<DecisionRecord>,
    /// The last skip reason written per remedy, so a rail that holds for minutes is recorded
    /// once, not every second.
    last_skip: HashMap<usize, String>,
    next_id: u64,
    /// Audit failures, reported once at the end rather than stopping the run.
    audit_errors: Vec<String>,
}

impl Engine {
    pub fn new(remedies: Vec<Remedy>, options: EngineOptions, audit: Option<Audit>) -> Self {
        Engine {
            remedies,
            actuators: HashMap::new(),
            options,
            audit,
            history: Vec::new(),
            records: Vec::new(),
            last_skip: HashMap::new(),
            next_id: 1,
            audit_errors: Vec::new(),
        }
    }

    /// Declares how `service` is acted on for `kind`.
    pub fn add_actuator(&mut self, service: &str, kind: ActionKind, actuator: Arc<dyn Actuator>) {
        self.actuators.insert((service.to_string(), kind), actuator);
    }

    /// The remedies, in declared order.
    pub fn remedies(&self) -> &[Remedy] {
        &self.remedies
    }

    /// Every decision so far, in order.
    pub fn records(&self) -> &[DecisionRecord] {
        &self.records
    }

    pub fn record(&self, id: u64) -> Option<&DecisionRecord> {
        self.records.iter().find(|r| r.id == id)
    }

    /// Audit writes that failed (the decisions themselves went on).
    /// The audit log's database file, when decisions are stored.
    pub fn audit_path(&self) -> Option<&std::path::Path> {
        self.audit.as_ref().map(|a| a.path())
    }

    pub fn audit_errors(&self) -> &[String] {
        &self.audit_errors
    }

    /// Decides on every fired remedy, in declared order, one decision per service. Returns the
    /// ids of the decisions recorded in this evaluation.
    pub async fn evaluate(&mut self, mut fired: Vec<Fired>) -> Vec<u64> {
        let now = Instant::now();
        fired.sort_by_key(|f| f.remedy);
        let mut decided: HashMap<String, String> = HashMap::new();
        let mut ids = Vec::new();
        let mut seen = HashSet::new();
        for f in fired {
            let Some(remedy) = self.remedies.get(f.remedy).cloned() else {
                continue;
            };
            if !seen.insert(f.remedy) {
                continue;
            }
            let mode = rails::resolve_mode(
                self.options.mode,
                remedy.mode,
                self.options.ci,
                f.trigger.predicted,
            );
            let mut rec = self.blank(&remedy, f.trigger.clone(), mode);
            let skip = if let Some(first) = decided.get(&remedy.service) {
                Some(format!(
                    "one decision per service per evaluation: {first} decided first"
                ))
            } else {
                rails::held_back(&self.history, f.remedy, remedy.cooldown, remedy.limit, now)
            };
            if let Some(reason) = skip {
                if self.last_skip.get(&f.remedy) == Some(&reason) {
                    continue;
                }
                self.last_skip.insert(f.remedy, reason.clone());
                rec.result = Outcome::Skipped;
                rec.reason = Some(reason);
                ids.push(self.store_new(rec));
                continue;
            }
            self.last_skip.remove(&f.remedy);
            decided.insert(remedy.service.clone(), remedy.name.clone());
            let id = self.decide(f.remedy, &remedy, rec, now).await;
            ids.push(id);
        }
        ids
    }

    fn blank(&self, remedy: &Remedy, trigger: TriggerRecord, mode: Mode) -> DecisionRecord {
        DecisionRecord {
            id: 0,
            at: now_rfc3339(),
            remedy: remedy.name.clone(),
            service: remedy.service.clone(),
            trigger,
            mode,
            action: remedy.action.describe(&remedy.service),
            actuator: None,
            change: None,
            notes: Vec::new(),
            before: None,
            after: None,
            result: Outcome::Skipped,
            reason: None,
            error: None,
            verification: Verification::NotNeeded,
            undo: None,
            writer_pid: std::process::id(),
        }
    }

    /// One decision that passed cooldown and limits: read, plan the change, then advise, wait
    /// for approval, or act.
    async fn decide(
        &mut self,
        index: usize,
        remedy: &Remedy,
        mut rec: DecisionRecord,
        now: Instant,
    ) -> u64 {
        let kind = remedy.action.kind();
        let Some(actuator) = self.actuators.get(&(remedy.service.clone(), kind)).cloned() else {
            rec.result = Outcome::Failed;
            rec.error = Some(format!(
                "{} has no actuator for {}",
                remedy.service,
                match kind {
                    ActionKind::Scale => "scale",
                    ActionKind::Balance => "shift/failover",
                    ActionKind::Webhook => "webhook",
                    ActionKind::Command => "exec",
                }
            ));
            return self.store_new(rec);
        };
        rec.actuator = Some(format!("{}: {}", actuator.kind(), actuator.target()));
        if actuator.runs_commands() && !self.options.allow_exec {
            rec.result = Outcome::Refused;
            rec.reason = Some(format!(
                "{} runs a local command: refused without --allow-exec",
                actuator.target()
            ));
            return self.store_new(rec);
        }
        if rec.trigger.predicted && scales_in(&remedy.action) {
            rec.result = Outcome::Skipped;
            rec.reason = Some("no scale-in on a prediction (only on measurements)".into());
            return self.store_new(rec);
        }
        let before = match actuator.read().await {
            Ok(s) => s,
            Err(e) => {
                rec.result = Outcome::Failed;
                rec.error = Some(format!("reading the state before: {e}"));
                return self.store_new(rec);
            }
        };
        rec.before = Some(before.clone());
        let added = self.added_last_minute(&remedy.service, now);
        let change = match plan_change(remedy, &before, added) {
            Ok((Some(change), notes)) => {
                rec.notes = notes;
                change
            }
            Ok((None, notes)) => {
                rec.notes = notes;
                rec.result = Outcome::Skipped;
                rec.reason = Some(format!("nothing to change: already {}", before.summary()));
                return self.store_new(rec);
            }
            Err(e) => {
                rec.result = Outcome::Failed;
                rec.error = Some(e);
                return self.store_new(rec);
            }
        };
        rec.change = Some(change);
        self.history.push(Past {
            remedy: index,
            service: remedy.service.clone(),
            at: now,
            added: 0,
        });
        if rec.mode == Mode::Advise {
            rec.result = Outcome::Advised;
            return self.store_new(rec);
        }
        if remedy.require_approval {
            rec.result = Outcome::PendingApproval;
            return self.store_new(rec);
        }
        let id = self.store_new(rec);
        self.act(id, actuator.as_ref()).await;
        id
    }

    fn added_last_minute(&self, service: &str, now: Instant) -> u64 {
        self.history
            .iter()
            .filter(|p| p.service == service)
            .filter(|p| now.saturating_duration_since(p.at) < Duration::from_secs(60))
            .map(|p| p.added)
            .sum()
    }

    /// Applies the planned change of decision `id` and reads the state after.
    async fn act(&mut self, id: u64, actuator: &dyn Actuator) {
        let Some(mut rec) = self.record(id).cloned() else {
            return;
        };
        let Some(mut change) = rec.change.clone() else {
            return;
        };
        if let Change::Notify { .. } = change {
            change = Change::Notify {
                body: webhook_body(&rec),
            };
        }
        let applied = actuator.apply(&change).await;
        // Read back even after a failure: a half-applied change must show in the audit.
        let after = actuator.read().await;
        match applied {
            Ok(()) => {
                rec.result = Outcome::Done;
                rec.verification = Verification::Pending;
                if let (Some(b), Ok(a)) = (rec.before.as_ref().and_then(|b| b.instances()), &after)
                {
                    let added = a.instances().unwrap_or(b).saturating_sub(b);
                    if let Some(p) = self
                        .history
                        .iter_mut()
                        .rev()
                        .find(|p| p.service == rec.service)
                    {
                        p.added = added;
                    }
                }
            }
            Err(e) => {
                rec.result = Outcome::Failed;
                rec.error = Some(e.to_string());
            }
        }
        match after {
            Ok(a) => rec.after = Some(a),
            Err(e) if rec.error.is_none() => {
                rec.error = Some(format!("reading the state after: {e}"))
            }
            Err(_) => {}
        }
        if matches!(rec.after, Some(ActuatorState::Opaque)) && rec.result == Outcome::Done {
            // Nothing to read back means nothing to verify or undo.
            rec.verification = Verification::NotNeeded;
        }
        self.store(rec);
    }

    /// Watches decision `id` until `check` says the condition cleared, or the verification
    /// window (`verify within`, else twice the trigger window) runs out, or things got worse;
    /// in the last two cases the state read before acting is restored. Returns the
    /// verification recorded.
    pub async fn verify<F, Fut>(&mut self, id: u64, mut check: F) -> Option<Verification>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Check>,
    {
        let rec = self.record(id)?.clone();
        if rec.verification != Verification::Pending {
            return Some(rec.verification);
        }
        let remedy = self
            .remedies
            .iter()
            .find(|r| r.name == rec.remedy && r.service == rec.service)?
            .clone();
        let within = remedy
            .verify_within
            .unwrap_or_else(|| Duration::from_secs_f64((rec.trigger.window_s * 2.0).max(1.0)));
        let deadline = Instant::now() + within;
        let outcome = loop {
            match check().await {
                Check::Cleared => break Verification::Verified,
                Check::Worse => break Verification::Worse,
                Check::Holding if Instant::now() >= deadline => break Verification::NotCleared,
                Check::Holding => tokio::time::sleep(self.options.verify_every).await,
            }
        };
        self.conclude(id, outcome).await;
        Some(outcome)
    }

    /// Ends the verification of decision `id` with `outcome`; anything but `Verified`
    /// restores the state read before acting, reads it back and records the undo. For callers
    /// that watch the condition themselves (the interpreter, second by second).
    pub async fn conclude(&mut self, id: u64, outcome: Verification) {
        let Some(mut rec) = self.record(id).cloned() else {
            return;
        };
        if rec.verification != Verification::Pending {
            return;
        }
        rec.verification = outcome;
        if matches!(outcome, Verification::NotCleared | Verification::Worse) {
            let kind = self
                .remedies
                .iter()
                .find(|r| r.name == rec.remedy && r.service == rec.service)
                .map(|r| r.action.kind());
            let actuator =
                kind.and_then(|k| self.actuators.get(&(rec.service.clone(), k)).cloned());
            rec.undo = Some(match (actuator, rec.before.clone()) {
                (Some(a), Some(before)) => undo(a.as_ref(), &before).await,
                _ => UndoRecord {
                    result: "failed".into(),
                    after: None,
                    error: Some("nothing to restore".into()),
                },
            });
        }
        self.store(rec);
    }

    /// Decisions acted on whose verification has not ended.
    pub fn verifying(&self) -> Vec<u64> {
        self.records
            .iter()
            .filter(|r| r.verification == Verification::Pending)
            .map(|r| r.id)
            .collect()
    }

    /// The remedy a decision came from.
    pub fn remedy_of(&self, id: u64) -> Option<&Remedy> {
        let rec = self.record(id)?;
        self.remedies
            .iter()
            .find(|r| r.name == rec.remedy && r.service == rec.service)
    }

    /// Approves decision `id` (waiting for approval) and acts on it now.
    pub async fn approve(&mut self, id: u64) -> Result<(), AuditError> {
        if let Some(audit) = &self.audit {
            audit.approve(id)?;
        } else {
            let rec = self.record(id).ok_or(AuditError::NotFound(id))?;
            if rec.result != Outcome::PendingApproval {
                return Err(AuditError::NotPending {
                    id,
                    result: rec.result.name().into(),
                });
            }
        }
        self.run_approved(id).await;
        Ok(())
    }

    /// Settles a decision this engine made and holds in memory — the way while a run owns the
    /// database, so the change goes through the run's writer: approved (then acted on now,
    /// from the state read again) or rejected. Returns the decision's result afterwards.
    pub async fn settle_here(&mut self, id: u64, approve: bool) -> Result<Outcome, AuditError> {
        let mut rec = self.record(id).ok_or(AuditError::NotFound(id))?.clone();
        if rec.result != Outcome::PendingApproval {
            return Err(AuditError::NotPending {
                id,
                result: rec.result.name().into(),
            });
        }
        rec.result = if approve {
            Outcome::Approved
        } else {
            Outcome::Rejected
        };
        self.store(rec);
        if approve {
            self.run_approved(id).await;
        }
        Ok(self.record(id).map_or(Outcome::Approved, |r| r.result))
    }

    /// Rejects decision `id`: nothing will be done.
    pub fn reject(&mut self, id: u64) -> Result<(), AuditError> {
        let rec = self.record(id).ok_or(AuditError::NotFound(id))?.clone();
        if let Some(audit) = &self.audit {
            audit.reject(id)?;
        } else if rec.result != Outcome::PendingApproval {
            return Err(AuditError::NotPending {
                id,
                result: rec.result.name().into(),
            });
        }
        let mut rec = rec;
        rec.result = Outcome::Rejected;
        if let Some(r) = self.records.iter_mut().find(|r| r.id == id) {
            *r = rec;
        }
        Ok(())
    }

    /// Acts on every decision approved in the audit log since the last look (approvals given
    /// by `res remedy approve ID` from another process); marks rejected ones. Returns the ids
    /// acted on.
    pub async fn poll_approvals(&mut self) -> Vec<u64> {
        let Some(audit) = self.audit.clone() else {
            return Vec::new();
        };
        let pending: Vec<u64> = self
            .records
            .iter()
            .filter(|r| r.result == Outcome::PendingApproval)
            .map(|r| r.id)
            .collect();
        let mut acted = Vec::new();
        for id in pending {
            match audit.get(id) {
                Ok(stored) if stored.result == Outcome::Approved => {
                    self.run_approved(id).await;
                    acted.push(id);
                }
                Ok(stored) if stored.result == Outcome::Rejected => {
                    if let Some(r) = self.records.iter_mut().find(|r| r.id == id) {
                        r.result = Outcome::Rejected;
                    }
                }
                Ok(_) => {}
                Err(e) => self.audit_errors.push(e.to_string()),
            }
        }
        acted
    }

    /// Acts on an approved decision: the state is read again (it may have moved while the
    /// decision waited) and the change planned again from it.
    async fn run_approved(&mut self, id: u64) {
        let Some(mut rec) = self.record(id).cloned() else {
            return;
        };
        let Some((index, remedy)) = self
            .remedies
            .iter()
            .enumerate()
            .find(|(_, r)| r.name == rec.remedy && r.service == rec.service)
            .map(|(i, r)| (i, r.clone()))
        else {
            return;
        };
        let Some(actuator) = self
            .actuators
            .get(&(remedy.service.clone(), remedy.action.kind()))
            .cloned()
        else {
            return;
        };
        rec.result = Outcome::Approved;
        match actuator.read().await {
            Ok(before) => {
                let added = self.added_last_minute(&remedy.service, Instant::now());
                match plan_change(&remedy, &before, added) {
                    Ok((Some(change), notes)) => {
                        rec.before = Some(before);
                        rec.change = Some(change);
                        rec.notes = notes;
                        self.store(rec);
                        let _ = index;
                        self.act(id, actuator.as_ref()).await;
                    }
                    Ok((None, _)) => {
                        rec.result = Outcome::Skipped;
                        rec.reason = Some(format!(
                            "approved, but nothing to change: already {}",
                            before.summary()
                        ));
                        self.store(rec);
                    }
                    Err(e) => {
                        rec.result = Outcome::Failed;
                        rec.error = Some(e);
                        self.store(rec);
                    }
                }
            }
            Err(e) => {
                rec.result = Outcome::Failed;
                rec.error = Some(format!("reading the state before: {e}"));
                self.store(rec);
            }
        }
    }

    /// Stores a new decision, in the audit log when there is one; returns its id.
    fn store_new(&mut self, mut rec: DecisionRecord) -> u64 {
        let stored = match &self.audit {
            Some(audit) => match audit.insert(&mut rec) {
                Ok(id) => Some(id),
                Err(e) => {
                    self.audit_errors.push(e.to_string());
                    None
                }
            },
            None => None,
        };
        rec.id = stored.unwrap_or_else(|| {
            // Without an audit log (or when it failed), ids still go up within the run.
            self.records.last().map_or(self.next_id, |r| r.id + 1)
        });
        self.next_id = rec.id + 1;
        let id = rec.id;
        self.records.push(rec);
        id
    }

    /// Writes a changed decision to memory and the audit log.
    fn store(&mut self, rec: DecisionRecord) {
        if let Some(audit) = &self.audit {
            if let Err(e) = audit.update(&rec) {
                self.audit_errors.push(e.to_string());
            }
        }
        if let Some(r) = self.records.iter_mut().find(|r| r.id == rec.id) {
            *r = rec;
        }
    }
}

fn scales_in(action: &Action) -> bool {
    matches!(action, Action::ScaleBy(n) if *n < 0)
}

/// The concrete change for `remedy` from the state read before, and the notes of rails that
/// shaped it; `None` when there is nothing to change.
fn plan_change(
    remedy: &Remedy,
    before: &ActuatorState,
    added_last_minute: u64,
) -> Result<(Option<Change>, Vec<String>), String> {
    match &remedy.action {
        Action::ScaleBy(_) | Action::ScaleTo(_) => {
            let current = before
                .instances()
                .ok_or_else(|| format!("expected an instance count, read {}", before.summary()))?;
            let wanted = match remedy.action {
                Action::ScaleBy(by) => i128::from(current) + i128::from(by),
                Action::ScaleTo(to) => i128::from(to),
                _ => i128::from(current),
            };
            let (target, notes) = rails::target_instances(
                current,
                wanted,
                remedy.within,
                remedy.step_per_minute,
                added_last_minute,
            );
            Ok((
                (target != current).then_some(Change::SetInstances { instances: target }),
                notes,
            ))
        }
        Action::Shift { from, to, fraction } => {
            let missing = |s: &str| format!("no server `{s}` in {}", before.summary());
            let f = before.server(from).ok_or_else(|| missing(from))?;
            let t = before.server(to).ok_or_else(|| missing(to))?;
            let moved = (f64::from(f.weight) * fraction.clamp(0.0, 1.0)).round() as u32;
            let mut notes = Vec::new();
            let new_to = t.weight + moved;
            if new_to > 256 {
                notes.push(format!("weight of {to} clipped to 256 (HAProxy's maximum)"));
            }
            let change = Change::SetWeights {
                weights: vec![
                    (from.clone(), f.weight - moved),
                    (to.clone(), new_to.min(256)),
                ],
            };
            Ok(((moved > 0).then_some(change), notes))
        }
        Action::Failover { to } => {
            let ActuatorState::Servers { servers, .. } = before else {
                return Err(format!("expected servers, read {}", before.summary()));
            };
            if !servers.iter().any(|s| &s.name == to) {
                return Err(format!("no server `{to}` in {}", before.summary()));
            }
            let mut states = vec![(to.clone(), AdminState::Ready)];
            states.extend(
                servers
                    .iter()
                    .filter(|s| &s.name != to && !s.backup && s.admin != AdminState::Maint)
                    .map(|s| (s.name.clone(), AdminState::Maint)),
            );
            let already = servers
                .iter()
                .find(|s| &s.name == to)
                .is_some_and(|s| s.admin == AdminState::Ready)
                && states.len() == 1;
            Ok((
                (!already).then_some(Change::SetStates { states }),
                Vec::new(),
            ))
        }
        Action::Webhook => Ok((
            Some(Change::Notify {
                body: serde_json::Value::Null,
            }),
            Vec::new(),
        )),
        Action::Exec(command) => Ok((
            Some(Change::Run {
                command: command.clone(),
            }),
            Vec::new(),
        )),
    }
}

/// The document a webhook POSTs: the decision, the trigger and its evidence.
fn webhook_body(rec: &DecisionRecord) -> serde_json::Value {
    json!({
        "decision": {
            "id": rec.id,
            "remedy": rec.remedy,
            "service": rec.service,
            "action": rec.action,
            "mode": rec.mode,
            "at": rec.at,
        },
        "trigger": {
            "predicted": rec.trigger.predicted,
            "condition": rec.trigger.condition,
            "window_s": rec.trigger.window_s,
        },
        "evidence": rec.trigger.evidence,
    })
}

async fn undo(actuator: &dyn Actuator, before: &ActuatorState) -> UndoRecord {
    let restored = actuator.restore(before).await;
    let after = actuator.read().await.ok();
    match restored {
        Ok(()) => UndoRecord {
            result: "done".into(),
            after,
            error: None,
        },
        Err(e) => UndoRecord {
            result: "failed".into(),
            after,
            error: Some(e.to_string()),
        },
    }
}

fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::units::Timestamp(i64::try_from(secs).unwrap_or(0)).to_rfc3339()
}
