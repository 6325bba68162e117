//! Which seconds of a run were under a fault, which were recovering from one, and which were
//! clean: the split every other derivation starts from.
//!
//! Second `t` covers `[t, t+1)` after the run's start. A second that overlaps a fault window
//! at all counts as faulted. After a revert, the seconds until the service recovered (see
//! `recovery.rs`) are neither faulted nor clean, so a slow recovery does not lower the
//! baseline the degradation is measured against.

use super::obs::Obs;
use super::recovery::{recover, Recovery};
use crate::profile::schema::FaultRecord;

/// A fault kind active from `start` to `end` (seconds since the run's start); `end` is `None`
/// when the run ended before the fault was reverted.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultWindow {
    pub kind: String,
    pub start: f64,
    pub end: Option<f64>,
}

/// Pairs each `inject` with the next `revert` of the same fault and target.
pub fn windows(faults: &[FaultRecord]) -> Vec<FaultWindow> {
    let mut out: Vec<(FaultWindow, &str, &str)> = Vec::new();
    for f in faults {
        match f.action.as_str() {
            "inject" => out.push((
                FaultWindow {
                    kind: f.kind.clone(),
                    start: f.at_s,
                    end: None,
                },
                &f.fault,
                &f.target,
            )),
            "revert" => {
                let open = out.iter_mut().find(|(w, fault, target)| {
                    w.end.is_none()
                        && *fault == f.fault
                        && (target.is_empty() || f.target.is_empty() || *target == f.target)
                });
                if let Some((w, _, _)) = open {
                    w.end = Some(f.at_s.max(w.start));
                }
            }
            _ => {}
        }
    }
    out.into_iter().map(|(w, _, _)| w).collect()
}

/// One service's seconds in one run, classified.
#[derive(Debug, Clone)]
pub struct ServiceRun<'a> {
    pub obs: &'a [Obs],
    pub windows: &'a [FaultWindow],
    /// The windows active in each second.
    pub active: Vec<Vec<usize>>,
    /// Seconds after a revert before the service recovered.
    pub recovering: Vec<bool>,
    /// One per reverted window that had a baseline before it and seconds after it.
    pub recoveries: Vec<Recovery>,
}

impl<'a> ServiceRun<'a> {
    pub fn new(obs: &'a [Obs], windows: &'a [FaultWindow], run_end: f64) -> ServiceRun<'a> {
        let active: Vec<Vec<usize>> = obs
            .iter()
            .map(|o| {
                let (lo, hi) = (o.t as f64, o.t as f64 + 1.0);
                windows
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| w.start < hi && w.end.unwrap_or(f64::INFINITY) > lo)
                    .map(|(i, _)| i)
                    .collect()
            })
            .collect();
        let mut recovering = vec![false; obs.len()];
        let mut recoveries = Vec::new();
        for (wi, w) in windows.iter().enumerate() {
            let Some(end) = w.end else { continue };
            let Some(r) = recover(obs, &active, wi, w.start, end) else {
                continue;
            };
            let until = match r.recovery_s {
                Some(s) => end + s,
                None => run_end.max(end),
            };
            for (i, o) in obs.iter().enumerate() {
                let t = o.t as f64;
                if t >= end.floor() && t < until && active[i].is_empty() {
                    recovering[i] = true;
                }
            }
            recoveries.push(r);
        }
        ServiceRun {
            obs,
            windows,
            active,
            recovering,
            recoveries,
        }
    }

    /// Seconds with load, no fault, and not recovering.
    pub fn clean(&self) -> impl Iterator<Item = &'a Obs> + '_ {
        self.obs
            .iter()
            .enumerate()
            .filter(|(i, o)| o.loaded() && self.active[*i].is_empty() && !self.recovering[*i])
            .map(|(_, o)| o)
    }

    /// Seconds with load under a fault of `kind`.
    pub fn under(&self, kind: &str) -> impl Iterator<Item = &'a Obs> + '_ {
        let kind = kind.to_string();
        self.obs
            .iter()
            .enumerate()
            .filter(move |(i, o)| {
                o.loaded()
                    && self.active[*i]
                        .iter()
                        .any(|w| self.windows[*w].kind == kind)
            })
            .map(|(_, o)| o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(at: f64, action: &str) -> FaultRecord {
        FaultRecord {
            at_s: at,
            fault: "slow".into(),
            kind: "latency".into(),
            action: action.into(),
            target: "shop.payments".into(),
            params: String::new(),
        }
    }

    #[test]
    fn pairs_inject_and_revert() {
        let w = windows(&[
            fault(10.0, "inject"),
            fault(20.0, "revert"),
            fault(30.0, "inject"),
        ]);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].end, Some(20.0));
        assert_eq!(w[1].end, None);
    }
}
