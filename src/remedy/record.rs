//! One remediation decision as the audit log keeps it and the JSON report shows it: which
//! remedy, the trigger and its evidence, the mode, what it did, the state read before and
//! after, the result, the verification and the undo.

use serde::{Deserialize, Serialize};

use super::actuator::Change;
use super::state::ActuatorState;

/// advise records what it would do and changes nothing; act changes the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Advise,
    Act,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Advise => "advise",
            Mode::Act => "act",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "advise" => Ok(Mode::Advise),
            "act" => Ok(Mode::Act),
            other => Err(format!("`{other}`: expected advise or act")),
        }
    }
}

/// How a decision ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// advise mode: what it would do is recorded, nothing changed.
    Advised,
    /// The change was applied.
    Done,
    /// The actuator failed (unreachable, refused, timed out); `error` says how.
    Failed,
    /// A rail held it back (cooldown, limit, another remedy, nothing to change); `reason` says which.
    Skipped,
    /// Not allowed at all (exec without `--allow-exec`).
    Refused,
    /// Waiting for `res remedy approve ID` or `reject ID`.
    PendingApproval,
    /// Approved, not yet acted on.
    Approved,
    Rejected,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Advised => "advised",
            Outcome::Done => "done",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
            Outcome::Refused => "refused",
            Outcome::PendingApproval => "pending_approval",
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
        }
    }
}

/// Whether the action helped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Nothing was changed, so there is nothing to verify.
    NotNeeded,
    /// Acted; the condition is being watched.
    Pending,
    /// The condition cleared in time.
    Verified,
    /// The condition had not cleared by the deadline: undone.
    NotCleared,
    /// Things got worse: undone.
    Worse,
    /// The process died while verifying: the action stays in place, unverified.
    Unverified,
}

/// A measured value that made the trigger fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// `p99(shop.checkout)`.
    pub quantity: String,
    pub value: f64,
    pub threshold: f64,
    /// `ms`, `%`, `rps`, or empty.
    #[serde(default)]
    pub unit: String,
}

/// What fired, with the evidence and the window it was measured over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerRecord {
    pub predicted: bool,
    /// The condition as written: `p99(shop.checkout) > 400ms for 30s`.
    pub condition: String,
    /// The trigger's window (`for D`), seconds; 0 for a prediction.
    pub window_s: f64,
    pub evidence: Vec<Evidence>,
}

/// What undo did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UndoRecord {
    /// done or failed.
    pub result: String,
    /// The state read back after restoring.
    pub after: Option<ActuatorState>,
    #[serde(default)]
    pub error: Option<String>,
}

/// One decision, as stored in redb and shown by `res remedy show ID`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub id: u64,
    /// RFC 3339, UTC.
    pub at: String,
    pub remedy: String,
    /// `shop.checkout`.
    pub service: String,
    pub trigger: TriggerRecord,
    pub mode: Mode,
    /// The action as declared: `scale shop.checkout by +2`.
    pub action: String,
    /// The actuator and where it acts (never a secret).
    #[serde(default)]
    pub actuator: Option<String>,
    /// The concrete change worked out from the state before.
    #[serde(default)]
    pub change: Option<Change>,
    /// Rails that shaped the change: clipped to bounds, step limit.
    #[serde(default)]
    pub notes: Vec<String>,
    pub before: Option<ActuatorState>,
    pub after: Option<ActuatorState>,
    pub result: Outcome,
    /// Why it was skipped or refused.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    pub verification: Verification,
    #[serde(default)]
    pub undo: Option<UndoRecord>,
    /// The process that made the decision, to tell a verification still going from one its
    /// process died in.
    #[serde(default)]
    pub writer_pid: u32,
}

impl DecisionRecord {
    /// One line for terminals and `res remedy list`.
    pub fn line(&self) -> String {
        let mut s = format!(
            "#{} {} {} [{}] {}",
            self.id,
            self.remedy,
            self.action,
            self.mode.name(),
            self.result.name()
        );
        if let Some(c) = &self.change {
            s.push_str(&format!(": {}", c.summary()));
        }
        if let Some(r) = &self.reason {
            s.push_str(&format!(" ({r})"));
        }
        if let Some(e) = &self.error {
            s.push_str(&format!(": {e}"));
        }
        if self.verification != Verification::NotNeeded {
            s.push_str(&format!(", verification {:?}", self.verification).to_lowercase());
        }
        if let Some(u) = &self.undo {
            s.push_str(&format!(", undo {}", u.result));
        }
        s
    }
}

/// One decision as the run's JSON report shows it (`remediations[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportEntry {
    pub id: u64,
    pub remedy: String,
    /// The condition as written.
    pub trigger: String,
    /// The trigger was predicted (`when predicted …`), not measured.
    pub predicted: bool,
    pub evidence: Vec<Evidence>,
    pub mode: Mode,
    pub action: String,
    pub before: Option<ActuatorState>,
    pub after: Option<ActuatorState>,
    /// advised, done, failed, skipped, refused, pending_approval, approved, rejected.
    pub result: Outcome,
    /// Error or reason, in words.
    pub detail: Option<String>,
    /// The condition cleared after acting.
    pub verified: bool,
    pub verification: Verification,
    /// The state read before was restored.
    pub undone: bool,
    /// When it was decided, in seconds since the run started (`None` for decisions made
    /// after the plan's steps, such as predicted triggers).
    pub at_s: Option<f64>,
}

impl DecisionRecord {
    pub fn report(&self) -> ReportEntry {
        ReportEntry {
            id: self.id,
            remedy: self.remedy.clone(),
            trigger: self.trigger.condition.clone(),
            predicted: self.trigger.predicted,
            evidence: self.trigger.evidence.clone(),
            mode: self.mode,
            action: self.action.clone(),
            before: self.before.clone(),
            after: self.after.clone(),
            result: self.result,
            detail: self.error.clone().or_else(|| self.reason.clone()),
            verified: self.verification == Verification::Verified,
            verification: self.verification,
            undone: self.undo.as_ref().is_some_and(|u| u.result == "done"),
            at_s: None,
        }
    }
}
