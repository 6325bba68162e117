//! Where `res` keeps a project's state: the `.res/` folder holding the profile database
//! (`profile.redb`) and the fault journal (`faults.journal`). Every command finds it by the
//! same rule, like git finds `.git`:
//!
//! 1. the environment variable `RES_STATE_DIR`, when set, names the folder;
//! 2. else the nearest `.res/` folder walking up from the current directory;
//! 3. else a new one at the repository root (the nearest directory holding `.git`), or in the
//!    current directory outside a repository.
//!
//! `--profile-db PATH` overrides the database alone, and `[profile] db = "…"` in a `res.toml`
//! beside the `.res/` folder sets it for a project. So `res run scenarios/demo.res`,
//! `res profile list` and `res recover` from anywhere in the repository use the same files.
//! Nothing here creates the folder: the commands that write create it when they first do.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The state folder's name.
pub const DIR: &str = ".res";
/// The environment variable that names the state folder.
pub const ENV: &str = "RES_STATE_DIR";
/// The profile database's file name in the state folder.
pub const PROFILE_DB: &str = "profile.redb";
/// The fault journal's file name in the state folder.
pub const JOURNAL: &str = "faults.journal";

/// Why the state's place cannot be told.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The current directory is gone or unreadable.
    #[error("cannot read the current directory: {0}")]
    CurrentDir(std::io::Error),
    /// A `res.toml` exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A `res.toml` is not valid TOML or sets `[profile] db` to something not a path.
    #[error("{path}: {reason}")]
    Config { path: PathBuf, reason: String },
}

/// A project's state folder, found (it may not exist yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    dir: PathBuf,
    /// Where `res.toml` is looked for; `None` when the folder came from `RES_STATE_DIR`.
    project: Option<PathBuf>,
}

impl State {
    /// The state of the current directory's project, by the rule above.
    pub fn discover() -> Result<State, StateError> {
        let cwd = std::env::current_dir().map_err(StateError::CurrentDir)?;
        Ok(State::discover_from(&cwd, std::env::var_os(ENV)))
    }

    /// The rule, from `start` and the value of `RES_STATE_DIR` (read by the caller, so tests
    /// need not change the process's environment).
    pub fn discover_from(start: &Path, env: Option<OsString>) -> State {
        if let Some(dir) = env.filter(|v| !v.is_empty()) {
            let dir = PathBuf::from(dir);
            let dir = if dir.is_absolute() {
                dir
            } else {
                start.join(dir)
            };
            return State { dir, project: None };
        }
        let found = start
            .ancestors()
            .find(|d| d.join(DIR).is_dir())
            .or_else(|| start.ancestors().find(|d| d.join(".git").exists()))
            .unwrap_or(start);
        State {
            dir: found.join(DIR),
            project: Some(found.to_path_buf()),
        }
    }

    /// The state folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The fault journal.
    pub fn journal(&self) -> PathBuf {
        self.dir.join(JOURNAL)
    }

    /// The profile database: `flag` (`--profile-db`), else the state folder's when
    /// `RES_STATE_DIR` chose it, else `[profile] db` of the project's `res.toml`, else
    /// `profile.redb` in the state folder.
    pub fn profile_db(&self, flag: Option<&Path>) -> Result<PathBuf, StateError> {
        if let Some(f) = flag {
            return Ok(f.to_path_buf());
        }
        if let Some(project) = &self.project {
            if let Some(db) = configured_db(project)? {
                return Ok(db);
            }
        }
        Ok(self.dir.join(PROFILE_DB))
    }

    /// The folder as people read it: relative to `cwd` when it lies below it
    /// (`./.res/profile.redb`), else in full.
    pub fn show(path: &Path, cwd: &Path) -> String {
        match path.strip_prefix(cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => format!("./{}", rel.display()),
            _ => path.display().to_string(),
        }
    }
}

/// `[profile] db` of `dir/res.toml`, relative to `dir`, when the file exists and sets it.
fn configured_db(dir: &Path) -> Result<Option<PathBuf>, StateError> {
    let file = dir.join("res.toml");
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StateError::Read { path: file, source }),
    };
    let value: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| StateError::Config {
            path: file.clone(),
            reason: e.message().to_string(),
        })?;
    let Some(db) = value.get("profile").and_then(|p| p.get("db")) else {
        return Ok(None);
    };
    let db = db.as_str().ok_or_else(|| StateError::Config {
        path: file.clone(),
        reason: "`[profile] db` must be a string (a path)".into(),
    })?;
    Ok(Some(dir.join(db)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("res-state-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn nearest_res_folder_walking_up_wins() {
        let root = temp("nearest");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("a/.res")).unwrap();
        std::fs::create_dir_all(root.join("a/b/c")).unwrap();
        let s = State::discover_from(&root.join("a/b/c"), None);
        assert_eq!(s.dir(), root.join("a/.res"));
        assert_eq!(s.journal(), root.join("a/.res/faults.journal"));
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn repository_root_when_there_is_none_else_the_current_directory() {
        let root = temp("gitroot");
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("scenarios/x")).unwrap();
        let s = State::discover_from(&root.join("scenarios/x"), None);
        assert_eq!(s.dir(), root.join(".res"));
        assert_eq!(s.profile_db(None).unwrap(), root.join(".res/profile.redb"));
        let _ = std::fs::remove_dir_all(&root);
        // Outside any repository (the temp folder has no .git above it on a sane machine).
        let lone = temp("lone");
        if !lone
            .ancestors()
            .any(|d| d.join(".git").exists() || d.join(DIR).is_dir())
        {
            assert_eq!(State::discover_from(&lone, None).dir(), lone.join(".res"));
        }
        let _ = std::fs::remove_dir_all(&lone);
    }

    #[test]
    fn environment_and_flag_override() {
        let root = temp("env");
        std::fs::create_dir_all(root.join(".res")).unwrap();
        let s = State::discover_from(&root, Some("/elsewhere/state".into()));
        assert_eq!(s.dir(), Path::new("/elsewhere/state"));
        assert_eq!(
            s.profile_db(None).unwrap(),
            Path::new("/elsewhere/state/profile.redb")
        );
        let s = State::discover_from(&root, Some("".into()));
        assert_eq!(s.dir(), root.join(".res"));
        assert_eq!(
            s.profile_db(Some(Path::new("/x/y.redb"))).unwrap(),
            Path::new("/x/y.redb")
        );
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn res_toml_beside_the_state_folder_sets_the_database() {
        let root = temp("toml");
        std::fs::create_dir_all(root.join(".res")).unwrap();
        std::fs::write(root.join("res.toml"), "[profile]\ndb = \"data/p.redb\"\n").unwrap();
        let s = State::discover_from(&root, None);
        assert_eq!(s.profile_db(None).unwrap(), root.join("data/p.redb"));
        std::fs::write(root.join("res.toml"), "[profile]\ndb = 3\n").unwrap();
        assert!(matches!(s.profile_db(None), Err(StateError::Config { .. })));
        let _ = std::fs::remove_dir_all(&root);
    }
}
