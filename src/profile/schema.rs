//! The tables of the profile database and the records stored in them.
//!
//! The schema carries a version in the `meta` table. A file with an older version is migrated
//! when it is opened (see `migrate.rs`); one with a newer version is refused, never rewritten.
//! Records other than samples are JSON, so a field added later reads back as its default
//! without a migration; samples, which are most of the file, use the compact codec in
//! `sample_codec.rs`.

use redb::TableDefinition;
use serde::{Deserialize, Serialize};

/// The schema this build writes. Bump it, and add a step to `migrate.rs`, whenever a table's
/// key or value layout changes in a way old readers would misread.
pub const SCHEMA_VERSION: u64 = 5;

/// The key in `meta` that holds the schema version.
pub const VERSION_KEY: &str = "schema_version";

/// `schema_version` and other small settings.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Run id → [`RunRecord`] as JSON.
pub const RUNS: TableDefinition<u64, &[u8]> = TableDefinition::new("runs");
/// (run, service, second) → a sample (see `sample_codec.rs`). Service-major, so one
/// service's curve is one range scan.
pub const SAMPLES: TableDefinition<(u64, &str, u64), &[u8]> = TableDefinition::new("samples");
/// (run, service, second) → a serialized HDR latency histogram (V2 + deflate), when the
/// interpreter hands one over.
pub const HISTOGRAMS: TableDefinition<(u64, &str, u64), &[u8]> = TableDefinition::new("histograms");
/// (run, sequence) → [`FaultRecord`] as JSON.
pub const FAULTS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("faults");
/// (run, sequence) → [`EventRecord`] as JSON: every event of the run, in order.
pub const EVENTS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("events");
/// (run, sequence) → [`EventRecord`] as JSON: abort conditions that fired and stop reasons.
pub const ABORTS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("aborts");
/// (run, sequence) → [`RemediationRecord`] as JSON.
pub const REMEDIATIONS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("remediations");
/// (run, sequence) → [`ExpectationRecord`] as JSON.
pub const EXPECTATIONS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("expectations");
/// Service → the derived profile of that service as JSON, refreshed when a run finishes.
pub const PROFILE: TableDefinition<&str, &[u8]> = TableDefinition::new("profile");

// --- Added by the prediction engine (schema version 3): its records live in
// `predict::store`; the table is declared here so that creation and migration stay in one place.
/// Prediction id → a stored prediction (`predict::store::StoredPrediction`) as JSON.
pub const PREDICTIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("predictions");

// --- Added in schema version 4; its rows' layout changed in version 5 (levels of plateaus).
/// (run, service) → the run's load levels of that service (`levels.rs`), in the fixed-width
/// codec of `levels_table.rs`; written when the run finishes, so the prediction engine reads a
/// few rows per service instead of every recorded second.
pub const LEVELS: TableDefinition<(u64, &str), &[u8]> = TableDefinition::new("levels");

/// One run, from `begin_run` to `finish` (or to the crash that interrupted it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: u64,
    pub scenario: String,
    /// The scenario file as given on the command line.
    pub file: String,
    /// FNV-1a 64 of the file's text, hex.
    pub file_hash: String,
    pub seed: u64,
    /// RFC 3339, UTC.
    pub started_at: String,
    #[serde(default)]
    pub ended_at: Option<String>,
    /// pass, fail, aborted, error; `incomplete` when the writer died before `finish`; absent
    /// while the run is going.
    #[serde(default)]
    pub outcome: Option<String>,
    /// Whether `finish` was recorded.
    #[serde(default)]
    pub complete: bool,
    #[serde(default)]
    pub git_commit: Option<String>,
    /// The process that recorded the run, to tell a running run from a dead one.
    #[serde(default)]
    pub writer_pid: Option<i32>,
    #[serde(default)]
    pub res_version: String,
    /// Whether faults and events were committed as they happened (false for runs recorded
    /// before that, which stored them only at `finish`). Decides how much of an unfinished
    /// run is known; see `query::run_obs`.
    #[serde(default)]
    pub live: bool,
}

/// A fault injected, reverted, or that failed to inject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRecord {
    pub at_s: f64,
    /// The fault's declared name.
    pub fault: String,
    /// The key the profile groups by: an effect kind (`latency`, `kill`, …) when the event
    /// names one, else the fault's name. See `fault_kind`.
    pub kind: String,
    /// inject, revert, failed (or revert_failed, skipped).
    pub action: String,
    pub target: String,
    /// The parameters as the chaos engine reported them.
    pub params: String,
}

/// Something that happened during the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub at_s: f64,
    pub kind: String,
    pub detail: String,
}

/// A remediation the run attempted and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemediationRecord {
    pub at_s: f64,
    /// What was done, e.g. `remedy restart_payments`.
    pub action: String,
    /// ok, failed, skipped … when known.
    #[serde(default)]
    pub outcome: Option<String>,
    pub detail: String,
}

/// An expectation's verdict at the end of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectationRecord {
    pub text: String,
    pub scope: String,
    pub passed: bool,
    pub observed: String,
}

/// The effect kinds of the language (`check::Effect::kind`, `chaos::Effect::kind`), which a fault event may name.
const EFFECT_KINDS: &[&str] = &[
    "latency",
    "errors",
    "reset",
    "blackhole",
    "timeout",
    "bandwidth",
    "slow_close",
    "slice",
    "kill",
    "pause",
    "restart",
    "cpu",
    "memory",
    "disk",
    "fds",
    "loss",
];

/// The profile's grouping key for a fault event: `kind=NAME` in the detail, else the detail's
/// first word when it is an effect kind, else the fault's declared name.
pub fn fault_kind(fault: &str, detail: &str) -> String {
    if let Some(k) = detail
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .find_map(|w| w.strip_prefix("kind="))
        .filter(|k| !k.is_empty())
    {
        return k.to_string();
    }
    let first: String = detail
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if EFFECT_KINDS.contains(&first.as_str()) {
        return first;
    }
    fault.to_string()
}

/// The schema version 1 layout, kept for the migration and its test.
pub mod v1 {
    use redb::TableDefinition;

    /// Version 1 keyed samples time-major: (run, second, service).
    pub const SAMPLES: TableDefinition<(u64, u64, &str), &[u8]> = TableDefinition::new("samples");

    /// A version 1 run: no completion flag (a run was complete when it had an end) and no
    /// writer pid.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
    pub struct RunRecordV1 {
        pub id: u64,
        pub scenario: String,
        pub file: String,
        pub file_hash: String,
        pub seed: u64,
        pub started_at: String,
        #[serde(default)]
        pub ended_at: Option<String>,
        #[serde(default)]
        pub outcome: Option<String>,
        #[serde(default)]
        pub git_commit: Option<String>,
    }
}

#[cfg(test)]
mod tests {
    use super::fault_kind;

    #[test]
    fn fault_kinds() {
        assert_eq!(
            fault_kind("slow_db", "latency 250ms on shop.payments"),
            "latency"
        );
        assert_eq!(
            fault_kind("slow_db", "proxy 127.0.0.1:9 kind=errors"),
            "errors"
        );
        assert_eq!(fault_kind("slow_db", "via proxy"), "slow_db");
    }
}
