//! The query side: a read-only handle on the database for `res profile` and anything else
//! that wants to look at past runs. It never writes, except that opening a file with an older
//! schema migrates it and opening one a crashed writer left unclean repairs it first.
//!
//! Readers can open the database while a run records into it and see every committed second;
//! each call reads one consistent snapshot.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hdrhistogram::Histogram;
use redb::{ReadTransaction, ReadableDatabase};
use serde::Serialize;

use super::derive::{self, Profile, RunObs, ServiceProfile, Slo};
use super::levels::{run_levels, RunLevels};
use super::open::{guarded, open_reader, ReadHandle, DEFAULT_BUSY_WAIT};
use super::schema::{EventRecord, ExpectationRecord, FaultRecord, RemediationRecord, RunRecord};
use super::{alive, levels_table, query, ProfileError};
use crate::report::SeriesPoint;

fn levels_from_seconds(
    t: &ReadTransaction,
    run: u64,
    wanted: impl Fn(&str) -> bool,
) -> Result<RunLevels, String> {
    let points = query::samples(t, run)?;
    let faults = query::faults(t, run)?;
    Ok(run_levels(
        run,
        &points,
        levels_table::fault_rows(&faults),
        wanted,
    ))
}

/// A run as listed: the stored record with its status worked out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub id: u64,
    pub scenario: String,
    pub file: String,
    pub file_hash: String,
    pub seed: u64,
    pub started_at: String,
    pub ended_at: Option<String>,
    /// pass, fail, aborted, error, incomplete (the writer died before finishing), or running.
    pub outcome: String,
    /// Whether the run's end was recorded.
    pub complete: bool,
    pub git_commit: Option<String>,
    pub writer_pid: Option<i32>,
    pub res_version: String,
}

/// Everything stored about one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunSummary,
    pub services: Vec<ServiceSeconds>,
    pub faults: Vec<FaultRecord>,
    pub aborts: Vec<EventRecord>,
    pub remediations: Vec<RemediationRecord>,
    pub expectations: Vec<ExpectationRecord>,
    pub events: Vec<EventRecord>,
}

/// One service's recorded seconds in a run, summarised.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceSeconds {
    pub service: String,
    pub seconds: usize,
    pub first_t: u64,
    pub last_t: u64,
    pub mean_rps: f64,
    pub max_offered_rps: f64,
    pub median_p99_ms: f64,
    pub max_p99_ms: f64,
    pub errors: u64,
    pub requests: f64,
}

/// A read-only view of the profile database.
pub struct ProfileStore {
    path: PathBuf,
    handle: ReadHandle,
}

impl ProfileStore {
    /// Opens the database at `path` for reading, waiting briefly if another process is
    /// migrating or repairing it.
    pub fn open(path: &Path) -> Result<ProfileStore, ProfileError> {
        ProfileStore::open_with(path, DEFAULT_BUSY_WAIT)
    }

