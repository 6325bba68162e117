//! `res merge`: the shards' JSON reports added into the report of one run, as if one
//! process had run it.
//!
//! Every shard's report carries its seconds with their raw HDR histograms
//! ([`super::shard::ShardSection`]); the merge adds counts and histograms second by second,
//! so every percentile of the merge is the percentile of the pooled samples. The
//! expectations are judged again on the merged measurements (the scenario file is checked
//! again, and must be the one the shards ran), the steps' planned and achieved rates are
//! summed, and faults, events and remedies come from the coordinator. A missing shard is
//! named with its share, and the run is then incomplete, never a pass. [`shards`] loads and
//! checks the files (same file, seed, scenario and shard count, this version);
//! [`super::merge_report`] builds the merged report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::shard::{ShardSection, SHARD_FORMAT};
pub use crate::report::shard::{MergeSection, MissingShard, ShardSummary};
use crate::report::{FaultEvent, Outcome, RunEvent, SendLag, SkippedPart, StepRate};

/// Why a merge was refused (all exit 2: bad input).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// A file is not a JSON report.
    #[error("{path} is not a res JSON report: {message}")]
    Json { path: String, message: String },
    /// A report without a `shard` section.
    #[error(
        "{0} is not a shard's result: run each shard with `res run --shard I/N --report json=FILE`"
    )]
    NotShard(String),
    /// Written by another version of res.
    #[error("{path} is a shard result from res {version} (shard format {format}); this is res {ours} (format {SHARD_FORMAT}): run every shard with the same res")]
    Version {
        path: String,
        version: String,
        format: u32,
        ours: String,
    },
    /// Two shards disagree on what they ran.
    #[error("the shards are not of one run: {what} differs — {a} has {va}, {b} has {vb}")]
    Mismatch {
        what: &'static str,
        a: String,
        va: String,
        b: String,
        vb: String,
    },
    /// The same shard twice.
    #[error("shard {index}/{count} is given twice: {a} and {b}")]
    Duplicate {
        index: u32,
        count: u32,
        a: String,
        b: String,
    },
    /// Nothing to merge.
    #[error("no shard results given")]
    Empty,
}

/// The part of a shard's report the merge reads.
#[derive(Debug, Clone, Deserialize)]
pub struct ShardReport {
    pub res_version: String,
    pub file: String,
    pub scenario: String,
    pub seed: u64,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub started_at: String,
    pub duration_s: f64,
    pub faults: Vec<FaultEvent>,
    pub events: Vec<RunEvent>,
    pub send_lag_ms: Option<SendLag>,
    pub steps: Vec<StepRate>,
    pub skipped: Vec<SkippedPart>,
    pub shard: ShardSection,
}

/// One loaded shard: where it came from, its report and the report as JSON (for the parts
/// the merge passes on from the coordinator as they are).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub report: ShardReport,
    pub raw: serde_json::Value,
}

