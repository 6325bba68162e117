//! The load generator: HTTP/1.1 and HTTP/2 traffic at a planned rate or from a number of
//! users, measured without coordinated omission.
//!
//! The interpreter (src/run) turns a `traffic` into a [`LoadSpec`] and calls [`start`] for
//! each `load` step; `res load URL` does the same from flags. [`start`] spawns everything on
//! the current tokio runtime and returns a [`LoadHandle`] to scale, watch and stop the run.
//!
//! How the parts fit:
//! - [`spec`]: the input. [`schedule`] and `arrivals`: intended send times from a seeded
//!   stream of their own ([`arrival_times`] lists them). `request`, `template`, [`feeder`]:
//!   the mix, compiled once.
//! - `issuer` and `pacer` (open and session models) decide *when*; `queue` hands tickets
//!   to `worker`s that own one connection each (`connection`, `stream`, `tls`, `target`).
//!   `closed` users and `session`s are tasks of their own.
//! - `stats` records every outcome into sharded HDR histograms; `aggregator` drains them
//!   each second into the [`result`] series and publishes a [`Snapshot`].
//! - [`progress`] and [`summary`] are for the command line.
//!
//! Invariants: a request is never dropped because the target is slow (its latency counts
//! from its intended time, however late it leaves); memory does not grow with the number of
//! requests (histograms, a bounded queue, one sample per service per second); every network
//! wait has a timeout, so a bad target ends in counted errors, not a hang.
//!
//! ```no_run
//! # async fn demo() -> Result<(), res::load::LoadError> {
//! use res::load::{start, LoadSpec, RequestSpec, Workload};
//! use res::units::{Duration, Rate};
//! let spec = LoadSpec::new(
//!     "http://127.0.0.1:8080",
//!     vec![RequestSpec::get("catalog", "/items/{random.1000}")],
//!     Workload::constant_rate(Rate(500.0)),
//!     Duration::from_secs(10.0),
//! );
//! let handle = start(spec)?;
//! handle.set_scale(0.5);
//! let result = handle.join().await;
//! println!("{} requests, p99 {} ms", result.requests, result.total.latency_ms.p99);
//! # Ok(()) }
//! ```

mod aggregator;
mod arrivals;
mod chain;
mod closed;
mod connection;
mod error;
mod error_kind;
pub mod feeder;
mod handle;
mod http1;
mod issuer;
mod lanes;
mod pacer;
pub mod progress;
mod publish;
mod queue;
mod request;
pub mod result;
pub mod schedule;
mod session;
pub mod shard;
mod shared;
pub mod spec;
mod stats;
mod stop;
mod stream;
pub mod summary;
mod target;
mod template;
mod threads;
mod timer;
mod tls;
mod watchdog;
mod worker;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

pub use arrivals::arrival_times;
pub use error::LoadError;
pub use error_kind::{ErrorCounts, ErrorKind};
pub use feeder::{Feeder, FeederError};
pub use handle::LoadHandle;
pub use result::{
    IntervalStats, LagStats, LoadResult, Percentiles, Sample, ServiceTotals, Snapshot,
};
pub use schedule::{RateSchedule, RateStage};
pub use spec::{
    Arrival, BodySpec, ChainSpec, ChainStateSpec, Distribution, LoadSpec, Pacing, Protocol,
    RequestSpec, SessionSpec, TlsOptions, VisitSpec, VisitTarget, Workload,
};

use aggregator::Aggregator;
use arrivals::Arrivals;
use handle::Pacer;
use issuer::{Issue, Issuer};
use request::Mix;
use session::SessionPlan;
use shared::Shared;
use target::Target;

/// Starts a run on the current tokio runtime. Errors are about the spec (a bad URL, an
/// unknown placeholder); failures of the target are counted in the result instead.
pub fn start(spec: LoadSpec) -> Result<LoadHandle, LoadError> {
    start_with(spec, 1)
}

