//! Process faults: kill, pause and restart the processes a service declares.
//!
//! A service says how its process is found — a pid file, a process name, or a command the
//! scenario starts itself — and [`ProcessSpec::resolve`] turns that into live process
//! identities ([`ProcRef`]). The engine refuses to touch pid 1 or `res` itself, and a pause is
//! always undone: `SIGCONT` on revert, at the end of `pause for D`, and by `res recover` after
//! a crash.

pub mod procfs;
pub mod signal;
pub mod supervisor;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::chaos::error::{ChaosError, Result};
pub use procfs::ProcRef;
pub use supervisor::Supervisor;

/// How a service's process is found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProcessSpec {
    /// An explicit pid (tests and tools; scenarios use the other forms).
    Pid(u32),
    /// A file holding the pid, as daemons write them.
    Pidfile(PathBuf),
    /// Every process whose name (or `argv[0]`'s file name) is this.
    Name(String),
    /// A command the scenario starts; it must have been started by this run.
    Command(String),
}

impl std::fmt::Display for ProcessSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProcessSpec::Pid(p) => write!(f, "pid {p}"),
            ProcessSpec::Pidfile(p) => write!(f, "pid file {}", p.display()),
            ProcessSpec::Name(n) => write!(f, "process name `{n}`"),
            ProcessSpec::Command(c) => write!(f, "command `{c}`"),
        }
    }
}

impl ProcessSpec {
    /// The live processes this spec designates, never pid 1 or `res` itself.
    pub fn resolve(&self, supervisor: &mut Supervisor) -> Result<Vec<ProcRef>> {
        let found = match self {
            ProcessSpec::Pid(pid) => procfs::identify(*pid).into_iter().collect(),
            ProcessSpec::Pidfile(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ChaosError::ProcessNotFound(format!("pid file {}: {e}", path.display()))
                })?;
                let pid: u32 = text.trim().parse().map_err(|_| {
                    ChaosError::ProcessNotFound(format!(
                        "pid file {} does not hold a pid (it holds `{}`)",
                        path.display(),
                        text.trim().chars().take(40).collect::<String>()
                    ))
                })?;
                procfs::identify(pid).into_iter().collect()
            }
            ProcessSpec::Name(name) => procfs::find_by_name(name),
            ProcessSpec::Command(command) => {
                if !supervisor.knows(command) {
                    return Err(ChaosError::Refused(format!(
                        "command `{command}` was not started by this run; only processes the scenario starts can be targeted by command"
                    )));
                }
                supervisor.find(command).into_iter().collect()
            }
        };
        let me = std::process::id();
        let parent = std::os::unix::process::parent_id();
        if let Some(p) = found
            .iter()
            .find(|p| p.pid == 1 || p.pid == me || p.pid == parent)
        {
            return Err(ChaosError::Refused(format!(
                "{self} resolves to pid {}, which is {}",
                p.pid,
                if p.pid == 1 {
                    "init"
                } else if p.pid == me {
                    "res itself"
                } else {
                    "the process that started res"
                }
            )));
        }
        if found.is_empty() {
            return Err(ChaosError::ProcessNotFound(format!(
                "{self} (is it running?)"
            )));
        }
        Ok(found)
    }
}
