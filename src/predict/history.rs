//! What the models learn from: per service, every recorded second of every run of a system,
//! read from the profile database through [`ProfileStore`] (read-only).
//!
//! A second counts as faulted while any fault of its run was injected and not yet reverted;
//! capacity and latency models use only unfaulted seconds, since a fault's degradation is
//! already derived per fault kind by the profile.

use std::collections::BTreeMap;

use super::levels::{levels, merge, since_change, Level};
pub use crate::profile::levels::{fault_windows, Second};
use crate::profile::{ProfileError, ProfileStore, RunSummary};

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

    /// The runs' levels: as stored when each finished, else reduced from its seconds.
    pub fn read_runs(
        store: &ProfileStore,
        runs: &[RunSummary],
        system: Option<&str>,
    ) -> Result<History, ProfileError> {
        let wanted = |s: &str| {
            system.is_none_or(|sys| {
                s.strip_prefix(sys)
                    .is_some_and(|rest| rest.starts_with('.'))
            })
        };
        let ids: Vec<u64> = runs.iter().map(|r| r.id).collect();
        let mut history = History::default();
        for (run, by_service) in store.levels(&ids, wanted)? {
            history.add_levels(run, by_service);
        }
        Ok(history)
    }

    /// Adds one run's levels, by service (as [`add_run`](History::add_run) would reduce them).
    pub fn add_levels(&mut self, run: u64, by_service: BTreeMap<String, Vec<Level>>) {
        if by_service.is_empty() {
            return;
        }
        for (service, levels) in by_service {
            self.services.entry(service).or_default().extend(levels);
        }
        self.runs.push(run);
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
