//! What a prediction is asked: the scenario's question ([`PredictSpec`]: which system, which
//! mix, the [`Demand`] as a rate or the forecast hour by hour, the SLO limits), and the
//! engine's own request built from it ([`Request`]). These types belong to the engine;
//! `run::predict_input` translates a checked scenario into a [`PredictSpec`], and tests and
//! benchmarks build them directly.

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

/// The load to predict at, before it is split over services.
#[derive(Debug, Clone, PartialEq)]
pub enum Demand {
    Rate(f64),
    /// (start of the hour, total rate) for each hour of the horizon.
    Hours(Vec<(i64, f64)>),
}

/// A prediction as the scenario asks it.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictSpec {
    pub system: String,
    /// Qualified service → share of the system's traffic, from the declared mix; empty when
    /// none is declared (the engine then uses the shares recorded in the profile).
    pub mix: BTreeMap<String, f64>,
    pub demand: Demand,
    pub slos: Vec<SloLimit>,
    /// What the translation did, to show the user.
    pub notes: Vec<String>,
}
