//! The one error type of the chaos engine.
//!
//! Every refusal and failure a user can meet — a port in use, a process that does not exist,
//! a permission the kernel denies, a blast-radius limit — is a variant here with a message
//! that says what happened and, where there is one, what to do instead. Nothing in
//! [`crate::chaos`] panics on bad input; it returns one of these.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the chaos engine refused or failed to inject or revert a fault.
#[derive(Debug, thiserror::Error)]
pub enum ChaosError {
    /// The proxy could not listen on the requested address (most often: the port is in use).
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    /// The upstream of a proxy did not accept a connection.
    #[error("upstream {addr} is not reachable: {source}")]
    UpstreamDown { addr: SocketAddr, source: io::Error },
    /// The fault asks for something the proxy's mode cannot do (an HTTP status from a TCP proxy).
    #[error("{0}")]
    UnsupportedOnProxy(String),
    /// An effect was aimed at a target that cannot take it (`kill` on a proxy, `latency` on a host).
    #[error("effect `{effect}` cannot be applied to {target}: {why}")]
    WrongTarget {
        effect: &'static str,
        target: String,
        why: String,
    },
    /// A parameter is out of range (a negative latency, a toxicity of 150 %).
    #[error("invalid fault: {0}")]
    Invalid(String),
    /// No process matches the pid file, name or command the service declares.
    #[error("no process found for {0}")]
    ProcessNotFound(String),
    /// The kernel refused: the process belongs to another user, or the operation needs root.
    #[error("permission denied: {0}")]
    Permission(String),
    /// A safety rule refused the fault (pid 1, `res` itself, a process the scenario did not declare).
    #[error("refused: {0}")]
    Refused(String),
    /// More faults would be active at once than `ChaosLimits::max_concurrent_faults` allows.
    #[error("blast radius: {active} faults are active and the limit is {limit} (ChaosLimits::max_concurrent_faults)")]
    TooManyFaults { active: usize, limit: usize },
    /// The toxicity asked for is above `ChaosLimits::max_toxicity`.
    #[error("blast radius: toxicity {asked:.0}% is above the limit of {limit:.0}% (ChaosLimits::max_toxicity)")]
    ToxicityTooHigh { asked: f64, limit: f64 },
    /// A resource-pressure fault would take more than the machine can spare.
    #[error("{0}")]
    TooBig(String),
    /// The kernel lacks a feature a network fault needs (a qdisc, nftables).
    #[error("{0}")]
    KernelMissing(String),
    /// A command-line tool a network fault needs (`ip`, `tc`, `nft`) is missing or failed.
    #[error("{0}")]
    Tool(String),
    /// The external Toxiproxy server refused a request or could not be reached.
    #[error("toxiproxy at {api}: {detail}")]
    Toxiproxy { api: String, detail: String },
    /// The fault journal could not be written: without it no fault is injected.
    #[error("fault journal {path}: {source}")]
    Journal { path: PathBuf, source: io::Error },
    /// No active fault has this id (already reverted and forgotten, or never injected).
    #[error("no active fault with id {0}")]
    UnknownFault(u64),
    /// Any other operating-system error, with what was being done.
    #[error("{what}: {source}")]
    Io { what: String, source: io::Error },
}

impl ChaosError {
    pub(crate) fn io(what: impl Into<String>, source: io::Error) -> ChaosError {
        ChaosError::Io {
            what: what.into(),
            source,
        }
    }
}

/// The engine's result type.
pub type Result<T, E = ChaosError> = std::result::Result<T, E>;
