//! The chaos engine: real, controlled failures while load runs — and never left behind.
//!
//! The interpreter (`run`) drives it through [`ChaosEngine`]: for each `inject` step it
//! resolves the fault's target into a [`ResolvedTarget`] (a fault proxy in the service's
//! path, its process, a network namespace, an external Toxiproxy), builds a [`FaultRequest`]
//! and calls [`ChaosEngine::inject`]; at the step's end it calls [`ChaosEngine::revert`], and
//! on Ctrl-C, SIGTERM, an abort, a panic or a failed step [`ChaosEngine::revert_all`]. Before
//! a run starts, [`recover()`] reverts what an earlier `res` left behind when it died.
//!
//! The engine takes its own types and never reads the checked scenario: `run/chaos_input.rs`
//! turns a fault of the Model into a [`FaultRequest`] (its [`Effect`]s, its `match` clauses as
//! [`proxy::HttpMatcher`]s, environment values read) and a service into a
//! [`topology::ServiceFacts`].
//!
//! The parts, one concept per module:
//!
//! | module | what it does |
//! |---|---|
//! | [`proxy`] | the fault proxy: TCP and HTTP modes, toxics, live fault table |
//! | [`topology`] | where proxies sit (front proxy per system, upstream proxy per service) |
//! | [`process`] | kill, pause (SIGSTOP/SIGCONT), restart; pid files, names, started commands |
//! | [`resource`] | CPU burn, memory hog, disk fill, file-descriptor exhaustion |
//! | [`netns`] | loss and bandwidth inside a network namespace res creates |
//! | [`toxiproxy`] | driving an external Toxiproxy through its HTTP API |
//! | [`journal`] | the fsynced fault journal: what was injected and how to revert it |
//! | [`mod@recover`] | the dead man's switch: revert what a dead owner left |
//! | [`engine`] | [`ChaosEngine`]: limits, journal, inject/revert, watchdog, events |
//! | [`effect`] | the engine's own [`Effect`]s, and the proxy toxics they become |
//!
//! Safety rules kept everywhere: a fault is journaled with its revert *before* it acts;
//! reverting is idempotent and a target that has gone away counts as reverted; every fault
//! has a deadline; the blast radius ([`ChaosLimits`]) is checked on every injection; and
//! nothing here panics on bad input — errors are [`ChaosError`]s that say what to do.
//!
//! ```no_run
//! # fn demo(proxy: res::chaos::proxy::ProxyHandle) -> Result<(), res::chaos::ChaosError> {
//! use res::chaos::{ChaosEngine, ChaosLimits, Effect, FaultRequest, ResolvedTarget};
//! use res::units::Duration;
//! let engine = ChaosEngine::new(".res/faults.journal".as_ref(), ChaosLimits::default())?;
//! let target = ResolvedTarget::new("shop.payments").with_proxy(proxy, Vec::new());
//! let slow = Effect::Latency { latency: Duration(200.0), jitter: Duration(50.0), per_chunk: false };
//! let id = engine.inject(&FaultRequest::new("slow_payments", target, vec![slow])
//!     .lasting(std::time::Duration::from_secs(90)))?;
//! // … load runs …
//! engine.revert(id)?;
//! # Ok(()) }
//! ```

pub mod effect;
pub mod engine;
pub mod error;
pub mod event;
pub mod journal;
pub mod netns;
mod part;
pub mod process;
pub mod proxy;
pub mod recover;
pub mod request;
pub mod resource;
mod revert;
pub mod topology;
pub mod toxiproxy;

pub use effect::{Effect, Signal};
pub use engine::ChaosEngine;
pub use error::{ChaosError, Result};
pub use event::{ChaosEvent, EventKind};
pub use journal::{default_path as default_journal_path, RevertAction};
pub use netns::Netns;
pub use process::{ProcRef, ProcessSpec};
pub use recover::{recover, RecoverReport};
pub use request::{
    ActiveFaultId, ChaosLimits, FaultRequest, ProxyTarget, ResolvedTarget, RevertOutcome,
    ToxiproxyTarget,
};
pub use topology::Topology;
