//! The fault proxy: a TCP or HTTP proxy that `res` puts in a path and damages on demand.
//!
//! A proxy forwards everything from its listen address to one upstream until faults are
//! added — or, started with [`Proxy::start_split`], splits it over several weighted servers
//! ([`split`]: the standalone `res proxy serve`, and the balancer `balance via proxy` remedies
//! act through, with its admin API in [`admin`]); faults are added and removed while traffic flows ([`table`] explains how that stays
//! cheap). In [`ProxyMode::Tcp`] it splices bytes between two sockets and acts per
//! connection; in [`ProxyMode::Http`] it parses requests (its own HTTP/1.1 forwarding in
//! `h1`, with hyper's server and a pooled hyper client for HTTP/2 and the rest, see
//! docs/chaos.md "How HTTP mode forwards") so that faults can match a method, a path or a
//! header and act per request — answer `503`, reset, delay — which a byte-level proxy such
//! as Toxiproxy cannot do.
//!
//! ```no_run
//! # async fn demo() -> Result<(), res::chaos::ChaosError> {
//! use res::chaos::proxy::{FaultSpec, Proxy, ProxyMode, Toxic};
//! let upstream = "127.0.0.1:9101".parse().unwrap();
//! let proxy = Proxy::start("127.0.0.1:0".parse().unwrap(), upstream, ProxyMode::Http).await?;
//! let slow = proxy.add_fault(FaultSpec::new("slow", vec![Toxic::Latency {
//!     latency: std::time::Duration::from_millis(100),
//!     jitter: std::time::Duration::ZERO,
//!     per_chunk: false,
//! }]))?;
//! // … traffic through proxy.addr() is now 100 ms slower …
//! proxy.remove_fault(slow);
//! proxy.shutdown().await;
//! # Ok(()) }
//! ```

pub mod admin;
pub mod fault;
mod h1;
mod http;
mod http_body;
mod io;
pub mod matcher;
mod plan;
mod pool;
pub mod schedule;
pub mod split;
pub mod stats;
pub mod table;
mod tcp;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use fault::{FaultId, FaultSpec, Toxic};
pub use matcher::{HttpMatcher, PathPattern, RoutePattern};
pub use stats::ProxyStats;

use crate::chaos::error::{ChaosError, Result};
use stats::Counters;
use table::FaultTable;

/// How a proxy reads its traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyMode {
    /// Bytes, per connection: any protocol.
    Tcp,
    /// HTTP/1.1 and HTTP/2 (cleartext) requests, per request; HTTP/1.1 to the upstream.
    Http,
}

/// How long a proxy waits for its upstream to accept a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) struct Shared {
    pub mode: ProxyMode,
    pub upstream: SocketAddr,
    pub table: FaultTable,
    pub counters: Counters,
    pub stop: watch::Receiver<bool>,
    pub pool: pool::Pool,
    /// The servers of a splitting proxy; `None` for one upstream (`upstream`, `pool`).
    pub split: Option<split::Splitter>,
}

impl Shared {
    /// The keep-alive pool of server `server` (0, the only one, without a splitter).
    #[inline]
    pub fn pool_of(&self, server: usize) -> &pool::Pool {
        match &self.split {
            None => &self.pool,
            Some(s) => s.servers.get(server).map_or(&self.pool, |s| &s.pool),
        }
    }

    #[inline]
    pub fn addr_of(&self, server: usize) -> SocketAddr {
        match &self.split {
            None => self.upstream,
            Some(s) => s.servers.get(server).map_or(self.upstream, |s| s.addr),
        }
    }
}

/// Starts proxies.
pub struct Proxy;

impl Proxy {
    /// Listens on `listen` (port 0 picks a free one) and forwards to `upstream`, on the current
    /// tokio runtime. The upstream need not be up yet: see [`ProxyHandle::check_upstream`].
    pub async fn start(
        listen: SocketAddr,
        upstream: SocketAddr,
        mode: ProxyMode,
    ) -> Result<ProxyHandle> {
        Self::launch(listen, upstream, mode, None).await
    }

