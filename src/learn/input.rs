//! What the learner and the forecaster are asked, in their own words: a log and its format
//! ([`LearnModel`], [`LogFormat`]) and the forecast's horizon, quantile and method
//! ([`ForecastModel`], [`ForecastMethod`]).
//!
//! One definition, used by the checker too: `traffic X { learn from "…" format …  forecast
//! {…} }` has no words of its own beyond these, so the checker builds these types directly
//! from the clauses (`check::model` re-exports them; check may use an engine's types, an
//! engine may not use check's). What the scenario adds — the log's path resolved against
//! the scenario's folder, the forecast used when none is written, `like` chains and `scale` —
//! is translated in `run/learn_input.rs`.

use serde::Serialize;

use crate::units::Duration;

/// `learn from "PATH" format F`: the log as written (relative to the scenario's folder).
#[derive(Debug, Clone)]
pub struct LearnModel {
    pub path: String,
    pub format: LogFormat,
}

/// An access log's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Combined,
    Common,
    NginxJson,
    Alb,
}

/// `forecast { horizon …  quantile …  method … }`.
#[derive(Debug, Clone)]
pub struct ForecastModel {
    pub horizon: Duration,
    pub quantile: f64,
    pub method: ForecastMethod,
}

impl Default for ForecastModel {
    /// The forecast of a traffic that learns from a log but writes no `forecast` clause: a
    /// week ahead, at the upper 95 % bound, the method chosen by backtest.
    fn default() -> Self {
        ForecastModel {
            horizon: Duration::from_secs(7.0 * 86_400.0),
            quantile: 0.95,
            method: ForecastMethod::Auto,
        }
    }
}

/// The forecasting method asked for (`auto` lets the backtest choose).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecastMethod {
    Auto,
    SeasonalNaive,
    SeasonalMean,
    HoltWinters,
    DoubleSeasonal,
}
