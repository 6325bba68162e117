//! `res profile import OTHER.redb`: merges the runs of another profile database into this
//! one, so a history kept on ephemeral CI machines (one database per job, kept as an
//! artifact or cache) adds up to one profile.
//!
//! A run is identified across databases by its fingerprint — scenario, file hash, seed and
//! start time ([`fingerprint`]) — not by its id, which each database hands out on its own. A
//! run whose fingerprint is already here is skipped, so importing the same file twice changes
//! nothing. Imported runs get the next free ids, in the order of their start. Stored
//! predictions come along when every run they were fitted on is here (their run ids
//! rewritten), once. Runs still being recorded are left out. Each imported run's levels are
//! derived again from its copied seconds under its new id. The other file is only read.
//!
//! The rows are read with salvage's reader (`salvage.rs`), which checks every row decodes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use redb::{ReadableDatabase, ReadableTable};
use serde::Serialize;

use super::open::{open_writer, DEFAULT_BUSY_WAIT};
use super::salvage::{read_run, RunRows, SEQ_TABLES};
use super::schema::{RunRecord, HISTOGRAMS, PREDICTIONS, RUNS, SAMPLES};
use super::{ProfileError, ProfileStore};

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub source: PathBuf,
    pub target: PathBuf,
    /// (id in the source, new id here) of each run copied.
    pub imported: Vec<(u64, u64)>,
    /// Source ids of runs already here (same fingerprint).
    pub already_present: Vec<u64>,
    /// Source ids of runs left out, with why (still recording, unreadable).
    pub left_out: Vec<(u64, String)>,
    pub predictions_imported: usize,
}

/// The identity of a run across databases.
pub fn fingerprint(r: &RunRecord) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}",
        r.scenario, r.file_hash, r.seed, r.started_at
    )
}

