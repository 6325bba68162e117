//! A bounded worker pool with a bounded FIFO queue and a capacity that changes live.
//!
//! This is what gives each demo service its saturation behaviour: `capacity` requests hold a
//! worker at once, `queue_per_worker × capacity` more wait in arrival order, and the rest are
//! turned away at once ([`Rejected`], which the routes answer with `503`). A tokio semaphore
//! cannot shrink below the permits it has handed out nor bound its waiters, hence this small
//! pool: one mutex around the counters and the queue of waiters, held only for a few
//! instructions and never across an `.await`.
//!
//! A waiter that gives up (its client disconnected) leaves the queue when its future is
//! dropped; if it had just been granted a worker, the worker is handed on.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use tokio::sync::oneshot;

/// The counters of one service.
///
/// `requests` counts every request that reached the pool; each ends up `rejected` (queue
/// full), `completed` (answered below 500), `errors` (answered 500 or above), or abandoned by
/// its client. `in_flight` and `queued` are the current occupancy. `busy_us` is the total time
/// workers were held by finished requests: `capacity × (completed + errors) / busy` is the
/// rate the service really sustains, timer granularity and the payments call included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServiceStats {
    pub capacity: usize,
    pub requests: u64,
    pub rejected: u64,
    pub in_flight: usize,
    pub queued: usize,
    pub completed: u64,
    pub errors: u64,
    pub busy_us: u64,
}

/// The queue was full: the request must be turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected;

pub struct WorkerPool {
    state: Mutex<State>,
    queue_per_worker: usize,
}

struct State {
    stats: ServiceStats,
    waiters: VecDeque<Waiter>,
    next_waiter: u64,
}

struct Waiter {
    id: u64,
    grant: oneshot::Sender<()>,
}

impl WorkerPool {
    pub fn new(capacity: usize, queue_per_worker: usize) -> Arc<WorkerPool> {
        Arc::new(WorkerPool {
            state: Mutex::new(State {
                stats: ServiceStats {
                    capacity,
                    ..ServiceStats::default()
                },
                waiters: VecDeque::new(),
                next_waiter: 0,
            }),
            queue_per_worker,
        })
    }

    /// Waits for a worker, or is rejected at once when the queue is full.
    pub async fn acquire(self: &Arc<Self>) -> Result<Permit, Rejected> {
        let mut waiting = {
            let mut state = self.lock();
            state.stats.requests += 1;
            let stats = &state.stats;
            if stats.in_flight < stats.capacity && state.waiters.is_empty() {
                state.stats.in_flight += 1;
                return Ok(Permit::new(self.clone()));
            }
            if state.waiters.len() >= stats.capacity.saturating_mul(self.queue_per_worker) {
                state.stats.rejected += 1;
                return Err(Rejected);
            }
            let id = state.next_waiter;
            state.next_waiter += 1;
            let (grant, granted) = oneshot::channel();
            state.waiters.push_back(Waiter { id, grant });
            state.stats.queued = state.waiters.len();
            Waiting {
                pool: self.clone(),
                id,
                granted: Some(granted),
            }
        };
        let outcome = match waiting.granted.as_mut() {
            Some(granted) => granted.await,
            None => return Err(Rejected),
        };
        match outcome {
            Ok(()) => {
                // The worker is ours now: stop the guard from handing it back.
                waiting.granted = None;
                Ok(Permit::new(self.clone()))
            }
            Err(_) => Err(Rejected),
        }
    }

    pub fn capacity(&self) -> usize {
        self.lock().stats.capacity
    }

    /// Sets the capacity and returns the previous one. Growing admits waiters at once;
    /// shrinking lets the surplus workers finish their current request.
    pub fn set_capacity(&self, capacity: usize) -> usize {
        let mut state = self.lock();
        let previous = std::mem::replace(&mut state.stats.capacity, capacity);
        state.admit_waiters();
        previous
    }

    pub fn stats(&self) -> ServiceStats {
        self.lock().stats
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // No code panics while holding the lock, but a poisoned counter is still a counter.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn release(&self, outcome: Option<bool>, held: std::time::Duration) {
        let mut state = self.lock();
        state.stats.in_flight = state.stats.in_flight.saturating_sub(1);
        match outcome {
            Some(true) => state.stats.completed += 1,
            Some(false) => state.stats.errors += 1,
            None => {}
        }
        if outcome.is_some() {
            let us = u64::try_from(held.as_micros()).unwrap_or(u64::MAX);
            state.stats.busy_us = state.stats.busy_us.saturating_add(us);
        }
        state.admit_waiters();
    }
}

impl State {
    fn admit_waiters(&mut self) {
        while self.stats.in_flight < self.stats.capacity {
            let Some(waiter) = self.waiters.pop_front() else {
                break;
            };
            // The receiver outlives its queue entry (see `Waiting::drop`), so this only
            // fails if the waiting future vanished without running its destructor.
            if waiter.grant.send(()).is_ok() {
                self.stats.in_flight += 1;
            }
        }
        self.stats.queued = self.waiters.len();
    }
}

/// A queued request; dropping it before it is granted leaves the queue.
struct Waiting {
    pool: Arc<WorkerPool>,
    id: u64,
    granted: Option<oneshot::Receiver<()>>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.granted.is_none() {
            return;
        }
        let mut state = self.pool.lock();
        if let Some(at) = state.waiters.iter().position(|w| w.id == self.id) {
            state.waiters.remove(at);
            state.stats.queued = state.waiters.len();
        } else {
            // Granted a worker that nobody will use: hand it on.
            state.stats.in_flight = state.stats.in_flight.saturating_sub(1);
            state.admit_waiters();
        }
    }
}

/// A worker, held while a request is served. Say how it went with [`Permit::finish`];
/// dropping it unfinished (the client went away) frees the worker without counting.
pub struct Permit {
    pool: Option<Arc<WorkerPool>>,
    since: std::time::Instant,
}

impl Permit {
    fn new(pool: Arc<WorkerPool>) -> Permit {
        Permit {
            pool: Some(pool),
            since: std::time::Instant::now(),
        }
    }

    /// Frees the worker, counting the request as completed (`ok`) or as an error.
    pub fn finish(mut self, ok: bool) {
        if let Some(pool) = self.pool.take() {
            pool.release(Some(ok), self.since.elapsed());
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.release(None, self.since.elapsed());
        }
    }
}
