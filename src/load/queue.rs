//! The hand-off between whoever decides *when* a request is due (the pacer, a session) and
//! the workers that own connections.
//!
//! A ticket carries its intended send time, so however long it waits here the wait is part
//! of its latency. The pacer stops filling the queue at a bound and resumes from where its
//! schedule left off, so a stalled target costs neither memory nor dropped requests: the
//! backlog lives in the schedule, not in the queue.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use tokio::sync::{oneshot, Notify};

use super::lanes::Lanes;
use super::request::Rendered;

pub(crate) struct Ticket {
    pub intended: Instant,
    pub request: usize,
    pub rendered: Option<Rendered>,
    /// Told when the response is in (sessions wait for it before thinking).
    pub done: Option<oneshot::Sender<()>>,
}

#[derive(Default)]
pub(crate) struct Queue {
    items: Mutex<VecDeque<Ticket>>,
    ready: Notify,
    closed: AtomicBool,
    /// Set when the load threads pace the tickets themselves (`super::lanes`): pushed
    /// tickets then go to the lanes, and workers take them from their own thread's lane.
    lanes: OnceLock<Lanes>,
}

impl Queue {
    /// Switches to pacing in the load threads' `n` lanes (before anything is pushed).
    pub fn use_lanes(&self, n: usize) {
        let _ = self.lanes.set(Lanes::new(n));
    }

    pub fn lanes(&self) -> Option<&Lanes> {
        self.lanes.get()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    pub fn push(&self, ticket: Ticket) {
        if let Some(lanes) = self.lanes.get() {
            return lanes.schedule(ticket);
        }
        self.lock().push_back(ticket);
        // The most recently idle worker has the warmest connection and cache.
        self.ready.notify_last();
    }

    /// Tickets waiting: in the queue, or handed to the lanes and not yet taken.
    pub fn len(&self) -> usize {
        self.lock().len() + self.lanes.get().map_or(0, Lanes::pending)
    }

    /// The next ticket, waiting for one; `None` once the queue is closed.
    pub async fn pop(&self) -> Option<Ticket> {
        if let Some(lanes) = self.lanes.get() {
            let lane = super::threads::current_lane().unwrap_or(0);
            return lanes.pop(lane, &self.closed).await;
        }
        loop {
            let notified = self.ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.closed.load(Ordering::SeqCst) {
                return None;
            }
            if let Some(t) = self.lock().pop_front() {
                return Some(t);
            }
            notified.await;
        }
    }

    /// Closes the queue, returning how many tickets were never sent.
    pub fn close(&self) -> u64 {
        self.closed.store(true, Ordering::SeqCst);
        let left = std::mem::take(&mut *self.lock());
        self.ready.notify_waiters();
        left.len() as u64 + self.lanes.get().map_or(0, Lanes::close)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Ticket>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }
}
