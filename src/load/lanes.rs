//! Precise pacing inside the workers' own event loops (*lanes*), for the open model's plain
//! requests on Linux, chosen with `RES_PACER=lanes` (see `super::pacer::use_lanes` for why it
//! is not the default).
//!
//! The pacer thread draws the schedule as before, but a little ahead of time (see
//! `pacer::ahead`): it hands each ticket to one of the load threads' lanes, round-robin,
//! waking up about once a millisecond. Each lane's dispatcher task waits on a `timerfd`
//! (`CLOCK_MONOTONIC`, absolute, nanosecond precision) registered with its thread's event
//! loop, armed for the lane's earliest ticket; when it fires the dispatcher gives every ticket
//! then due to an idle worker on the same thread. A release thus costs one epoll return and
//! a timerfd read in the thread that sends the request — no cross-thread hand-off, which is
//! what a wake-up per request cost the pacer-thread design. When every worker of a lane is
//! busy the ticket goes to a lane with an idle worker (a cross-thread wake, but only then),
//! and when no lane has one, to the first worker anywhere that finishes (workers with
//! nothing due in their own lane take from the others).
//!
//! Accounting is the same as the shared queue's: a ticket counts as intended (and offered)
//! when its time comes; tickets due but never taken by a worker when the queue closes count
//! as unsent; tickets whose time had not come when a run was stopped early were never due.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::Notify;

use super::queue::Ticket;
use super::shared::Shared;

/// One load thread's share of the schedule.
#[derive(Default)]
pub(crate) struct Lane {
    /// From the pacer, in time order, not yet due.
    scheduled: Mutex<VecDeque<Ticket>>,
    /// Tells the dispatcher that `scheduled` is no longer empty, or that the queue closed.
    wake: Notify,
    /// Due, waiting for a worker of this thread.
    due: Mutex<VecDeque<Ticket>>,
    ready: Notify,
    /// Workers of this lane waiting for a ticket.
    idle: AtomicUsize,
}

pub(crate) struct Lanes {
    lanes: Box<[Lane]>,
    /// Tickets handed to the lanes and not yet taken by a worker (or dropped at close).
    pending: AtomicUsize,
    next: AtomicUsize,
}

fn lock(m: &Mutex<VecDeque<Ticket>>) -> MutexGuard<'_, VecDeque<Ticket>> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Lanes {
    pub fn new(n: usize) -> Lanes {
        Lanes {
            lanes: (0..n.max(1)).map(|_| Lane::default()).collect(),
            pending: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Hands a ticket (in time order) to the next lane.
    pub fn schedule(&self, ticket: Ticket) {
        self.pending.fetch_add(1, Ordering::Relaxed);
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.lanes.len();
        let lane = &self.lanes[i];
        let mut s = lock(&lane.scheduled);
        let was_empty = s.is_empty();
        s.push_back(ticket);
        drop(s);
        if was_empty {
            lane.wake.notify_one();
        }
    }

    /// The next due ticket of lane `i` for one of its workers; `None` once `closed`.
    pub async fn pop(&self, i: usize, closed: &std::sync::atomic::AtomicBool) -> Option<Ticket> {
        let lane = &self.lanes[i % self.lanes.len()];
        loop {
            let notified = lane.ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if closed.load(Ordering::SeqCst) {
                return None;
            }
            // Its own lane first; then one whose workers were all busy when a ticket fell due.
            let own = lock(&lane.due).pop_front();
            let t = own.or_else(|| self.lanes.iter().find_map(|l| lock(&l.due).pop_front()));
            if let Some(t) = t {
                self.pending.fetch_sub(1, Ordering::Relaxed);
                return Some(t);
            }
            let _idle = Idle::new(&lane.idle);
            notified.await;
        }
    }

    /// At close (the caller has set the closed flag): empties the due queues, returning how
    /// many tickets were never sent, and wakes every dispatcher and worker.
    pub fn close(&self) -> u64 {
        let mut left = 0;
        for lane in self.lanes.iter() {
            left += std::mem::take(&mut *lock(&lane.due)).len() as u64;
            lane.wake.notify_one();
            lane.ready.notify_waiters();
        }
        left
    }
}

/// Counts a waiting worker as idle for as long as it waits (also when its task is dropped).
struct Idle<'a>(&'a AtomicUsize);

impl<'a> Idle<'a> {
    fn new(n: &'a AtomicUsize) -> Idle<'a> {
        n.fetch_add(1, Ordering::Relaxed);
        Idle(n)
    }
}

impl Drop for Idle<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Lane `i`'s dispatcher: runs on lane `i`'s thread until the queue closes.
pub(crate) async fn dispatch(shared: Arc<Shared>, i: usize) {
    let Some(lanes) = shared.queue.lanes() else {
        return;
    };
    let lane = &lanes.lanes[i];
    // Without one (out of file descriptors), tokio's millisecond timer instead.
    let mut timer = super::timer::Timer::new().ok();
    loop {
        if shared.queue.is_closed() {
            drain(&shared, lanes, lane);
            return;
        }
        let wake = lane.wake.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let front = lock(&lane.scheduled).front().map(|t| t.intended);
        let now = Instant::now();
        match front {
            None => wake.await,
            Some(t) if t > now => match timer.as_mut() {
                Some(timer) => {
                    tokio::select! {
                        _ = timer.sleep_until(t) => {}
                        _ = &mut wake => {}
                    }
                }
                None => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(tokio::time::Instant::from_std(t)) => {}
                        _ = &mut wake => {}
                    }
                }
            },
            Some(_) => release(&shared, lanes, i, now),
        }
    }
}

/// Gives every ticket of lane `i` due by `now` to a worker: one of its own when one is idle,
/// else one of another lane that has an idle worker, else its own when one frees up.
fn release(shared: &Shared, lanes: &Lanes, i: usize, now: Instant) {
    let lane = &lanes.lanes[i];
    loop {
        let ticket = {
            let mut s = lock(&lane.scheduled);
            match s.front() {
                Some(t) if t.intended <= now => s.pop_front(),
                _ => None,
            }
        };
        let Some(ticket) = ticket else {
            return;
        };
        shared.intended.fetch_add(1, Ordering::Relaxed);
        let service = shared.mix.requests[ticket.request].service;
        shared.offered[service].fetch_add(1, Ordering::Relaxed);
        let to = if lane.idle.load(Ordering::Relaxed) > 0 {
            lane
        } else {
            lanes
                .lanes
                .iter()
                .find(|l| l.idle.load(Ordering::Relaxed) > 0)
                .unwrap_or(lane)
        };
        let mut due = lock(&to.due);
        // Checked under the lock `Lanes::close` takes to empty the queue: a ticket pushed
        // after that would never be counted.
        if shared.queue.is_closed() {
            drop(due);
            lanes.pending.fetch_sub(1, Ordering::Relaxed);
            shared.unsent.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        due.push_back(ticket);
        drop(due);
        to.ready.notify_last();
    }
}

/// At close: tickets due by then (or by the end) were never sent; later ones were never due.
fn drain(shared: &Shared, lanes: &Lanes, lane: &Lane) {
    let limit = Instant::now().min(shared.end);
    let left = std::mem::take(&mut *lock(&lane.scheduled));
    lanes.pending.fetch_sub(left.len(), Ordering::Relaxed);
    let overdue = left.iter().filter(|t| t.intended <= limit).count() as u64;
    shared.intended.fetch_add(overdue, Ordering::Relaxed);
    shared.unsent.fetch_add(overdue, Ordering::Relaxed);
}
