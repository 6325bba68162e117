//! Report: what a run did and found, for people (a terminal summary, an HTML page with
//! charts, Markdown for a pull request) and for machines (JSON described by
//! docs/report.schema.json, and JUnit XML for CI test tabs). docs/reports.md shows them.
//!
//! The interpreter fills a [`RunReport`]; nothing here measures or decides anything.

pub mod chart;
pub mod forecast_plot;
pub mod gantt;
pub mod html;
mod junit;
pub mod markdown;
pub mod profile_page;
pub mod shard;
mod summary;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use gantt::PlanRow;
pub use html::to_html;
pub use junit::to_junit;
pub use markdown::{to_markdown, Previous};
pub use summary::to_summary;

/// How a run ended; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Every expectation held.
    Pass,
    /// An expectation failed, or a load step sent more than 10 % below its plan.
    Fail,
    /// Every expectation held, but a part of the scenario was skipped or only advised (a
    /// `predict` or `remediate` this build does not run, a fault without a chaos engine):
    /// not a pass.
    Incomplete,
    /// An `abort` condition or a signal stopped the run.
    Aborted,
    /// The tool itself failed (a step panicked, the target could not be set up).
    Error,
}

impl Outcome {
    /// The documented exit code: 0 pass, 1 fail or incomplete, 3 aborted, 4 tool failure.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Pass => 0,
            Outcome::Fail | Outcome::Incomplete => 1,
            Outcome::Aborted => 3,
            Outcome::Error => 4,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ServiceSummary {
    pub requests: u64,
    pub errors: u64,
    /// Errors by kind: status, timeout, refused, reset, dns, tls, body_too_large, other.
    pub errors_by_kind: BTreeMap<String, u64>,
    /// Completed requests per second over the time the service was loaded.
    pub rps: f64,
    /// Latency from the intended send time (what a user waited), in milliseconds.
    pub latency_ms: Percentiles,
    /// Latency from the actual send (what the service took), in milliseconds.
    pub service_time_ms: Percentiles,
}

/// One second of one service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeriesPoint {
    /// Seconds since the run started.
    pub t: u64,
    pub service: String,
    /// Completed requests in this second.
    pub rps: f64,
    /// Requests the schedule meant to send in this second (open models; else equal to rps).
    pub offered_rps: f64,
    /// Requests in flight at the end of the second.
    pub concurrency: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
}

/// A fault injected or reverted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultEvent {
    pub at_s: f64,
    pub fault: String,
    /// inject, revert, or failed.
    pub action: String,
    pub target: String,
    pub detail: String,
}

impl FaultEvent {
    pub fn new(
        at_s: f64,
        fault: impl Into<String>,
        action: &str,
        target: impl Into<String>,
        detail: impl Into<String>,
    ) -> FaultEvent {
        FaultEvent {
            at_s,
            fault: fault.into(),
            action: action.into(),
            target: target.into(),
            detail: detail.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExpectationResult {
    pub text: String,
    /// `whole run`, `during main`, `after chaos`.
    pub scope: String,
    pub passed: bool,
    /// What was measured, e.g. `p99(shop.checkout) = 212ms; error_rate(shop) = 0.3%`.
    pub observed: String,
}

/// Something that happened, in order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunEvent {
    pub at_s: f64,
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SendLag {
    pub median_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// One load step: the rate its plan called for against the rate it sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepRate {
    pub step: String,
    pub traffic: String,
    /// `requests` (open and learned models) or `sessions` (the session model's rate is
    /// sessions started).
    pub unit: String,
    /// Seconds since the run started, and how long the step was planned to send.
    pub start_s: f64,
    pub length_s: f64,
    /// The planned mean rate over the step (the schedule's area over its length, times the
    /// step's share), per second.
    pub planned_rps: f64,
    /// What the generator sent over the time the step ran, per second.
    pub achieved_rps: f64,
    /// How far below the plan the step stayed, in percent (negative: above it).
    pub short_pct: f64,
    /// More than 10 % short.
    pub short: bool,
}

/// A learned traffic: what its log gave and what was forecast.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LearnedTraffic {
    pub traffic: String,
    pub log: String,
    /// Log lines read, and requests parsed from them.
    pub lines: u64,
    pub requests: u64,
    pub endpoints: usize,
    pub sessions: u64,
    /// The forecast peak (upper bound, times the traffic's scale), per second, and when
    /// (RFC 3339).
    pub peak_rps: f64,
    pub peak_at: String,
}

/// A part of the scenario that did not run as written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SkippedPart {
    /// `predict`, `remediate`, `fault`, `record`.
    pub part: String,
    pub name: String,
    /// `skipped` (did not run) or `advised` (only said what it would do).
    pub how: String,
    pub reason: String,
}

/// The whole run, as `--report json=FILE` writes it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunReport {
    pub res_version: String,
    pub file: String,
    pub scenario: String,
    pub seed: u64,
    pub outcome: Outcome,
    /// Why the run was aborted or failed, in words.
    pub reason: Option<String>,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_s: f64,
    /// Keyed `system.service`.
    pub services: BTreeMap<String, ServiceSummary>,
    pub series: Vec<SeriesPoint>,
    pub faults: Vec<FaultEvent>,
    pub expectations: Vec<ExpectationResult>,
    pub events: Vec<RunEvent>,
    pub send_lag_ms: Option<SendLag>,
    /// Planned against achieved rate, per load step.
    pub steps: Vec<StepRate>,
    /// What each learned traffic learned and forecast.
    pub learned: Vec<LearnedTraffic>,
    /// Parts that were skipped or only advised; when any, the outcome is at best
    /// `incomplete`.
    pub skipped: Vec<SkippedPart>,
    /// Where the run was recorded (`run 12 in .res/profile.redb`), `None` with `--no-record`.
    pub recorded: Option<String>,
    /// Every remediation decision of the run (`then remediate with …`), in order.
    pub remediations: Vec<crate::remedy::ReportEntry>,
    /// What the scenario's `predict` statement predicted after the run (empty without one).
    pub predictions: Vec<crate::predict::engine::Outcome>,
    /// A shard's run (`res run --shard I/N`): what `res merge` adds up. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<shard::ShardSection>,
    /// A merged run (`res merge`): which shards it holds and which are missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge: Option<shard::MergeSection>,
    /// `res run --load-scale X`: every load ran at X times its plan (the steps' planned rates
    /// are the scaled ones). Absent when the loads ran as planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_scale: Option<f64>,
}

impl RunReport {
    /// A passing report of this build with nothing measured yet: the start of the merge's
    /// report, of test fixtures and of benchmarks, which then fill in what they have.
    pub fn empty(file: &str, scenario: &str, seed: u64, started_at: &str) -> Self {
        Self {
            res_version: env!("CARGO_PKG_VERSION").to_string(),
            file: file.into(),
            scenario: scenario.into(),
            seed,
            outcome: Outcome::Pass,
            reason: None,
            started_at: started_at.into(),
            duration_s: 0.0,
            services: BTreeMap::new(),
            series: Vec::new(),
            faults: Vec::new(),
            expectations: Vec::new(),
            events: Vec::new(),
            send_lag_ms: None,
            steps: Vec::new(),
            learned: Vec::new(),
            skipped: Vec::new(),
            recorded: None,
            remediations: Vec::new(),
            predictions: Vec::new(),
            shard: None,
            merge: None,
            load_scale: None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}
