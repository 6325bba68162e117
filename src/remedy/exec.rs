//! Scale by running declared commands: one that sets the count (`{instances}` substituted,
//! e.g. `kubectl scale deploy/checkout --replicas={instances}`) and one that reads it back
//! (printing a whole number). Commands run through `sh -c` with a deadline (60 s by default);
//! a command that outlives it is killed. The engine refuses this actuator without
//! `--allow-exec`. [`ExecCommand`] runs the command of `do exec "…"`: nothing to read back,
//! nothing to undo.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use super::actuator::{restored_instances, wanted_instances, ActFuture, Actuator, Change};
use super::error::ActuatorError;
use super::state::ActuatorState;

/// A command gets 60 s.
pub const EXEC_TIMEOUT: Duration = Duration::from_secs(60);

/// Scale through a set command and a read command.
#[derive(Debug, Clone)]
pub struct ExecScale {
    set: String,
    read: String,
    timeout: Duration,
}

impl ExecScale {
    pub fn new(set: &str, read: &str) -> Self {
        ExecScale {
            set: set.to_string(),
            read: read.to_string(),
            timeout: EXEC_TIMEOUT,
        }
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    async fn set(&self, instances: u64) -> Result<(), ActuatorError> {
        let command = self.set.replace("{instances}", &instances.to_string());
        run(&command, self.timeout).await.map(|_| ())
    }
}

/// Runs `command` through `sh -c`; its stdout when it exits 0 within `timeout`.
pub(crate) async fn run(command: &str, timeout: Duration) -> Result<String, ActuatorError> {
    let child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Dropping the future at the deadline kills the child instead of leaving it behind.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ActuatorError::Unreachable {
            target: format!("sh -c `{command}`"),
            message: e.to_string(),
        })?;
    let output = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => {
            return Err(ActuatorError::Unreachable {
                target: format!("sh -c `{command}`"),
                message: e.to_string(),
            })
        }
        Err(_) => {
            return Err(ActuatorError::Timeout {
                what: format!("command `{command}`"),
                after: timeout,
            })
        }
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(ActuatorError::Command {
            command: command.to_string(),
            status: output.status.to_string(),
            stderr: stderr.trim().chars().take(500).collect(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

impl Actuator for ExecScale {
    fn kind(&self) -> &'static str {
        "exec"
    }

    fn target(&self) -> String {
        format!("`{}` (read `{}`)", self.set, self.read)
    }

    fn runs_commands(&self) -> bool {
        true
    }

    fn read(&self) -> ActFuture<'_, ActuatorState> {
        Box::pin(async move {
            let out = run(&self.read, self.timeout).await?;
            let instances = out
                .trim()
                .parse::<u64>()
                .map_err(|_| ActuatorError::Unreadable {
                    target: format!("`{}`", self.read),
                    message: format!("expected a whole number, got {:?}", out.trim()),
                })?;
            Ok(ActuatorState::Instances { instances })
        })
    }

    fn apply<'a>(&'a self, change: &'a Change) -> ActFuture<'a, ()> {
        Box::pin(async move { self.set(wanted_instances(self.kind(), change)?).await })
    }

    fn restore<'a>(&'a self, before: &'a ActuatorState) -> ActFuture<'a, ()> {
        Box::pin(async move { self.set(restored_instances(self.kind(), before)?).await })
    }
}

/// The command of `do exec "…"`, run through `sh -c` with the same deadline.
#[derive(Debug, Clone)]
pub struct ExecCommand {
    command: String,
    timeout: Duration,
}

impl ExecCommand {
    pub fn new(command: &str) -> Self {
        ExecCommand {
            command: command.to_string(),
            timeout: EXEC_TIMEOUT,
        }
    }
}

impl Actuator for ExecCommand {
    fn kind(&self) -> &'static str {
        "exec"
    }

    fn target(&self) -> String {
        format!("`{}`", self.command)
    }

    fn runs_commands(&self) -> bool {
        true
    }

    fn read(&self) -> ActFuture<'_, ActuatorState> {
        Box::pin(async { Ok(ActuatorState::Opaque) })
    }

    fn apply<'a>(&'a self, change: &'a Change) -> ActFuture<'a, ()> {
        Box::pin(async move {
            let Change::Run { command } = change else {
                return Err(ActuatorError::Unsupported {
                    actuator: self.kind().into(),
                    change: change.summary(),
                });
            };
            run(command, self.timeout).await.map(|_| ())
        })
    }

    fn restore<'a>(&'a self, _before: &'a ActuatorState) -> ActFuture<'a, ()> {
        Box::pin(async move {
            Err(ActuatorError::Unsupported {
                actuator: self.kind().into(),
                change: format!("undo of `{}` (a command cannot be undone)", self.command),
            })
        })
    }
}
