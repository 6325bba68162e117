//! What the interpreter asks the engine to do: a [`FaultRequest`] aimed at a
//! [`ResolvedTarget`], within [`ChaosLimits`].

use std::time::SystemTime;

use serde::Serialize;

use super::effect::Effect;
use super::process::ProcessSpec;
use super::proxy::{HttpMatcher, ProxyHandle, RoutePattern};

/// The blast radius the engine enforces on every injection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChaosLimits {
    /// Faults active at once (network namespaces and started commands do not count).
    pub max_concurrent_faults: usize,
    /// The highest toxicity (0..=1) a fault may have.
    pub max_toxicity: f64,
}

impl Default for ChaosLimits {
    fn default() -> Self {
        ChaosLimits {
            max_concurrent_faults: 8,
            max_toxicity: 1.0,
        }
    }
}

/// A proxy in the path of a service's traffic.
#[derive(Debug, Clone)]
pub struct ProxyTarget {
    pub proxy: ProxyHandle,
    /// When the proxy carries more than this service (a system's front proxy): the service's
    /// routes, so only its requests are touched. Empty for a service's own upstream proxy.
    pub routes: Vec<RoutePattern>,
}

/// An external Toxiproxy and the proxy in it that carries the service's traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToxiproxyTarget {
    pub api: String,
    pub proxy: String,
}

/// Everything the engine may touch for one service, as the interpreter resolved it from the
/// scenario's declarations. An effect that needs a part the target lacks is refused with the
/// reason (`pause` on a service that declares no `process`).
#[derive(Debug, Clone, Default)]
pub struct ResolvedTarget {
    /// How reports name it: `shop.payments`.
    pub label: String,
    pub proxy: Option<ProxyTarget>,
    pub process: Option<ProcessSpec>,
    /// A namespace created by this engine (`ChaosEngine::create_netns`).
    pub netns: Option<String>,
    pub toxiproxy: Option<ToxiproxyTarget>,
}

impl ResolvedTarget {
    pub fn new(label: impl Into<String>) -> ResolvedTarget {
        ResolvedTarget {
            label: label.into(),
            ..Default::default()
        }
    }

    pub fn with_proxy(mut self, proxy: ProxyHandle, routes: Vec<RoutePattern>) -> ResolvedTarget {
        self.proxy = Some(ProxyTarget { proxy, routes });
        self
    }

    pub fn with_process(mut self, process: ProcessSpec) -> ResolvedTarget {
        self.process = Some(process);
        self
    }

    pub fn with_netns(mut self, netns: impl Into<String>) -> ResolvedTarget {
        self.netns = Some(netns.into());
        self
    }

    pub fn with_toxiproxy(
        mut self,
        api: impl Into<String>,
        proxy: impl Into<String>,
    ) -> ResolvedTarget {
        self.toxiproxy = Some(ToxiproxyTarget {
            api: api.into(),
            proxy: proxy.into(),
        });
        self
    }
}

/// One fault to inject.
#[derive(Debug, Clone)]
pub struct FaultRequest {
    /// The fault's name in the scenario.
    pub name: String,
    pub target: ResolvedTarget,
    pub effects: Vec<Effect>,
    /// Fraction (0..=1) of connections or requests affected; proxy and Toxiproxy faults only.
    pub toxicity: f64,
    /// Which requests it touches (`match …` clauses; HTTP-mode proxies only).
    pub matchers: Vec<HttpMatcher>,
    /// When anyone may revert it: the planned end plus a grace. Past it, the engine's watchdog
    /// reverts the fault, and so would `res recover` if this process died.
    pub deadline: SystemTime,
}

impl FaultRequest {
    pub fn new(
        name: impl Into<String>,
        target: ResolvedTarget,
        effects: Vec<Effect>,
    ) -> FaultRequest {
        FaultRequest {
            name: name.into(),
            target,
            effects,
            toxicity: 1.0,
            matchers: Vec::new(),
            deadline: SystemTime::now() + std::time::Duration::from_secs(3600),
        }
    }

    /// Sets the deadline to `d` from now.
    pub fn lasting(mut self, d: std::time::Duration) -> FaultRequest {
        self.deadline = SystemTime::now() + d;
        self
    }
}

/// Identifies an injected fault within one engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ActiveFaultId(pub u64);

impl std::fmt::Display for ActiveFaultId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fault {}", self.0)
    }
}

/// What a revert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevertOutcome {
    /// Every part was undone (or its target had gone away); the detail says how.
    Reverted(String),
    /// It had been reverted before (by its `pause for` timer, the watchdog or an earlier call).
    AlreadyReverted,
}
