//! The fault journal: an append-only JSON-lines file, fsynced after every line, that records
//! each fault before it is injected and again once it is reverted.
//!
//! It is what makes a crash survivable. A record names the fault, its target, the owner (pid
//! and start time, so a reused pid is not mistaken for the owner), a deadline, and — the point
//! of it all — how to revert it as data ([`RevertAction`]) that another `res` can replay:
//! "SIGCONT pid 123 started at tick 456", "remove file /tmp/.res-fill-3", "delete netns
//! res-ab12", "DELETE toxic res-3-0 of proxy payments". Faults that live inside the `res`
//! process (proxy faults, CPU burn, held memory) are recorded as "dies with the owner".
//!
//! Every append and every recovery holds an exclusive `flock` on the file, so several `res`
//! processes can share one journal. A torn last line (a crash mid-write) is skipped on read.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::process::ProcRef;
use crate::chaos::error::{ChaosError, Result};

/// The default journal of a scenario: `faults.journal` in the state folder of the project
/// holding it, by the one rule of [`crate::state`].
pub fn default_path(scenario: &Path) -> PathBuf {
    let dir = scenario
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    crate::state::State::discover_from(&dir, std::env::var_os(crate::state::ENV)).journal()
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// How to undo one part of a fault, replayable by any `res` process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RevertAction {
    /// Send a signal (`CONT` after a pause, `TERM` to a command the run started).
    Signal { process: ProcRef, signal: String },
    /// Remove a file (a disk fill).
    RemoveFile { path: PathBuf },
    /// Delete a network namespace res created (and with it its veth pair, rules and qdiscs).
    DeleteNetns { name: String },
    /// Remove the loss rules of a namespace.
    ClearLoss { netns: String },
    /// Remove the qdiscs of a namespace's veth pair.
    ClearShaping {
        netns: String,
        host_if: String,
        ns_if: String,
    },
    /// Delete a toxic from an external Toxiproxy.
    ToxiproxyDelete {
        api: String,
        proxy: String,
        toxic: String,
    },
    /// Lives inside the owner process (a proxy fault, a CPU burner): gone when the owner is.
    InProcess { what: String },
    /// Nothing can undo it (a kill); recorded so the journal tells the whole story.
    Nothing { why: String },
}

impl RevertAction {
    /// One line for humans: "SIGCONT pid 123".
    pub fn describe(&self) -> String {
        match self {
            RevertAction::Signal { process, signal } => {
                format!("SIG{signal} pid {}", process.pid)
            }
            RevertAction::RemoveFile { path } => format!("remove file {}", path.display()),
            RevertAction::DeleteNetns { name } => format!("delete netns {name}"),
            RevertAction::ClearLoss { netns } => format!("remove loss rules in netns {netns}"),
            RevertAction::ClearShaping { netns, .. } => {
                format!("remove qdiscs of netns {netns}")
            }
            RevertAction::ToxiproxyDelete { api, proxy, toxic } => {
                format!("DELETE toxic {toxic} of proxy {proxy} at {api}")
            }
            RevertAction::InProcess { what } => format!("{what}: dies with the owner"),
            RevertAction::Nothing { why } => format!("nothing to revert ({why})"),
        }
    }
}

/// One line of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Record {
    /// Written before the fault is injected.
    Inject {
        id: String,
        fault: String,
        target: String,
        effects: Vec<String>,
        reverts: Vec<RevertAction>,
        owner: ProcRef,
        /// Unix ms after which anyone may revert the fault, owner alive or not.
        deadline_ms: u64,
        at_ms: u64,
    },
    /// Written once every revert action succeeded (or had nothing left to do).
    Reverted {
        id: String,
        at_ms: u64,
        /// The pid of the `res` that reverted it (the owner, or a recovering `res`).
        by: u32,
        detail: String,
    },
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Opens (creating it and its directory if needed) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal> {
        let err = |source| ChaosError::Journal {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(err)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .map_err(err)?;
        Ok(Journal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a record and waits until it is on disk.
    pub fn append(&self, record: &Record) -> Result<()> {
        let err = |source| ChaosError::Journal {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_string(record).map_err(|e| err(std::io::Error::other(e)))?;
        line.push('\n');
        let file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.lock().map_err(err)?;
        // A crash mid-write leaves a torn last line; start on a fresh one so ours is whole.
        if !ends_with_newline(&file) {
            line.insert(0, '\n');
        }
        let written = (&*file)
            .write_all(line.as_bytes())
            .and_then(|_| file.sync_data());
        let _ = file.unlock();
        written.map_err(err)
    }

    /// Runs `f` with the file locked against every other `res` (for recovery).
    pub(crate) fn exclusive<T>(&self, f: impl FnOnce(&File) -> T) -> Result<T> {
        let file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.lock().map_err(|source| ChaosError::Journal {
            path: self.path.clone(),
            source,
        })?;
        let out = f(&file);
        let _ = file.unlock();
        Ok(out)
    }
}

fn ends_with_newline(file: &File) -> bool {
    use std::os::unix::fs::FileExt;
    let len = file.metadata().map_or(0, |m| m.len());
    if len == 0 {
        return true;
    }
    let mut last = [0u8; 1];
    file.read_at(&mut last, len - 1)
        .map_or(true, |n| n == 0 || last[0] == b'\n')
}

/// Every readable record of a journal file, in order; torn or foreign lines are skipped.
pub fn read_records(file: &File) -> std::io::Result<Vec<Record>> {
    let mut records = Vec::new();
    let mut handle = file.try_clone()?;
    handle.seek(SeekFrom::Start(0))?;
    let reader = BufReader::new(handle);
    for line in reader.lines() {
        let line = line?;
        if let Ok(record) = serde_json::from_str::<Record>(&line) {
            records.push(record);
        }
    }
    Ok(records)
}

/// The inject records with no reverted record after them.
pub fn active(records: &[Record]) -> Vec<&Record> {
    let reverted: HashSet<&str> = records
        .iter()
        .filter_map(|r| match r {
            Record::Reverted { id, .. } => Some(id.as_str()),
            Record::Inject { .. } => None,
        })
        .collect();
    records
        .iter()
        .filter(|r| matches!(r, Record::Inject { id, .. } if !reverted.contains(id.as_str())))
        .collect()
}
