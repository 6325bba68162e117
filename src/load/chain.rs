//! Replaying a learned traffic: sessions that walk a Markov chain of requests, paced by the
//! request rate.
//!
//! The schedule is a *request* rate, and it is kept exactly: request starts are drawn by the
//! same arrival process as the open model (`arrivals`), so the planned rate is met whatever
//! the sessions look like. The sessions only decide *which* request each start sends. Every
//! session in progress waits in a pool until its think time after its last response is over;
//! a request start continues the session that has been ready longest, and starts a new
//! session (in a state drawn from the chain's start distribution) when none is ready. The
//! pool therefore grows until sessions become ready as fast as requests start, which is the
//! steady state of the learned chain: the share of first requests is one over the expected
//! session length, think times are kept (a session may wait a little longer than it drew
//! when the rate falls), and sessions are never cut short by an arrival rate computed from
//! averages.
//!
//! An earlier version drew *session* arrivals at rate / expected length, taken ahead by the
//! mean delay. With learned think times of ~25 s and sessions of minutes, steps of 15–30 s
//! saw only the first part of most sessions, and the warm start (sessions walked in virtual
//! time before the run, at the rate of the step's first second) filled ramps that start at
//! 0/s: measured 33/s held for 50/s planned, 20–26/s at the start of a ramp from 0, and a
//! 10 % warm-up at three times its plan.
//!
//! The pool starts in the steady state of the rate the schedule averages over its first
//! session length ([`warm_rate`]): request starts over a stretch of virtual time before the
//! run are played through the same rule without sending. So a step that ramps from 0/s
//! sends the learned mix from its first seconds rather than only first requests (sessions
//! wait a little longer than they drew while the ramp is low), and the request rate is the
//! schedule's either way.

use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use tokio::sync::oneshot;

use super::request::pick;
use super::session::queue_request;
use super::shared::Shared;
use super::spec::ChainSpec;

/// The longest session the replay walks (requests); a chain that rarely ends is cut here.
pub(crate) const MAX_SESSION_REQUESTS: u32 = 10_000;

/// The chain, compiled: cumulative tables and the figures the arrival rate needs.
pub(crate) struct ChainPlan {
    start: Vec<usize>,
    start_cum: Vec<f64>,
    states: Vec<State>,
    /// Expected requests per session.
    pub mean_requests: f64,
    /// Expected session duration (seconds of think time).
    pub mean_duration: f64,
}

struct State {
    request: usize,
    /// `None` ends the session.
    next: Vec<Option<usize>>,
    next_cum: Vec<f64>,
    think: Option<super::spec::Distribution>,
}

impl ChainPlan {
    pub fn new(spec: &ChainSpec, requests: usize) -> Result<ChainPlan, String> {
        let n = spec.states.len();
        if n == 0 || spec.start.is_empty() {
            return Err("the learned chain has no states to start from".into());
        }
        let cum = |ps: &mut dyn Iterator<Item = f64>, what: &str| -> Result<Vec<f64>, String> {
            let mut sum = 0.0;
            let mut out = Vec::new();
            for p in ps {
                if !(p.is_finite() && p >= 0.0) {
                    return Err(format!(
                        "{what}: probabilities must be non-negative numbers"
                    ));
                }
                sum += p;
                out.push(sum);
            }
            if sum <= 0.0 {
                return Err(format!("{what}: the probabilities add up to zero"));
            }
            Ok(out)
        };
        let mut start = Vec::new();
        for &(s, _) in &spec.start {
            if s >= n {
                return Err(format!(
                    "the chain starts in state {s}, but it has {n} states"
                ));
            }
            start.push(s);
        }
        let start_cum = cum(&mut spec.start.iter().map(|x| x.1), "the chain's start")?;
        let mut states = Vec::with_capacity(n);
        for (i, st) in spec.states.iter().enumerate() {
            if st.request >= requests {
                return Err(format!(
                    "chain state {i} sends request {}, but there are {requests}",
                    st.request
                ));
            }
            if let Some(bad) = st.next.iter().find_map(|(to, _)| to.filter(|&t| t >= n)) {
                return Err(format!(
                    "chain state {i} leads to state {bad}, but it has {n} states"
                ));
            }
            let next_cum = if st.next.is_empty() {
                vec![1.0]
            } else {
                cum(
                    &mut st.next.iter().map(|x| x.1),
                    &format!("chain state {i}"),
                )?
            };
            let next = if st.next.is_empty() {
                vec![None]
            } else {
                st.next.iter().map(|x| x.0).collect()
            };
            states.push(State {
                request: st.request,
                next,
                next_cum,
                think: st.think.clone(),
            });
        }
        let mut plan = ChainPlan {
            start,
            start_cum,
            states,
            mean_requests: 1.0,
            mean_duration: 0.0,
        };
        plan.expectations();
        Ok(plan)
    }

