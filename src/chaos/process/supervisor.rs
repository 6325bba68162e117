//! Processes the scenario starts itself (`process command "…"`), tracked so that faults can
//! find them, a `restart` can start them again and the run can stop them at the end.
//!
//! Commands run through `sh -c "exec …"`, so the pid the engine records is the command's own
//! and not a shell's. A child that exited is reaped at once so it never lingers as a zombie
//! that would still look alive.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::procfs::{self, ProcRef};
use super::signal;
use crate::chaos::error::{ChaosError, Result};

/// A command started by the run.
#[derive(Debug)]
pub struct Started {
    pub command: String,
    pub netns: Option<String>,
    pub child: Child,
    pub proc_ref: ProcRef,
}

#[derive(Debug, Default)]
pub struct Supervisor {
    pub started: Vec<Started>,
}

impl Supervisor {
    /// Starts `command` (inside network namespace `netns` if given) and returns its identity.
    pub fn start(&mut self, command: &str, netns: Option<&str>) -> Result<ProcRef> {
        let mut cmd = match netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "sh", "-c"]);
                c
            }
            None => {
                let mut c = Command::new("sh");
                c.arg("-c");
                c
            }
        };
        cmd.arg(format!("exec {command}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd
            .spawn()
            .map_err(|e| ChaosError::io(format!("cannot start `{command}`"), e))?;
        let pid = child.id();
        // The start time is set at fork and survives the exec, so it identifies the command.
        let proc_ref = procfs::identify(pid).unwrap_or(ProcRef { pid, start_time: 0 });
        self.started.retain(|s| s.command != command);
        self.started.push(Started {
            command: command.to_string(),
            netns: netns.map(str::to_string),
            child,
            proc_ref,
        });
        Ok(proc_ref)
    }

    /// The running process of `command`, if the run started it and it is still alive.
    pub fn find(&mut self, command: &str) -> Option<ProcRef> {
        self.reap();
        self.started
            .iter()
            .find(|s| s.command == command)
            .map(|s| s.proc_ref)
            .filter(|p| procfs::alive(*p))
    }

    /// Whether `command` was started by this run (running or not).
    pub fn knows(&self, command: &str) -> bool {
        self.started.iter().any(|s| s.command == command)
    }

    /// Collects exited children so they do not linger as zombies.
    pub fn reap(&mut self) {
        for s in &mut self.started {
            let _ = s.child.try_wait();
        }
    }

    /// Stops `command` (TERM, then KILL after `grace`) and starts it again.
    pub fn restart(&mut self, command: &str, grace: Duration) -> Result<ProcRef> {
        let netns = self
            .started
            .iter()
            .find(|s| s.command == command)
            .and_then(|s| s.netns.clone());
        self.stop(command, grace)?;
        self.start(command, netns.as_deref())
    }

    /// Stops `command` if it runs: TERM, then KILL after `grace`.
    pub fn stop(&mut self, command: &str, grace: Duration) -> Result<()> {
        let Some(s) = self.started.iter_mut().find(|s| s.command == command) else {
            return Ok(());
        };
        if s.child.try_wait().ok().flatten().is_some() {
            return Ok(());
        }
        signal::send(s.proc_ref, Signal::SIGTERM)?;
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if s.child.try_wait().ok().flatten().is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = s.child.kill();
        let _ = s.child.wait();
        Ok(())
    }

    /// Stops everything the run started.
    pub fn stop_all(&mut self, grace: Duration) {
        let commands: Vec<String> = self.started.iter().map(|s| s.command.clone()).collect();
        for c in commands {
            let _ = self.stop(&c, grace);
        }
        self.started.clear();
    }
}
