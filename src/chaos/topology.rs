//! Where a run's fault proxies sit, and how a fault on a service finds the right one.
//!
//! Two kinds of proxy, both started by the interpreter before the first request:
//!
//! ```text
//!  load generator ──▶ front proxy (HTTP, one per system) ──▶ system base URL
//!                                                              │
//!        system under test ──▶ upstream proxy (one per service with `upstream`) ──▶ upstream
//! ```
//!
//! * The **front proxy** of a system stands between the load generator and the system's base
//!   URL, so the generator is pointed at the proxy. It carries every service of the system, so
//!   a fault on one service is given that service's route templates and touches only its
//!   requests (`/items/{id}` matches `/items/42`).
//! * The **upstream proxy** of a service that declares `upstream "host:port"` is the address
//!   the system under test must call instead of the real upstream. For the embedded demo shop
//!   the interpreter does this with `DemoShop::set_payments_upstream(proxy.addr())`; for a
//!   real system, its configuration must point at the proxy (its address is printed and
//!   reported). Faults here hit the dependency calls the system makes — the path where
//!   timeouts, retries and circuit breakers live.
//!
//! [`Topology::target`] picks, for a service, its upstream proxy if it has one, else the front
//! proxy with its routes, and adds its `process` declaration.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};

use super::error::{ChaosError, Result};
use super::process::ProcessSpec;
use super::proxy::{Proxy, ProxyHandle, ProxyMode, RoutePattern};
use super::request::ResolvedTarget;

/// A service as the chaos engine needs it, in its own words (the interpreter translates the
/// scenario's declaration, `run/chaos.rs`).
#[derive(Debug, Clone)]
pub struct ServiceFacts {
    /// `system.service`.
    pub label: String,
    /// Its routes, for faults on a front proxy shared with other services.
    pub routes: Vec<RoutePattern>,
    /// Its `process`, with environment values read.
    pub process: Option<ProcessSpec>,
}

/// Resolves `host:port` (or `http://host:port/...`) to a socket address.
pub fn resolve_addr(text: &str) -> Result<SocketAddr> {
    let bare = text
        .strip_prefix("http://")
        .unwrap_or(text)
        .split('/')
        .next()
        .unwrap_or("");
    let with_port = if bare
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        bare.to_string()
    } else {
        format!("{bare}:80")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| ChaosError::io(format!("cannot resolve `{text}`"), e))?
        .next()
        .ok_or_else(|| ChaosError::Invalid(format!("`{text}` resolves to no address")))
}

/// The proxies of one run.
#[derive(Debug, Default)]
pub struct Topology {
    fronts: BTreeMap<usize, ProxyHandle>,
    upstreams: BTreeMap<(usize, usize), ProxyHandle>,
}

impl Topology {
    pub fn new() -> Topology {
        Topology::default()
    }

    /// Starts the HTTP front proxy of system `system` in front of `base` (an `http://` URL)
    /// and returns the base URL the load generator should use instead. An `https://` base is
    /// refused: the proxy would need the system's certificate to read the requests.
    pub async fn add_front(&mut self, system: usize, base: &str) -> Result<String> {
        if base.starts_with("https://") {
            return Err(ChaosError::UnsupportedOnProxy(format!(
                "the front proxy cannot read HTTPS traffic to {base}; aim faults at an `upstream` of the service, or use `via toxiproxy`"
            )));
        }
        let upstream = resolve_addr(base)?;
        let proxy = Proxy::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            upstream,
            ProxyMode::Http,
        )
        .await?;
        let path = base
            .strip_prefix("http://")
            .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
            .unwrap_or_default();
        let url = format!("http://{}{}", proxy.addr(), path.trim_end_matches('/'));
        self.fronts.insert(system, proxy);
        Ok(url)
    }

    /// Starts the proxy for service `(system, service)`'s upstream, at `upstream` (for the
    /// demo shop, its payments address). HTTP mode lets faults act per request; TCP mode
    /// carries any protocol.
    pub async fn add_upstream(
        &mut self,
        system: usize,
        service: usize,
        upstream: SocketAddr,
        mode: ProxyMode,
    ) -> Result<ProxyHandle> {
        let proxy = Proxy::start(SocketAddr::from(([127, 0, 0, 1], 0)), upstream, mode).await?;
        self.upstreams.insert((system, service), proxy.clone());
        Ok(proxy)
    }

    pub fn front(&self, system: usize) -> Option<&ProxyHandle> {
        self.fronts.get(&system)
    }

    /// The (system, service) of every upstream proxy.
    pub fn upstream_keys(&self) -> Vec<(usize, usize)> {
        self.upstreams.keys().copied().collect()
    }

    pub fn upstream(&self, system: usize, service: usize) -> Option<&ProxyHandle> {
        self.upstreams.get(&(system, service))
    }

    /// What a fault on service `service` of system `system` may touch: its upstream proxy,
    /// else the front proxy (for its `routes`, when it has any), and its process.
    pub fn target(&self, system: usize, service: usize, facts: ServiceFacts) -> ResolvedTarget {
        let mut target = ResolvedTarget::new(facts.label);
        if let Some(p) = self.upstream(system, service) {
            target = target.with_proxy(p.clone(), Vec::new());
        } else if let Some(p) = self.front(system) {
            if !facts.routes.is_empty() {
                target = target.with_proxy(p.clone(), facts.routes);
            }
        }
        if let Some(process) = facts.process {
            target = target.with_process(process);
        }
        target
    }

    /// Stops every proxy.
    pub async fn shutdown(&self) {
        for p in self.fronts.values().chain(self.upstreams.values()) {
            p.shutdown().await;
        }
    }
}