/// As [`start`], with up to `pipeline` requests in flight on each connection of the closed
/// model (HTTP/1.1 pipelining, for maximum-throughput runs); 1 is no pipelining. Pipelining
/// needs the closed model and a plain `http://` HTTP/1.1 target.
pub fn start_with(spec: LoadSpec, pipeline: usize) -> Result<LoadHandle, LoadError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| LoadError::NoRuntime)?;
    let target = Target::parse(&spec.base_url, spec.protocol, spec.tls)?;
    let mix = Mix::compile(&spec, &target)?;
    if pipeline > 1 {
        connection::can_pipeline(&target, &spec.workload).map_err(LoadError::Invalid)?;
    }
    if spec.timeout.0 <= 0.0 {
        return Err(LoadError::Invalid(
            "the timeout must be longer than zero".into(),
        ));
    }
    let services = mix.services.clone();
    let grace = mix
        .requests
        .iter()
        .map(|r| r.timeout)
        .max()
        .unwrap_or_default()
        + Duration::from_secs(1);
    let connections = spec.connections.max(1);
    let workers_wanted = match &spec.workload {
        Workload::Closed { users, .. } => *users as usize,
        _ => connections,
    };
    let threads = match spec.threads {
        0 => threads::default_count(),
        n => n,
    };
    let threads = threads::Threads::start(threads.min(workers_wanted).max(1))
        .map_err(|e| LoadError::Invalid(format!("cannot start the load threads: {e}")))?;
    // Time 0 of the schedule: the step's planned start when the caller gives one (building
    // the spec and starting the threads take milliseconds, and a step stopped at its planned
    // end would otherwise lose the arrivals of its last milliseconds), else now.
    let now = Instant::now();
    let started = spec.start_at.filter(|t| *t <= now).unwrap_or(now);
    let end = started + spec.duration.to_std();
    let shared = Arc::new(Shared::new(
        target,
        mix,
        started,
        end,
        spec.seed,
        spec.body_limit.0.max(0.0) as u64,
    ));
    shared.set_scale(spec.scale);

    let mut workers = Vec::new();
    let end = spec.duration.secs();
    // The closed model's users send for themselves; every other model has an issuer that
    // decides when, and workers that send.
    let issued = match spec.workload {
        Workload::Closed { users, think } => {
            if users == 0 {
                return Err(LoadError::Invalid(
                    "the closed model needs at least one user".into(),
                ));
            }
            for i in 0..users {
                let s = shared.clone();
                workers.push(if pipeline > 1 {
                    threads.spawn(i as usize, http1::pipeline::user(s, i, users, pipeline))
                } else {
                    threads.spawn(i as usize, closed::user(s, i, users, think))
                });
            }
            None
        }
        Workload::Open {
            schedule,
            arrival,
            pacing,
        } => Some((
            Arrivals::new(schedule, arrival, end, spec.seed),
            Issue::Requests,
            pacing,
            "open",
        )),
        Workload::Sessions {
            schedule,
            arrival,
            pacing,
            sessions,
        } => {
            let plan = SessionPlan::new(sessions).map_err(LoadError::Invalid)?;
            for t in plan.targets() {
                shared.mix.check_visit(t).map_err(LoadError::Invalid)?;
            }
            Some((
                Arrivals::new(schedule, arrival, end, spec.seed),
                Issue::Sessions(Arc::new(plan)),
                pacing,
                "sessions",
            ))
        }
        Workload::Chain {
            schedule,
            arrival,
            pacing,
            chain,
        } => {
            let plan = chain::ChainPlan::new(&chain, shared.mix.requests.len())
                .map_err(LoadError::Invalid)?;
            let rate = chain::warm_rate(&plan, &schedule) * shared.scale();
            let replay = chain::Replay::new(plan, rate, spec.seed);
            Some((
                Arrivals::new(schedule, arrival, end, spec.seed),
                Issue::Chain(Arc::new(replay)),
                pacing,
                "sessions",
            ))
        }
    };
    let (pacer, model) = match issued {
        None => (Pacer::None, "closed"),
        Some((arrivals, issue, pacing, model)) => {
            // Precise pacing of plain requests: in the load threads' own event loops.
            let laned =
                pacing == Pacing::Precise && matches!(issue, Issue::Requests) && pacer::use_lanes();
            if laned {
                shared.queue.use_lanes(threads.len());
                for i in 0..threads.len() {
                    workers.push(threads.spawn(i, lanes::dispatch(shared.clone(), i)));
                }
            }
            for i in 0..connections {
                workers.push(threads.spawn(i, worker::open_worker(shared.clone())));
            }
            let issuer = Issuer::new(
                shared.clone(),
                arrivals,
                issue,
                (connections * 4).max(16_384),
                runtime.clone(),
            );
            (start_pacer(issuer, pacing, laned, &runtime)?, model)
        }
    };

    let aggregator = Arc::new(Mutex::new(Aggregator::new(
        services.clone(),
        started,
        model == "closed",
    )));
    let (live_tx, live) = watch::channel(Arc::new(Snapshot::empty(&services)));
    let live_tx = Arc::new(publish::Publisher::new(live_tx));
    let ticker = runtime.spawn({
        let shared = shared.clone();
        let aggregator = aggregator.clone();
        let live_tx = live_tx.clone();
        async move {
            let second = Duration::from_secs(1);
            let mut interval =
                tokio::time::interval_at(tokio::time::Instant::from_std(started + second), second);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let snapshot = {
                    let mut agg = aggregator.lock().unwrap_or_else(|e| e.into_inner());
                    agg.tick(&shared, Instant::now(), false)
                };
                live_tx.send(Arc::new(snapshot));
            }
        }
    });

    Ok(LoadHandle {
        shared,
        aggregator,
        live_tx,
        live,
        workers,
        ticker,
        pacer,
        model,
        grace,
        _threads: threads,
    })
}

/// Starts the issuer on its pacer: a thread of its own (precise; handing tickets ahead to the
/// lanes when `laned`) or a runtime task (batched).
fn start_pacer(
    issuer: Issuer,
    pacing: Pacing,
    laned: bool,
    runtime: &tokio::runtime::Handle,
) -> Result<Pacer, LoadError> {
    Ok(match pacing {
        Pacing::Precise if laned => {
            let (tx, rx) = oneshot::channel();
            pacer::spawn_ahead(issuer, tx)
                .map_err(|e| LoadError::Invalid(format!("cannot start the pacer thread: {e}")))?;
            Pacer::Thread(rx)
        }
        Pacing::Precise => {
            let (tx, rx) = oneshot::channel();
            pacer::spawn_precise(issuer, tx)
                .map_err(|e| LoadError::Invalid(format!("cannot start the pacer thread: {e}")))?;
            Pacer::Thread(rx)
        }
        Pacing::Batched => Pacer::Task(runtime.spawn(pacer::batched(issuer))),
    })
}
