//! What `/proc` says about a process: its state, its start time and its names.
//!
//! A pid alone is not an identity: once a process exits its pid is reused. Every process the
//! engine touches is therefore remembered as a [`ProcRef`] — pid plus the start time from
//! `/proc/PID/stat` — and a signal is only sent when both still agree, so a `SIGCONT` replayed
//! by `res recover` days later can never reach an unrelated process.

use std::fs;

use serde::{Deserialize, Serialize};

/// A process identity that survives pid reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcRef {
    pub pid: u32,
    /// Clock ticks after boot (field 22 of `/proc/PID/stat`).
    pub start_time: u64,
}

/// One line of `/proc/PID/stat`, the parts we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcStat {
    pub pid: u32,
    pub comm: String,
    /// `R`, `S`, `D`, `T` (stopped), `Z` (zombie), …
    pub state: char,
    pub start_time: u64,
}

/// Reads `/proc/PID/stat`; `None` when the process does not exist.
pub fn stat(pid: u32) -> Option<ProcStat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &text)
}

fn parse_stat(pid: u32, text: &str) -> Option<ProcStat> {
    // comm is in parentheses and may itself contain spaces and parentheses.
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); field 22 is rest[19].
    let state = rest.first()?.chars().next()?;
    let start_time = rest.get(19)?.parse().ok()?;
    Some(ProcStat {
        pid,
        comm,
        state,
        start_time,
    })
}

/// The identity of a live process (zombies count as gone).
pub fn identify(pid: u32) -> Option<ProcRef> {
    let s = stat(pid)?;
    (s.state != 'Z' && s.state != 'X').then_some(ProcRef {
        pid,
        start_time: s.start_time,
    })
}

/// Whether this exact process is still alive.
pub fn alive(p: ProcRef) -> bool {
    identify(p.pid).is_some_and(|now| now.start_time == p.start_time)
}

/// This process.
pub fn me() -> ProcRef {
    let pid = std::process::id();
    identify(pid).unwrap_or(ProcRef { pid, start_time: 0 })
}

/// Processes whose `comm` or first argument's file name is `name` (like `pgrep -x`), other
/// than this one. `comm` is cut to 15 bytes by the kernel, so longer names match on `argv[0]`.
pub fn find_by_name(name: &str) -> Vec<ProcRef> {
    let me = std::process::id();
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let by_comm = comm.trim_end() == name;
        let by_argv0 = !by_comm
            && fs::read(format!("/proc/{pid}/cmdline"))
                .ok()
                .and_then(|c| {
                    let argv0 = c.split(|&b| b == 0).next()?.to_vec();
                    let argv0 = String::from_utf8(argv0).ok()?;
                    Some(argv0.rsplit('/').next() == Some(name))
                })
                .unwrap_or(false);
        if by_comm || by_argv0 {
            if let Some(p) = identify(pid) {
                found.push(p);
            }
        }
    }
    found.sort_by_key(|p| p.pid);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_comm() {
        let line = "42 (a) b (c)) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        let s = parse_stat(42, line).expect("parse");
        assert_eq!(s.comm, "a) b (c)");
        assert_eq!(s.state, 'S');
        assert_eq!(s.start_time, 987654);
    }

    #[test]
    fn knows_itself() {
        let me = me();
        assert!(alive(me));
        assert!(!alive(ProcRef {
            pid: me.pid,
            start_time: me.start_time + 1
        }));
    }
}
