//! `res profile salvage`: keeps the history of a damaged database. One bad page must not
//! lose every run, so each run is read on its own, every read guarded, and every run that
//! reads back whole is copied, byte for byte and under its own id, into a new database. The
//! damaged file is only read, never written.
//!
//! Neighbours: `open.rs` refuses a damaged file before anything writes to it and points
//! here; the new file is created by `open.rs` like any other (atomically).

use std::path::{Path, PathBuf};

use redb::{ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableError};
use serde::Serialize;

use super::open::{guarded, open_damaged, open_writer, DEFAULT_BUSY_WAIT};
use super::schema::{
    RunRecord, ABORTS, EVENTS, EXPECTATIONS, FAULTS, HISTOGRAMS, PREDICTIONS, REMEDIATIONS, RUNS,
    SAMPLES,
};
use super::ProfileError;

/// How many ids past the last readable one are tried when the runs table cannot be walked.
const ID_PROBE_SLACK: u64 = 1000;

/// What a salvage kept and what it lost.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SalvageReport {
    pub source: PathBuf,
    pub output: PathBuf,
    /// Runs copied whole.
    pub kept: Vec<u64>,
    /// Runs that could not be read, with why.
    pub lost: Vec<(u64, String)>,
    /// Runs copied without their latency histograms, which could not be read.
    pub without_histograms: Vec<u64>,
    /// Stored predictions (`res predict`) copied; those that could not be read are lost.
    pub predictions_kept: usize,
    pub predictions_lost: usize,
}

/// Rows keyed by (service, second) within a run, raw.
type ServiceRows = Vec<((String, u64), Vec<u8>)>;
/// Rows keyed by sequence number within a run, per table name, raw.
type SeqRows = Vec<(&'static str, Vec<(u32, Vec<u8>)>)>;

/// Every stored row of one run, raw (also what `import.rs` copies).
#[derive(Default)]
pub(super) struct RunRows {
    pub(super) record: Vec<u8>,
    pub(super) samples: ServiceRows,
    pub(super) histograms: ServiceRows,
    pub(super) seq: SeqRows,
}

pub(super) type SeqDef = TableDefinition<'static, (u64, u32), &'static [u8]>;
pub(super) const SEQ_TABLES: [(&str, SeqDef); 5] = [
    ("faults", FAULTS),
    ("events", EVENTS),
    ("aborts", ABORTS),
    ("remediations", REMEDIATIONS),
    ("expectations", EXPECTATIONS),
];

/// The default output: `NAME-salvaged.redb` beside the damaged file.
pub fn default_output(source: &Path) -> PathBuf {
    let stem = source
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "profile".into());
    source.with_file_name(format!("{stem}-salvaged.redb"))
}

