//! Stopping on a signal, the same way in every command that runs until told to stop
//! (`res run`, `res load`, `res demo serve`, the chaos helpers).
//!
//! SIGINT (Ctrl-C), SIGTERM, SIGHUP (terminal closed, ssh dropped) and SIGQUIT all ask for an
//! orderly stop: the command stops its load, reverts what it changed and prints what it has.
//! A second signal while that is under way forces: the process exits at once with code 3,
//! saying what may be left behind. Once [`Shutdown::listen`] has run, these signals no longer
//! kill the process by their default action, so every catchable signal reaches the cleanup.

use tokio::signal::unix::{signal, Signal, SignalKind};

use crate::exit::Exit;

/// Which signal asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
    Hangup,
    Quit,
}

impl StopSignal {
    /// `SIGINT`, `SIGTERM`, …
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Hangup => "SIGHUP",
            StopSignal::Quit => "SIGQUIT",
        }
    }

    /// The reason as a run report states it: "interrupted (SIGINT)".
    pub fn describe(self) -> String {
        let what = match self {
            StopSignal::Interrupt => "interrupted",
            StopSignal::Terminate => "terminated",
            StopSignal::Hangup => "hung up",
            StopSignal::Quit => "quit",
        };
        format!("{what} ({})", self.name())
    }
}

/// The stop signals, listened to. Create it inside a tokio runtime.
pub struct Shutdown {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
    quit: Signal,
}

impl Shutdown {
    /// Starts listening for SIGINT, SIGTERM, SIGHUP and SIGQUIT.
    pub fn listen() -> std::io::Result<Shutdown> {
        Ok(Shutdown {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
            quit: signal(SignalKind::quit())?,
        })
    }

    /// The next stop signal.
    async fn next(&mut self) -> StopSignal {
        tokio::select! {
            _ = self.interrupt.recv() => StopSignal::Interrupt,
            _ = self.terminate.recv() => StopSignal::Terminate,
            _ = self.hangup.recv() => StopSignal::Hangup,
            _ = self.quit.recv() => StopSignal::Quit,
        }
    }

    /// Waits for the first stop signal and returns it; from then on a second one exits the
    /// process at once (code 3), printing `left_behind` — what the interrupted cleanup may
    /// not have finished — when it is not empty.
    pub async fn requested(mut self, left_behind: &'static str) -> StopSignal {
        let first = self.next().await;
        tokio::spawn(async move {
            let second = self.next().await;
            eprintln!("\n{}: stopping at once", second.name());
            if !left_behind.is_empty() {
                eprintln!("{left_behind}");
            }
            std::process::exit(i32::from(Exit::Aborted.code()));
        });
        first
    }
}
