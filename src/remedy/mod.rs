//! The remediation engine: remedies that act on real systems, inside safety rails, verified
//! and undone when they do not help (issue 15).
//!
//! A service is acted on through an [`Actuator`]: the demo shop's admin API
//! ([`DemoAdmin`]), declared commands with read-back ([`ExecScale`]), HAProxy's runtime API
//! ([`HaproxyBalancer`]), res's own splitting proxy ([`ProxySplitter`], `res proxy serve`)
//! or a [`Webhook`]. The [`Engine`] takes the remedies whose triggers
//! fired, passes each through the rails ([`rails`]: mode, cooldown, `at most N per D`,
//! bounds, step limit, no scale-in on a prediction, one decision per service), acts or
//! advises, and records every decision in the [`Audit`] log in the profile database. After
//! acting it verifies ([`Engine::verify`]) and restores the state read before when the
//! condition did not clear or got worse.
//!
//! docs/remedies.md says what is wired into `res run` and what is library-only so far.

mod actuator;
pub mod approvals;
pub mod audit;
mod demo_admin;
mod engine;
mod error;
mod exec;
pub mod haproxy;
mod http;
mod proxy;
pub mod rails;
mod record;
mod state;
mod webhook;

pub use actuator::{ActFuture, Actuator, Change};
pub use audit::Audit;
pub use demo_admin::DemoAdmin;
pub use engine::{Action, ActionKind, Check, Engine, EngineOptions, Fired, Remedy};
pub use error::{ActuatorError, AuditError};
pub use exec::{ExecCommand, ExecScale};
pub use haproxy::HaproxyBalancer;
pub use proxy::ProxySplitter;
pub use record::{
    DecisionRecord, Evidence, Mode, Outcome, ReportEntry, TriggerRecord, UndoRecord, Verification,
};
pub use state::{ActuatorState, AdminState, ServerState};
pub use webhook::Webhook;
