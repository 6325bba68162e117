//! The issuer decides what is sent when, for the open and session models: it takes the next
//! intended time from the arrivals (a seeded stream of their own), then draws (open model)
//! the request and its template values, or (session model) the kind of session and its seed
//! from the run's seeded RNG, in one order — which is why the same seed gives the same
//! sequence whichever pacing mode releases it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::arrivals::{Arrivals, Next};
use super::queue::Ticket;
use super::request::pick;
use super::session::{run_session, SessionPlan};
use super::shared::Shared;
use super::template::RenderState;

/// What each arrival becomes.
pub(crate) enum Issue {
    Requests,
    Sessions(Arc<SessionPlan>),
    Chain(Arc<super::chain::Replay>),
}

/// When the next arrival is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    At(Instant),
    Paused,
    Ended,
}

pub(crate) struct Issuer {
    pub shared: Arc<Shared>,
    arrivals: Arrivals,
    rng: StdRng,
    seq: u64,
    rows: Vec<Option<usize>>,
    issue: Issue,
    next: Option<Instant>,
    /// Stops refilling the queue beyond this many waiting tickets.
    pub backlog_cap: usize,
    runtime: tokio::runtime::Handle,
}

impl Issuer {
    pub fn new(
        shared: Arc<Shared>,
        arrivals: Arrivals,
        issue: Issue,
        backlog_cap: usize,
        runtime: tokio::runtime::Handle,
    ) -> Issuer {
        let rng = StdRng::seed_from_u64(shared.seed);
        Issuer {
            shared,
            arrivals,
            rng,
            seq: 0,
            rows: Vec::new(),
            issue,
            next: None,
            backlog_cap,
            runtime,
        }
    }

    /// The next arrival's intended time (drawn once, then kept until issued).
    pub fn due(&mut self) -> Due {
        if let Some(t) = self.next {
            return Due::At(t);
        }
        match self.arrivals.next(self.shared.scale()) {
            Next::At(offset) => {
                let t = self.shared.start + Duration::from_secs_f64(offset);
                self.next = Some(t);
                Due::At(t)
            }
            Next::Paused => Due::Paused,
            Next::Ended => Due::Ended,
        }
    }

    /// While paused (scale 0), the schedule moves on with the clock instead of bursting later.
    pub fn skip_to_now(&mut self) {
        let offset = Instant::now().saturating_duration_since(self.shared.start);
        self.arrivals.skip_to(offset.as_secs_f64());
    }

    /// True when this issuer's tickets go to the load threads' lanes.
    pub fn laned(&self) -> bool {
        matches!(self.issue, Issue::Requests) && self.shared.queue.lanes().is_some()
    }

    /// True when the workers have enough waiting for them.
    pub fn backlogged(&self) -> bool {
        matches!(self.issue, Issue::Requests | Issue::Chain(_))
            && self.shared.queue.len() >= self.backlog_cap
    }

    /// Issues the arrival returned by `due`.
    pub fn issue(&mut self) {
        let Some(intended) = self.next.take() else {
            return;
        };
        // Paced in the load threads' lanes, a request counts as intended and offered when
        // its time comes there (`super::lanes`); this runs a little ahead of it.
        let laned = self.laned();
        if !laned {
            self.shared.intended.fetch_add(1, Ordering::Relaxed);
        }
        let seq = self.seq;
        self.seq += 1;
        match &self.issue {
            Issue::Requests => {
                let shared = &self.shared;
                let request = shared.mix.pick(&mut self.rng);
                let req = &shared.mix.requests[request];
                if !laned {
                    shared.offered[req.service].fetch_add(1, Ordering::Relaxed);
                }
                let mut state =
                    RenderState::new(&mut self.rng, seq, &mut self.rows, &shared.mix.feeders);
                match req.render(&mut state, &shared.mix.feeders) {
                    Ok(rendered) => shared.queue.push(Ticket {
                        intended,
                        request,
                        rendered,
                        done: None,
                    }),
                    // A template that renders to an invalid URI or header fails that request.
                    Err(_) => {
                        if laned {
                            shared.intended.fetch_add(1, Ordering::Relaxed);
                            shared.offered[req.service].fetch_add(1, Ordering::Relaxed);
                        }
                        shared.stats.record_unsendable(req.service)
                    }
                }
            }
            Issue::Sessions(plan) => {
                let kind = pick(&plan.cumulative, &mut self.rng);
                let seed = self.rng.random::<u64>();
                let shared = self.shared.clone();
                let plan = plan.clone();
                self.runtime
                    .spawn(run_session(shared, plan, kind, seed, intended));
            }
            Issue::Chain(replay) => {
                let t = intended
                    .saturating_duration_since(self.shared.start)
                    .as_secs_f64();
                super::chain::issue(
                    replay,
                    &self.shared,
                    &mut self.rng,
                    t,
                    intended,
                    &self.runtime,
                );
            }
        }
    }

    /// Counts the arrivals due before the end (or now, if earlier) that were never issued.
    pub fn count_overdue(&mut self) -> u64 {
        let limit = Instant::now().min(self.shared.end);
        let mut n = 0u64;
        while let Due::At(t) = self.due() {
            if t > limit || n > 10_000_000 {
                break;
            }
            self.next = None;
            n += 1;
        }
        n
    }
}