    /// Expected requests and duration from each state on, by value iteration
    /// (the chain is small and every learned state can reach the end).
    fn expectations(&mut self) {
        let n = self.states.len();
        let think: Vec<f64> = self
            .states
            .iter()
            .map(|s| s.think.as_ref().map_or(0.0, |d| d.mean()))
            .collect();
        let probs: Vec<Vec<(Option<usize>, f64)>> = self
            .states
            .iter()
            .map(|s| {
                let total = *s.next_cum.last().unwrap_or(&1.0);
                let mut prev = 0.0;
                s.next
                    .iter()
                    .zip(&s.next_cum)
                    .map(|(to, c)| {
                        let p = (c - prev) / total;
                        prev = *c;
                        (*to, p)
                    })
                    .collect()
            })
            .collect();
        // v: requests from a state on (itself included); d: the session time left.
        let (mut v, mut d) = (vec![1.0; n], vec![0.0; n]);
        for _ in 0..100_000 {
            let mut change = 0.0f64;
            for i in 0..n {
                let (mut nv, mut nd) = (1.0, 0.0);
                for &(to, p) in &probs[i] {
                    if let Some(j) = to {
                        nv += p * v[j];
                        nd += p * (think[i] + d[j]);
                    }
                }
                let cap = f64::from(MAX_SESSION_REQUESTS);
                let (nv, nd) = (nv.min(cap), nd.min(1e9));
                change = change.max((nv - v[i]).abs() / nv.max(1.0));
                v[i] = nv;
                d[i] = nd;
            }
            if change < 1e-12 {
                break;
            }
        }
        let total = *self.start_cum.last().unwrap_or(&1.0);
        let mut prev = 0.0;
        let (mut sv, mut sd) = (0.0, 0.0);
        for (&s, c) in self.start.iter().zip(&self.start_cum) {
            let p = (c - prev) / total;
            prev = *c;
            sv += p * v[s];
            sd += p * d[s];
        }
        self.mean_requests = sv.max(1.0);
        self.mean_duration = sd;
    }

    fn first(&self, rng: &mut StdRng) -> usize {
        self.start[pick(&self.start_cum, rng)]
    }

    fn next(&self, state: usize, rng: &mut StdRng) -> Option<usize> {
        let s = &self.states[state];
        s.next[pick(&s.next_cum, rng)]
    }

    fn think(&self, state: usize, rng: &mut StdRng) -> f64 {
        self.states[state]
            .think
            .as_ref()
            .map_or(0.0, |d| d.at(rng.random::<f64>()).max(0.0))
    }

    /// Mean think time between two requests of a session (seconds).
    fn mean_think(&self) -> f64 {
        self.mean_duration / (self.mean_requests - 1.0).max(1.0)
    }
}

/// One session in progress: where it is in the chain and its own random state, so the
/// template values it draws (feeder rows, `{seq}`) stay its own.
pub(crate) struct Session {
    state: usize,
    rng: StdRng,
    rows: Vec<Option<usize>>,
    seq: u64,
}

/// A session waiting for its next request, ready from `due` (seconds from the run's start).
struct Waiting {
    due: f64,
    id: u64,
    session: Session,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Waiting {}
impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Waiting {
    /// Reversed, so the heap's top is the session ready longest (ties by arrival order).
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .due
            .total_cmp(&self.due)
            .then_with(|| other.id.cmp(&self.id))
    }
}

/// The sessions in progress, by the time each is ready.
#[derive(Default)]
struct Pool {
    waiting: BinaryHeap<Waiting>,
    next_id: u64,
}

/// The most sessions kept waiting; beyond it the longest-waiting leave (a rate that drops
/// to near zero after a long peak would otherwise keep every visitor forever).
const MAX_WAITING: usize = 1_000_000;

impl Pool {
    fn put(&mut self, due: f64, session: Session) {
        let id = self.next_id;
        self.next_id += 1;
        if self.waiting.len() >= MAX_WAITING {
            self.waiting.pop();
        }
        self.waiting.push(Waiting { due, id, session });
    }

    /// The session ready longest, if one is ready at `t`.
    fn ready(&mut self, t: f64) -> Option<Session> {
        if self.waiting.peek().is_some_and(|w| w.due <= t) {
            self.waiting.pop().map(|w| w.session)
        } else {
            None
        }
    }
}

