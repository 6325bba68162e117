//! The merged report of a sharded run ([`super::merge`] loads and checks the shards): the
//! seconds added up with their histograms, the expectations judged again on the sum, the
//! verdict, and the run recorded once into the profile database.

use std::collections::BTreeMap;
use std::path::Path;

use super::merge::{self, Loaded, MergeSection, ShardSummary};
use super::metrics::{Metrics, ServiceSecond};
use crate::check::{ExpectScopeModel, Options};
use crate::report::{Outcome, RunReport, SendLag, SkippedPart};

/// The merged run, and the report as JSON (with the coordinator's remedies and predictions
/// as it wrote them).
pub struct Merged {
    pub report: RunReport,
    pub json: serde_json::Value,
}

/// Adds the shards' seconds: counts summed, histograms added, per second and service.
fn add_seconds(loaded: &[Loaded]) -> Result<BTreeMap<u64, Vec<ServiceSecond>>, String> {
    let mut out: BTreeMap<u64, BTreeMap<String, ServiceSecond>> = BTreeMap::new();
    for l in loaded {
        for s in &l.report.shard.seconds {
            let second = s
                .to_second()
                .map_err(|e| format!("{}: second {} of {}: {e}", l.name(), s.t, s.service))?;
            let slot = out.entry(s.t).or_default();
            match slot.get_mut(&s.service) {
                None => {
                    slot.insert(s.service.clone(), second);
                }
                Some(m) => {
                    m.requests += second.requests;
                    m.offered += second.offered;
                    m.in_flight += second.in_flight;
                    m.errors += second.errors;
                    for (k, v) in second.errors_by_kind {
                        match m.errors_by_kind.iter_mut().find(|(n, _)| *n == k) {
                            Some((_, c)) => *c += v,
                            None => m.errors_by_kind.push((k, v)),
                        }
                    }
                    let _ = m.latency.add(&second.latency);
                    let _ = m.service_time.add(&second.service_time);
                }
            }
        }
    }
    Ok(out
        .into_iter()
        .map(|(t, m)| (t, m.into_values().collect()))
        .collect())
}

/// Merges checked shards into one run's report. `file` overrides where the scenario file
/// is (default: as the shards named it). `Err` is a tool failure (a histogram that does not
/// decode).
pub fn merge(loaded: &[Loaded], file: Option<&Path>, allow_short: bool) -> Result<Merged, String> {
    let first = loaded.first().ok_or("no shards")?;
    let count = first.report.shard.count;
    let coordinator_index = first.report.shard.coordinator;
    let coordinator = loaded
        .iter()
        .find(|l| l.report.shard.index == coordinator_index);
    // Faults, events and remedies are the coordinator's; without it, the first shard's.
    let lead = coordinator.unwrap_or(first);
    let missing = merge::missing(loaded);
    let seconds = add_seconds(loaded)?;

    let path = file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| first.report.file.clone().into());
    let checked = crate::check::check_path_with(
        &path,
        &Options {
            overrides: first.report.shard.overrides.clone(),
        },
    );
    let source = std::fs::read_to_string(&path).unwrap_or_default();
    let hash = crate::profile::fingerprint::file_hash(source.as_bytes());
    let model = checked.model.as_ref();
    let scenario = model.and_then(|m| m.scenario(&first.report.scenario));
    let mut notes: Vec<String> = Vec::new();
    let (expectations, services, series) = match (model, scenario) {
        (Some(model), Some(scenario)) if hash == first.report.shard.file_hash => {
            let mut scope_of = Vec::new();
            let mut n = 0;
            for e in &scenario.expects {
                scope_of.push(match e.scope {
                    ExpectScopeModel::Whole => None,
                    _ => {
                        n += 1;
                        Some(n - 1)
                    }
                });
            }
            let mut metrics = Metrics::new(model, n);
            for (scope, (from, until)) in metrics.scopes.iter_mut().zip(&lead.report.shard.scopes) {
                scope.from = *from;
                scope.until = *until;
            }
            for (t, secs) in seconds {
                metrics.add_second(t, secs);
            }
            let expectations = super::verdict::evaluate(
                model,
                scenario,
                &metrics,
                &scope_of,
                &lead.report.shard.peaks,
            );
            (Some(expectations), metrics.summaries(), metrics.series)
        }
        _ => {
            notes.push(format!(
                "the expectations were not judged: {} is not the scenario file the shards ran (pass it with --file)",
                path.display()
            ));
            let mut totals: BTreeMap<String, super::metrics::Window> = BTreeMap::new();
            let mut series = Vec::new();
            for (t, secs) in seconds {
                for s in &secs {
                    totals.entry(s.service.clone()).or_default().add(s);
                }
                series.extend(series_points(t, &secs));
            }
            let services = totals
                .iter()
                .map(|(k, w)| (k.clone(), w.summary()))
                .collect();
            (None, services, series)
        }
    };
    let steps = merge::steps(loaded);
    let mut skipped: Vec<SkippedPart> = Vec::new();
    for l in loaded {
        for s in &l.report.skipped {
            if !skipped.iter().any(|k| k.part == s.part && k.name == s.name) {
                skipped.push(s.clone());
            }
        }
    }
    // A shard that aborted or failed as a tool decides; a shard's own expectations judged
    // only its share, so they are judged again here.
    let (mut outcome, mut reason) = (Outcome::Pass, None);
    for l in loaded {
        let o = l.report.outcome;
        if matches!(o, Outcome::Error | Outcome::Aborted) && outcome != Outcome::Error {
            outcome = o;
            reason = Some(format!(
                "shard {}/{count}: {}",
                l.report.shard.index,
                l.report.reason.clone().unwrap_or_else(|| format!("{o:?}"))
            ));
        }
    }
    let expectation_list = expectations.clone().unwrap_or_default();
    (outcome, reason) = super::verdict::verdict(
        outcome,
        reason,
        &expectation_list,
        &steps,
        &skipped,
        allow_short,
    );
    for m in &missing {
        notes.push(format!(
            "shard {}/{count} is missing: its {:.1} % of the load (about {} planned) is not in this run",
            m.index, m.share_pct, m.planned
        ));
    }
    if coordinator.is_none() {
        notes.push(format!(
            "the coordinator (shard {coordinator_index}/{count}) is missing: its faults and remedies are not in this run"
        ));
    }
    let complete = notes.is_empty();
    if !complete && matches!(outcome, Outcome::Pass | Outcome::Fail) {
        let was = reason.take();
        outcome = Outcome::Incomplete;
        reason = Some(
            notes
                .iter()
                .cloned()
                .chain(was)
                .collect::<Vec<_>>()
                .join("; "),
        );
    }
    let starts: Vec<f64> = loaded.iter().map(|l| l.report.shard.started_ms).collect();
    let spread = starts.iter().cloned().fold(f64::MIN, f64::max)
        - starts.iter().cloned().fold(f64::MAX, f64::min);
    let section = MergeSection {
        count,
        coordinator: coordinator_index,
        shards: loaded
            .iter()
            .map(|l| ShardSummary {
                index: l.report.shard.index,
                file: l.name(),
                outcome: l.report.outcome,
                requests: l.report.shard.seconds.iter().map(|s| s.requests).sum(),
                started_ms: l.report.shard.started_ms,
                send_lag_ms: l.report.send_lag_ms.clone(),
            })
            .collect(),
        missing,
        complete,
        start_spread_ms: if starts.len() > 1 { spread } else { 0.0 },
    };
    let mut events = lead.report.events.clone();
    for note in &notes {
        events.push(crate::report::RunEvent {
            at_s: lead.report.duration_s,
            kind: "merge".into(),
            detail: note.clone(),
        });
    }
    let report = RunReport {
        outcome,
        reason,
        duration_s: loaded
            .iter()
            .map(|l| l.report.duration_s)
            .fold(0.0, f64::max),
        services,
        series,
        faults: lead.report.faults.clone(),
        expectations: expectation_list,
        events,
        send_lag_ms: worst_lag(loaded),
        steps,
        learned: serde_json::from_value(lead.raw["learned"].clone()).unwrap_or_default(),
        skipped,
        merge: Some(section),
        ..RunReport::empty(
            &first.report.file,
            &first.report.scenario,
            first.report.seed,
            &lead.report.started_at,
        )
    };
    let json = json_of(&report, lead);
    Ok(Merged { report, json })
}

