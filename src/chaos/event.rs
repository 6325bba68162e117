//! Events for the run report: every injection, reversion and failure, with its target.

use std::time::SystemTime;

use serde::Serialize;

use super::journal::unix_ms;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Inject,
    Revert,
    /// An injection or a revert that did not work; the detail says why.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChaosEvent {
    /// Unix milliseconds.
    pub at_ms: u64,
    pub kind: EventKind,
    pub fault: String,
    pub target: String,
    pub detail: String,
}

impl ChaosEvent {
    pub fn now(
        kind: EventKind,
        fault: &str,
        target: &str,
        detail: impl Into<String>,
    ) -> ChaosEvent {
        ChaosEvent {
            at_ms: unix_ms(SystemTime::now()),
            kind,
            fault: fault.to_string(),
            target: target.to_string(),
            detail: detail.into(),
        }
    }
}
