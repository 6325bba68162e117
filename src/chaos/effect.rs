//! What the engine injects, in its own words: an [`Effect`] with every value read (an
//! environment variable in a restart command or a disk-fill folder is resolved before the
//! request is made), and how the proxy effects become proxy [`Toxic`]s.
//!
//! The language has its own `check::Effect`, whose strings may still be `env("…")` or
//! `secret("…")` and whose refusals are the language's; `run/chaos_input.rs` translates one
//! into the other, one variant for one variant, with the same [`Effect::kind`] names. The
//! rule that `res run` cannot inject `loss` (no network namespace around the services it
//! runs) stays defined once, on the language's effect (`check::Effect::run_refusal`): it is a
//! rule about what a scenario may ask of `res run`, not about what this engine can do (it can
//! inject loss in a namespace it created), so the checker applies it to the inject step and
//! `run/chaos_input.rs` applies the same function before a run starts.

use std::path::PathBuf;

use super::proxy::Toxic;
use crate::units::{Bandwidth, Bytes, Duration, StatusPattern};

/// One effect of a fault.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Latency {
        latency: Duration,
        jitter: Duration,
        per_chunk: bool,
    },
    Errors {
        status: StatusPattern,
        rate: f64,
    },
    Reset {
        rate: f64,
    },
    Blackhole {
        rate: f64,
    },
    Timeout(Duration),
    Bandwidth(Bandwidth),
    SlowClose(Duration),
    Slice {
        size: Bytes,
        delay: Duration,
    },
    Kill {
        signal: Signal,
    },
    Pause {
        duration: Option<Duration>,
    },
    /// `restart`: run this shell command, or (`None`) start again the command res started.
    Restart {
        command: Option<String>,
    },
    Cpu {
        cores: f64,
        load: f64,
    },
    Memory(Bytes),
    /// Fill this much disk in `path` (the system's temporary folder when `None`).
    Disk {
        size: Bytes,
        path: Option<PathBuf>,
    },
    Fds(u64),
    /// The fraction (0..=1) of packets dropped.
    Loss(f64),
}

/// The signal a `kill` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Kill,
    Term,
    Int,
    Hup,
}

impl Effect {
    /// The effect's name as the language writes it (`slow_close`), for journals and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::Latency { .. } => "latency",
            Effect::Errors { .. } => "errors",
            Effect::Reset { .. } => "reset",
            Effect::Blackhole { .. } => "blackhole",
            Effect::Timeout(_) => "timeout",
            Effect::Bandwidth(_) => "bandwidth",
            Effect::SlowClose(_) => "slow_close",
            Effect::Slice { .. } => "slice",
            Effect::Kill { .. } => "kill",
            Effect::Pause { .. } => "pause",
            Effect::Restart { .. } => "restart",
            Effect::Cpu { .. } => "cpu",
            Effect::Memory(_) => "memory",
            Effect::Disk { .. } => "disk",
            Effect::Fds(_) => "fds",
            Effect::Loss(_) => "loss",
        }
    }
}

/// A duration of the model as a std one; out-of-range values (negative, not finite, beyond
/// a year) become a year, which every limit downstream then refuses with its reason.
pub fn std_duration(d: Duration) -> std::time::Duration {
    let year = std::time::Duration::from_secs(365 * 24 * 3600);
    std::time::Duration::try_from_secs_f64(d.secs())
        .ok()
        .filter(|d| *d <= year)
        .unwrap_or(year)
}

/// The proxy toxic of an effect, or `None` for process, host and network effects.
pub fn toxic_of(effect: &Effect) -> Option<Toxic> {
    Some(match effect {
        Effect::Latency {
            latency,
            jitter,
            per_chunk,
        } => Toxic::Latency {
            latency: std_duration(*latency),
            jitter: std_duration(*jitter),
            per_chunk: *per_chunk,
        },
        Effect::Errors { status, rate } => Toxic::Errors {
            status: status_of(*status),
            rate: *rate,
        },
        Effect::Reset { rate } => Toxic::Reset { rate: *rate },
        Effect::Blackhole { rate } => Toxic::Blackhole { rate: *rate },
        Effect::Timeout(d) => Toxic::Timeout {
            after: std_duration(*d),
        },
        Effect::Bandwidth(b) => Toxic::Bandwidth { bytes_per_sec: b.0 },
        Effect::SlowClose(d) => Toxic::SlowClose {
            delay: std_duration(*d),
        },
        Effect::Slice { size, delay } => Toxic::Slice {
            size: size.0.max(1.0) as usize,
            delay: std_duration(*delay),
        },
        _ => return None,
    })
}

/// The status an `errors` effect answers with: the exact code, or for a class the most
/// telling member (`5xx` → 503, `4xx` → 429).
pub fn status_of(pattern: StatusPattern) -> u16 {
    match pattern {
        StatusPattern::Exact(s) => s,
        StatusPattern::Class(5) => 503,
        StatusPattern::Class(4) => 429,
        StatusPattern::Class(c) => c * 100,
    }
}
