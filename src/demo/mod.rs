//! The embedded demo shop: a small but real HTTP system for scenarios to push on.
//!
//! A scenario that says `builtin demo_shop` needs a target that behaves like a production
//! service under load, not an echo server: it must saturate, queue, shed load and fail when
//! its dependency fails, so that `res` has knees to find, faults to inject and capacity to
//! remediate. [`start`] runs three services inside the process, on 127.0.0.1 by default:
//!
//! | listener | service  | routes |
//! |----------|----------|--------|
//! | main     | catalog  | `GET /items`, `GET /items/{id}` (404 when `id` is not a number) |
//! | main     | checkout | `POST /checkout` with `{"item": .., "qty": ..}`; calls payments over HTTP |
//! | main     | admin    | `GET/PUT /admin/capacity`, `POST /admin/scale`, `GET /admin/stats` |
//! | main     | —        | `GET /health`, `GET /metrics` (Prometheus text: [`metrics`]) |
//! | payments | payments | `POST /payments`, `GET /health` |
//!
//! Payments has a listener of its own and is deliberately *not* reachable through the main
//! listener: the only path from checkout to payments is the TCP connection to
//! [`DemoConfig::payments_upstream`], which the chaos engine points at its fault proxy. A
//! scenario that wants to load payments directly uses its `upstream` address.
//!
//! Each service owns a bounded worker pool ([`pool`]): `capacity` requests are served at once,
//! up to [`DemoConfig::queue_per_worker`] × `capacity` wait in a FIFO queue, and beyond that
//! the service answers `503` at once. A served request holds its worker for a service time
//! drawn from a lognormal distribution ([`service_time`]), seeded by [`DemoConfig::seed`].
//! Throughput therefore tops out near `capacity / mean service time`, and latency shows a
//! clear knee as offered load approaches it. Checkout holds its worker while it waits for
//! payments, so a slow payments service backs up into checkout, as it would in production.
//!
//! Capacities change live through the admin API or [`DemoShop::set_capacity`]; this is what
//! the remediation `scale shop.checkout by +2` drives.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let shop = res::demo::start(res::demo::DemoConfig::default()).await?;
//! println!("shop on http://{}, payments on http://{}", shop.addr(), shop.payments_addr());
//! let stats = shop.stats();
//! assert_eq!(stats.checkout.capacity, 4);
//! shop.shutdown().await;
//! # Ok(()) }
//! ```

mod admin;
mod http;
pub mod metrics;
mod payments_client;
pub mod pool;
mod routes;
mod server;
pub mod service_time;
mod shop;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use pool::ServiceStats;

use shop::Shop;

/// The largest capacity a service accepts, through the API or the admin routes: a guard
/// against a typo (or a runaway remediation) spawning a million workers.
pub const MAX_CAPACITY: usize = 4096;

/// The largest request body any route reads; bigger bodies get `413`.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One of the three services of the shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    Catalog,
    Checkout,
    Payments,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::Catalog, Service::Checkout, Service::Payments];

    pub fn name(self) -> &'static str {
        match self {
            Service::Catalog => "catalog",
            Service::Checkout => "checkout",
            Service::Payments => "payments",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Service {
    type Err = CapacityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Service::ALL
            .into_iter()
            .find(|svc| svc.name() == s)
            .ok_or_else(|| CapacityError::UnknownService(s.to_string()))
    }
}

/// A refused capacity change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapacityError {
    /// The name is not `catalog`, `checkout` or `payments`.
    #[error("unknown service `{0}` (expected catalog, checkout or payments)")]
    UnknownService(String),
    /// The capacity would fall outside `1..=MAX_CAPACITY`.
    #[error("capacity of {service} must be between 1 and {MAX_CAPACITY}, got {requested}")]
    OutOfRange { service: Service, requested: i64 },
    /// A `NAME=N` setting could not be read.
    #[error("expected NAME=N (for example checkout=4), got `{0}`")]
    BadSetting(String),
}

/// Workers per service: how many requests each serves at the same time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServiceCapacities {
    pub catalog: usize,
    pub checkout: usize,
    pub payments: usize,
}

