//! Schema migrations: each step rewrites the tables of one version into the next, inside the
//! write transaction that opened the file, so a migration either happens whole or not at all.
//!
//! Version 1 → 2: samples were keyed time-major, (run, second, service); they are re-keyed
//! service-major, (run, service, second), so one service's curve is a single range scan.
//! Runs gain `complete` (true when the run had ended) and `writer_pid`.
//!
//! Version 2 → 3: the `predictions` table of the prediction engine is added (empty); nothing
//! else changes.
//!
//! Version 3 → 4: the `levels` table is added, and every complete run's load levels are
//! derived from its recorded seconds and stored in it (`levels_table.rs`), exactly as a run
//! finishing today stores them; the seconds themselves stay.
//!
//! Version 4 → 5: levels are cut from plateaus of consecutive seconds and carry the merged
//! latency quantiles (codec 2 of `levels_table.rs`): every stored row is dropped and every
//! complete run's levels derived again from its seconds.

use redb::{ReadableTable, TableHandle, WriteTransaction};

use super::schema::{
    self, v1, RunRecord, ABORTS, EVENTS, EXPECTATIONS, FAULTS, HISTOGRAMS, META, PREDICTIONS,
    PROFILE, REMEDIATIONS, RUNS, SAMPLES, SCHEMA_VERSION, VERSION_KEY,
};
use super::{levels_table, schema::LEVELS};

/// Creates every table of the current schema in an empty database and stamps its version.
pub fn create_tables(txn: &WriteTransaction) -> Result<(), String> {
    ensure_tables(txn)?;
    set_version(txn, SCHEMA_VERSION)
}

/// One migration step: rewrites the tables of one version into the next, inside the open
/// write transaction.
type Step = fn(&WriteTransaction) -> Result<(), String>;

/// The steps, in order: `(from, step)` turns version `from` into `from + 1`. To change the
/// schema: bump `SCHEMA_VERSION`, append the step here (a table that is only added needs no
/// step of its own: use `tables_only`, as `ensure_tables` creates it), and add a test that writes the old layout by hand and opens
/// it (see `migrates_a_version_1_file` in tests/it/profile.rs).
const STEPS: &[(u64, Step)] = &[
    (1, v1_to_v2),
    // Version 3 added the predictions table, which `ensure_tables` creates.
    (2, tables_only),
    (3, v3_to_v4),
    (4, v4_to_v5),
];

/// Migrates a database at version `from` to the current one, step by step. Creates any table
/// a version added, so an old file ends with the full current layout.
pub fn upgrade(txn: &WriteTransaction, from: u64) -> Result<(), String> {
    let mut v = from;
    while v < SCHEMA_VERSION {
        match STEPS.iter().find(|(f, _)| *f == v) {
            Some((_, step)) => step(txn)?,
            None => return Err(format!("no migration from schema version {v}")),
        }
        v += 1;
        set_version(txn, v)?;
    }
    ensure_tables(txn)
}

/// The step of a version that only added tables, which `ensure_tables` creates.
fn tables_only(_: &WriteTransaction) -> Result<(), String> {
    Ok(())
}

fn set_version(txn: &WriteTransaction, v: u64) -> Result<(), String> {
    let mut meta = txn.open_table(META).map_err(|e| e.to_string())?;
    meta.insert(VERSION_KEY, v).map_err(|e| e.to_string())?;
    Ok(())
}

/// Opens (so creates) every table of the current schema; a new table is added here.
fn ensure_tables(txn: &WriteTransaction) -> Result<(), String> {
    let e = |e: redb::TableError| e.to_string();
    txn.open_table(META).map_err(e)?;
    txn.open_table(RUNS).map_err(e)?;
    txn.open_table(SAMPLES).map_err(e)?;
    txn.open_table(HISTOGRAMS).map_err(e)?;
    txn.open_table(FAULTS).map_err(e)?;
    txn.open_table(EVENTS).map_err(e)?;
    txn.open_table(ABORTS).map_err(e)?;
    txn.open_table(REMEDIATIONS).map_err(e)?;
    txn.open_table(EXPECTATIONS).map_err(e)?;
    txn.open_table(PROFILE).map_err(e)?;
    txn.open_table(PREDICTIONS).map_err(e)?;
    txn.open_table(LEVELS).map_err(e)?;
    Ok(())
}

/// Stores the load levels of every complete run (an unfinished one is reduced when read, as
/// its seconds may still grow).
fn v3_to_v4(txn: &WriteTransaction) -> Result<(), String> {
    txn.open_table(LEVELS).map_err(|e| e.to_string())?;
    let mut complete = Vec::new();
    {
        let runs = txn.open_table(RUNS).map_err(|e| e.to_string())?;
        for entry in runs.iter().map_err(|e| e.to_string())? {
            let (k, v) = entry.map_err(|e| e.to_string())?;
            let r: RunRecord =
                serde_json::from_slice(v.value()).map_err(|e| format!("run {}: {e}", k.value()))?;
            if r.complete {
                complete.push(r.id);
            }
        }
    }
    for run in complete {
        levels_table::derive_and_store(txn, run)?;
    }
    Ok(())
}

/// Derives every complete run's levels again, in the layout of version 5.
fn v4_to_v5(txn: &WriteTransaction) -> Result<(), String> {
    txn.delete_table(LEVELS).map_err(|e| e.to_string())?;
    v3_to_v4(txn)
}

fn v1_to_v2(txn: &WriteTransaction) -> Result<(), String> {
    let has_samples = txn
        .list_tables()
        .map_err(|e| e.to_string())?
        .any(|t| t.name() == v1::SAMPLES.name());
    if has_samples {
        let mut rows = Vec::new();
        {
            let old = txn.open_table(v1::SAMPLES).map_err(|e| e.to_string())?;
            for entry in old.iter().map_err(|e| e.to_string())? {
                let (k, v) = entry.map_err(|e| e.to_string())?;
                let (run, t, service) = k.value();
                rows.push((run, service.to_string(), t, v.value().to_vec()));
            }
        }
        txn.delete_table(v1::SAMPLES).map_err(|e| e.to_string())?;
        let mut new = txn.open_table(schema::SAMPLES).map_err(|e| e.to_string())?;
        for (run, service, t, bytes) in rows {
            new.insert((run, service.as_str(), t), bytes.as_slice())
                .map_err(|e| e.to_string())?;
        }
    }
    let mut runs = txn.open_table(RUNS).map_err(|e| e.to_string())?;
    let mut rewritten = Vec::new();
    for entry in runs.iter().map_err(|e| e.to_string())? {
        let (k, v) = entry.map_err(|e| e.to_string())?;
        let old: v1::RunRecordV1 =
            serde_json::from_slice(v.value()).map_err(|e| format!("run {}: {e}", k.value()))?;
        rewritten.push(RunRecord {
            id: old.id,
            scenario: old.scenario,
            file: old.file,
            file_hash: old.file_hash,
            seed: old.seed,
            started_at: old.started_at,
            complete: old.ended_at.is_some(),
            outcome: old
                .outcome
                .or_else(|| old.ended_at.is_none().then(|| "incomplete".to_string())),
            ended_at: old.ended_at,
            git_commit: old.git_commit,
            writer_pid: None,
            res_version: String::new(),
            live: false,
        });
    }
    for r in rewritten {
        let bytes = serde_json::to_vec(&r).map_err(|e| e.to_string())?;
        runs.insert(r.id, bytes.as_slice())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