/// The replay of one load: the chain and the sessions in progress. Shared by the issuer (which
/// takes a session for each request start) and the tasks that wait for responses (which put
/// it back).
pub(crate) struct Replay {
    plan: ChainPlan,
    pool: Mutex<Pool>,
}

impl Replay {
    /// The replay, its pool filled with the steady state of `rate` requests per second.
    pub fn new(plan: ChainPlan, rate: f64, seed: u64) -> Replay {
        let replay = Replay {
            plan,
            pool: Mutex::new(Pool::default()),
        };
        replay.warm(rate, seed);
        replay
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Plays request starts at `rate` over a stretch of virtual time before the run through
    /// the pool's rule (responses taken as instant), so the run begins with the sessions a
    /// steady load would have in progress. Their ready times keep their offsets: negative ones
    /// are ready at once.
    fn warm(&self, rate: f64, seed: u64) {
        if !(rate.is_finite() && rate > 0.0) || self.plan.mean_requests <= 1.0 {
            return;
        }
        // The pool settles within a few session lengths (and many think times); bounded in
        // time and in the number of starts played.
        let mut back = (self.plan.mean_duration * 3.0)
            .max(self.plan.mean_think() * 10.0)
            .min(3600.0);
        back = back.min(WARM_STARTS / rate);
        if back <= 0.0 {
            return;
        }
        let mut rng = StdRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
        let mut pool = self.pool();
        let mut t = -back;
        for _ in 0..(WARM_STARTS as usize) {
            t += -(1.0 - rng.random::<f64>()).ln() / rate;
            if t >= 0.0 {
                break;
            }
            let mut session = match pool.ready(t) {
                Some(s) => s,
                None => self.begin(&mut rng),
            };
            if let Some(due) = self.advance(&mut session, t) {
                pool.put(due, session);
            }
        }
    }

    /// A new session, seeded from `rng`, in a start state.
    fn begin(&self, rng: &mut StdRng) -> Session {
        let mut srng = StdRng::seed_from_u64(rng.random::<u64>());
        let state = self.plan.first(&mut srng);
        Session {
            state,
            rng: srng,
            rows: Vec::new(),
            seq: 0,
        }
    }

    /// After the session's request got its response at `t`: its next state, and when it is
    /// ready for it (`None`: the session ended).
    fn advance(&self, session: &mut Session, t: f64) -> Option<f64> {
        session.seq += 1;
        if session.seq >= u64::from(MAX_SESSION_REQUESTS) {
            return None;
        }
        let next = self.plan.next(session.state, &mut session.rng)?;
        let think = self.plan.think(session.state, &mut session.rng);
        session.state = next;
        Some(t + think)
    }

    /// The session that sends the request starting at `t` (seconds from the run's start).
    pub fn take(&self, t: f64, rng: &mut StdRng) -> Session {
        let ready = self.pool().ready(t);
        ready.unwrap_or_else(|| self.begin(rng))
    }

    /// Renders the session's current request and queues it for `intended`; the returned
    /// receiver is told when the response is in. `None` when the template did not render
    /// (counted as an error of that request; the session goes on).
    pub fn send(
        &self,
        shared: &Shared,
        session: &mut Session,
        intended: Instant,
    ) -> Option<oneshot::Receiver<()>> {
        let request = self.plan.states[session.state].request;
        queue_request(
            shared,
            request,
            intended,
            &mut session.rng,
            session.seq,
            &mut session.rows,
        )
    }

    /// The response is in (at `t`): the session waits for its next request, or ends.
    pub fn returned(&self, mut session: Session, t: f64) {
        if let Some(due) = self.advance(&mut session, t) {
            self.pool().put(due, session);
        }
    }

    /// Sessions waiting now (tests).
    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.pool().waiting.len()
    }
}

/// The rate the warm pool is filled at: the schedule's mean over its first session length
/// (a mean think time at least), so a ramp from 0/s still starts among sessions in progress.
pub(crate) fn warm_rate(plan: &ChainPlan, schedule: &super::schedule::RateSchedule) -> f64 {
    let span = plan.mean_duration.max(plan.mean_think());
    if span <= 0.0 {
        return schedule.rate_at(0.0);
    }
    schedule.area(span) / span
}

/// The most request starts the warm start plays.
const WARM_STARTS: f64 = 2_000_000.0;

