//! A learned model in the load generator's words: `learn::replay` says what the log implies
//! (the chain over mapped endpoints, think times and request sizes as learned quantiles, the
//! rate hour by hour); this module turns that into `load::ChainSpec`, `Distribution` and
//! `RateSchedule`. It is the one place a learned traffic becomes load.

use crate::learn::replay::{self as learned, RateSegment};
use crate::learn::{Endpoint, Quantiles, TrafficProfile};
use crate::load::{ChainSpec, ChainStateSpec, Distribution, RateSchedule, RateStage};
use crate::units::{Duration, Rate};

/// A distribution from learned quantiles, `k` times the values (seconds from the model's
/// seconds, or bytes).
pub fn distribution(q: &Quantiles, k: f64) -> Option<Distribution> {
    if q.count == 0 {
        return None;
    }
    Distribution::from_quantiles(q.mean, q.p50, q.p90, q.p95, q.p99, q.max).map(|d| d.scaled(k))
}

/// The learned session chain over the endpoints `request_of` maps (by their index in the
/// model) to a request index, think times divided by `speedup` (1 for real time). `None`
/// when the model has no sessions or none of their endpoints is mapped.
pub fn chain(
    profile: &TrafficProfile,
    request_of: impl Fn(usize) -> Option<usize>,
    speedup: f64,
) -> Option<ChainSpec> {
    let c = learned::chain(profile, request_of)?;
    let k = 1.0 / speedup.max(1e-9);
    Some(ChainSpec {
        start: c.start,
        states: c
            .states
            .into_iter()
            .map(|s| ChainStateSpec {
                request: s.request,
                next: s.next,
                think: s.think.as_ref().and_then(|q| distribution(q, k)),
            })
            .collect(),
    })
}

/// The body sizes to send for an endpoint's requests (the learned request sizes less the
/// header overhead).
pub fn request_sizes(profile: &TrafficProfile, e: &Endpoint) -> Option<Distribution> {
    learned::request_sizes(profile, e).and_then(|q| distribution(&q, 1.0))
}

/// The learned (or forecast) rate over the run as a load schedule; see
/// [`learn::replay::schedule`](crate::learn::replay::schedule).
pub fn schedule(
    profile: &TrafficProfile,
    week: Option<&[Option<f64>]>,
    start: i64,
    speedup: f64,
    scale: f64,
    duration: Duration,
) -> RateSchedule {
    let segments = learned::schedule(profile, week, start, speedup, scale, duration);
    RateSchedule {
        stages: segments
            .iter()
            .map(|s: &RateSegment| RateStage {
                from: Rate(s.from),
                to: Rate(s.to),
                over: s.over,
            })
            .collect(),
        share: None,
    }
}