impl Loaded {
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// Reads one shard's report, refusing other versions and reports that are not a shard's.
pub fn load(path: &Path) -> Result<Loaded, MergeError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| MergeError::Read {
        path: shown.clone(),
        source,
    })?;
    let raw: serde_json::Value = serde_json::from_str(&text).map_err(|e| MergeError::Json {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    let Some(section) = raw.get("shard").filter(|s| !s.is_null()) else {
        return Err(MergeError::NotShard(shown));
    };
    let version = raw
        .get("res_version")
        .and_then(|v| v.as_str())
        .unwrap_or("unknown")
        .to_string();
    let format = section.get("format").and_then(|f| f.as_u64()).unwrap_or(0) as u32;
    let ours = env!("CARGO_PKG_VERSION");
    if format != SHARD_FORMAT || version != ours {
        return Err(MergeError::Version {
            path: shown,
            version,
            format,
            ours: ours.into(),
        });
    }
    let report: ShardReport =
        serde_json::from_value(raw.clone()).map_err(|e| MergeError::Json {
            path: shown.clone(),
            message: e.to_string(),
        })?;
    Ok(Loaded {
        path: path.to_path_buf(),
        report,
        raw,
    })
}

/// Loads every file and checks that they are shards of one run: the same scenario file
/// (by content), scenario, seed, shard count and coordinator, each shard once. Sorted by
/// index.
pub fn shards(paths: &[PathBuf]) -> Result<Vec<Loaded>, MergeError> {
    let mut loaded = paths
        .iter()
        .map(|p| load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let first = loaded.first().ok_or(MergeError::Empty)?.clone();
    let f = &first.report;
    for l in &loaded[1..] {
        let r = &l.report;
        let checks: [(&'static str, String, String); 5] = [
            (
                "the scenario file",
                f.shard.file_hash.clone(),
                r.shard.file_hash.clone(),
            ),
            ("the scenario", f.scenario.clone(), r.scenario.clone()),
            ("the seed", f.seed.to_string(), r.seed.to_string()),
            (
                "the shard count",
                f.shard.count.to_string(),
                r.shard.count.to_string(),
            ),
            (
                "the coordinator",
                f.shard.coordinator.to_string(),
                r.shard.coordinator.to_string(),
            ),
        ];
        for (what, va, vb) in checks {
            if va != vb {
                let (va, vb) = if what == "the scenario file" {
                    (
                        format!("{} (content {})", f.file, short(&va)),
                        format!("{} (content {})", r.file, short(&vb)),
                    )
                } else {
                    (va, vb)
                };
                return Err(MergeError::Mismatch {
                    what,
                    a: first.name(),
                    va,
                    b: l.name(),
                    vb,
                });
            }
        }
    }
    loaded.sort_by_key(|l| l.report.shard.index);
    for w in loaded.windows(2) {
        if w[0].report.shard.index == w[1].report.shard.index {
            return Err(MergeError::Duplicate {
                index: w[0].report.shard.index,
                count: w[0].report.shard.count,
                a: w[0].name(),
                b: w[1].name(),
            });
        }
    }
    Ok(loaded)
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The shards that are not there, with their share and what their plan called for (the
/// mean of what the present shards planned).
pub fn missing(loaded: &[Loaded]) -> Vec<MissingShard> {
    let Some(first) = loaded.first() else {
        return Vec::new();
    };
    let count = first.report.shard.count;
    let present: Vec<u32> = loaded.iter().map(|l| l.report.shard.index).collect();
    let planned: f64 = loaded
        .iter()
        .map(|l| {
            l.report
                .steps
                .iter()
                .map(|s| s.planned_rps * s.length_s)
                .sum::<f64>()
        })
        .sum::<f64>()
        / loaded.len() as f64;
    (1..=count)
        .filter(|i| !present.contains(i))
        .map(|index| MissingShard {
            index,
            share_pct: 100.0 / f64::from(count),
            planned: (planned * 10.0).round() / 10.0,
        })
        .collect()
}

/// The steps of all shards added up by step: planned and achieved rates are sums.
pub fn steps(loaded: &[Loaded]) -> Vec<StepRate> {
    let mut by_name: BTreeMap<String, StepRate> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for l in loaded {
        for s in &l.report.steps {
            match by_name.get_mut(&s.step) {
                Some(m) => {
                    m.planned_rps += s.planned_rps;
                    m.achieved_rps += s.achieved_rps;
                    m.start_s = m.start_s.min(s.start_s);
                }
                None => {
                    order.push(s.step.clone());
                    by_name.insert(s.step.clone(), s.clone());
                }
            }
        }
    }
    order
        .into_iter()
        .filter_map(|name| by_name.remove(&name))
        .map(|mut s| {
            s.short_pct = if s.planned_rps > 0.0 {
                (1.0 - s.achieved_rps / s.planned_rps) * 100.0
            } else {
                0.0
            };
            let planned_n = s.planned_rps * s.length_s;
            let sent = s.achieved_rps * s.length_s;
            s.short = s.short_pct > super::verdict::SHORT_LIMIT_PCT
                && planned_n - sent > 3.0 * planned_n.sqrt();
            s
        })
        .collect()
}
