//! Why an actuator, the rails or the audit log refused or failed: typed errors, so a failed
//! decision records what went wrong in words and the run goes on.

use std::time::Duration;

/// An actuator could not read or change the system.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ActuatorError {
    /// The target could not be reached (connection refused, socket missing, DNS).
    #[error("cannot reach {target}: {message}")]
    Unreachable { target: String, message: String },
    /// The action did not finish in time.
    #[error("{what} timed out after {}s", .after.as_secs_f64())]
    Timeout { what: String, after: Duration },
    /// The target answered, but with a refusal or an error.
    #[error("{target} answered {message}")]
    Refused { target: String, message: String },
    /// A command exited unsuccessfully.
    #[error("command `{command}` exited with {status}: {stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    /// The answer could not be understood (not a number, not the expected table).
    #[error("cannot read the state from {target}: {message}")]
    Unreadable { target: String, message: String },
    /// The actuator cannot do this kind of change.
    #[error("the {actuator} actuator cannot {change}")]
    Unsupported { actuator: String, change: String },
}

/// The audit log could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    #[error("remediation audit log: {0}")]
    Storage(String),
    #[error("no remediation decision with id {0}")]
    NotFound(u64),
    #[error("decision {id} is {result}, not waiting for approval")]
    NotPending { id: u64, result: String },
}

impl AuditError {
    pub(crate) fn storage(e: impl std::fmt::Display) -> Self {
        AuditError::Storage(e.to_string())
    }
}