impl Default for ServiceCapacities {
    /// Checkout is the bottleneck on purpose (about 4 / 30 ms ≈ 130 orders/s), so that the
    /// demo scenario has something to remediate; payments can take about 350/s and catalog
    /// about 1 400/s.
    fn default() -> Self {
        ServiceCapacities {
            catalog: 8,
            checkout: 4,
            payments: 4,
        }
    }
}

impl ServiceCapacities {
    pub fn get(&self, service: Service) -> usize {
        match service {
            Service::Catalog => self.catalog,
            Service::Checkout => self.checkout,
            Service::Payments => self.payments,
        }
    }

    pub fn set(&mut self, service: Service, capacity: usize) {
        match service {
            Service::Catalog => self.catalog = capacity,
            Service::Checkout => self.checkout = capacity,
            Service::Payments => self.payments = capacity,
        }
    }

    /// Applies settings such as `checkout=4` or `catalog=8,payments=2` (the CLI's
    /// `--capacity`).
    pub fn apply_setting(&mut self, setting: &str) -> Result<(), CapacityError> {
        for part in setting.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || CapacityError::BadSetting(part.to_string());
            let (name, value) = part.split_once('=').ok_or_else(bad)?;
            let service: Service = name.trim().parse()?;
            let requested: i64 = value.trim().parse().map_err(|_| bad())?;
            self.set(service, checked_capacity(service, requested)?);
        }
        Ok(())
    }
}

pub(crate) fn checked_capacity(service: Service, requested: i64) -> Result<usize, CapacityError> {
    usize::try_from(requested)
        .ok()
        .filter(|n| (1..=MAX_CAPACITY).contains(n))
        .ok_or(CapacityError::OutOfRange { service, requested })
}

/// Median service time of each service; the tail is set by [`ServiceTimes::sigma`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServiceTimes {
    pub catalog: Duration,
    /// Checkout's own work; the payments call comes on top.
    pub checkout: Duration,
    pub payments: Duration,
    /// The lognormal shape σ: 0 gives a constant service time, 0.5 a p99 about 3.2 × the
    /// median.
    pub sigma: f64,
}

impl Default for ServiceTimes {
    fn default() -> Self {
        ServiceTimes {
            catalog: Duration::from_millis(5),
            checkout: Duration::from_millis(15),
            payments: Duration::from_millis(10),
            sigma: 0.5,
        }
    }
}

impl ServiceTimes {
    pub fn get(&self, service: Service) -> Duration {
        match service {
            Service::Catalog => self.catalog,
            Service::Checkout => self.checkout,
            Service::Payments => self.payments,
        }
    }
}

/// How to start the shop. `Default` gives free ports on 127.0.0.1.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoConfig {
    pub host: IpAddr,
    /// The main listener (catalog, checkout, admin); 0 picks a free port.
    pub port: u16,
    /// The payments listener; 0 picks a free port.
    pub payments_port: u16,
    /// Where checkout sends its payments calls. `None` means the payments listener itself;
    /// the chaos engine sets a fault proxy here.
    pub payments_upstream: Option<SocketAddr>,
    pub capacity: ServiceCapacities,
    pub service_time: ServiceTimes,
    /// Waiting room per worker: a service queues at most this × capacity requests.
    pub queue_per_worker: usize,
    /// How long checkout waits for payments before answering `504`.
    pub payments_timeout: Duration,
    /// Seeds the service-time draws, so that a run with `--seed` is reproducible.
    pub seed: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            payments_port: 0,
            payments_upstream: None,
            capacity: ServiceCapacities::default(),
            service_time: ServiceTimes::default(),
            queue_per_worker: 4,
            payments_timeout: Duration::from_secs(2),
            seed: 1,
        }
    }
}

/// Counters of every service at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DemoStats {
    pub catalog: ServiceStats,
    pub checkout: ServiceStats,
    pub payments: ServiceStats,
}

impl DemoStats {
    pub fn get(&self, service: Service) -> ServiceStats {
        match service {
            Service::Catalog => self.catalog,
            Service::Checkout => self.checkout,
            Service::Payments => self.payments,
        }
    }
}

