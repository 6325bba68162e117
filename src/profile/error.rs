//! The one error type of the profile store: every way opening, recording or querying the
//! database can fail, each worded for the person who has to act on it.

use std::path::PathBuf;

/// What went wrong with the profile database.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// There is no database at the path: nothing has been recorded there yet.
    #[error("no profile database at {path}: no run has been recorded there yet")]
    Missing { path: PathBuf },

    /// The file exists, is not empty, and is not a redb database. It is left as it is.
    #[error("{path} is not a res profile database (it is not a redb file); it was left untouched")]
    NotADatabase { path: PathBuf },

    /// The file is a redb database, but one that some other program wrote: it has tables and
    /// no res schema version.
    #[error("{path} is a redb database but not a res profile database (it has no schema version); it was left untouched")]
    ForeignDatabase { path: PathBuf },

    /// The file is truncated or corrupted. It is left as it is.
    #[error("the profile database {path} is damaged ({reason}); it was left untouched.\n`res profile salvage --profile-db {path}` copies every run that can still be read into a new file; or move it aside to start a new one")]
    Corrupt { path: PathBuf, reason: String },

    /// A newer res wrote the file with a schema this version does not know.
    #[error("the profile database {path} has schema version {found}, but this res reads schema versions up to {supported}: upgrade res to use it")]
    NewerSchema {
        path: PathBuf,
        found: u64,
        supported: u64,
    },

    /// The redb file format is one this build of redb cannot open.
    #[error("the profile database {path} uses a redb file format this res cannot read: {reason}")]
    FileFormat { path: PathBuf, reason: String },

    /// Another process holds the database for writing and did not let go within the retry
    /// window.
    #[error("the profile database {path} is in use by another res process{}; try again when it has finished", pid_note(.pid))]
    Busy { path: PathBuf, pid: Option<i32> },

    /// No run with that id is stored.
    #[error("no run {id} in the profile database {path}")]
    UnknownRun { path: PathBuf, id: u64 },

    /// A file-system operation around the database failed (creating its directory, copying
    /// it for a trial repair, reading `res.toml`).
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// redb reported an error while reading or writing: an I/O error (a full disk among
    /// them) or a failed transaction.
    #[error("profile database {path}: {message}")]
    Storage { path: PathBuf, message: String },

    /// A stored record could not be decoded.
    #[error("profile database {path}: a stored {what} cannot be decoded: {reason}")]
    Decode {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },

    /// `res.toml` exists but its `[profile]` table cannot be used.
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },

    /// The recorder's background writer stopped (a full disk, an I/O error): nothing more is
    /// recorded, and what was committed before stays intact.
    #[error("recording stopped: {reason}; the seconds committed before that are intact")]
    RecordingStopped { reason: String },

    /// A command-line argument that cannot be used (an unknown export format, a bad SLO).
    #[error("{0}")]
    Invalid(String),
}

fn pid_note(pid: &Option<i32>) -> String {
    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
}

impl ProfileError {
    /// Wraps any redb error with the database path.
    pub(crate) fn storage(path: &std::path::Path, e: impl std::fmt::Display) -> ProfileError {
        ProfileError::Storage {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}
