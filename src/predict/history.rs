//! What the models learn from: per service, every recorded second of every run of a system,
//! read from the profile database through [`ProfileStore`] (read-only).
//!
//! A second counts as faulted while any fault of its run was injected and not yet reverted;
//! capacity and latency models use only unfaulted seconds, since a fault's degradation is
//! already derived per fault kind by the profile.

use std::collections::BTreeMap;

use super::levels::{levels, merge, since_change, Level};
use crate::profile::{ProfileError, ProfileStore, RunSummary};
use crate::report::SeriesPoint;

/// One second of one service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Second {
    pub run: u64,
    pub t: u64,
    /// Requests the schedule meant to send (the achieved rate under a closed model).
    pub offered: f64,
    /// Requests answered without an error.
    pub goodput: f64,
    /// Requests in flight: as recorded, or by Little's law from goodput × median latency.
    pub concurrency: f64,
    pub p99_ms: f64,
    /// Errors over answered requests, 0..=1.
    pub error_rate: f64,
    pub faulted: bool,
}

impl Second {
    pub fn from_point(run: u64, p: &SeriesPoint, faulted: bool) -> Second {
        let errors = p.errors as f64;
        let goodput = (p.rps - errors).max(0.0);
        let concurrency = if p.concurrency > 0 {
            p.concurrency as f64
        } else {
            goodput * p.p50_ms / 1000.0
        };
        Second {
            run,
            t: p.t,
            offered: if p.offered_rps > 0.0 {
                p.offered_rps
            } else {
                p.rps
            },
            goodput,
            concurrency,
            p99_ms: p.p99_ms,
            error_rate: if p.rps > 0.0 {
                (errors / p.rps).clamp(0.0, 1.0)
            } else if p.errors > 0 {
                1.0
            } else {
                0.0
            },
            faulted,
        }
    }
}

/// What was recorded of a system's services, reduced run by run to load levels, and which
/// runs it came from.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub runs: Vec<u64>,
    /// Qualified service name (`shop.checkout`) → the load levels of each run, run by run.
    pub services: BTreeMap<String, Vec<Level>>,
}

impl History {
    /// Every run in `store` that recorded a service of `system` (all systems when `None`).
    /// Runs still being recorded are included: their committed seconds are real.
    pub fn read(store: &ProfileStore, system: Option<&str>) -> Result<History, ProfileError> {
        let runs = store.runs()?;
        History::read_runs(store, &runs, system)
    }

    pub fn read_runs(
        store: &ProfileStore,
        runs: &[RunSummary],
        system: Option<&str>,
    ) -> Result<History, ProfileError> {
        let mut history = History::default();
        for run in runs {
            let points = store.samples(run.id)?;
            let wanted = |s: &str| {
                system.is_none_or(|sys| {
                    s.strip_prefix(sys)
                        .is_some_and(|rest| rest.starts_with('.'))
                })
            };
            let faults = store.faults(run.id)?;
            let faulted = fault_windows(faults.iter().map(|f| {
                (
                    f.fault.as_str(),
                    f.target.as_str(),
                    f.action.as_str(),
                    f.at_s,
                )
            }));
            let seconds = points.iter().filter(|p| wanted(&p.service)).map(|p| {
                let f = faulted
                    .iter()
                    .any(|&(a, b)| (p.t as f64) >= a && (p.t as f64) < b);
                (p.service.as_str(), Second::from_point(run.id, p, f))
            });
            history.add_run(run.id, seconds);
        }
        Ok(history)
    }

    /// Adds one run's seconds, each with its service, reduced to the run's load levels.
    pub fn add_run<S: AsRef<str>>(
        &mut self,
        run: u64,
        seconds: impl IntoIterator<Item = (S, Second)>,
    ) {
        let mut by_service: BTreeMap<String, Vec<Second>> = BTreeMap::new();
        for (service, s) in seconds {
            match by_service.get_mut(service.as_ref()) {
                Some(v) => v.push(s),
                None => {
                    by_service.insert(service.as_ref().to_string(), vec![s]);
                }
            }
        }
        if by_service.is_empty() {
            return;
        }
        for (service, secs) in by_service {
            self.services
                .entry(service)
                .or_default()
                .extend(levels(&secs));
        }
        self.runs.push(run);
    }

    /// The levels of `service` over every run, merged.
    /// The service's load levels since it last changed ([`since_change`]), merged.
    pub fn levels(&self, service: &str) -> Vec<Level> {
        self.services
            .get(service)
            .map(|l| merge(since_change(l.clone()).0))
            .unwrap_or_default()
    }

    /// The oldest run the service's model uses, when older runs measured a system that has
    /// changed since.
    pub fn changed_at(&self, service: &str) -> Option<u64> {
        self.services
            .get(service)
            .and_then(|l| since_change(l.clone()).1)
    }

    pub fn is_empty(&self) -> bool {
        self.services.values().all(|s| s.is_empty())
    }
}

/// The spans during which some fault was in place, from the run's fault log as
/// (fault, target, action, at_s): from each `inject` to its `revert`, or to the end when it
/// was never reverted.
pub fn fault_windows<'a>(
    faults: impl IntoIterator<Item = (&'a str, &'a str, &'a str, f64)>,
) -> Vec<(f64, f64)> {
    let mut open: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    let mut spans = Vec::new();
    for (fault, target, action, at_s) in faults {
        let key = (fault, target);
        match action {
            "inject" => {
                open.entry(key).or_insert(at_s);
            }
            "revert" => {
                if let Some(start) = open.remove(&key) {
                    spans.push((start, at_s));
                }
            }
            _ => {}
        }
    }
    spans.extend(open.into_values().map(|start| (start, f64::INFINITY)));
    spans
}
