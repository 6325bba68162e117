//! The prediction engine's errors.

use std::path::PathBuf;

use crate::profile::ProfileError;

#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// The profile database could not be read or written.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Nothing to learn from: no run of the system was recorded.
    #[error("no recorded runs of {what} in {path}: run a step-load test first (std/traffic `step_load`, e.g. `traffic probe like step_load(...)` in a scenario with `record profile`), then predict again")]
    NoRuns { what: String, path: PathBuf },
    /// The predictions table could not be read or written.
    #[error("predictions table in {path}: {message}")]
    Store { path: PathBuf, message: String },
    /// The request names something the profile does not have.
    #[error("{0}")]
    BadRequest(String),
}

impl PredictError {
    /// The exit code the CLI uses: 2 for input the user must change, 4 for a tool error.
    pub fn exit_code(&self) -> u8 {
        match self {
            PredictError::NoRuns { .. } | PredictError::BadRequest(_) => 2,
            PredictError::Profile(_) | PredictError::Store { .. } => 4,
        }
    }
}
