//! The prediction engine: from everything the profile database recorded about a system, fit
//! capacity models per service (the Universal Scalability Law, the knee of latency against
//! rate, errors against rate), hold them against the load to come (a rate, or the forecast
//! hour by hour) and against the scenario's SLOs, and say which service breaks, when, at what
//! load and how sure we are. Every prediction is stored before its outcome exists and scored
//! once a later run measured it.
//!
//! The models are pure functions over numbers ([`usl`], [`kneedle`], [`queue`], [`service`]);
//! [`history`] reads the profile (read-only); [`verdict`] holds the models against a
//! [`input::Request`], which `run::predict_input` builds from a checked scenario; [`store`]
//! and [`score`] keep the predictions; `res predict` lives in `cli::predict`. docs/predict.md explains the
//! models and when not to trust them.

pub mod bootstrap;

pub mod engine;
mod error;
pub mod finite;
pub mod history;
pub mod input;
pub mod kneedle;
pub mod levels;
pub mod queue;
pub mod render;
pub mod score;
pub mod service;
pub mod store;
pub mod usl;
pub mod verdict;

pub use error::PredictError;

/// The version of the models, stored with every prediction so a score can tell models apart
/// (2: levels are plateaus with the p99 of all their requests, and a law whose limit lies
/// below what was served gives way to a lower bound).
pub const MODEL_VERSION: &str = "predict/2";
