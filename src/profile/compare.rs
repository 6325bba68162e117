//! Comparing two runs: what got worse from run A to run B, and whether the difference is
//! more than noise.
//!
//! For each service in both runs, the per-second p99 and error rates of B are tested against
//! A's with a one-sided Mann–Whitney U test (robust to latency's long tail; Welch's t-test is
//! reported beside it). With many services the chance of a false alarm grows, so the
//! significance level is divided by the number of tests (Bonferroni). A change is reported
//! as worse only when it is significant *and* large enough to matter: p99 up by 5 % or more,
//! or the error rate up by 0.1 percentage point or more.

use serde::Serialize;

use super::derive::stats::{mann_whitney_greater, mean, median, welch};
use super::derive::{self, Obs, RunObs, Slo};
use super::schema::ExpectationRecord;
use super::store::RunSummary;

/// Smallest relative p99 increase reported as worse.
pub const MIN_P99_CHANGE: f64 = 0.05;
/// Smallest error-rate increase reported as worse (a fraction).
pub const MIN_ERROR_CHANGE: f64 = 0.001;

/// The comparison of two runs.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub a: RunSummary,
    pub b: RunSummary,
    /// The significance level asked for.
    pub alpha: f64,
    /// The level each test is held to: `alpha` over the number of tests.
    pub threshold: f64,
    pub services: Vec<ServiceChange>,
    /// Expectations that held in A and failed in B.
    pub newly_failing: Vec<String>,
    /// What got worse, one line each.
    pub worse: Vec<String>,
}

/// One service from A to B.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceChange {
    pub service: String,
    pub seconds_a: usize,
    pub seconds_b: usize,
    pub p99_ms_a: Option<f64>,
    pub p99_ms_b: Option<f64>,
    /// Mann–Whitney one-sided p-value that B's p99 is higher.
    pub p99_p_value: Option<f64>,
    /// Welch one-sided p-value, for reference.
    pub p99_welch_p_value: Option<f64>,
    pub p99_worse: bool,
    pub error_rate_a: Option<f64>,
    pub error_rate_b: Option<f64>,
    pub error_rate_p_value: Option<f64>,
    pub error_rate_worse: bool,
    pub sustainable_rps_a: Option<f64>,
    pub sustainable_rps_b: Option<f64>,
}

/// Compares run `b` against run `a`.
#[allow(clippy::too_many_arguments)]
pub fn compare(
    a: RunSummary,
    b: RunSummary,
    obs_a: &RunObs,
    obs_b: &RunObs,
    exp_a: &[ExpectationRecord],
    exp_b: &[ExpectationRecord],
    alpha: f64,
    slo: &Slo,
) -> Comparison {
    let common: Vec<&String> = obs_a
        .services
        .keys()
        .filter(|s| obs_b.services.contains_key(*s))
        .collect();
    let tests = (common.len() * 2).max(1);
    let threshold = alpha / tests as f64;
    let prof_a = derive::derive(std::slice::from_ref(obs_a), slo);
    let prof_b = derive::derive(std::slice::from_ref(obs_b), slo);
    let sustainable = |p: &derive::Profile, s: &str| {
        p.services
            .iter()
            .find(|x| x.service == s)
            .and_then(|x| x.sustainable_rps)
    };
    let mut services = Vec::new();
    let mut worse = Vec::new();
    for name in common {
        let loaded = |r: &RunObs| -> Vec<Obs> {
            r.services[name]
                .iter()
                .filter(|o| o.loaded())
                .copied()
                .collect()
        };
        let (sa, sb) = (loaded(obs_a), loaded(obs_b));
        let p99 = |s: &[Obs]| s.iter().map(|o| o.p99_ms).collect::<Vec<_>>();
        let err = |s: &[Obs]| s.iter().map(|o| o.error_rate).collect::<Vec<_>>();
        let (pa, pb) = (p99(&sa), p99(&sb));
        let (ea, eb) = (err(&sa), err(&sb));
        let (ma, mb) = (median(&pa), median(&pb));
        let p99_p = mann_whitney_greater(&pa, &pb);
        let p99_worse = matches!((p99_p, ma, mb), (Some(p), Some(x), Some(y))
            if p < threshold && y > x * (1.0 + MIN_P99_CHANGE));
        let (era, erb) = (mean(&ea), mean(&eb));
        let err_p = mann_whitney_greater(&ea, &eb);
        let err_worse = matches!((err_p, era, erb), (Some(p), Some(x), Some(y))
            if p < threshold && y - x >= MIN_ERROR_CHANGE);
        if p99_worse {
            worse.push(format!(
                "{name}: p99 {:.1} ms → {:.1} ms (p = {})",
                ma.unwrap_or(0.0),
                mb.unwrap_or(0.0),
                p_text(p99_p)
            ));
        }
        if err_worse {
            worse.push(format!(
                "{name}: error rate {:.2}% → {:.2}% (p = {})",
                era.unwrap_or(0.0) * 100.0,
                erb.unwrap_or(0.0) * 100.0,
                p_text(err_p)
            ));
        }
        services.push(ServiceChange {
            service: name.clone(),
            seconds_a: sa.len(),
            seconds_b: sb.len(),
            p99_ms_a: ma,
            p99_ms_b: mb,
            p99_p_value: p99_p,
            p99_welch_p_value: welch(&pa, &pb).map(|w| w.p_greater),
            p99_worse,
            error_rate_a: era,
            error_rate_b: erb,
            error_rate_p_value: err_p,
            error_rate_worse: err_worse,
            sustainable_rps_a: sustainable(&prof_a, name),
            sustainable_rps_b: sustainable(&prof_b, name),
        });
    }
    let newly_failing: Vec<String> = exp_b
        .iter()
        .filter(|e| !e.passed && exp_a.iter().any(|x| x.text == e.text && x.passed))
        .map(|e| e.text.clone())
        .collect();
    for e in &newly_failing {
        worse.push(format!("expectation now fails: {e}"));
    }
    Comparison {
        a,
        b,
        alpha,
        threshold,
        services,
        newly_failing,
        worse,
    }
}

/// A p-value in words a person can read at a glance.
pub fn p_text(p: Option<f64>) -> String {
    match p {
        None => "n/a".into(),
        Some(p) if p < 0.0001 => "< 0.0001".into(),
        Some(p) => format!("{p:.4}"),
    }
}
