//! The live set of faults of one proxy, read on every chunk and changed while traffic flows.
//!
//! Readers never wait for writers: a connection keeps an `Arc` of the set it last saw and the
//! generation number it had, and checks one atomic counter per chunk. Only when the counter
//! moved does it take the read lock, for as long as it takes to clone an `Arc`. Writers build a
//! new set and swap it in, bump the counter and wake connections that are stalled waiting for
//! a fault to go away. Adding or removing a fault therefore costs microseconds and never
//! blocks traffic.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use tokio::sync::Notify;

use super::fault::{FaultId, FaultSpec};

/// A fault as a proxy holds it.
#[derive(Debug)]
pub struct ActiveProxyFault {
    pub id: FaultId,
    pub spec: FaultSpec,
    pub added: Instant,
    /// Connections or requests this fault has acted on.
    pub hits: AtomicU64,
}

/// One immutable version of the fault set.
#[derive(Debug, Default)]
pub struct FaultSet {
    pub generation: u64,
    pub faults: Vec<Arc<ActiveProxyFault>>,
}

impl FaultSet {
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }

    pub fn contains(&self, id: FaultId) -> bool {
        self.faults.iter().any(|f| f.id == id)
    }
}

#[derive(Debug, Default)]
pub struct FaultTable {
    generation: AtomicU64,
    current: RwLock<Arc<FaultSet>>,
    next_id: AtomicU64,
    /// Woken on every change, for connections stalled by a blackhole or a timeout.
    pub changed: Notify,
}

impl FaultTable {
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn snapshot(&self) -> Arc<FaultSet> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn add(&self, spec: FaultSpec) -> FaultId {
        let id = FaultId(self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let fault = Arc::new(ActiveProxyFault {
            id,
            spec,
            added: Instant::now(),
            hits: AtomicU64::new(0),
        });
        self.update(|faults| faults.push(fault));
        id
    }

    /// Removes a fault; `false` when it was not there (removing twice is harmless).
    pub fn remove(&self, id: FaultId) -> bool {
        let mut found = false;
        self.update(|faults| {
            let before = faults.len();
            faults.retain(|f| f.id != id);
            found = faults.len() != before;
        });
        found
    }

    pub fn clear(&self) {
        self.update(Vec::clear);
    }

    fn update(&self, change: impl FnOnce(&mut Vec<Arc<ActiveProxyFault>>)) {
        {
            let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
            let mut faults = current.faults.clone();
            change(&mut faults);
            let generation = current.generation + 1;
            *current = Arc::new(FaultSet { generation, faults });
            self.generation.store(generation, Ordering::Release);
        }
        self.changed.notify_waiters();
    }
}

/// A reader's cached view of the table.
pub struct FaultView {
    pub set: Arc<FaultSet>,
}

impl FaultView {
    pub fn new(table: &FaultTable) -> FaultView {
        FaultView {
            set: table.snapshot(),
        }
    }

    /// Reloads the set if it changed; `true` when it did. One atomic load otherwise.
    #[inline]
    pub fn refresh(&mut self, table: &FaultTable) -> bool {
        if table.generation() == self.set.generation {
            return false;
        }
        self.set = table.snapshot();
        true
    }
}

/// A stable coin flip: whether connection `seed` is among the `p` share touched by `fault`'s
/// toxic number `salt`. The same connection gets the same answer every time it asks, so both
/// directions of a connection agree and a fault does not flicker on and off.
pub fn chosen(seed: u64, fault: FaultId, salt: u64, p: f64) -> bool {
    if p >= 1.0 {
        return true;
    }
    if p <= 0.0 {
        return false;
    }
    let x = splitmix(seed ^ fault.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.rotate_left(17));
    (x >> 11) as f64 / (1u64 << 53) as f64 <= p
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A fresh random number for a coin flip per request.
pub fn coin(p: f64) -> bool {
    if p >= 1.0 {
        return true;
    }
    if p <= 0.0 {
        return false;
    }
    rand::random::<f64>() < p
}
