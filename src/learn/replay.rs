//! What a learned model says a replay should do — the session chain over the endpoints a
//! caller maps, the request sizes and the rate over time — in the learner's own words
//! ([`LearnedChain`], [`Quantiles`], [`RateSegment`]). `run/replay.rs` translates these into
//! the load generator's types; this module knows nothing of the load engine.
//!
//! Endpoints are mapped onto requests by the caller (`res run` matches them against the
//! system's routes). Endpoints without a request are taken out of the chain exactly: a
//! transition into one is replaced by where the session goes next among the mapped endpoints
//! (or its end), so the chain the load walks is the learned chain observed on the mapped
//! endpoints only, and the replayed mix is the learned mix renormalised over them.

use crate::units::Duration;

use super::histogram::Quantiles;
use super::profile::{Endpoint, TrafficProfile};

/// The learned session chain over mapped endpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedChain {
    /// Where sessions begin: a state index and its probability.
    pub start: Vec<(usize, f64)>,
    pub states: Vec<LearnedState>,
}

/// One state of the chain: the request the caller mapped its endpoint to, where sessions go
/// next (`None` ends them), and the learned think time after it (seconds, `None` when the log
/// showed none).
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedState {
    pub request: usize,
    pub next: Vec<(Option<usize>, f64)>,
    pub think: Option<Quantiles>,
}

/// The rate moving linearly from `from` to `to` (per second) over `over`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateSegment {
    pub from: f64,
    pub to: f64,
    pub over: Duration,
}

/// The learned session chain over the endpoints `request_of` maps (by their index in the
/// model) to a request index. `None` when the model has no sessions or none of their
/// endpoints is mapped.
pub fn chain(
    profile: &TrafficProfile,
    request_of: impl Fn(usize) -> Option<usize>,
) -> Option<LearnedChain> {
    let names: Vec<String> = profile.endpoints.iter().map(Endpoint::name).collect();
    let index = |name: &str| names.iter().position(|n| n == name);
    let n = names.len();
    // Learned transitions by endpoint index; `n` stands for START, `None` for EXIT.
    let mut trans: Vec<Vec<(Option<usize>, f64)>> = vec![Vec::new(); n + 1];
    let mut think: Vec<Option<Quantiles>> = vec![None; n];
    for st in &profile.sessions.chain {
        let from = if st.from == "START" {
            n
        } else {
            match index(&st.from) {
                Some(i) => i,
                None => continue,
            }
        };
        for t in &st.next {
            // A state the model does not list (past the endpoint cap) ends the session as far
            // as the replay can tell.
            let to = if t.to == "EXIT" { None } else { index(&t.to) };
            trans[from].push((to, t.p));
        }
        if from < n {
            think[from] = st.think_s.clone().filter(|q| q.count > 0);
        }
    }
    let mapped: Vec<Option<usize>> = (0..n).map(&request_of).collect();
    // Where a session in an unmapped state goes next among mapped states or the end: the
    // absorption probabilities, by value iteration (bounded).
    let mut absorb: Vec<Vec<(Option<usize>, f64)>> = vec![Vec::new(); n];
    let rounds = if mapped.iter().all(Option::is_some) {
        0
    } else {
        200
    };
    for _ in 0..rounds {
        let mut next = vec![Vec::new(); n];
        for i in 0..n {
            if mapped[i].is_some() {
                continue;
            }
            next[i] = spread(&trans[i], &mapped, &absorb);
        }
        absorb = next;
    }
    let mut state_of = vec![None; n];
    let mut states = Vec::new();
    for i in 0..n {
        if let Some(r) = mapped[i] {
            state_of[i] = Some(states.len());
            states.push(LearnedState {
                request: r,
                next: Vec::new(),
                think: think[i].clone(),
            });
        }
    }
    let relabel = |v: Vec<(Option<usize>, f64)>| -> Vec<(Option<usize>, f64)> {
        v.into_iter()
            .map(|(to, p)| (to.and_then(|j| state_of[j]), p))
            .collect()
    };
    for i in 0..n {
        if let Some(s) = state_of[i] {
            states[s].next = relabel(spread(&trans[i], &mapped, &absorb));
        }
    }
    let start: Vec<(usize, f64)> = relabel(spread(&trans[n], &mapped, &absorb))
        .into_iter()
        .filter_map(|(to, p)| to.map(|s| (s, p)))
        .filter(|(_, p)| *p > 0.0)
        .collect();
    if states.is_empty() || start.is_empty() {
        return None;
    }
    Some(LearnedChain { start, states })
}

/// The transitions `row`, with every unmapped target replaced by its absorption
/// distribution; targets merged. Targets are endpoint indices (mapped ones) or `None`.
fn spread(
    row: &[(Option<usize>, f64)],
    mapped: &[Option<usize>],
    absorb: &[Vec<(Option<usize>, f64)>],
) -> Vec<(Option<usize>, f64)> {
    let mut out: Vec<(Option<usize>, f64)> = Vec::new();
    let mut add = |to: Option<usize>, p: f64| {
        if p <= 0.0 {
            return;
        }
        match out.iter_mut().find(|(t, _)| *t == to) {
            Some(e) => e.1 += p,
            None => out.push((to, p)),
        }
    };
    for &(to, p) in row {
        match to {
            Some(j) if mapped[j].is_none() => {
                for &(t2, p2) in &absorb[j] {
                    add(t2, p * p2);
                }
            }
            other => add(other, p),
        }
    }
    out
}

