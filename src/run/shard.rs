//! A run as one shard of many (`res run --shard I/N`): the role it plays, the common start,
//! and the section of its JSON report that `res merge` ([`super::merge`]) adds up.
//!
//! The load's split is the load engine's ([`crate::load::shard`]); here is what the
//! interpreter needs around it: which shard coordinates (injects the faults, runs the
//! remedies; shard 1 unless `--coordinator K`), when every shard starts (`--start-at`, or a
//! barrier in a shared folder with `--sync DIR`), and every second's raw HDR histograms
//! (serialized, V2 + deflate, base64), so that the merge's percentiles are those of the pooled
//! samples, not an average of percentiles.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use super::metrics::{Metrics, ServiceSecond};
use crate::load::shard::Shard;
pub use crate::report::shard::{SecondHistograms, ShardSection, SHARD_FORMAT};
use crate::units::Timestamp;

/// What this process is in a sharded run.
#[derive(Debug, Clone)]
pub struct ShardRole {
    pub shard: Shard,
    /// 0-based index of the shard that injects faults and runs remedies and predictions.
    pub coordinator: u32,
    /// `--sync DIR`: the shared folder of the start barrier.
    pub sync: Option<PathBuf>,
    /// The scenario file's content hash, for the merge's consistency check.
    pub file_hash: String,
    /// The common start, once known.
    pub start_at: Option<Timestamp>,
    /// When this shard's clock started, ms since the epoch (fractions kept).
    pub started_ms: f64,
    /// `--set` overrides, which the merge's check of the file needs too.
    pub overrides: Vec<(String, String)>,
}

impl ShardRole {
    pub fn is_coordinator(&self) -> bool {
        self.shard.index() == self.coordinator
    }

    /// `shard 2/4`.
    pub fn name(&self) -> String {
        format!("shard {}", self.shard)
    }
}

/// A histogram as base64 of its V2 deflate serialization.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    match V2DeflateSerializer::new().serialize(h, &mut bytes) {
        Ok(_) => base64::engine::general_purpose::STANDARD.encode(bytes),
        Err(_) => String::new(),
    }
}

/// The histogram [`encode`] wrote.
pub fn decode(s: &str) -> Result<Histogram<u64>, String> {
    if s.is_empty() {
        return Ok(super::metrics::histogram());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| format!("a histogram is not base64: {e}"))?;
    let h: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("a histogram does not decode: {e:?}"))?;
    let mut out = super::metrics::histogram();
    out.add(&h)
        .map_err(|e| format!("a histogram does not fit: {e:?}"))?;
    Ok(out)
}

impl SecondHistograms {
    pub fn of(t: u64, s: &ServiceSecond) -> SecondHistograms {
        SecondHistograms {
            t,
            service: s.service.clone(),
            requests: s.requests,
            offered: s.offered,
            in_flight: s.in_flight,
            errors: s.errors,
            errors_by_kind: s.errors_by_kind.iter().cloned().collect(),
            latency: encode(&s.latency),
            service_time: encode(&s.service_time),
        }
    }

    pub fn to_second(&self) -> Result<ServiceSecond, String> {
        Ok(ServiceSecond {
            service: self.service.clone(),
            requests: self.requests,
            offered: self.offered,
            in_flight: self.in_flight,
            errors: self.errors,
            errors_by_kind: self
                .errors_by_kind
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
            latency: decode(&self.latency)?,
            service_time: decode(&self.service_time)?,
        })
    }
}

/// The section of a shard's report, from what its run measured.
pub fn section(role: &ShardRole, metrics: &Metrics, peaks: &BTreeMap<usize, f64>) -> ShardSection {
    ShardSection {
        format: SHARD_FORMAT,
        index: role.shard.index() + 1,
        count: role.shard.count(),
        coordinator: role.coordinator + 1,
        file_hash: role.file_hash.clone(),
        start_at: role.start_at.map(|t| t.to_rfc3339()),
        started_ms: role.started_ms,
        overrides: role.overrides.clone(),
        scopes: metrics.scopes.iter().map(|s| (s.from, s.until)).collect(),
        peaks: peaks.clone(),
        seconds: metrics.kept.clone().unwrap_or_default(),
    }
}

