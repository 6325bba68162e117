//! The remediation audit log: every decision, in the profile database (the same redb file as
//! the runs, table `remedy_decisions`, decision id → the [`DecisionRecord`] as JSON).
//!
//! The file is opened through the profile's API for each operation and closed again, so
//! `res remedy approve ID` in another shell can write while a long-running engine waits for
//! the approval. The table is created on first write; no schema version change is needed
//! because records are JSON and fields added later read back as their defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use super::error::AuditError;
use super::record::{DecisionRecord, Outcome, Verification};

/// The table's name in the profile database.
pub const DECISIONS_TABLE: &str = "remedy_decisions";

/// Decision id → [`DecisionRecord`] as JSON.
pub const DECISIONS: TableDefinition<u64, &[u8]> = TableDefinition::new(DECISIONS_TABLE);

/// How long an operation waits for another process holding the file.
const BUSY_WAIT: Duration = Duration::from_secs(5);

/// The audit log in one profile database file.
#[derive(Clone)]
pub struct Audit {
    path: PathBuf,
    /// During `res run` the recorder owns the file: decisions are written through it.
    through: Option<crate::profile::KeyedWriter>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("path", &self.path)
            .field("through_recorder", &self.through.is_some())
            .finish()
    }
}

impl Audit {
    pub fn new(path: &Path) -> Self {
        Audit {
            path: path.to_path_buf(),
            through: None,
        }
    }

    /// The audit log of the file a run is recording into: new and changed decisions go
    /// through the recorder's writer, committed as they are made, so a killed run keeps them.
    pub fn through_recorder(path: &Path, writer: crate::profile::KeyedWriter) -> Self {
        Audit {
            path: path.to_path_buf(),
            through: Some(writer),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open(&self) -> Result<Database, AuditError> {
        Ok(crate::profile::open_database(&self.path, BUSY_WAIT)?)
    }

    /// Stores a new decision and gives it the next id (written into `record.id`).
    pub fn insert(&self, record: &mut DecisionRecord) -> Result<u64, AuditError> {
        if let Some(w) = &self.through {
            let mut rec = record.clone();
            let id = w.put(DECISIONS_TABLE, None, move |id| {
                rec.id = id;
                serde_json::to_vec(&rec).unwrap_or_default()
            })?;
            record.id = id;
            return Ok(id);
        }
        let db = self.open()?;
        let txn = db.begin_write().map_err(AuditError::storage)?;
        {
            let mut table = txn.open_table(DECISIONS).map_err(AuditError::storage)?;
            let last = table
                .last()
                .map_err(AuditError::storage)?
                .map_or(0, |(k, _)| k.value());
            record.id = last + 1;
            let bytes = serde_json::to_vec(record).map_err(AuditError::storage)?;
            table
                .insert(record.id, bytes.as_slice())
                .map_err(AuditError::storage)?;
        }
        txn.commit().map_err(AuditError::storage)?;
        Ok(record.id)
    }

    /// Replaces a stored decision with `record` (same id).
    pub fn update(&self, record: &DecisionRecord) -> Result<(), AuditError> {
        if let Some(w) = &self.through {
            let bytes = serde_json::to_vec(record).map_err(AuditError::storage)?;
            w.put(DECISIONS_TABLE, Some(record.id), move |_| bytes)?;
            return Ok(());
        }
        self.modify(record.id, |r| {
            *r = record.clone();
            Ok(())
        })
        .map(|_| ())
    }

    /// Reads, changes and writes back one decision in one transaction.
    fn modify(
        &self,
        id: u64,
        change: impl FnOnce(&mut DecisionRecord) -> Result<(), AuditError>,
    ) -> Result<DecisionRecord, AuditError> {
        let db = self.open()?;
        let txn = db.begin_write().map_err(AuditError::storage)?;
        let record = {
            let mut table = txn.open_table(DECISIONS).map_err(AuditError::storage)?;
            let mut record: DecisionRecord = match table.get(id).map_err(AuditError::storage)? {
                Some(v) => serde_json::from_slice(v.value()).map_err(AuditError::storage)?,
                None => return Err(AuditError::NotFound(id)),
            };
            change(&mut record)?;
            let bytes = serde_json::to_vec(&record).map_err(AuditError::storage)?;
            table
                .insert(id, bytes.as_slice())
                .map_err(AuditError::storage)?;
            record
        };
        txn.commit().map_err(AuditError::storage)?;
        Ok(record)
    }

    /// Every decision, oldest first.
    pub fn list(&self) -> Result<Vec<DecisionRecord>, AuditError> {
        // Listing must not create a database where there is none.
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        let db = self.open()?;
        let txn = db.begin_read().map_err(AuditError::storage)?;
        let table = match txn.open_table(DECISIONS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(AuditError::storage(e)),
        };
        let mut out = Vec::new();
        for entry in table.iter().map_err(AuditError::storage)? {
            let (_, v) = entry.map_err(AuditError::storage)?;
            out.push(serde_json::from_slice(v.value()).map_err(AuditError::storage)?);
        }
        Ok(out)
    }

    pub fn get(&self, id: u64) -> Result<DecisionRecord, AuditError> {
        self.list()?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or(AuditError::NotFound(id))
    }

    /// Approves a decision waiting for approval; the engine that made it then acts.
    pub fn approve(&self, id: u64) -> Result<DecisionRecord, AuditError> {
        self.settle(id, Outcome::Approved)
    }

    /// Rejects a decision waiting for approval: nothing will be done.
    pub fn reject(&self, id: u64) -> Result<DecisionRecord, AuditError> {
        self.settle(id, Outcome::Rejected)
    }

    fn settle(&self, id: u64, to: Outcome) -> Result<DecisionRecord, AuditError> {
        self.modify(id, |r| {
            if r.result != Outcome::PendingApproval {
                return Err(AuditError::NotPending {
                    id,
                    result: r.result.name().to_string(),
                });
            }
            r.result = to;
            Ok(())
        })
    }

    /// Marks every verification whose process is gone as `unverified`: the action it was
    /// verifying stays in place. Returns the decisions marked. Run at start-up (and by
    /// `res recover`).
    pub fn mark_unverified(&self) -> Result<Vec<DecisionRecord>, AuditError> {
        let me = std::process::id();
        let mut marked = Vec::new();
        for r in self.list()? {
            let gone = r.writer_pid != me
                && !crate::profile::alive(i32::try_from(r.writer_pid).unwrap_or(0));
            if r.verification == Verification::Pending && gone {
                marked.push(self.modify(r.id, |r| {
                    r.verification = Verification::Unverified;
                    Ok(())
                })?);
            }
        }
        Ok(marked)
    }
}
