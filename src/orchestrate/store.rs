//! What the orchestrator keeps in the profile database (the same redb file as the runs), so a
//! restart resumes where it stopped: the audit log of its decisions (table
//! `orchestrate_decisions`, id → [`Decision`] as JSON) and its state (table
//! `orchestrate_state`, key → JSON): the run of each scenario in each window occurrence or
//! before each event, the last skip reason per scenario, the learned model versions (the
//! latest as `model/…`, each one as `model_version/…`).
//!
//! Like the remediation audit log, the tables are created on first write and hold JSON, so no
//! schema version change is needed and older files open unchanged. The file is opened for
//! each operation and closed again, so `res run` children and `res orchestrate status` can
//! use it in between. One orchestrator per database: [`Lock`] holds an exclusive lock on a
//! file beside it for the orchestrator's lifetime.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

/// Decision id → [`Decision`] as JSON.
pub const DECISIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("orchestrate_decisions");
/// Key → JSON: `run/…` ([`RunMark`]), `skip/…` (last skip reason), `model/…`, `model_version/…`.
pub const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("orchestrate_state");

/// How long an operation waits for another process (a `res run` child) holding the file.
const BUSY_WAIT: Duration = Duration::from_secs(30);

/// One decision of the loop: a run started (or planned, in virtual time), a run skipped and
/// why, a model learned, a forecast, a prediction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub id: u64,
    /// The loop's time (virtual under `--clock`), RFC 3339.
    pub at: String,
    /// The wall clock when it was decided, RFC 3339.
    pub decided_at: String,
    /// `run`, `skip`, `stop`, `learn`, `forecast`, `predict`, `remedy`, `score`, `metrics`.
    pub action: String,
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub scenario: String,
    /// Why, in words.
    pub reason: String,
    /// For a skip, the reason's short stable name: `outside_window`, `already_ran`,
    /// `cannot_finish`, `event_waits`, `event_too_late`, `no_clause`, `overlap`, `busy`,
    /// `failing`, `metrics_down`, `learn_failed`.
    #[serde(default)]
    pub kind: Option<String>,
    /// The window occurrence it belongs to (`nightly@2026-12-08T02:00:00Z`) or the event it
    /// prepares for (`event black_friday`).
    #[serde(default)]
    pub slot: Option<String>,
    /// The load multiple a run is at (the events' `expect` its forecast covers), 1 otherwise.
    #[serde(default)]
    pub multiple: Option<f64>,
    /// Planned only (virtual time without `--send`): nothing was sent.
    #[serde(default)]
    pub planned_only: bool,
    /// When the run ends (or ended), RFC 3339.
    #[serde(default)]
    pub until: Option<String>,
    /// The run's outcome: pass, fail, invalid, aborted, tool-error, stopped, planned.
    #[serde(default)]
    pub outcome: Option<String>,
    /// Anything measured or computed that backs the decision.
    #[serde(default)]
    pub evidence: Option<String>,
}

impl Decision {
    /// The decision in words: `AT ACTION SCENARIO [SLOT] REASON → OUTCOME`.
    pub fn line(&self) -> String {
        format!(
            "{} {:<8} {}{}{}{}",
            self.at,
            self.action,
            if self.scenario.is_empty() {
                String::new()
            } else {
                format!("{} ", self.scenario)
            },
            self.slot
                .as_ref()
                .map(|s| format!("[{s}] "))
                .unwrap_or_default(),
            self.reason,
            self.outcome
                .as_ref()
                .map(|o| format!(" → {o}"))
                .unwrap_or_default()
        )
    }
}

/// A run of a scenario in a slot: started, and (once known) how it ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMark {
    pub decision: u64,
    pub started: i64,
    pub ends: i64,
    #[serde(default)]
    pub outcome: Option<String>,
}

