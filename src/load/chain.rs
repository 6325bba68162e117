//! Replaying a learned traffic: sessions that walk a Markov chain of requests.
//!
//! Sessions arrive as a Poisson process whose rate follows the run's request-rate schedule
//! (drawn by thinning, see `arrivals`). A session starts in a state drawn from the chain's
//! start distribution, sends that state's request, waits for the response, draws the next
//! state (or the end), thinks for a time drawn from the state's think-time distribution, and
//! so on.
//!
//! Two corrections make the *request* rate follow the schedule rather than lag it:
//! - the session rate is the request rate divided by the chain's expected session length, and
//!   is taken `lead` seconds ahead, `lead` being the mean delay from a session's start to one
//!   of its requests (exact for constant rates and linear ramps);
//! - the run starts in the steady state: sessions that would have started during a stretch
//!   of virtual time before the run are walked without sending until their next request falls
//!   inside the run, so the first minute is not empty of second and later requests.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::arrivals::{Arrivals, Next, Thinning};
use super::request::pick;
use super::schedule::RateSchedule;
use super::session::visit_request;
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
    /// Mean delay from a session's start to one of its requests (seconds).
    pub mean_lag: f64,
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
            mean_lag: 0.0,
            mean_duration: 0.0,
        };
        plan.expectations();
        Ok(plan)
    }

    /// Expected requests, summed lags and duration from each state on, by value iteration
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
        // v: requests from a state on (itself included); w: the sum of their delays after
        // the state's request; d: the session time left.
        let (mut v, mut w, mut d) = (vec![1.0; n], vec![0.0; n], vec![0.0; n]);
        for _ in 0..100_000 {
            let mut change = 0.0f64;
            for i in 0..n {
                let (mut nv, mut nw, mut nd) = (1.0, 0.0, 0.0);
                for &(to, p) in &probs[i] {
                    if let Some(j) = to {
                        nv += p * v[j];
                        nw += p * (think[i] * v[j] + w[j]);
                        nd += p * (think[i] + d[j]);
                    }
                }
                let cap = f64::from(MAX_SESSION_REQUESTS);
                let (nv, nw, nd) = (nv.min(cap), nw.min(cap * 1e6), nd.min(1e9));
                change = change.max((nv - v[i]).abs() / nv.max(1.0));
                v[i] = nv;
                w[i] = nw;
                d[i] = nd;
            }
            if change < 1e-12 {
                break;
            }
        }
        let total = *self.start_cum.last().unwrap_or(&1.0);
        let mut prev = 0.0;
        let (mut sv, mut sw, mut sd) = (0.0, 0.0, 0.0);
        for (&s, c) in self.start.iter().zip(&self.start_cum) {
            let p = (c - prev) / total;
            prev = *c;
            sv += p * v[s];
            sw += p * w[s];
            sd += p * d[s];
        }
        self.mean_requests = sv.max(1.0);
        self.mean_lag = sw / self.mean_requests;
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

    /// The thinning that turns the request-rate schedule into session arrivals.
    pub fn thinning(&self, schedule: &RateSchedule) -> Thinning {
        Thinning::new(schedule, self.mean_lag, self.mean_requests)
    }
}

/// Sessions that are part-way through at the start of the run: arrivals over a stretch of
/// virtual time before it, each walked (without sending) until its next request falls at or
/// after offset 0. Returns `(state, offset of that request, the session's RNG)`.
pub(crate) fn in_progress(
    plan: &ChainPlan,
    schedule: &RateSchedule,
    seed: u64,
    end: f64,
) -> Vec<(usize, f64, StdRng)> {
    // Ten mean session durations cover all but a sliver of the sessions still going.
    let back = (plan.mean_duration * 10.0).min(86_400.0);
    if back <= 0.0 {
        return Vec::new();
    }
    let mut rng = StdRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut arrivals = Arrivals::thinned(schedule.clone(), plan.thinning(schedule), -back, 0.0);
    let mut out = Vec::new();
    // Bounded: at most a million sessions walked.
    for _ in 0..1_000_000 {
        let Next::At(t0) = arrivals.next(&mut rng, 1.0) else {
            break;
        };
        let mut srng = StdRng::seed_from_u64(rng.random::<u64>());
        let mut state = plan.first(&mut srng);
        let mut t = t0;
        let mut steps = 0;
        while t < 0.0 && steps < MAX_SESSION_REQUESTS {
            steps += 1;
            let Some(next) = plan.next(state, &mut srng) else {
                break;
            };
            t += plan.think(state, &mut srng);
            state = next;
        }
        if t >= 0.0 && t < end && steps < MAX_SESSION_REQUESTS {
            out.push((state, t, srng));
        }
    }
    out
}

/// One session, from its first request (at `first`, in `state`) to its end.
pub(crate) async fn run_chain_session(
    shared: Arc<Shared>,
    plan: Arc<ChainPlan>,
    state: Option<usize>,
    mut rng: StdRng,
    first: Instant,
) {
    let mut state = match state {
        Some(s) => s,
        None => plan.first(&mut rng),
    };
    let mut intended = first;
    let mut rows = Vec::new();
    for seq in 0..u64::from(MAX_SESSION_REQUESTS) {
        if shared.stop.is_set() || intended >= shared.end {
            return;
        }
        if intended > Instant::now() {
            tokio::select! {
                _ = tokio::time::sleep_until(tokio::time::Instant::from_std(intended)) => {}
                _ = shared.stop.wait() => return,
            }
        }
        let request = plan.states[state].request;
        if !visit_request(&shared, request, intended, &mut rng, seq, &mut rows).await {
            return;
        }
        let Some(next) = plan.next(state, &mut rng) else {
            return;
        };
        let think = plan.think(state, &mut rng);
        intended = Instant::now() + Duration::from_secs_f64(think);
        state = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::spec::{ChainStateSpec, Distribution};

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
    fn geometric_sessions_have_the_expected_length_and_lag() {
        // Length is geometric: 1 / (1 - p) = 4 requests; lags 0, 2, 4, 6… weighted by
        // survival: sum over k of 2k * 0.75^k / 4 = 2 * 0.75 / 0.25 = 6 s on average.
        let plan = ChainPlan::new(&spec(0.75, 2.0), 1).unwrap();
        assert!(
            (plan.mean_requests - 4.0).abs() < 1e-9,
            "{}",
            plan.mean_requests
        );
        assert!((plan.mean_lag - 6.0).abs() < 1e-6, "{}", plan.mean_lag);
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
    fn sessions_in_progress_match_the_steady_state() {
        // 100 requests/s, 4 per session, 2 s apart: 25 sessions/s lasting 6 s on average,
        // so about 150 are part-way through at the start.
        let plan = ChainPlan::new(&spec(0.75, 2.0), 1).unwrap();
        let schedule = RateSchedule::constant(crate::units::Rate(100.0));
        let got = in_progress(&plan, &schedule, 7, 60.0);
        assert!((120..180).contains(&got.len()), "{}", got.len());
        assert!(got.iter().all(|(_, t, _)| (0.0..2.0 + 1e-9).contains(t)));
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
