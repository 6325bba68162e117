//! The actuator trait: how a service is acted on. One implementation per kind, each in its own
//! file ([`DemoAdmin`](super::DemoAdmin), [`ExecScale`](super::ExecScale),
//! [`HaproxyBalancer`](super::HaproxyBalancer), [`ProxySplitter`](super::ProxySplitter),
//! [`Webhook`](super::Webhook)).
//!
//! Every actuator reads the state before acting and after (the engine keeps both in the audit
//! log) and can put back a state it read earlier, which is how a remedy that did not help is
//! undone. The engine works out the concrete [`Change`] (bounds, step limits, weights) from the
//! state read before; an actuator only applies it.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use super::error::ActuatorError;
use super::state::{ActuatorState, AdminState};

/// A boxed future, so actuators of different kinds can sit behind one `dyn Actuator`.
pub type ActFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ActuatorError>> + Send + 'a>>;

/// The concrete change an actuator is asked to make.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Run this many instances.
    SetInstances { instances: u64 },
    /// Set these servers' weights.
    SetWeights { weights: Vec<(String, u32)> },
    /// Set these servers' administrative states, in order.
    SetStates { states: Vec<(String, AdminState)> },
    /// Send this JSON document (a webhook).
    Notify { body: serde_json::Value },
    /// Run this command (`do exec`).
    Run { command: String },
}

impl Change {
    /// A short human text: `instances → 6`, `weights a=10 b=190`, `states b ready, a maint`.
    pub fn summary(&self) -> String {
        match self {
            Change::SetInstances { instances } => format!("instances → {instances}"),
            Change::SetWeights { weights } => format!(
                "weights {}",
                weights
                    .iter()
                    .map(|(s, w)| format!("{s}={w}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Change::SetStates { states } => format!(
                "states {}",
                states
                    .iter()
                    .map(|(s, a)| format!("{s} {}", a.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Change::Notify { .. } => "POST the decision".to_string(),
            Change::Run { command } => format!("run `{command}`"),
        }
    }
}

/// How a service is acted on.
pub trait Actuator: Send + Sync {
    /// `demo_admin`, `exec`, `haproxy`, `proxy`, `webhook`.
    fn kind(&self) -> &'static str;

    /// Where it acts, for reports: never holds a secret.
    fn target(&self) -> String;

    /// Whether acting runs a local command (and so needs `--allow-exec`).
    fn runs_commands(&self) -> bool {
        false
    }

    /// Reads the current state from the system itself.
    fn read(&self) -> ActFuture<'_, ActuatorState>;

    /// Applies `change`.
    fn apply<'a>(&'a self, change: &'a Change) -> ActFuture<'a, ()>;

    /// Puts back a state read earlier by [`Actuator::read`].
    fn restore<'a>(&'a self, before: &'a ActuatorState) -> ActFuture<'a, ()>;
}

/// The instance count a [`Change`] asks for, for actuators that only scale.
pub(crate) fn wanted_instances(kind: &str, change: &Change) -> Result<u64, ActuatorError> {
    match change {
        Change::SetInstances { instances } => Ok(*instances),
        other => Err(ActuatorError::Unsupported {
            actuator: kind.into(),
            change: other.summary(),
        }),
    }
}

/// The instance count to put back, for actuators that only scale.
pub(crate) fn restored_instances(kind: &str, before: &ActuatorState) -> Result<u64, ActuatorError> {
    before
        .instances()
        .ok_or_else(|| ActuatorError::Unsupported {
            actuator: kind.into(),
            change: format!("restore {}", before.summary()),
        })
}