/// Merges the runs of `source` into `target` (created when missing).
pub fn import(target: &Path, source: &Path) -> Result<ImportReport, ProfileError> {
    if let (Ok(a), Ok(b)) = (target.canonicalize(), source.canonicalize()) {
        if a == b {
            return Err(ProfileError::Invalid(format!(
                "{} is the database being imported into: name another file",
                source.display()
            )));
        }
    }
    let from = ProfileStore::open(source)?;
    let runs = from.read(super::query::runs)?;
    let mut report = ImportReport {
        source: source.to_path_buf(),
        target: target.to_path_buf(),
        ..ImportReport::default()
    };
    let db = open_writer(target, DEFAULT_BUSY_WAIT)?;
    let err = |e: &dyn std::fmt::Display| ProfileError::storage(target, e.to_string());
    // Fingerprint → id of the runs already here.
    let here: BTreeMap<String, u64> = {
        let txn = db.begin_read().map_err(|e| err(&e))?;
        super::query::runs(&txn)
            .map_err(|e| err(&e))?
            .iter()
            .map(|r| (fingerprint(r), r.id))
            .collect()
    };
    let mut todo: Vec<RunRecord> = Vec::new();
    // Source id → id here, for the predictions.
    let mut id_map: BTreeMap<u64, u64> = BTreeMap::new();
    for r in runs {
        if let Some(&id) = here.get(&fingerprint(&r)) {
            report.already_present.push(r.id);
            id_map.insert(r.id, id);
        } else if r.outcome.is_none() && r.writer_pid.is_some_and(super::alive) {
            report
                .left_out
                .push((r.id, "still being recorded".to_string()));
        } else {
            todo.push(r);
        }
    }
    todo.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    let mut copies: Vec<(RunRecord, RunRows)> = Vec::new();
    for r in todo {
        match from.read(|txn| read_run(txn, r.id)) {
            Ok((rows, _)) => copies.push((r, rows)),
            Err(e) => report.left_out.push((r.id, e.to_string())),
        }
    }
    let predictions = from.read(read_predictions)?;
    let txn = db.begin_write().map_err(|e| err(&e))?;
    {
        let mut runs_t = txn.open_table(RUNS).map_err(|e| err(&e))?;
        let mut samples = txn.open_table(SAMPLES).map_err(|e| err(&e))?;
        let mut histograms = txn.open_table(HISTOGRAMS).map_err(|e| err(&e))?;
        let first = runs_t
            .last()
            .map_err(|e| err(&e))?
            .map_or(1, |(k, _)| k.value() + 1);
        for ((mut rec, rows), next) in copies
            .iter()
            .map(|(r, rows)| (r.clone(), rows))
            .zip(first..)
        {
            let old = rec.id;
            rec.id = next;
            rec.writer_pid = None;
            let bytes = serde_json::to_vec(&rec).map_err(|e| err(&e))?;
            runs_t.insert(next, bytes.as_slice()).map_err(|e| err(&e))?;
            for ((service, t), v) in &rows.samples {
                samples
                    .insert((next, service.as_str(), *t), v.as_slice())
                    .map_err(|e| err(&e))?;
            }
            for ((service, t), v) in &rows.histograms {
                histograms
                    .insert((next, service.as_str(), *t), v.as_slice())
                    .map_err(|e| err(&e))?;
            }
            report.imported.push((old, next));
            id_map.insert(old, next);
        }
    }
    for (name, def) in SEQ_TABLES {
        let mut t = txn.open_table(def).map_err(|e| err(&e))?;
        for ((_, rows), (_, new)) in copies.iter().zip(&report.imported) {
            for (table, entries) in &rows.seq {
                if *table == name {
                    for (k, v) in entries {
                        t.insert((*new, *k), v.as_slice()).map_err(|e| err(&e))?;
                    }
                }
            }
        }
    }
    // Each imported run's levels (what prediction reads instead of its seconds), derived here
    // from the rows just copied: the source's rows carry the source's run ids, and a run
    // recorded before levels were stored gains them.
    for (_, new) in &report.imported {
        super::levels_table::derive_and_store(&txn, *new).map_err(|e| err(&e))?;
    }
    {
        let mut t = txn.open_table(PREDICTIONS).map_err(|e| err(&e))?;
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for entry in t.iter().map_err(|e| err(&e))? {
            let (_, v) = entry.map_err(|e| err(&e))?;
            if let Ok(p) = serde_json::from_slice::<serde_json::Value>(v.value()) {
                seen.insert(identity(p));
            }
        }
        let mut next = t
            .last()
            .map_err(|e| err(&e))?
            .map_or(1, |(k, _)| k.value() + 1);
        for mut p in predictions {
            let Some(runs) = p.get("runs").and_then(|r| r.as_array()).map(|r| {
                r.iter()
                    .map(|id| id.as_u64().and_then(|id| id_map.get(&id).copied()))
                    .collect::<Option<Vec<u64>>>()
            }) else {
                continue;
            };
            let Some(runs) = runs else { continue };
            p["runs"] = serde_json::json!(runs);
            if !seen.insert(identity(p.clone())) {
                continue;
            }
            p["id"] = serde_json::json!(next);
            let bytes = serde_json::to_vec(&p).map_err(|e| err(&e))?;
            t.insert(next, bytes.as_slice()).map_err(|e| err(&e))?;
            next += 1;
            report.predictions_imported += 1;
        }
    }
    txn.commit().map_err(|e| err(&e))?;
    if !report.imported.is_empty() {
        super::writer::refresh_stored_profile(&db).map_err(|e| err(&e))?;
    }
    Ok(report)
}

/// A prediction without its id: what makes two stored predictions the same.
fn identity(mut p: serde_json::Value) -> String {
    if let Some(o) = p.as_object_mut() {
        o.remove("id");
    }
    p.to_string()
}

/// The stored predictions as JSON values, so fields this build does not know travel unchanged.
fn read_predictions(txn: &redb::ReadTransaction) -> Result<Vec<serde_json::Value>, String> {
    super::query::json_rows(txn, PREDICTIONS, "prediction")
}

/// The report as people read it.
pub fn render(r: &ImportReport) -> String {
    let mut out = format!(
        "imported {} run(s) from {} into {}; {} already here",
        r.imported.len(),
        r.source.display(),
        r.target.display(),
        r.already_present.len()
    );
    if r.predictions_imported > 0 {
        out.push_str(&format!(", {} prediction(s)", r.predictions_imported));
    }
    out.push('\n');
    for (old, new) in &r.imported {
        out.push_str(&format!("  run {old} → run {new}\n"));
    }
    for (id, why) in &r.left_out {
        out.push_str(&format!("  left out run {id}: {why}\n"));
    }
    out
}