    /// Listens on `listen` and splits requests (HTTP) or connections (TCP) over `servers` by
    /// weight and state ([`split`]); [`ProxyHandle::splitter`] changes them while it runs.
    pub async fn start_split(
        listen: SocketAddr,
        servers: &[split::ServerSpec],
        mode: ProxyMode,
    ) -> Result<ProxyHandle> {
        let splitter = split::Splitter::new(servers).map_err(ChaosError::UnsupportedOnProxy)?;
        let first = splitter.servers[0].addr;
        Self::launch(listen, first, mode, Some(splitter)).await
    }

    async fn launch(
        listen: SocketAddr,
        upstream: SocketAddr,
        mode: ProxyMode,
        split: Option<split::Splitter>,
    ) -> Result<ProxyHandle> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| ChaosError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ChaosError::Bind {
            addr: listen,
            source,
        })?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            mode,
            upstream,
            table: FaultTable::default(),
            counters: Counters::default(),
            stop: stop_rx,
            pool: pool::Pool::new(upstream),
            split,
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(ProxyHandle {
            inner: Arc::new(Inner {
                addr,
                shared,
                stop: stop_tx,
                task: Mutex::new(Some(task)),
            }),
        })
    }
}

struct Inner {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    /// The proxy stops when its last handle goes.
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A running proxy; clones share it, and it stops when the last clone is dropped.
#[derive(Clone)]
pub struct ProxyHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ProxyHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyHandle")
            .field("addr", &self.inner.addr)
            .field("upstream", &self.inner.shared.upstream)
            .field("mode", &self.inner.shared.mode)
            .finish()
    }
}

impl ProxyHandle {
    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    pub fn upstream(&self) -> SocketAddr {
        self.inner.shared.upstream
    }

    pub fn mode(&self) -> ProxyMode {
        self.inner.shared.mode
    }

    /// The servers, weights and states of a proxy started with [`Proxy::start_split`].
    pub fn splitter(&self) -> Option<&split::Splitter> {
        self.inner.shared.split.as_ref()
    }

    /// Adds a fault; it acts on traffic from the next chunk or request on. Refuses what this
    /// proxy's mode cannot do (an HTTP status from a TCP proxy) and out-of-range values.
    pub fn add_fault(&self, spec: FaultSpec) -> Result<FaultId> {
        spec.validate(self.inner.shared.mode)?;
        Ok(self.inner.shared.table.add(spec))
    }

    /// Removes a fault; `false` if it was not there. Queued delayed data is released at once.
    pub fn remove_fault(&self, id: FaultId) -> bool {
        self.inner.shared.table.remove(id)
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.inner.shared.table.clear();
    }

    /// The faults in force, with their names.
    pub fn faults(&self) -> Vec<(FaultId, String)> {
        self.inner
            .shared
            .table
            .snapshot()
            .faults
            .iter()
            .map(|f| (f.id, f.spec.name.clone()))
            .collect()
    }

    pub fn stats(&self) -> ProxyStats {
        let active = self.inner.shared.table.snapshot().faults.len();
        self.inner.shared.counters.snapshot(active)
    }

    /// Connects to the upstream once, to tell "upstream down" before a run starts.
    pub async fn check_upstream(&self) -> Result<()> {
        let addr = self.inner.shared.upstream;
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(source)) => Err(ChaosError::UpstreamDown { addr, source }),
            Err(_) => Err(ChaosError::UpstreamDown {
                addr,
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no answer within {CONNECT_TIMEOUT:?}"),
                ),
            }),
        }
    }

    /// Stops accepting, cuts open connections and waits for the proxy's tasks to end.
    pub async fn shutdown(&self) {
        let _ = self.inner.stop.send(true);
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections =
        crate::net::accept_until_stopped(&listener, shared.stop.clone(), |stream| {
            let shared = shared.clone();
            async move {
                match shared.mode {
                    ProxyMode::Tcp => tcp::serve(shared, stream).await,
                    ProxyMode::Http => h1::serve(shared, stream).await,
                }
            }
        })
        .await;
    drop(listener);
    connections.shutdown().await;
    shared.pool.clear();
    if let Some(s) = &shared.split {
        s.clear_pools();
    }
}
