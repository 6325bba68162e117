//! Resource pressure on the host: CPU, memory, disk and file descriptors.
//!
//! Each pressure is bounded before it starts — it refuses, with the numbers, to take what the
//! machine cannot spare — and released on revert: threads stop, memory is freed, the fill file
//! is removed, descriptors are closed. CPU, memory and descriptors live inside the `res`
//! process and so die with it; the disk fill file is the one that outlives a crash, which is
//! why its path is in the journal.

pub mod cpu;
pub mod disk;
pub mod fds;
pub mod memory;

pub use cpu::CpuBurn;
pub use disk::DiskFill;
pub use fds::FdHold;
pub use memory::MemoryHog;

/// `1.5 GiB`, for messages.
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= size {
            return format!("{:.1} {unit}", b / size as f64);
        }
    }
    format!("{bytes} B")
}
