//! Where the profile database lives. One database per project directory, so that every run of
//! a scenario adds to the same profile: by default `.res/profile.redb` beside the scenario.
//!
//! Precedence: the `--profile-db` flag, then `[profile] db = "..."` in a `res.toml` beside the
//! scenario, then one in the current directory, then the default. A relative `db` in a
//! `res.toml` is relative to that file's directory.

use std::path::{Path, PathBuf};

use super::ProfileError;

/// The database file name under `.res/`.
pub const DEFAULT_DB: &str = "profile.redb";
/// The directory beside the scenario that holds it.
pub const DEFAULT_DIR: &str = ".res";

/// The database a run of `scenario` records to. A `res.toml` that cannot be read or parsed is
/// ignored here; [`resolve_db_path_checked`] reports it instead.
pub fn resolve_db_path(scenario: &Path, flag: Option<&Path>) -> PathBuf {
    resolve_db_path_checked(scenario, flag).unwrap_or_else(|_| default_db(&dir_of(scenario)))
}

/// Like [`resolve_db_path`], but a broken `res.toml` is an error.
pub fn resolve_db_path_checked(
    scenario: &Path,
    flag: Option<&Path>,
) -> Result<PathBuf, ProfileError> {
    let dir = dir_of(scenario);
    resolve_in(&dir, flag)
}

/// The database of the project in `dir` (the command-line tools use the current directory).
pub fn resolve_db_path_in(dir: &Path, flag: Option<&Path>) -> Result<PathBuf, ProfileError> {
    resolve_in(dir, flag)
}

fn resolve_in(dir: &Path, flag: Option<&Path>) -> Result<PathBuf, ProfileError> {
    if let Some(f) = flag {
        return Ok(f.to_path_buf());
    }
    if let Some(p) = configured(dir)? {
        return Ok(p);
    }
    if let Some(p) = configured(Path::new("."))? {
        return Ok(p);
    }
    Ok(default_db(dir))
}

fn dir_of(scenario: &Path) -> PathBuf {
    match scenario.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn default_db(dir: &Path) -> PathBuf {
    dir.join(DEFAULT_DIR).join(DEFAULT_DB)
}

/// `[profile] db` of `dir/res.toml`, if the file exists and sets it.
fn configured(dir: &Path) -> Result<Option<PathBuf>, ProfileError> {
    let file = dir.join("res.toml");
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ProfileError::Io {
                action: "read",
                path: file,
                source: e,
            })
        }
    };
    let value: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ProfileError::Config {
            path: file.clone(),
            reason: e.message().to_string(),
        })?;
    let Some(profile) = value.get("profile") else {
        return Ok(None);
    };
    let Some(db) = profile.get("db") else {
        return Ok(None);
    };
    let db = db.as_str().ok_or_else(|| ProfileError::Config {
        path: file.clone(),
        reason: "`[profile] db` must be a string (a path)".into(),
    })?;
    Ok(Some(dir.join(db)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_beside_the_scenario() {
        let p = resolve_db_path(Path::new("/nonexistent/x/demo.res"), None);
        assert_eq!(p, Path::new("/nonexistent/x/.res/profile.redb"));
    }

    #[test]
    fn flag_wins() {
        let p = resolve_db_path(Path::new("demo.res"), Some(Path::new("/tmp/a.redb")));
        assert_eq!(p, Path::new("/tmp/a.redb"));
    }
}