/// The start barrier in a shared folder: every shard writes `ready-I`; the coordinator,
/// once all N are there (or `wait` has passed), writes `start-at` a lead time ahead; every
/// shard reads it. Returns the common start. Bounded by `wait`.
pub fn barrier(
    dir: &Path,
    role: &ShardRole,
    now: impl Fn() -> Timestamp,
    wait: std::time::Duration,
) -> Result<Timestamp, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot use {}: {e}", dir.display()))?;
    let mine = dir.join(format!("ready-{}", role.shard.index() + 1));
    std::fs::write(&mine, b"ready").map_err(|e| format!("cannot write {}: {e}", mine.display()))?;
    let start_file = dir.join("start-at");
    let begun = std::time::Instant::now();
    let poll = std::time::Duration::from_millis(20);
    if role.is_coordinator() {
        let n = role.shard.count();
        loop {
            let ready = (1..=n)
                .filter(|i| dir.join(format!("ready-{i}")).exists())
                .count() as u32;
            if ready == n {
                break;
            }
            if begun.elapsed() >= wait {
                return Err(format!(
                    "only {ready} of {n} shards were ready in {} s (--sync {})",
                    wait.as_secs(),
                    dir.display()
                ));
            }
            std::thread::sleep(poll);
        }
        // Two seconds' lead: every shard polls every 20 ms and then sleeps to the instant.
        let at = Timestamp(now().0 + 2);
        let tmp = dir.join("start-at.tmp");
        std::fs::write(&tmp, at.to_rfc3339())
            .and_then(|()| std::fs::rename(&tmp, &start_file))
            .map_err(|e| format!("cannot write {}: {e}", start_file.display()))?;
        return Ok(at);
    }
    loop {
        if let Ok(text) = std::fs::read_to_string(&start_file) {
            return Timestamp::parse(text.trim())
                .ok_or_else(|| format!("{} holds no timestamp", start_file.display()));
        }
        if begun.elapsed() >= wait {
            return Err(format!(
                "the coordinator gave no start in {} s (--sync {})",
                wait.as_secs(),
                dir.display()
            ));
        }
        std::thread::sleep(poll);
    }
}

/// How long `--sync` waits for every shard (pods can take minutes to be scheduled).
const SYNC_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Waits for the common start (`--sync`, then `--start-at`) and notes when this shard
/// began. `Ok(false)`: a stop signal came first. A start that passed more than a second ago
/// is refused: the shards would not start together.
pub async fn wait_for_start(
    role: &mut ShardRole,
    stop: &mut tokio::sync::watch::Receiver<Option<super::StopReason>>,
) -> Result<bool, String> {
    if let Some(dir) = role.sync.clone() {
        let r = role.clone();
        let at = tokio::task::spawn_blocking(move || {
            barrier(&dir, &r, super::clock::system_now, SYNC_WAIT)
        })
        .await
        .map_err(|e| format!("the start barrier failed: {e}"))??;
        role.start_at = Some(at);
    }
    if let Some(at) = role.start_at {
        let late_ms = super::clock::system_ms() - at.0 as f64 * 1000.0;
        if late_ms > 1000.0 {
            return Err(format!(
                "--start-at {} passed {:.1} s ago: this shard would not start with the others",
                at.to_rfc3339(),
                late_ms / 1000.0
            ));
        }
        let wait = super::clock::until_wall(at);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return Ok(false),
        }
    }
    role.started_ms = super::clock::system_ms();
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_round_trip_exactly() {
        let mut h = super::super::metrics::histogram();
        for v in [1u64, 250, 999, 12_345, 7_000_000] {
            h.record(v).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back.len(), h.len());
        for q in [0.5, 0.9, 0.99, 1.0] {
            assert_eq!(back.value_at_quantile(q), h.value_at_quantile(q));
        }
    }
}