/// Sends the request of the session taken for the start at `intended` (offset `t`), then,
/// once the response is in, returns the session to the pool.
pub(crate) fn issue(
    replay: &Arc<Replay>,
    shared: &Arc<Shared>,
    rng: &mut StdRng,
    t: f64,
    intended: Instant,
    runtime: &tokio::runtime::Handle,
) {
    let mut session = replay.take(t, rng);
    match replay.send(shared, &mut session, intended) {
        Some(rx) => {
            let replay = replay.clone();
            let shared = shared.clone();
            runtime.spawn(async move {
                // An error means the queue closed: the run is over and the session with it.
                if rx.await.is_ok() {
                    let t = Instant::now()
                        .saturating_duration_since(shared.start)
                        .as_secs_f64();
                    replay.returned(session, t);
                }
            });
        }
        None => replay.returned(session, t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::spec::{ChainStateSpec, Distribution};
    use rand::SeedableRng;

    fn spec(p_again: f64, think: f64) -> ChainSpec {
        ChainSpec {
            start: vec![(0, 1.0)],
            states: vec![ChainStateSpec {
                request: 0,
                next: vec![(Some(0), p_again), (None, 1.0 - p_again)],
                think: Distribution::from_points(vec![(0.0, think), (1.0, think)]),
            }],
        }
    }

    #[test]
    fn geometric_sessions_have_the_expected_length_and_duration() {
        // Length is geometric: 1 / (1 - p) = 4 requests, 3 think times of 2 s.
        let plan = ChainPlan::new(&spec(0.75, 2.0), 1).unwrap();
        assert!(
            (plan.mean_requests - 4.0).abs() < 1e-9,
            "{}",
            plan.mean_requests
        );
        assert!(
            (plan.mean_duration - 6.0).abs() < 1e-6,
            "{}",
            plan.mean_duration
        );
    }

    #[test]
    fn bad_chains_are_refused() {
        let mut s = spec(0.5, 1.0);
        s.states[0].request = 3;
        assert!(ChainPlan::new(&s, 1).is_err());
        let mut s = spec(0.5, 1.0);
        s.start.clear();
        assert!(ChainPlan::new(&s, 1).is_err());
        let mut s = spec(0.5, 1.0);
        s.states[0].next = vec![(Some(7), 1.0)];
        assert!(ChainPlan::new(&s, 1).is_err());
    }

    #[test]
    fn a_chain_without_an_end_is_capped() {
        let plan = ChainPlan::new(&spec(1.0, 0.0), 1).unwrap();
        assert_eq!(plan.mean_requests, f64::from(MAX_SESSION_REQUESTS));
    }

    #[test]
    fn the_warm_pool_holds_the_steady_state() {
        // 100 requests/s, 4 per session, 2 s apart: three in four requests leave a session
        // waiting 2 s, so about 150 wait at any time.
        let plan = ChainPlan::new(&spec(0.75, 2.0), 1).unwrap();
        let replay = Replay::new(plan, 100.0, 7);
        assert!(
            (130..170).contains(&replay.waiting()),
            "{}",
            replay.waiting()
        );
        let cold = Replay::new(ChainPlan::new(&spec(0.75, 2.0), 1).unwrap(), 0.0, 7);
        assert_eq!(cold.waiting(), 0, "a ramp from 0/s starts with no one");
    }

    #[test]
    fn request_starts_continue_ready_sessions_in_the_learned_proportion() {
        // Played in virtual time: one in four starts is a new session, as in the chain.
        let plan = ChainPlan::new(&spec(0.75, 2.0), 1).unwrap();
        let replay = Replay::new(plan, 0.0, 1);
        let mut rng = StdRng::seed_from_u64(3);
        let (mut t, mut new) = (0.0, 0u32);
        for _ in 0..40_000 {
            t += 0.01;
            let s = replay.take(t, &mut rng);
            if s.seq == 0 {
                new += 1;
            }
            replay.returned(s, t);
        }
        // The first seconds are all new sessions; after that one in four.
        let share = f64::from(new) / 40_000.0;
        assert!((0.24..0.27).contains(&share), "{share}");
    }

    #[test]
    fn think_distribution_keeps_the_learned_mean() {
        let d = Distribution::from_quantiles(12.0, 8.0, 20.0, 25.0, 30.0, 40.0).unwrap();
        assert!((d.mean() - 12.0).abs() < 1e-9, "{}", d.mean());
        // A mean below what the upper quantiles allow keeps the lowest value at zero.
        let low = Distribution::from_quantiles(1.0, 8.0, 20.0, 25.0, 30.0, 40.0).unwrap();
        assert_eq!(low.at(0.0), 0.0);
        assert_eq!(d.at(0.5), 8.0);
        assert_eq!(d.at(1.0), 40.0);
        assert!(d.at(0.0) >= 0.0 && d.at(0.0) <= 8.0);
    }
}
