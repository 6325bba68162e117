//! What a prediction is asked: the load to hold against the models (a rate, or the forecast
//! hour by hour over a horizon) and the SLO limits to hold the predictions against. Built
//! from a checked scenario by `run::predict_input`, or directly by tests and benchmarks.

use std::collections::BTreeMap;

use serde::Serialize;

/// The quantity an SLO limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    P99Ms,
    ErrorRate,
    Saturation,
    Capacity,
}

impl Quantity {
    pub fn name(self) -> &'static str {
        match self {
            Quantity::P99Ms => "p99_ms",
            Quantity::ErrorRate => "error_rate",
            Quantity::Saturation => "saturation",
            Quantity::Capacity => "capacity",
        }
    }

    pub fn parse(s: &str) -> Option<Quantity> {
        [
            Quantity::P99Ms,
            Quantity::ErrorRate,
            Quantity::Saturation,
            Quantity::Capacity,
        ]
        .into_iter()
        .find(|q| q.name() == s)
    }
}

/// `quantity(service) < limit`, from an SLO the scenario expects (or a plain expectation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloLimit {
    /// The SLO's name (`shop_ok`), or the expectation's text.
    pub name: String,
    /// The qualified service it limits; `None` for every service of the system.
    pub service: Option<String>,
    pub quantity: Quantity,
    /// Milliseconds for p99, a fraction 0..=1 for error rate and saturation.
    pub limit: f64,
}

/// The expected load of one hour, per service (requests per second).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourLoad {
    /// Seconds since the epoch, UTC, at the start of the hour.
    pub at: i64,
    pub rates: BTreeMap<String, f64>,
}

/// Where to predict.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Each service at its rate (the total split by the mix).
    Rates(BTreeMap<String, f64>),
    /// Every hour of the horizon; the first breach and the peak are reported.
    Horizon(Vec<HourLoad>),
}

/// A prediction request.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub target: Target,
    pub slos: Vec<SloLimit>,
    /// Seeds the bootstrap, so the same history gives the same intervals.
    pub seed: u64,
}
