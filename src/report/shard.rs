//! The sections of a sharded run's JSON report: `shard` in each shard's report (what
//! `res merge` adds up) and `merge` in the merged one (which shards it holds, which are
//! missing). Plain data; `run/shard.rs` fills the first and `run/merge.rs` the second.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Outcome, SendLag};

/// The version of the `shard` section; a merge refuses any other.
pub const SHARD_FORMAT: u32 = 1;

/// One service's second, with its histograms serialized.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecondHistograms {
    pub t: u64,
    pub service: String,
    pub requests: u64,
    pub offered: u64,
    pub in_flight: u64,
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    /// µs from the intended send time: HDR histogram, V2 deflate encoding, base64.
    pub latency: String,
    /// µs from the actual send, same encoding.
    pub service_time: String,
}

/// The `shard` section of a shard's JSON report: what `res merge` needs beyond the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardSection {
    /// [`SHARD_FORMAT`] of the res that wrote it.
    pub format: u32,
    /// 1-based.
    pub index: u32,
    pub count: u32,
    /// 1-based index of the coordinating shard.
    pub coordinator: u32,
    /// The scenario file's content hash (the profile database's fingerprint).
    pub file_hash: String,
    /// The common start every shard waited for (RFC 3339), if any.
    pub start_at: Option<String>,
    /// When this shard's run clock started: ms since the epoch, fractions kept.
    pub started_ms: f64,
    /// The `--set NAME=VALUE` overrides the shard ran with.
    pub overrides: Vec<(String, String)>,
    /// The windows of the expectations that are not about the whole run: `[from, until)`
    /// in run seconds, in the scenario's order.
    pub scopes: Vec<(Option<u64>, Option<u64>)>,
    /// Forecast peaks by traffic index, for `peak()` in expectations.
    pub peaks: BTreeMap<usize, f64>,
    /// Every second of every service, with its histograms.
    pub seconds: Vec<SecondHistograms>,
}

/// The `merge` section of a merged report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MergeSection {
    /// How many shards the run was split into.
    pub count: u32,
    /// 1-based index of the coordinating shard.
    pub coordinator: u32,
    /// The shards merged, in order.
    pub shards: Vec<ShardSummary>,
    /// The shards whose results are missing, with their share of the load.
    pub missing: Vec<MissingShard>,
    /// Every shard is in and the expectations were judged on the merged measurements.
    pub complete: bool,
    /// Spread of the shards' start times (ms): how close to a common start they began.
    pub start_spread_ms: f64,
}

/// One merged shard.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardSummary {
    pub index: u32,
    pub file: String,
    /// The shard's own outcome (its expectations judged its share only).
    pub outcome: Outcome,
    pub requests: u64,
    /// When the shard's run clock started, ms since the epoch.
    pub started_ms: f64,
    /// How late the shard's requests left after their intended time.
    pub send_lag_ms: Option<SendLag>,
}

/// A shard that is not in the merge.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MissingShard {
    pub index: u32,
    /// Its share of every load, in percent.
    pub share_pct: f64,
    /// The requests (or sessions) its plan called for, as the present shards planned theirs.
    pub planned: f64,
}
