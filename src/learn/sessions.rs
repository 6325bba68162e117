//! Sessions as a Markov chain over endpoints, learned in one pass.
//!
//! A session is the run of requests from one client (address + user agent) with no pause
//! longer than the idle cut-off (30 minutes by default, the web-analytics convention). Each
//! session contributes START → first endpoint, endpoint → endpoint for each next request
//! (with the think time between them), and last endpoint → EXIT.
//!
//! Only open sessions are held: the table is swept of idle ones as the log's clock advances,
//! and capped, so memory follows the number of concurrently active clients, not the log's
//! length. Transition counts live in a sparse map over (from, to) pairs, bounded by the
//! endpoint table's cap squared; think times are summarised per source endpoint.

use std::collections::HashMap;

use super::hash::{FastBuild, PassBuild};
use super::histogram::LogHistogram;

/// The state index of START; endpoint `i` is state `i + 1`.
pub const START: u32 = 0;
/// The state index of EXIT.
pub const EXIT: u32 = u32::MAX;

/// Open sessions past this many force an early sweep (counted in `forced`).
const MAX_OPEN: usize = 1 << 20;

#[derive(Clone, Copy)]
struct Open {
    state: u32,
    last_us: i64,
    start_us: i64,
    requests: u32,
}

/// Streaming session state.
#[derive(Clone)]
pub struct SessionTracker {
    idle_us: i64,
    open: HashMap<u64, Open, PassBuild>,
    next_sweep: i64,
    pub transitions: HashMap<u64, u64, FastBuild>,
    /// Think time (ms) after a request to endpoint `i`, when the session goes on.
    pub think_ms: Vec<LogHistogram>,
    pub lengths: LogHistogram,
    pub durations_s: LogHistogram,
    pub sessions: u64,
    /// Sessions ended early because too many were open at once.
    pub forced: u64,
}

fn pair(from: u32, to: u32) -> u64 {
    ((from as u64) << 32) | to as u64
}

/// Splits a transition key back into (from, to).
pub fn unpair(k: u64) -> (u32, u32) {
    ((k >> 32) as u32, k as u32)
}

impl SessionTracker {
    pub fn new(idle_secs: f64) -> SessionTracker {
        SessionTracker {
            idle_us: (idle_secs * 1e6) as i64,
            open: HashMap::default(),
            next_sweep: i64::MIN,
            transitions: HashMap::default(),
            think_ms: Vec::new(),
            lengths: LogHistogram::default(),
            durations_s: LogHistogram::default(),
            sessions: 0,
            forced: 0,
        }
    }

    /// Records a request of client `key` to endpoint `endpoint` at `us`; `now_us` is the
    /// latest time seen in the log (lines may be slightly out of order).
    #[inline]
    pub fn record(&mut self, key: u64, endpoint: u32, us: i64, now_us: i64) {
        let state = endpoint + 1;
        if now_us >= self.next_sweep {
            self.sweep(now_us - self.idle_us);
            // Sweeping only frees memory (a late request is checked against the cut-off
            // anyway), so once per idle period is enough.
            self.next_sweep = now_us + self.idle_us.max(1_000_000);
        }
        let idle = self.idle_us;
        match self.open.get_mut(&key) {
            Some(s) if us - s.last_us <= idle => {
                let think = (us - s.last_us).max(0);
                *self.transitions.entry(pair(s.state, state)).or_insert(0) += 1;
                let from = (s.state - 1) as usize;
                if from >= self.think_ms.len() {
                    self.think_ms.resize(from + 1, LogHistogram::default());
                }
                self.think_ms[from].record((think / 1000) as u64);
                s.state = state;
                s.last_us = s.last_us.max(us);
                s.requests += 1;
            }
            Some(s) => {
                let ended = *s;
                *s = Open {
                    state,
                    last_us: us,
                    start_us: us,
                    requests: 1,
                };
                self.end(ended);
                *self.transitions.entry(pair(START, state)).or_insert(0) += 1;
            }
            None => {
                if self.open.len() >= MAX_OPEN {
                    self.force_sweep(now_us);
                }
                self.open.insert(
                    key,
                    Open {
                        state,
                        last_us: us,
                        start_us: us,
                        requests: 1,
                    },
                );
                *self.transitions.entry(pair(START, state)).or_insert(0) += 1;
            }
        }
    }

    fn end(&mut self, s: Open) {
        *self.transitions.entry(pair(s.state, EXIT)).or_insert(0) += 1;
        self.sessions += 1;
        self.lengths.record(s.requests as u64);
        self.durations_s
            .record(((s.last_us - s.start_us).max(0) / 1_000_000) as u64);
    }

    /// Ends the sessions idle since before `cutoff_us`.
    fn sweep(&mut self, cutoff_us: i64) {
        let mut ended = Vec::new();
        self.open.retain(|_, s| {
            if s.last_us < cutoff_us {
                ended.push(*s);
                false
            } else {
                true
            }
        });
        for s in ended {
            self.end(s);
        }
    }

    /// Too many open sessions: end the older half, halving the idle window until it works.
    fn force_sweep(&mut self, now_us: i64) {
        let before = self.open.len();
        let mut window = self.idle_us / 2;
        while self.open.len() > MAX_OPEN / 2 && window > 0 {
            self.sweep(now_us - window);
            window /= 2;
        }
        if self.open.len() > MAX_OPEN / 2 {
            self.sweep(i64::MAX);
        }
        self.forced += (before - self.open.len()) as u64;
    }

    /// Ends every open session (end of the log).
    pub fn finish(&mut self) {
        self.sweep(i64::MAX);
    }
}