/// Copies every readable run of `source` into a new database at `output`, which must not
/// exist yet.
pub fn salvage(source: &Path, output: &Path) -> Result<SalvageReport, ProfileError> {
    if std::fs::symlink_metadata(output).is_ok() {
        return Err(ProfileError::Invalid(format!(
            "{} already exists; salvage writes only to a new file: choose another with -o NEW",
            output.display()
        )));
    }
    let db = open_damaged(source)?;
    let txn = guarded(source, || db.begin_read())?.map_err(|e| ProfileError::Corrupt {
        path: source.to_path_buf(),
        reason: format!("no transaction can be read from it ({e}), so no run can be saved"),
    })?;
    let mut report = SalvageReport {
        source: source.to_path_buf(),
        output: output.to_path_buf(),
        ..SalvageReport::default()
    };
    let mut saved = Vec::new();
    for id in run_ids(source, &txn) {
        match guarded(source, || read_run(&txn, id)) {
            Ok(Ok((rows, histograms_ok))) => {
                if !histograms_ok {
                    report.without_histograms.push(id);
                }
                report.kept.push(id);
                saved.push((id, rows));
            }
            Ok(Err(reason)) => report.lost.push((id, reason)),
            Err(e) => report.lost.push((id, plain(&e))),
        }
    }
    let predictions = read_predictions(source, &txn, &mut report);
    let out = open_writer(output, DEFAULT_BUSY_WAIT)?;
    let write = || -> Result<(), String> {
        let w = out.begin_write().map_err(|e| e.to_string())?;
        {
            let mut runs = w.open_table(RUNS).map_err(|e| e.to_string())?;
            let mut samples = w.open_table(SAMPLES).map_err(|e| e.to_string())?;
            let mut histograms = w.open_table(HISTOGRAMS).map_err(|e| e.to_string())?;
            for (id, rows) in &saved {
                runs.insert(*id, rows.record.as_slice())
                    .map_err(|e| e.to_string())?;
                for ((service, t), v) in &rows.samples {
                    samples
                        .insert((*id, service.as_str(), *t), v.as_slice())
                        .map_err(|e| e.to_string())?;
                }
                for ((service, t), v) in &rows.histograms {
                    histograms
                        .insert((*id, service.as_str(), *t), v.as_slice())
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        for (name, def) in SEQ_TABLES {
            let mut t = w.open_table(def).map_err(|e| e.to_string())?;
            for (id, rows) in &saved {
                for (table, entries) in &rows.seq {
                    if *table != name {
                        continue;
                    }
                    for (k, v) in entries {
                        t.insert((*id, *k), v.as_slice())
                            .map_err(|e| e.to_string())?;
                    }
                }
            }
        }
        {
            let mut t = w.open_table(PREDICTIONS).map_err(|e| e.to_string())?;
            for (id, v) in &predictions {
                t.insert(*id, v.as_slice()).map_err(|e| e.to_string())?;
            }
        }
        w.commit().map_err(|e| e.to_string())
    };
    write().map_err(|e| ProfileError::storage(output, e))?;
    Ok(report)
}

/// Every stored prediction that reads back as JSON, one by one: a damaged page loses the
/// ones on it, not the others.
fn read_predictions(
    source: &Path,
    txn: &ReadTransaction,
    report: &mut SalvageReport,
) -> Vec<(u64, Vec<u8>)> {
    let mut ids = Vec::new();
    let _ = guarded(source, || -> Result<(), String> {
        let t = txn.open_table(PREDICTIONS).map_err(|e| e.to_string())?;
        for entry in t.iter().map_err(|e| e.to_string())? {
            let (k, _) = entry.map_err(|e| e.to_string())?;
            ids.push(k.value());
        }
        Ok(())
    });
    let mut out = Vec::new();
    for id in ids {
        let got = guarded(source, || -> Result<Vec<u8>, String> {
            let t = txn.open_table(PREDICTIONS).map_err(|e| e.to_string())?;
            let v = t
                .get(id)
                .map_err(|e| e.to_string())?
                .ok_or("missing")?
                .value()
                .to_vec();
            serde_json::from_slice::<serde_json::Value>(&v).map_err(|e| e.to_string())?;
            Ok(v)
        });
        match got {
            Ok(Ok(v)) => out.push((id, v)),
            _ => report.predictions_lost += 1,
        }
    }
    report.predictions_kept = out.len();
    out
}

/// The ids of the stored runs: a walk of the runs table, and when the walk breaks on a
/// damaged page, a look-up of each id the walk did not reach (ids are handed out in order).
fn run_ids(source: &Path, txn: &ReadTransaction) -> Vec<u64> {
    let mut ids = Vec::new();
    let walked = guarded(source, || -> Result<(), String> {
        let t = txn.open_table(RUNS).map_err(|e| e.to_string())?;
        for entry in t.iter().map_err(|e| e.to_string())? {
            let (k, _) = entry.map_err(|e| e.to_string())?;
            ids.push(k.value());
        }
        Ok(())
    });
    if matches!(walked, Ok(Ok(()))) {
        return ids;
    }
    let last = ids.iter().copied().max().unwrap_or(0);
    let mut misses = 0;
    let mut id = 1;
    while misses < ID_PROBE_SLACK {
        if !ids.contains(&id) {
            let found = guarded(source, || {
                txn.open_table(RUNS)
                    .ok()
                    .and_then(|t| t.get(id).ok().flatten().map(|_| ()))
                    .is_some()
            })
            .unwrap_or(false);
            if found {
                ids.push(id);
                misses = 0;
            } else if id > last {
                misses += 1;
            }
        }
        id += 1;
    }
    ids.sort_unstable();
    ids
}

/// Reads one run whole; the bool says whether its histograms (optional data) read too.
pub(super) fn read_run(txn: &ReadTransaction, id: u64) -> Result<(RunRows, bool), String> {
    let mut rows = RunRows::default();
    let runs = txn.open_table(RUNS).map_err(|e| format!("runs: {e}"))?;
    let record = runs
        .get(id)
        .map_err(|e| format!("run record: {e}"))?
        .ok_or("run record: missing")?;
    serde_json::from_slice::<RunRecord>(record.value()).map_err(|e| format!("run record: {e}"))?;
    rows.record = record.value().to_vec();
    match txn.open_table(SAMPLES) {
        Ok(t) => {
            for entry in t
                .range((id, "", 0u64)..(id + 1, "", 0u64))
                .map_err(|e| format!("samples: {e}"))?
            {
                let (k, v) = entry.map_err(|e| format!("samples: {e}"))?;
                let (_, service, sec) = k.value();
                super::sample_codec::decode(service, sec, v.value())
                    .map_err(|e| format!("samples: {e}"))?;
                rows.samples
                    .push(((service.to_string(), sec), v.value().to_vec()));
            }
        }
        Err(TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(format!("samples: {e}")),
    }
    for (name, def) in SEQ_TABLES {
        let mut entries = Vec::new();
        match txn.open_table(def) {
            Ok(t) => {
                for entry in t
                    .range((id, 0)..=(id, u32::MAX))
                    .map_err(|e| format!("{name}: {e}"))?
                {
                    let (k, v) = entry.map_err(|e| format!("{name}: {e}"))?;
                    serde_json::from_slice::<serde_json::Value>(v.value())
                        .map_err(|e| format!("{name}: {e}"))?;
                    entries.push((k.value().1, v.value().to_vec()));
                }
            }
            Err(TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(format!("{name}: {e}")),
        }
        rows.seq.push((name, entries));
    }
    let histograms = (|| -> Result<ServiceRows, String> {
        let mut out = Vec::new();
        let t = match txn.open_table(HISTOGRAMS) {
            Ok(t) => t,
            Err(TableError::TableDoesNotExist(_)) => return Ok(out),
            Err(e) => return Err(e.to_string()),
        };
        for entry in t
            .range((id, "", 0u64)..(id + 1, "", 0u64))
            .map_err(|e| e.to_string())?
        {
            let (k, v) = entry.map_err(|e| e.to_string())?;
            let (_, service, sec) = k.value();
            out.push(((service.to_string(), sec), v.value().to_vec()));
        }
        Ok(out)
    })();
    let ok = histograms.is_ok();
    rows.histograms = histograms.unwrap_or_default();
    Ok((rows, ok))
}

fn plain(e: &ProfileError) -> String {
    match e {
        ProfileError::Corrupt { reason, .. } => reason.clone(),
        e => e.to_string(),
    }
}

/// The report as people read it.
pub fn render(r: &SalvageReport) -> String {
    let mut out = format!(
        "salvaged {} of {} runs from {} into {}\n",
        r.kept.len(),
        r.kept.len() + r.lost.len(),
        r.source.display(),
        r.output.display()
    );
    for (id, why) in &r.lost {
        out.push_str(&format!("  lost run {id}: {why}\n"));
    }
    if !r.without_histograms.is_empty() {
        let ids: Vec<String> = r.without_histograms.iter().map(u64::to_string).collect();
        out.push_str(&format!(
            "  kept without latency histograms: runs {}\n",
            ids.join(", ")
        ));
    }
    if r.predictions_kept + r.predictions_lost > 0 {
        out.push_str(&format!(
            "  predictions: {} kept, {} lost\n",
            r.predictions_kept, r.predictions_lost
        ));
    }
    out.push_str(&format!(
        "to use it: keep the damaged file aside, then move the new one into place:\n  mv {0} {0}.damaged && mv {1} {0}\n",
        r.source.display(),
        r.output.display()
    ));
    out
}