    /// [`open`](ProfileStore::open) with an explicit wait for a busy database.
    pub fn open_with(path: &Path, busy_wait: Duration) -> Result<ProfileStore, ProfileError> {
        Ok(ProfileStore {
            path: path.to_path_buf(),
            handle: open_reader(path, busy_wait)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a recording process had the database open when this handle was opened.
    pub fn writer_was_live(&self) -> bool {
        self.handle.live_writer
    }

    /// Runs `f` on one consistent read snapshot (engines with tables of their own in the same
    /// file, such as the prediction engine, read through this).
    pub fn read<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, String>,
    ) -> Result<T, ProfileError> {
        let path = &self.path;
        guarded(path, || {
            let txn = self
                .handle
                .db
                .begin_read()
                .map_err(|e| ProfileError::storage(path, e))?;
            f(&txn).map_err(|e| ProfileError::Storage {
                path: path.clone(),
                message: e,
            })
        })?
    }

    fn summary(&self, r: RunRecord) -> RunSummary {
        let outcome = match &r.outcome {
            Some(o) => o.clone(),
            None if self.handle.live_writer && r.writer_pid.is_some_and(alive) => {
                "running".to_string()
            }
            None => "incomplete".to_string(),
        };
        RunSummary {
            id: r.id,
            scenario: r.scenario,
            file: r.file,
            file_hash: r.file_hash,
            seed: r.seed,
            started_at: r.started_at,
            ended_at: r.ended_at,
            outcome,
            complete: r.complete,
            git_commit: r.git_commit,
            writer_pid: r.writer_pid,
            res_version: r.res_version,
        }
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunSummary>, ProfileError> {
        let runs = self.read(query::runs)?;
        Ok(runs.into_iter().map(|r| self.summary(r)).collect())
    }

    /// One run's record.
    pub fn run(&self, id: u64) -> Result<RunSummary, ProfileError> {
        match self.read(|t| query::run(t, id))? {
            Some(r) => Ok(self.summary(r)),
            None => Err(ProfileError::UnknownRun {
                path: self.path.clone(),
                id,
            }),
        }
    }

    /// Everything stored about one run.
    pub fn detail(&self, id: u64) -> Result<RunDetail, ProfileError> {
        let run = self.run(id)?;
        let samples = self.samples(id)?;
        let mut services: Vec<ServiceSeconds> = Vec::new();
        for chunk in samples.chunk_by(|a, b| a.service == b.service) {
            services.push(summarise(chunk));
        }
        Ok(RunDetail {
            run,
            services,
            faults: self.read(|t| query::faults(t, id))?,
            aborts: self.read(|t| query::aborts(t, id))?,
            remediations: self.read(|t| query::remediations(t, id))?,
            expectations: self.read(|t| query::expectations(t, id))?,
            events: self.read(|t| query::events(t, id))?,
        })
    }

    /// The run's samples by service, then second.
    pub fn samples(&self, id: u64) -> Result<Vec<SeriesPoint>, ProfileError> {
        self.read(|t| query::samples(t, id))
    }

    /// The load levels of each of the runs' services that `wanted` picks, run by run: as
    /// stored when the run finished, else reduced from its recorded seconds (an unfinished
    /// run, or one imported or recorded before levels were stored). One read snapshot.
    pub fn levels(
        &self,
        runs: &[u64],
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Vec<(u64, RunLevels)>, ProfileError> {
        self.read(|t| {
            runs.iter()
                .map(|&run| match levels_table::read(t, run, &wanted)? {
                    Some(stored) => Ok((run, stored)),
                    None => Ok((run, levels_from_seconds(t, run, &wanted)?)),
                })
                .collect()
        })
    }

    /// Run `run`'s levels reduced from its recorded seconds now, whatever is stored.
    pub fn levels_from_seconds(&self, run: u64) -> Result<RunLevels, ProfileError> {
        self.read(|t| levels_from_seconds(t, run, |_| true))
    }

    /// Run `run`'s levels as stored in the `levels` table, `None` when it has none.
    pub fn stored_levels(&self, run: u64) -> Result<Option<RunLevels>, ProfileError> {
        self.read(|t| levels_table::read(t, run, |_| true))
    }

    pub fn faults(&self, id: u64) -> Result<Vec<FaultRecord>, ProfileError> {
        self.read(|t| query::faults(t, id))
    }

    pub fn events(&self, id: u64) -> Result<Vec<EventRecord>, ProfileError> {
        self.read(|t| query::events(t, id))
    }

    /// The stored latency histogram of one service's second, if one was recorded.
    pub fn histogram(
        &self,
        run: u64,
        service: &str,
        t: u64,
    ) -> Result<Option<Histogram<u64>>, ProfileError> {
        self.read(|txn| query::histogram(txn, run, service, t))
    }

    /// The runs reduced for the derivations.
    pub fn observations(&self, runs: &[RunSummary]) -> Result<Vec<RunObs>, ProfileError> {
        self.read(|t| {
            runs.iter()
                .map(|r| {
                    let rec =
                        query::run(t, r.id)?.ok_or_else(|| format!("run {} vanished", r.id))?;
                    query::run_obs(t, &rec)
                })
                .collect()
        })
    }

    /// Derives the profile from `runs` (all runs when `None`).
    pub fn profile(&self, runs: Option<&[RunSummary]>, slo: &Slo) -> Result<Profile, ProfileError> {
        let all;
        let runs = match runs {
            Some(r) => r,
            None => {
                all = self.runs()?;
                &all
            }
        };
        Ok(derive::derive(&self.observations(runs)?, slo))
    }

    /// The profile as the last finished run stored it (default SLO, latest 20 runs).
    pub fn stored_profile(&self) -> Result<Vec<ServiceProfile>, ProfileError> {
        self.read(query::stored_profile)
    }
}

fn summarise(points: &[SeriesPoint]) -> ServiceSeconds {
    let n = points.len().max(1) as f64;
    let mut p99: Vec<f64> = points.iter().map(|p| p.p99_ms).collect();
    p99.sort_by(f64::total_cmp);
    ServiceSeconds {
        service: points
            .first()
            .map(|p| p.service.clone())
            .unwrap_or_default(),
        seconds: points.len(),
        first_t: points.first().map(|p| p.t).unwrap_or(0),
        last_t: points.iter().map(|p| p.t).max().unwrap_or(0),
        mean_rps: points.iter().map(|p| p.rps).sum::<f64>() / n,
        max_offered_rps: points.iter().map(|p| p.offered_rps).fold(0.0, f64::max),
        median_p99_ms: p99.get(p99.len() / 2).copied().unwrap_or(0.0),
        max_p99_ms: p99.last().copied().unwrap_or(0.0),
        errors: points.iter().map(|p| p.errors).sum(),
        requests: points.iter().map(|p| p.rps).sum(),
    }
}
