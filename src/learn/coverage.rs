//! Which parts of time the log actually covers: its two ends and the gaps inside it.
//!
//! A log that starts at 12:59:40 says nothing about 12:00–12:59:40, and a log rotated away
//! for an hour says nothing about that hour: both are missing data, not zero traffic. So an
//! hour is rated by the time the log covers in it, and the model records that coverage.
//!
//! A gap is a pause between consecutive requests of at least [`GAP_MIN_S`] that is also
//! longer than [`GAP_FACTOR`] times the local mean gap (over the last [`WINDOW`] requests):
//! at the local rate, such a silence has a probability below e⁻¹⁰⁰ — the log stopped, not the
//! traffic. A quiet night on a site whose rate falls gradually stays traffic: the local rate
//! falls with it.

use super::hours::HourVec;

/// The shortest pause that can be a gap, in seconds.
pub const GAP_MIN_S: i64 = 30 * 60;
/// A pause is a gap when it is this many local mean gaps long, or more.
pub const GAP_FACTOR: f64 = 100.0;
/// Requests the local mean gap is measured over.
const WINDOW: usize = 64;
/// Fewer requests than this and the local rate is unknown: only a pause of a day is a gap.
const MIN_KNOWN: u64 = 8;
/// Gaps kept by name in the model (all are counted).
pub const MAX_LISTED: usize = 100;

/// Streaming gap detection over in-order timestamps (microseconds).
#[derive(Debug, Clone)]
pub struct GapTracker {
    ring: [i64; WINDOW],
    seen: u64,
    /// Pauses judged gaps: (last request before, first request after), microseconds.
    pub gaps: Vec<(i64, i64)>,
    pub count: u64,
    /// Missing microseconds by hour since the epoch.
    pub missing: HourVec<i64>,
}

impl Default for GapTracker {
    fn default() -> Self {
        GapTracker {
            ring: [0; WINDOW],
            seen: 0,
            gaps: Vec::new(),
            count: 0,
            missing: HourVec::default(),
        }
    }
}

impl GapTracker {
    /// Records a request at `t`, `prev_max` being the latest time before it (i64::MIN at the
    /// first request). Only a request later than every earlier one can end a gap.
    #[inline]
    pub fn record(&mut self, t: i64, prev_max: i64) {
        if self.seen > 0 && t > prev_max {
            let pause = t - prev_max;
            if pause >= GAP_MIN_S * 1_000_000 && self.is_gap(pause, prev_max) {
                self.count += 1;
                if self.gaps.len() < MAX_LISTED {
                    self.gaps.push((prev_max, t));
                }
                self.add_missing(prev_max, t);
            }
        }
        if t >= prev_max || self.seen == 0 {
            self.ring[(self.seen % WINDOW as u64) as usize] = t;
            self.seen += 1;
        }
    }

    fn is_gap(&self, pause: i64, last: i64) -> bool {
        if self.seen < MIN_KNOWN {
            return pause >= 86_400 * 1_000_000;
        }
        let k = self.seen.min(WINDOW as u64);
        let oldest = self.ring[((self.seen - k) % WINDOW as u64) as usize];
        let mean_gap = (last - oldest) as f64 / (k - 1) as f64;
        pause as f64 > GAP_FACTOR * mean_gap
    }

    fn add_missing(&mut self, from: i64, to: i64) {
        const HOUR: i64 = 3_600_000_000;
        let mut a = from;
        while a < to {
            let h = a.div_euclid(HOUR);
            let end = ((h + 1) * HOUR).min(to);
            if let Some(m) = self.missing.slot(h) {
                *m += end - a;
            }
            a = end;
        }
    }

    /// The fraction of hour `h` the log covers, for a log from `first` to `end` (exclusive,
    /// microseconds).
    pub fn coverage(&self, h: i64, first: i64, end: i64) -> f64 {
        const HOUR: i64 = 3_600_000_000;
        let (a, b) = ((h * HOUR).max(first), ((h + 1) * HOUR).min(end));
        if b <= a {
            return 0.0;
        }
        let missing = self.missing.get(h).copied().unwrap_or(0);
        ((b - a - missing).max(0) as f64 / HOUR as f64).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_of_silence_in_busy_traffic_is_a_gap_and_a_quiet_night_is_not() {
        let s = 1_000_000i64;
        let mut g = GapTracker::default();
        let mut prev = i64::MIN;
        // One request a second for an hour, then nothing for an hour, then on.
        let mut times: Vec<i64> = (0..3600).map(|i| i * s).collect();
        times.extend((7200..9000).map(|i| i * s));
        for t in times {
            g.record(t, prev);
            prev = prev.max(t);
        }
        assert_eq!(g.count, 1);
        assert_eq!(g.gaps[0], (3599 * s, 7200 * s));
        let c = g.coverage(1, 0, 9001 * s);
        assert!(c < 0.01, "{c}");
        assert!((g.coverage(0, 0, 9001 * s) - 1.0).abs() < 1e-3);

        // One request every 20 minutes, then a 3-hour quiet: the local rate says it may be
        // traffic, not a stopped log.
        let mut g = GapTracker::default();
        let mut prev = i64::MIN;
        let mut times: Vec<i64> = (0..20).map(|i| i * 1200 * s).collect();
        times.push(19 * 1200 * s + 3 * 3600 * s);
        for t in times {
            g.record(t, prev);
            prev = prev.max(t);
        }
        assert_eq!(g.count, 0);
    }
}
