//! File-descriptor exhaustion: hold open descriptors of the `res` process.
//!
//! Descriptors are a per-process budget, so this pressure lands on what runs inside `res` —
//! the embedded demo shop, the proxies — and is bounded by the soft `RLIMIT_NOFILE` less a
//! reserve that keeps `res` itself able to write its journal and report.

use std::fs::File;

use nix::sys::resource::{getrlimit, Resource};

use crate::chaos::error::{ChaosError, Result};

/// Descriptors always left free for `res`'s own work.
pub const RESERVE: u64 = 64;

/// Open descriptors, closed on [`FdHold::release`] or drop.
#[derive(Debug)]
pub struct FdHold {
    files: Vec<File>,
}

impl FdHold {
    pub fn start(n: u64) -> Result<FdHold> {
        let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE)
            .map_err(|e| ChaosError::io("cannot read RLIMIT_NOFILE", std::io::Error::from(e)))?;
        let open = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
        let room = soft.saturating_sub(open).saturating_sub(RESERVE);
        if n > room {
            return Err(ChaosError::TooBig(format!(
                "fds {n}: the soft limit is {soft}, {open} are open and {RESERVE} stay free for res; at most {room} can be held"
            )));
        }
        let mut files = Vec::with_capacity(n as usize);
        for _ in 0..n {
            match File::open("/dev/null") {
                Ok(f) => files.push(f),
                Err(e) => {
                    return Err(ChaosError::io(
                        format!("fds {n}: opened {} before failing", files.len()),
                        e,
                    ))
                }
            }
        }
        Ok(FdHold { files })
    }

    pub fn held(&self) -> usize {
        self.files.len()
    }

    pub fn release(&mut self) {
        self.files.clear();
    }
}