/// The orchestrator's tables in one profile database.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Store {
    pub fn new(path: &Path) -> Store {
        Store {
            path: path.to_path_buf(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open(&self) -> Result<Database, String> {
        if let Some(dir) = self.path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
        }
        crate::profile::open_database(&self.path, BUSY_WAIT).map_err(err)
    }

    /// Stores a decision, giving it the next id.
    pub fn record(&self, d: &mut Decision) -> Result<u64, String> {
        let db = self.open()?;
        let txn = db.begin_write().map_err(err)?;
        {
            let mut t = txn.open_table(DECISIONS).map_err(err)?;
            d.id = t.last().map_err(err)?.map_or(0, |(k, _)| k.value()) + 1;
            let bytes = serde_json::to_vec(d).map_err(err)?;
            t.insert(d.id, bytes.as_slice()).map_err(err)?;
        }
        txn.commit().map_err(err)?;
        Ok(d.id)
    }

    /// Stores a decision and, in the same transaction, state entries.
    pub fn record_with(
        &self,
        d: &mut Decision,
        state: &[(String, Vec<u8>)],
    ) -> Result<u64, String> {
        let db = self.open()?;
        let txn = db.begin_write().map_err(err)?;
        {
            let mut t = txn.open_table(DECISIONS).map_err(err)?;
            d.id = t.last().map_err(err)?.map_or(0, |(k, _)| k.value()) + 1;
            let bytes = serde_json::to_vec(d).map_err(err)?;
            t.insert(d.id, bytes.as_slice()).map_err(err)?;
            let mut s = txn.open_table(STATE).map_err(err)?;
            for (k, v) in state {
                s.insert(k.as_str(), v.as_slice()).map_err(err)?;
            }
        }
        txn.commit().map_err(err)?;
        Ok(d.id)
    }

    /// Updates a stored decision (same id).
    pub fn update(&self, d: &Decision) -> Result<(), String> {
        let db = self.open()?;
        let txn = db.begin_write().map_err(err)?;
        {
            let mut t = txn.open_table(DECISIONS).map_err(err)?;
            let bytes = serde_json::to_vec(d).map_err(err)?;
            t.insert(d.id, bytes.as_slice()).map_err(err)?;
        }
        txn.commit().map_err(err)?;
        Ok(())
    }

    pub fn put(&self, key: &str, value: &[u8]) -> Result<(), String> {
        let db = self.open()?;
        let txn = db.begin_write().map_err(err)?;
        {
            let mut s = txn.open_table(STATE).map_err(err)?;
            s.insert(key, value).map_err(err)?;
        }
        txn.commit().map_err(err)?;
        Ok(())
    }

    /// Every state entry whose key starts with `prefix`.
    pub fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        let db = self.open()?;
        let txn = db.begin_read().map_err(err)?;
        let t = match txn.open_table(STATE) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(err(e)),
        };
        let mut out = Vec::new();
        for entry in t.range(prefix..).map_err(err)? {
            let (k, v) = entry.map_err(err)?;
            if !k.value().starts_with(prefix) {
                break;
            }
            out.push((k.value().to_string(), v.value().to_vec()));
        }
        Ok(out)
    }

    /// Every decision, oldest first (the last `limit` when given).
    pub fn decisions(&self, limit: Option<usize>) -> Result<Vec<Decision>, String> {
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        let db = self.open()?;
        let txn = db.begin_read().map_err(err)?;
        let t = match txn.open_table(DECISIONS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(err(e)),
        };
        let mut out = Vec::new();
        for entry in t.iter().map_err(err)?.rev() {
            let (_, v) = entry.map_err(err)?;
            out.push(serde_json::from_slice(v.value()).map_err(err)?);
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        out.reverse();
        Ok(out)
    }
}

/// The one-orchestrator-per-database lock: an exclusive lock on `DB.orchestrator.lock`, held
/// until dropped (or the process dies: the kernel releases it).
pub struct Lock {
    _file: File,
    pub path: PathBuf,
}

impl Lock {
    /// Takes the lock, or says who holds it.
    pub fn take(db: &Path) -> Result<Lock, String> {
        let mut name = db.as_os_str().to_owned();
        name.push(".orchestrator.lock");
        let path = PathBuf::from(name);
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                let _ = std::fs::create_dir_all(dir);
            }
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| format!("cannot open the lock file {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                return Err(format!(
                    "another `res orchestrate` already runs on {}{}: only one orchestrator may use a database",
                    db.display(),
                    if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" (process {holder})")
                    }
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", path.display()))
            }
        }
        use std::io::Write;
        let _ = file.set_len(0);
        let _ = (&file).write_all(std::process::id().to_string().as_bytes());
        Ok(Lock { _file: file, path })
    }
}
