//! Sending a signal to a remembered process, safely.

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::procfs::{self, ProcRef};
use crate::chaos::error::{ChaosError, Result};

/// What became of a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Delivered,
    /// The process has exited (or its pid now belongs to another process): nothing was sent.
    Gone,
}

/// The signals a fault uses, by the names a `.res` file and the journal write.
pub fn by_name(name: &str) -> Option<Signal> {
    Some(match name.trim_start_matches("SIG") {
        "KILL" => Signal::SIGKILL,
        "TERM" => Signal::SIGTERM,
        "INT" => Signal::SIGINT,
        "HUP" => Signal::SIGHUP,
        "STOP" => Signal::SIGSTOP,
        "CONT" => Signal::SIGCONT,
        _ => return None,
    })
}

pub fn name(signal: Signal) -> &'static str {
    match signal {
        Signal::SIGKILL => "KILL",
        Signal::SIGTERM => "TERM",
        Signal::SIGINT => "INT",
        Signal::SIGHUP => "HUP",
        Signal::SIGSTOP => "STOP",
        Signal::SIGCONT => "CONT",
        _ => "?",
    }
}

/// Sends `signal` to `target` if it is still the same process.
pub fn send(target: ProcRef, signal: Signal) -> Result<Sent> {
    if !procfs::alive(target) {
        return Ok(Sent::Gone);
    }
    match kill(Pid::from_raw(target.pid as i32), signal) {
        Ok(()) => Ok(Sent::Delivered),
        Err(Errno::ESRCH) => Ok(Sent::Gone),
        Err(Errno::EPERM) => Err(ChaosError::Permission(format!(
            "cannot send SIG{} to pid {}: it belongs to another user (run res as that user or as root)",
            name(signal),
            target.pid
        ))),
        Err(e) => Err(ChaosError::io(
            format!("cannot send SIG{} to pid {}", name(signal), target.pid),
            std::io::Error::from(e),
        )),
    }
}
