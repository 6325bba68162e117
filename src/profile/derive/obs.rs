//! What the derivations read: each second of a service reduced to six numbers, and the SLO
//! that decides whether a second was good.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::profile::schema::FaultRecord;
use crate::report::SeriesPoint;
use crate::units::{Duration, Percent};

/// One second of one service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Obs {
    pub t: u64,
    /// Requests the schedule meant to send (the achieved rate when the model is closed).
    pub offered: f64,
    /// Completed requests.
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Errors over completed requests, 0 to 1.
    pub error_rate: f64,
}

impl Obs {
    /// Whether the service had traffic in this second.
    pub fn loaded(&self) -> bool {
        self.offered > 0.0 || self.rps > 0.0
    }

    pub fn within(&self, slo: &Slo) -> bool {
        self.p99_ms <= slo.p99.ms() && self.error_rate <= slo.errors.fraction()
    }
}

impl From<&SeriesPoint> for Obs {
    fn from(p: &SeriesPoint) -> Obs {
        let error_rate = if p.rps > 0.0 {
            (p.errors as f64 / p.rps).min(1.0)
        } else if p.errors > 0 {
            1.0
        } else {
            0.0
        };
        Obs {
            t: p.t,
            offered: if p.offered_rps > 0.0 {
                p.offered_rps
            } else {
                p.rps
            },
            rps: p.rps,
            p50_ms: p.p50_ms,
            p99_ms: p.p99_ms,
            error_rate,
        }
    }
}

/// One run as the derivations see it.
#[derive(Debug, Clone, Default)]
pub struct RunObs {
    pub id: u64,
    /// Seconds per service, in time order.
    pub services: BTreeMap<String, Vec<Obs>>,
    pub faults: Vec<FaultRecord>,
}

/// The thresholds a second must keep to count as sustainable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slo {
    /// The per-second p99 latency must stay at or below this.
    pub p99: Duration,
    /// The per-second error rate must stay at or below this.
    pub errors: Percent,
}

impl Default for Slo {
    /// p99 within 1 s and errors within 1 %.
    fn default() -> Self {
        Slo {
            p99: Duration(1000.0),
            errors: Percent(1.0),
        }
    }
}

/// The SLO as written in the JSON output.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct SloJson {
    pub p99_ms: f64,
    pub error_rate: f64,
}

impl From<&Slo> for SloJson {
    fn from(s: &Slo) -> Self {
        SloJson {
            p99_ms: s.p99.ms(),
            error_rate: s.errors.fraction(),
        }
    }
}