/// The body sizes to send for an endpoint's requests. Logs count the whole request (nginx
/// `request_length`, ALB `received_bytes`: request line and headers included), so the median
/// size of the busiest `GET` endpoint, whose requests carry no body, is taken off as the
/// header overhead.
pub fn request_sizes(profile: &TrafficProfile, e: &Endpoint) -> Option<Quantiles> {
    let q = e.request_bytes.as_ref()?;
    let overhead = profile
        .endpoints
        .iter()
        .filter(|x| x.method == "GET")
        .find_map(|x| x.request_bytes.as_ref().map(|b| b.p50))
        .unwrap_or(0.0);
    if q.count == 0 {
        return None;
    }
    Some(Quantiles {
        count: q.count,
        mean: (q.mean - overhead).max(0.0),
        p50: (q.p50 - overhead).max(0.0),
        p90: (q.p90 - overhead).max(0.0),
        p95: (q.p95 - overhead).max(0.0),
        p99: (q.p99 - overhead).max(0.0),
        max: (q.max - overhead).max(0.0),
    })
}

/// The hour of the week (0 = Monday 00:00 UTC) of an hour counted from the epoch.
fn hour_of_week(h: i64) -> usize {
    // 1970-01-01 was a Thursday.
    (h + 72).rem_euclid(168) as usize
}

/// The forecast rate (per second) for each hour of the week: the first forecast hour that
/// falls on it, from `points` (`at` as RFC 3339, the rate to use). Hours of the week the
/// forecast does not reach stay `None`.
pub fn forecast_week(points: &[(String, f64)]) -> Vec<Option<f64>> {
    let mut week = vec![None; 168];
    for (at, rate) in points {
        let Some(t) = crate::units::Timestamp::parse(at) else {
            continue;
        };
        let slot = &mut week[hour_of_week(t.0.div_euclid(3600))];
        if slot.is_none() && rate.is_finite() {
            *slot = Some(rate.max(0.0));
        }
    }
    week
}

/// The rate over the run: for each hour of the week, the `week` override (a forecast) when it
/// has one, else the model's mean rate for that hour, else its hour-of-day mean, else its
/// overall mean; from `start` (seconds since the epoch) on, `speedup` hours of the model per
/// hour of the run, times `scale`, over `duration` of the run. The rate moves linearly
/// between the middles of the hours.
pub fn schedule(
    profile: &TrafficProfile,
    week: Option<&[Option<f64>]>,
    start: i64,
    speedup: f64,
    scale: f64,
    duration: Duration,
) -> Vec<RateSegment> {
    let hour_rate = |h: i64| -> f64 {
        let how = hour_of_week(h);
        let hod = h.rem_euclid(24) as usize;
        week.and_then(|w| w.get(how).copied().flatten())
            .or_else(|| profile.rate.per_hour_of_week.get(how).copied().flatten())
            .or_else(|| profile.rate.per_hour_of_day.get(hod).copied().flatten())
            .unwrap_or(profile.rate.mean_per_s)
            * scale
    };
    let speedup = speedup.max(1e-9);
    // Model time (hours since the epoch, fractional) at run offset `t` seconds.
    let model_hour = |t: f64| start as f64 / 3600.0 + t * speedup / 3600.0;
    // The rate at a model time: linear between the middles of the hours.
    let rate_at = |x: f64| {
        let m = x - 0.5;
        let h = m.floor();
        let f = m - h;
        hour_rate(h as i64) * (1.0 - f) + hour_rate(h as i64 + 1) * f
    };
    let total = duration.secs().max(0.0);
    // One knot per hour of model time (and at the ends), at most 10,000 stages.
    let step = (3600.0 / speedup).max(total / 10_000.0).max(1e-3);
    let mut knots = vec![0.0];
    let first = ((model_hour(0.0) - 0.5).floor() + 1.5 - model_hour(0.0)) * 3600.0 / speedup;
    let mut t = first;
    while t < total && knots.len() < 10_001 {
        if t > 0.0 {
            knots.push(t);
        }
        t += step;
    }
    knots.push(total);
    let mut s = Vec::new();
    for w in knots.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b <= a {
            continue;
        }
        s.push(RateSegment {
            from: rate_at(model_hour(a)),
            to: rate_at(model_hour(b)),
            over: Duration::from_secs(b - a),
        });
    }
    if s.is_empty() {
        let r = rate_at(model_hour(0.0));
        s.push(RateSegment {
            from: r,
            to: r,
            over: Duration::ZERO,
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_of_the_week_start_on_monday() {
        let monday = 1_793_577_600 / 3600; // 2026-11-02T00:00Z
        assert_eq!(hour_of_week(monday), 0);
        assert_eq!(hour_of_week(monday + 167), 167);
        assert_eq!(hour_of_week(monday + 168 + 5), 5);
    }

    #[test]
    fn the_forecast_week_takes_the_first_point_of_each_hour() {
        let week = forecast_week(&[
            ("2026-11-02T00:00:00Z".into(), 5.0),
            ("2026-11-02T01:00:00Z".into(), 7.0),
            ("2026-11-09T00:00:00Z".into(), 50.0),
            ("not a time".into(), 1.0),
        ]);
        assert_eq!(week[0], Some(5.0));
        assert_eq!(week[1], Some(7.0));
        assert_eq!(week.iter().flatten().count(), 2);
    }
}
