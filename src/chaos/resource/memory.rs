//! Memory hog: allocate and touch a size, refusing what would starve the machine.
//!
//! The limit is the smaller of what `/proc/meminfo` calls available and what the cgroup
//! `res` runs in still allows (`memory.max − memory.current`), minus a reserve of 10 % of
//! total memory (at least 256 MiB): past that the kernel's OOM killer would pick a victim, and
//! it might be `res` — taking its journal-keeping with it.

use std::fs;

use super::human;
use crate::chaos::error::{ChaosError, Result};

const MIN_RESERVE: u64 = 256 << 20;

/// Allocated, touched memory, freed on [`MemoryHog::release`] or drop.
#[derive(Debug)]
pub struct MemoryHog {
    block: Vec<u8>,
}

impl MemoryHog {
    pub fn start(bytes: u64) -> Result<MemoryHog> {
        let spare = spare_memory()?;
        if bytes > spare {
            return Err(ChaosError::TooBig(format!(
                "memory {}: only {} can be taken without risking the OOM killer (available memory less a reserve)",
                human(bytes),
                human(spare)
            )));
        }
        let size = usize::try_from(bytes)
            .map_err(|_| ChaosError::TooBig(format!("memory {}: too large", human(bytes))))?;
        let mut block = Vec::new();
        block.try_reserve_exact(size).map_err(|e| {
            ChaosError::TooBig(format!("memory {}: allocation failed: {e}", human(bytes)))
        })?;
        // Non-zero bytes, so every page is really backed (zero pages may be shared).
        block.resize(size, 0xA5);
        Ok(MemoryHog { block })
    }

    pub fn bytes(&self) -> usize {
        self.block.len()
    }

    pub fn release(&mut self) {
        self.block = Vec::new();
    }
}

/// Bytes that can be taken now, after the reserve.
pub fn spare_memory() -> Result<u64> {
    let info = fs::read_to_string("/proc/meminfo")
        .map_err(|e| ChaosError::io("cannot read /proc/meminfo", e))?;
    let field = |name: &str| -> Option<u64> {
        let line = info.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    };
    let total = field("MemTotal:").unwrap_or(0);
    let mut available = field("MemAvailable:").unwrap_or(0);
    if let Some(cgroup) = cgroup_headroom() {
        available = available.min(cgroup);
    }
    let reserve = (total / 10).max(MIN_RESERVE);
    Ok(available.saturating_sub(reserve))
}

/// `memory.max − memory.current` of this process's cgroup (v2), if it has a limit.
fn cgroup_headroom() -> Option<u64> {
    let cgroup = fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    let dir = format!("/sys/fs/cgroup{}", path.trim());
    let max: u64 = fs::read_to_string(format!("{dir}/memory.max"))
        .ok()?
        .trim()
        .parse()
        .ok()?; // "max" means no limit: parse fails, None
    let current: u64 = fs::read_to_string(format!("{dir}/memory.current"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(max.saturating_sub(current))
}
