//! CPU burn: threads that spin for a duty cycle of every 10 ms slot.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::chaos::error::{ChaosError, Result};

const SLOT: Duration = Duration::from_millis(10);

/// Running burner threads; [`CpuBurn::stop`] (or drop) ends them.
#[derive(Debug)]
pub struct CpuBurn {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    pub cores: f64,
    pub load: f64,
}

impl CpuBurn {
    /// Burns `cores` cores (fractions allowed: 1.5) at `load` (0..=1) each.
    pub fn start(cores: f64, load: f64) -> Result<CpuBurn> {
        let available = std::thread::available_parallelism().map_or(1, |n| n.get());
        if !(cores.is_finite() && cores > 0.0) {
            return Err(ChaosError::Invalid(format!(
                "cpu needs a positive number of cores, got {cores}"
            )));
        }
        if cores > available as f64 {
            return Err(ChaosError::TooBig(format!(
                "cpu {cores} cores: this machine has {available}"
            )));
        }
        if !(load > 0.0 && load <= 1.0) {
            return Err(ChaosError::Invalid(format!(
                "cpu load must be above 0% and at most 100%, got {}%",
                load * 100.0
            )));
        }
        let n = cores.ceil() as usize;
        // 1.5 cores at 80 % = 2 threads at 60 %.
        let duty = (load * cores / n as f64).min(1.0);
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::with_capacity(n);
        for i in 0..n {
            let flag = stop.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("res-cpu-burn-{i}"))
                .spawn(move || burn(&flag, duty));
            match spawned {
                Ok(t) => threads.push(t),
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    return Err(ChaosError::io("cannot start a cpu burner thread", e));
                }
            }
        }
        Ok(CpuBurn {
            stop,
            threads,
            cores,
            load,
        })
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for CpuBurn {
    fn drop(&mut self) {
        self.stop();
    }
}

fn burn(stop: &AtomicBool, duty: f64) {
    let busy = SLOT.mul_f64(duty);
    let mut x = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        while start.elapsed() < busy {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        if busy < SLOT {
            std::thread::sleep(SLOT - busy);
        }
    }
}
