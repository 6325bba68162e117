//! Recovery time: how long after a fault is reverted a service is back to how it was before.
//!
//! The baseline is the 30 seconds before the injection (seconds under no fault). The service
//! has recovered at the first second, at or after the revert, whose p99 and error rate are
//! within 10 % of the baseline and where the median p99 and mean error rate of that second
//! and the next two stay within it too, so one lucky second does not count. Error rates get
//! an absolute slack of 0.1 percentage point, since 10 % of a zero error rate is zero.

use super::obs::Obs;
use super::stats::{mean, median};

/// Seconds before the injection the baseline is taken from.
pub const BASELINE_S: f64 = 30.0;
/// Within this factor of the baseline counts as recovered.
pub const TOLERANCE: f64 = 1.10;
/// Absolute slack on the error rate.
pub const ERROR_SLACK: f64 = 0.001;
/// Seconds that must hold together.
const HOLD: usize = 3;

/// The recovery after one reverted fault window.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovery {
    pub window: usize,
    /// Seconds from the revert to recovery; `None` when the service had not recovered when
    /// the run (or the next fault) came.
    pub recovery_s: Option<f64>,
}

/// Recovery after window `wi`, reverted at `end`; `None` when there is no baseline (fewer
/// than three clean seconds before the injection) or no second after the revert.
pub fn recover(
    obs: &[Obs],
    active: &[Vec<usize>],
    wi: usize,
    start: f64,
    end: f64,
) -> Option<Recovery> {
    let before: Vec<&Obs> = obs
        .iter()
        .zip(active)
        .filter(|(o, a)| {
            let t = o.t as f64;
            a.is_empty() && o.loaded() && t + 1.0 <= start && t >= start - BASELINE_S
        })
        .map(|(o, _)| o)
        .collect();
    if before.len() < 3 {
        return None;
    }
    let base_p99 = median(&before.iter().map(|o| o.p99_ms).collect::<Vec<_>>())?;
    let base_err = mean(&before.iter().map(|o| o.error_rate).collect::<Vec<_>>())?;
    let p99_ok = |p: f64| p <= base_p99 * TOLERANCE;
    let err_ok = |e: f64| e <= base_err * TOLERANCE + ERROR_SLACK;

    // The seconds after the revert, up to the next fault.
    let after: Vec<&Obs> = obs
        .iter()
        .zip(active)
        .filter(|(o, _)| o.t as f64 >= end.floor() && o.loaded())
        .take_while(|(_, a)| a.iter().all(|w| *w == wi))
        .map(|(o, _)| o)
        .collect();
    let after: Vec<&Obs> = after
        .into_iter()
        .filter(|o| o.t as f64 + 1.0 > end)
        .collect();
    if after.is_empty() {
        return None;
    }
    for i in 0..after.len() {
        let o = after[i];
        if !(p99_ok(o.p99_ms) && err_ok(o.error_rate)) {
            continue;
        }
        let hold = &after[i..(i + HOLD).min(after.len())];
        let p = median(&hold.iter().map(|o| o.p99_ms).collect::<Vec<_>>())?;
        let e = mean(&hold.iter().map(|o| o.error_rate).collect::<Vec<_>>())?;
        if p99_ok(p) && err_ok(e) {
            return Some(Recovery {
                window: wi,
                recovery_s: Some((o.t as f64 - end).max(0.0)),
            });
        }
    }
    Some(Recovery {
        window: wi,
        recovery_s: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(t: u64, p99: f64) -> Obs {
        Obs {
            t,
            offered: 100.0,
            rps: 100.0,
            p50_ms: p99 / 2.0,
            p99_ms: p99,
            error_rate: 0.0,
        }
    }

    #[test]
    fn recovers_after_a_tail() {
        // Fault from 40 to 60; after it p99 decays back to 20 by t = 65.
        let series: Vec<Obs> = (0..100)
            .map(|t| match t {
                40..60 => obs(t, 500.0),
                60..65 => obs(t, 100.0),
                _ => obs(t, 20.0),
            })
            .collect();
        let active: Vec<Vec<usize>> = series
            .iter()
            .map(|o| {
                if (40..60).contains(&o.t) {
                    vec![0]
                } else {
                    vec![]
                }
            })
            .collect();
        let r = recover(&series, &active, 0, 40.0, 60.0).unwrap();
        assert_eq!(r.recovery_s, Some(5.0));
    }
}
