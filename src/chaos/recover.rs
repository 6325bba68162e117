//! The dead man's switch: revert what a crashed (or overdue) `res` left behind.
//!
//! [`recover`] reads the journal and, for every fault still marked active, replays its revert
//! actions when its owner is dead (the pid is gone, or belongs to a newer process) or its
//! deadline has passed. Faults of a live owner within their deadline are left alone: that run
//! is still going. `res recover` calls it, and so does every `res run` before it starts.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use super::journal::{self, Journal, Record};
use super::process::procfs;
use super::revert;

/// A fault the recovery looked at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecoveredFault {
    pub id: String,
    pub fault: String,
    pub target: String,
    pub owner_pid: u32,
    /// Why it was (or was not) reverted: "owner pid 123 is gone", "deadline passed".
    pub reason: String,
    /// What each revert action did, or why it failed.
    pub actions: Vec<String>,
}

/// What [`recover`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RecoverReport {
    pub journal: PathBuf,
    /// Faults still marked active when recovery started.
    pub active: usize,
    pub reverted: Vec<RecoveredFault>,
    /// Faults of a live owner within their deadline, left alone.
    pub left: Vec<RecoveredFault>,
    /// Faults whose revert failed; they stay active for the next attempt.
    pub failed: Vec<RecoveredFault>,
    /// The journal itself could not be read or written.
    pub error: Option<String>,
}

impl RecoverReport {
    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.error.is_none()
    }

    /// A few lines for a terminal.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        if let Some(e) = &self.error {
            out.push_str(&format!("error: {e}\n"));
        }
        if self.active == 0 && self.error.is_none() {
            out.push_str(&format!(
                "{}: no active faults, nothing to recover\n",
                self.journal.display()
            ));
            return out;
        }
        for (word, list) in [
            ("reverted", &self.reverted),
            ("FAILED", &self.failed),
            ("left (owner still running)", &self.left),
        ] {
            for f in list {
                out.push_str(&format!(
                    "{word}: {} on {} [{}] — {}\n",
                    f.fault, f.target, f.id, f.reason
                ));
                for a in &f.actions {
                    out.push_str(&format!("    {a}\n"));
                }
            }
        }
        out
    }
}

/// Reverts the journal's abandoned faults. Never panics; problems are in the report.
pub fn recover(path: &Path) -> RecoverReport {
    let mut report = RecoverReport {
        journal: path.to_path_buf(),
        ..Default::default()
    };
    if !path.exists() {
        return report;
    }
    let journal = match Journal::open(path) {
        Ok(j) => j,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    let me = procfs::me();
    let locked = journal.exclusive(|file| {
        let records = match journal::read_records(file) {
            Ok(r) => r,
            Err(e) => {
                report.error = Some(format!("cannot read {}: {e}", path.display()));
                return Vec::new();
            }
        };
        let now = journal::unix_ms(SystemTime::now());
        let mut lines = Vec::new();
        let active = journal::active(&records);
        report.active = active.len();
        for record in active {
            let Record::Inject {
                id,
                fault,
                target,
                reverts,
                owner,
                deadline_ms,
                ..
            } = record
            else {
                continue;
            };
            let mut entry = RecoveredFault {
                id: id.clone(),
                fault: fault.clone(),
                target: target.clone(),
                owner_pid: owner.pid,
                reason: String::new(),
                actions: Vec::new(),
            };
            let owner_alive = procfs::alive(*owner);
            if *owner == me {
                entry.reason = "owned by this process".into();
                report.left.push(entry);
                continue;
            }
            if owner_alive && now <= *deadline_ms {
                entry.reason = format!(
                    "owner pid {} is running and the deadline is {} s away",
                    owner.pid,
                    (deadline_ms - now) / 1000
                );
                report.left.push(entry);
                continue;
            }
            entry.reason = if owner_alive {
                format!("deadline passed {} s ago", (now - deadline_ms) / 1000)
            } else {
                format!("owner pid {} is gone", owner.pid)
            };
            let mut all_ok = true;
            for action in reverts {
                match revert::run(action) {
                    Ok(done) => entry.actions.push(format!("{}: {done}", action.describe())),
                    Err(e) => {
                        all_ok = false;
                        entry
                            .actions
                            .push(format!("{}: FAILED: {e}", action.describe()));
                    }
                }
            }
            if all_ok {
                lines.push(Record::Reverted {
                    id: id.clone(),
                    at_ms: now,
                    by: me.pid,
                    detail: format!("recovered: {}", entry.reason),
                });
                report.reverted.push(entry);
            } else {
                report.failed.push(entry);
            }
        }
        lines
    });
    let lines = match locked {
        Ok(lines) => lines,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    for line in &lines {
        if let Err(e) = journal.append(line) {
            report.error = Some(e.to_string());
        }
    }
    compact(&journal, &mut report);
    report
}

/// Empties the journal when no fault in it is active any more, so it does not grow forever.
fn compact(journal: &Journal, report: &mut RecoverReport) {
    let result = journal.exclusive(|file| -> std::io::Result<()> {
        let records = journal::read_records(file)?;
        if !records.is_empty() && journal::active(&records).is_empty() {
            file.set_len(0)?;
            file.sync_all()?;
        }
        Ok(())
    });
    if let Ok(Err(e)) | Err(super::ChaosError::Journal { source: e, .. }) = result {
        report.error = Some(format!("cannot compact {}: {e}", journal.path().display()));
    }
}