/// The report as JSON, with the coordinator's remedies and predictions as it wrote them.
pub fn json_of(report: &RunReport, lead: &Loaded) -> serde_json::Value {
    let mut json = serde_json::to_value(report).unwrap_or_default();
    for key in ["remediations", "predictions"] {
        if let Some(v) = lead.raw.get(key) {
            json[key] = v.clone();
        }
    }
    json
}

/// Seconds as series points, when the scenario file is not at hand to build a [`Metrics`].
fn series_points(t: u64, secs: &[ServiceSecond]) -> Vec<crate::report::SeriesPoint> {
    secs.iter()
        .map(|s| {
            let p = super::metrics::Window::percentiles(&s.latency);
            crate::report::SeriesPoint {
                t,
                service: s.service.clone(),
                rps: s.requests as f64,
                offered_rps: s.offered as f64,
                concurrency: s.in_flight,
                p50_ms: p.p50,
                p90_ms: p.p90,
                p99_ms: p.p99,
                p999_ms: p.p999,
                max_ms: p.max,
                errors: s.errors,
                errors_by_kind: s.errors_by_kind.iter().cloned().collect(),
            }
        })
        .collect()
}

/// The latest any shard's requests left: the worst of each figure.
fn worst_lag(loaded: &[Loaded]) -> Option<SendLag> {
    loaded
        .iter()
        .filter_map(|l| l.report.send_lag_ms.clone())
        .reduce(|a, b| SendLag {
            median_ms: a.median_ms.max(b.median_ms),
            p99_ms: a.p99_ms.max(b.p99_ms),
            max_ms: a.max_ms.max(b.max_ms),
        })
}

/// Records the merged run into the profile database at `db`, as one run.
pub fn record(merged: &mut Merged, db: &Path, lead: &Loaded) -> Result<String, String> {
    let r = &merged.report;
    let recorder = crate::profile::Recorder::open(db)
        .map_err(|e| format!("cannot record into {}: {e}", db.display()))?;
    let path = Path::new(&r.file);
    let source = std::fs::read_to_string(path).unwrap_or_default();
    let mut meta =
        crate::profile::RunMeta::new(path, &source, &r.scenario, r.seed, r.started_at.clone());
    meta.file_hash = lead.report.shard.file_hash.clone();
    let run = recorder
        .begin_run(meta)
        .map_err(|e| format!("cannot record into {}: {e}", db.display()))?;
    recorder.record_seconds(run, &r.series);
    let mut sent = crate::profile::Sent::default();
    recorder.record_new(run, &r.faults, &r.events, &mut sent);
    let ended = crate::units::Timestamp(
        (lead.report.shard.started_ms / 1000.0) as i64 + r.duration_s as i64,
    );
    recorder
        .finish(run, r.outcome, ended.to_rfc3339(), &r.expectations)
        .map_err(|e| format!("the profile database could not finish the run: {e}"))?;
    let at = format!("run {run} in {}", db.display());
    merged.report.recorded = Some(at.clone());
    merged.json["recorded"] = serde_json::Value::String(at.clone());
    Ok(at)
}
