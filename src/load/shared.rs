//! What every part of a running load shares: the target, the compiled mix, the statistics,
//! the queue, the clock and the controls.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::queue::Queue;
use super::request::Mix;
use super::stats::Stats;
use super::stop::Stop;
use super::target::Target;

pub(crate) struct Shared {
    pub target: Target,
    pub mix: Mix,
    pub stats: Stats,
    pub queue: Queue,
    pub stop: Stop,
    pub start: Instant,
    pub end: Instant,
    pub seed: u64,
    pub body_limit: u64,
    /// The live rate multiplier, as `f64` bits.
    scale: AtomicU64,
    /// `{seq}` for the closed model, where users share one counter.
    pub seq: AtomicU64,
    /// Per service: requests issued by the schedule, drained each second (open and
    /// session models).
    pub offered: Box<[AtomicU64]>,
    /// Requests that were due but never sent (the run stopped first).
    pub unsent: AtomicU64,
    /// Requests (or sessions) the schedule called for before the run ended.
    pub intended: AtomicU64,
}

impl Shared {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        target: Target,
        mix: Mix,
        start: Instant,
        end: Instant,
        seed: u64,
        body_limit: u64,
    ) -> Shared {
        let services = mix.services.len();
        Shared {
            target,
            mix,
            stats: Stats::new(services),
            queue: Queue::default(),
            stop: Stop::default(),
            start,
            end,
            seed,
            body_limit,
            scale: AtomicU64::new(1f64.to_bits()),
            offered: (0..services).map(|_| AtomicU64::new(0)).collect(),
            seq: AtomicU64::new(0),
            unsent: AtomicU64::new(0),
            intended: AtomicU64::new(0),
        }
    }

    pub fn scale(&self) -> f64 {
        f64::from_bits(self.scale.load(Ordering::Relaxed))
    }

    pub fn set_scale(&self, scale: f64) {
        let scale = if scale.is_finite() {
            scale.max(0.0)
        } else {
            0.0
        };
        self.scale.store(scale.to_bits(), Ordering::Relaxed);
    }

    /// Counts a request leaving for `service`.
    pub fn started(&self, service: usize) {
        self.stats.started(service);
    }

    /// True when requests may no longer be issued.
    pub fn over(&self) -> bool {
        self.stop.is_set() || Instant::now() >= self.end
    }
}

/// Mixes the run's seed with a stream number (a user, a session), so streams are independent
/// but reproducible.
pub(crate) fn stream_seed(seed: u64, stream: u64) -> u64 {
    // SplitMix64's finaliser.
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