/// A running shop. Dropping it stops the listeners too; [`DemoShop::shutdown`] also waits
/// for open connections to finish.
pub struct DemoShop {
    addr: SocketAddr,
    payments_addr: SocketAddr,
    shop: Arc<Shop>,
    stop: watch::Sender<bool>,
    servers: Vec<JoinHandle<()>>,
}

/// Binds one listener; the error says which address ("Address already in use" alone does
/// not say which of the two ports is taken).
async fn bind(host: IpAddr, port: u16, what: &str) -> io::Result<tokio::net::TcpListener> {
    let addr = SocketAddr::new(host, port);
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr} for {what}: {e}")))
}

/// Starts the shop: binds both listeners, then serves on the current tokio runtime.
///
/// Fails with `InvalidInput` for a capacity outside `1..=MAX_CAPACITY` or a negative or
/// non-finite σ, and with the bind error, naming the address, when a port is taken.
pub async fn start(config: DemoConfig) -> io::Result<DemoShop> {
    validate(&config)?;
    let main = bind(config.host, config.port, "the shop").await?;
    let payments = bind(config.host, config.payments_port, "payments").await?;
    let addr = main.local_addr()?;
    let payments_addr = payments.local_addr()?;
    let upstream = config
        .payments_upstream
        .unwrap_or_else(|| reachable(payments_addr));
    let shop = Arc::new(Shop::new(&config, upstream));
    let (stop, stopped) = watch::channel(false);
    let main_shop = shop.clone();
    let pay_shop = shop.clone();
    let servers = vec![
        server::spawn(main, stopped.clone(), move |req| {
            routes::main(main_shop.clone(), req)
        }),
        server::spawn(payments, stopped, move |req| {
            routes::payments(pay_shop.clone(), req)
        }),
    ];
    Ok(DemoShop {
        addr,
        payments_addr,
        shop,
        stop,
        servers,
    })
}

fn validate(config: &DemoConfig) -> io::Result<()> {
    let invalid = |msg: String| Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
    for service in Service::ALL {
        let n = config.capacity.get(service);
        if let Err(e) = checked_capacity(service, i64::try_from(n).unwrap_or(i64::MAX)) {
            return invalid(e.to_string());
        }
    }
    let sigma = config.service_time.sigma;
    if !sigma.is_finite() || sigma < 0.0 {
        return invalid(format!(
            "service time σ must be finite and ≥ 0, got {sigma}"
        ));
    }
    Ok(())
}

/// A listener bound to 0.0.0.0 or [::] is reached through the loopback address.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => {
            (std::net::Ipv6Addr::LOCALHOST, addr.port()).into()
        }
        _ => addr,
    }
}

impl DemoShop {
    /// The main listener: catalog, checkout, admin and health.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The payments listener.
    pub fn payments_addr(&self) -> SocketAddr {
        self.payments_addr
    }

    pub fn stats(&self) -> DemoStats {
        self.shop.stats()
    }

    pub fn capacities(&self) -> ServiceCapacities {
        self.shop.capacities()
    }

    /// Changes a service's capacity live and returns the previous one. Requests already
    /// being served finish; waiting ones are admitted as soon as workers are free.
    pub fn set_capacity(&self, service: Service, capacity: usize) -> Result<usize, CapacityError> {
        let capacity = i64::try_from(capacity).unwrap_or(i64::MAX);
        self.shop.set_capacity(service, capacity)
    }

    /// Where checkout currently sends payments calls.
    pub fn payments_upstream(&self) -> SocketAddr {
        self.shop.payments_upstream()
    }

    /// Points checkout's payments calls elsewhere (a fault proxy, say); idle pooled
    /// connections to the old address are dropped.
    pub fn set_payments_upstream(&self, upstream: SocketAddr) {
        self.shop.set_payments_upstream(upstream);
    }

    /// Stops accepting, lets open connections finish their current request (for at most a
    /// few seconds), then returns.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for server in self.servers.drain(..) {
            let _ = server.await;
        }
    }
}

impl Drop for DemoShop {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
