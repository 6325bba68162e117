//! Disk fill: a file of a given size in a given directory, removed on revert.
//!
//! The fill refuses to leave less than 5 % of the filesystem free: a full disk takes down far
//! more than the system under test (journals, logs, `res`'s own fault journal). The file's
//! path is journaled before the first byte is written, so `res recover` removes it after a
//! crash.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::human;
use crate::chaos::error::{ChaosError, Result};

/// The share of the filesystem a fill always leaves free.
pub const MIN_FREE: f64 = 0.05;

/// A fill file; [`DiskFill::remove`] (idempotent) deletes it.
#[derive(Debug)]
pub struct DiskFill {
    pub path: PathBuf,
    pub bytes: u64,
}

impl DiskFill {
    /// Where a fill of `bytes` in `dir` would go, after checking that it fits.
    pub fn plan(dir: &Path, bytes: u64, tag: &str) -> Result<DiskFill> {
        if !dir.is_dir() {
            return Err(ChaosError::Invalid(format!(
                "disk fill: {} is not a directory",
                dir.display()
            )));
        }
        let (size, avail) = filesystem(dir)?;
        let floor = (size as f64 * MIN_FREE) as u64;
        if avail < floor || bytes > avail - floor {
            return Err(ChaosError::TooBig(format!(
                "disk {} at {}: {} is free of {}, and a fill must leave 5 % ({}) free; at most {} can be written",
                human(bytes),
                dir.display(),
                human(avail),
                human(size),
                human(floor),
                human(avail.saturating_sub(floor))
            )));
        }
        Ok(DiskFill {
            path: dir.join(format!(".res-fill-{tag}")),
            bytes,
        })
    }

    /// Writes the file (real blocks, not a sparse file) and syncs it.
    pub fn fill(&self) -> Result<()> {
        let io = |e| ChaosError::io(format!("disk fill {}", self.path.display()), e);
        let mut file: File = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.path)
            .map_err(io)?;
        let block = vec![0x5Au8; 1 << 20];
        let mut left = self.bytes;
        while left > 0 {
            let n = left.min(block.len() as u64) as usize;
            if let Err(e) = file.write_all(&block[..n]) {
                let _ = fs::remove_file(&self.path);
                return Err(io(e));
            }
            left -= n as u64;
        }
        file.sync_all().map_err(io)?;
        Ok(())
    }

    pub fn remove(&self) -> Result<()> {
        remove_fill(&self.path)
    }
}

/// Removes a fill file; a file already gone counts as removed.
pub fn remove_fill(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ChaosError::io(
            format!("cannot remove {}", path.display()),
            e,
        )),
    }
}

/// (size, available) in bytes of the filesystem holding `dir`, from POSIX `df -Pk`.
fn filesystem(dir: &Path) -> Result<(u64, u64)> {
    let out = Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .output()
        .map_err(|e| ChaosError::io("cannot run `df` to check free space", e))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().nth(1).unwrap_or("");
    let fields: Vec<&str> = line.split_whitespace().collect();
    match (
        fields.get(1).and_then(|s| s.parse::<u64>().ok()),
        fields.get(3).and_then(|s| s.parse::<u64>().ok()),
    ) {
        (Some(size), Some(avail)) => Ok((size * 1024, avail * 1024)),
        _ => Err(ChaosError::Tool(format!(
            "cannot read free space of {} from `df -Pk`: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    }
}
