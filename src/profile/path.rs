//! Where the profile database lives: the project's state folder, by the one rule of
//! [`crate::state`] (`--profile-db`, `RES_STATE_DIR`, `[profile] db` in `res.toml`, the
//! nearest `.res/` walking up). These helpers apply that rule from a scenario's folder, for
//! library callers that start from a scenario rather than the current directory.

use std::path::{Path, PathBuf};

use super::ProfileError;
use crate::state::{State, StateError};

/// The database file name under `.res/`.
pub const DEFAULT_DB: &str = crate::state::PROFILE_DB;
/// The state folder that holds it.
pub const DEFAULT_DIR: &str = crate::state::DIR;

/// The database of the project holding `scenario`. A `res.toml` that cannot be read or
/// parsed is ignored here; [`resolve_db_path_checked`] reports it instead.
pub fn resolve_db_path(scenario: &Path, flag: Option<&Path>) -> PathBuf {
    let state = state_of(&dir_of(scenario));
    state
        .profile_db(flag)
        .unwrap_or_else(|_| state.dir().join(DEFAULT_DB))
}

/// Like [`resolve_db_path`], but a broken `res.toml` is an error.
pub fn resolve_db_path_checked(
    scenario: &Path,
    flag: Option<&Path>,
) -> Result<PathBuf, ProfileError> {
    resolve_db_path_in(&dir_of(scenario), flag)
}

/// The database of the project `dir` lies in.
pub fn resolve_db_path_in(dir: &Path, flag: Option<&Path>) -> Result<PathBuf, ProfileError> {
    state_of(dir).profile_db(flag).map_err(config_error)
}

fn state_of(dir: &Path) -> State {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    State::discover_from(&dir, std::env::var_os(crate::state::ENV))
}

fn config_error(e: StateError) -> ProfileError {
    match e {
        StateError::Config { path, reason } => ProfileError::Config { path, reason },
        StateError::Read { path, source } => ProfileError::Io {
            action: "read",
            path,
            source,
        },
        StateError::CurrentDir(source) => ProfileError::Io {
            action: "read",
            path: PathBuf::from("."),
            source,
        },
    }
}

fn dir_of(scenario: &Path) -> PathBuf {
    match scenario.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_wins() {
        let p = resolve_db_path(Path::new("demo.res"), Some(Path::new("/tmp/a.redb")));
        assert_eq!(p, Path::new("/tmp/a.redb"));
    }
}
