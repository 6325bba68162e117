//! What an actuator reads back from the system it changes: instance counts, or the servers of
//! a load-balancer backend with their weights and states. The audit keeps one before and one
//! after every action, and undo restores the one read before.

use serde::{Deserialize, Serialize};

/// The part of a system an actuator controls, as read from the system itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ActuatorState {
    /// How many instances (workers, replicas) a service runs.
    Instances { instances: u64 },
    /// The servers of one backend of a load balancer.
    Servers {
        backend: String,
        servers: Vec<ServerState>,
    },
    /// Nothing to read back (a webhook, a plain command): the action is fire-and-forget.
    Opaque,
}

impl ActuatorState {
    pub fn instances(&self) -> Option<u64> {
        match self {
            ActuatorState::Instances { instances } => Some(*instances),
            _ => None,
        }
    }

    pub fn server(&self, name: &str) -> Option<&ServerState> {
        match self {
            ActuatorState::Servers { servers, .. } => servers.iter().find(|s| s.name == name),
            _ => None,
        }
    }

    /// A short human text, e.g. `4 instances` or `a w=100 ready, b w=0 maint (backup)`.
    pub fn summary(&self) -> String {
        match self {
            ActuatorState::Instances { instances } => format!("{instances} instances"),
            ActuatorState::Servers { servers, .. } => servers
                .iter()
                .map(|s| {
                    format!(
                        "{} w={} {}{}",
                        s.name,
                        s.weight,
                        s.admin.name(),
                        if s.backup { " (backup)" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            ActuatorState::Opaque => "nothing to read back".to_string(),
        }
    }
}

/// One server of a backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerState {
    pub name: String,
    /// The configured (user) weight, 0–256 in HAProxy.
    pub weight: u32,
    pub admin: AdminState,
    /// Whether the server is up by its checks (HAProxy's operational state "running").
    pub up: bool,
    pub backup: bool,
}

/// The administrative state an operator (or a remedy) sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminState {
    Ready,
    Drain,
    Maint,
}

impl AdminState {
    pub fn name(self) -> &'static str {
        match self {
            AdminState::Ready => "ready",
            AdminState::Drain => "drain",
            AdminState::Maint => "maint",
        }
    }
}
