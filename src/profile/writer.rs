//! The recorder's background thread: the only code that writes to the database during a run.
//!
//! It gathers what the channel delivers into a batch and commits the batch in one write
//! transaction when the commit interval has passed or the batch is full; `begin_run`,
//! `flush` and `finish` commit at once and reply. The first failed commit (a full disk, an
//! I/O error) ends recording: the failure is published for `Recorder::health`, the database
//! is closed, and everything later is dropped, so the committed data stays as it was.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::Instant;

use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

use super::recorder::{RecorderOptions, Reply, RunId, RunMeta, Status};
use super::schema::{
    EventRecord, ExpectationRecord, FaultRecord, RemediationRecord, RunRecord, ABORTS, EVENTS,
    EXPECTATIONS, FAULTS, HISTOGRAMS, PROFILE, REMEDIATIONS, RUNS, SAMPLES,
};
use super::{derive, query, sample_codec, ProfileError};
use crate::report::{ExpectationResult, RunEvent, SeriesPoint};

/// What the recorder sends its thread.
pub(crate) enum Msg {
    Begin(RunMeta, i32, Reply<RunId>),
    Seconds(RunId, Vec<SeriesPoint>),
    Histogram(RunId, String, u64, Histogram<u64>),
    Fault(RunId, FaultRecord),
    Event(RunId, RunEvent),
    Finish {
        run: RunId,
        outcome: String,
        ended_at: String,
        expectations: Vec<ExpectationResult>,
        reply: Reply<()>,
    },
    Flush(Reply<()>),
    /// A record of another engine's table (id → bytes), committed at once: `key` None takes
    /// the table's next id, and `make` renders the record with it.
    Keyed {
        table: &'static str,
        key: Option<u64>,
        make: Box<dyn FnOnce(u64) -> Vec<u8> + Send>,
        reply: Reply<u64>,
    },
}

#[derive(Default)]
struct Batch {
    seconds: Vec<(RunId, Vec<SeriesPoint>)>,
    histograms: Vec<(RunId, String, u64, Histogram<u64>)>,
    faults: Vec<(RunId, FaultRecord)>,
    events: Vec<(RunId, RunEvent)>,
    rows: usize,
}

/// How many of the latest runs the profile refreshed at `finish` is derived from.
const PROFILE_RUNS: usize = 20;

type SeqTable = TableDefinition<'static, (u64, u32), &'static [u8]>;

pub(crate) struct Writer {
    db: Option<Database>,
    path: PathBuf,
    options: RecorderOptions,
    status: Arc<Status>,
    batch: Batch,
    last_commit: Instant,
    /// Next sequence number per (run, table name).
    seq: HashMap<(u64, String), u32>,
    buf: Vec<u8>,
}

impl Writer {
    pub fn new(db: Database, path: PathBuf, options: RecorderOptions, status: Arc<Status>) -> Self {
        Writer {
            db: Some(db),
            path,
            options,
            status,
            batch: Batch::default(),
            last_commit: Instant::now(),
            seq: HashMap::new(),
            buf: Vec::with_capacity(256),
        }
    }

    pub fn run(mut self, rx: Receiver<Msg>) {
        loop {
            let wait = self
                .options
                .commit_interval
                .saturating_sub(self.last_commit.elapsed());
            match rx.recv_timeout(wait) {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.commit(|_| Ok(()));
                    return;
                }
            }
            if self.batch.rows >= self.options.max_batch_rows
                || self.last_commit.elapsed() >= self.options.commit_interval
            {
                let _ = self.commit(|_| Ok(()));
            }
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Seconds(run, points) => {
                self.batch.rows += points.len();
                self.batch.seconds.push((run, points));
            }
            Msg::Histogram(run, service, t, h) => {
                self.batch.rows += 1;
                self.batch.histograms.push((run, service, t, h));
            }
            Msg::Fault(run, f) => {
                self.batch.rows += 1;
                self.batch.faults.push((run, f));
            }
            Msg::Event(run, e) => {
                self.batch.rows += 1;
                self.batch.events.push((run, e));
            }
            Msg::Begin(meta, pid, reply) => {
                let r = self.commit(|txn| begin(txn, meta, pid));
                let _ = reply.send(r);
            }
            Msg::Flush(reply) => {
                let r = self.commit(|_| Ok(()));
                let _ = reply.send(r);
            }
            Msg::Keyed {
                table,
                key,
                make,
                reply,
            } => {
                let r = self.commit(|txn| put_keyed(txn, table, key, make));
                let _ = reply.send(r);
            }
            Msg::Finish {
                run,
                outcome,
                ended_at,
                expectations,
                reply,
            } => {
                let r = self.commit(|txn| finish(txn, run, outcome, ended_at, &expectations));
                if r.is_ok() {
                    // The stored profile is a cache: a failure here loses nothing recorded.
                    let _ = self.refresh_profile();
                }
                let _ = reply.send(r);
            }
        }
    }

    /// Commits the batch plus `extra` in one transaction.
    fn commit<T>(
        &mut self,
        extra: impl FnOnce(&WriteTransaction) -> Result<T, String>,
    ) -> Result<T, ProfileError> {
        let batch = std::mem::take(&mut self.batch);
        self.last_commit = Instant::now();
        let Some(db) = self.db.as_ref() else {
            self.status.backlog.fetch_sub(batch.rows, Ordering::AcqRel);
            return Err(self.stopped());
        };
        let calls = batch.seconds.len() as u64;
        let rows = batch.rows;
        let result: Result<T, String> = (|| {
            let txn = db.begin_write().map_err(|e| e.to_string())?;
            write_batch(&txn, batch, &mut self.seq, &mut self.buf)?;
            let out = extra(&txn)?;
            txn.commit().map_err(|e| e.to_string())?;
            Ok(out)
        })();
        self.status.backlog.fetch_sub(rows, Ordering::AcqRel);
        match result {
            Ok(out) => {
                self.status
                    .committed_seconds
                    .fetch_add(calls, Ordering::AcqRel);
                Ok(out)
            }
            Err(reason) => {
                self.status.fail(format!(
                    "writing to {} failed: {reason}",
                    self.path.display()
                ));
                // Close the file: nothing more is written, and the next open repairs it back
                // to the last commit.
                self.db = None;
                Err(self.stopped())
            }
        }
    }

    fn stopped(&self) -> ProfileError {
        ProfileError::RecordingStopped {
            reason: self
                .status
                .failure
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .unwrap_or_else(|| "the database is closed".into()),
        }
    }

    fn refresh_profile(&mut self) -> Result<(), String> {
        refresh_stored_profile(self.db.as_ref().ok_or("closed")?)
    }
}

/// Derives the profile of the latest runs and stores it in the `profile` table (at a run's
/// `finish`, and after `res profile import`).
pub(super) fn refresh_stored_profile(db: &Database) -> Result<(), String> {
    let profile = {
        let txn = db.begin_read().map_err(|e| e.to_string())?;
        let runs = query::runs(&txn)?;
        let latest: Vec<_> = runs.iter().rev().take(PROFILE_RUNS).rev().collect();
        let mut data = Vec::new();
        for r in latest {
            data.push(query::run_obs(&txn, r)?);
        }
        derive::derive(&data, &derive::Slo::default())
    };
    let txn = db.begin_write().map_err(|e| e.to_string())?;
    {
        let mut t = txn.open_table(PROFILE).map_err(|e| e.to_string())?;
        for s in &profile.services {
            let bytes = serde_json::to_vec(s).map_err(|e| e.to_string())?;
            t.insert(s.service.as_str(), bytes.as_slice())
                .map_err(|e| e.to_string())?;
        }
    }
    txn.commit().map_err(|e| e.to_string())
}

fn begin(txn: &WriteTransaction, meta: RunMeta, pid: i32) -> Result<RunId, String> {
    let mut runs = txn.open_table(RUNS).map_err(|e| e.to_string())?;
    let id = runs
        .last()
        .map_err(|e| e.to_string())?
        .map(|(k, _)| k.value() + 1)
        .unwrap_or(1);
    let record = RunRecord {
        id,
        scenario: meta.scenario,
        file: meta.file,
        file_hash: meta.file_hash,
        seed: meta.seed,
        started_at: meta.started_at,
        ended_at: None,
        outcome: None,
        complete: false,
        git_commit: meta.git_commit,
        writer_pid: Some(pid),
        res_version: env!("CARGO_PKG_VERSION").to_string(),
        live: true,
    };
    let bytes = serde_json::to_vec(&record).map_err(|e| e.to_string())?;
    runs.insert(id, bytes.as_slice())
        .map_err(|e| e.to_string())?;
    Ok(RunId(id))
}

fn finish(
    txn: &WriteTransaction,
    run: RunId,
    outcome: String,
    ended_at: String,
    expectations: &[ExpectationResult],
) -> Result<(), String> {
    let mut runs = txn.open_table(RUNS).map_err(|e| e.to_string())?;
    let mut record: RunRecord = {
        let stored = runs
            .get(run.0)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("run {run} was never begun"))?;
        serde_json::from_slice(stored.value()).map_err(|e| e.to_string())?
    };
    record.outcome = Some(outcome);
    record.ended_at = Some(ended_at);
    record.complete = true;
    let bytes = serde_json::to_vec(&record).map_err(|e| e.to_string())?;
    runs.insert(run.0, bytes.as_slice())
        .map_err(|e| e.to_string())?;
    drop(runs);
    // The run's seconds are all in (the batch was written first in this transaction).
    super::levels_table::derive_and_store(txn, run.0)?;
    let mut t = txn.open_table(EXPECTATIONS).map_err(|e| e.to_string())?;
    for (i, e) in expectations.iter().enumerate() {
        let rec = ExpectationRecord {
            text: e.text.clone(),
            scope: e.scope.clone(),
            passed: e.passed,
            observed: e.observed.clone(),
        };
        let bytes = serde_json::to_vec(&rec).map_err(|e| e.to_string())?;
        t.insert((run.0, i as u32), bytes.as_slice())
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn write_batch(
    txn: &WriteTransaction,
    batch: Batch,
    seq: &mut HashMap<(u64, String), u32>,
    buf: &mut Vec<u8>,
) -> Result<(), String> {
    let e = |e: redb::StorageError| e.to_string();
    if !batch.seconds.is_empty() {
        let mut t = txn.open_table(SAMPLES).map_err(|e| e.to_string())?;
        for (run, points) in &batch.seconds {
            for p in points {
                sample_codec::encode(p, buf);
                t.insert((run.0, p.service.as_str(), p.t), buf.as_slice())
                    .map_err(e)?;
            }
        }
    }
    if !batch.histograms.is_empty() {
        let mut t = txn.open_table(HISTOGRAMS).map_err(|e| e.to_string())?;
        let mut ser = V2DeflateSerializer::new();
        for (run, service, sec, h) in &batch.histograms {
            buf.clear();
            ser.serialize(h, buf).map_err(|e| format!("{e:?}"))?;
            t.insert((run.0, service.as_str(), *sec), buf.as_slice())
                .map_err(e)?;
        }
    }
    for (run, f) in &batch.faults {
        let bytes = serde_json::to_vec(f).map_err(|e| e.to_string())?;
        append(txn, FAULTS, seq, run.0, &bytes)?;
    }
    for (run, ev) in &batch.events {
        let rec = EventRecord {
            at_s: ev.at_s,
            kind: ev.kind.clone(),
            detail: ev.detail.clone(),
        };
        let bytes = serde_json::to_vec(&rec).map_err(|e| e.to_string())?;
        append(txn, EVENTS, seq, run.0, &bytes)?;
        if ev.kind.starts_with("abort") || ev.kind == "stop" {
            append(txn, ABORTS, seq, run.0, &bytes)?;
        }
        if ev.kind.starts_with("remed") {
            let rec = remediation(ev);
            let bytes = serde_json::to_vec(&rec).map_err(|e| e.to_string())?;
            append(txn, REMEDIATIONS, seq, run.0, &bytes)?;
        }
    }
    Ok(())
}

/// `remedy X: what happened: outcome` → action `remedy X`, outcome the last word when the
/// last part is one word.
fn remediation(ev: &RunEvent) -> RemediationRecord {
    let parts: Vec<&str> = ev.detail.split(':').map(str::trim).collect();
    let outcome = parts
        .last()
        .filter(|w| parts.len() > 1 && !w.is_empty() && !w.contains(' '))
        .map(|w| w.to_string());
    RemediationRecord {
        at_s: ev.at_s,
        action: parts.first().copied().unwrap_or_default().to_string(),
        outcome,
        detail: ev.detail.clone(),
    }
}

/// Appends a row under the run's next sequence number.
fn append(
    txn: &WriteTransaction,
    def: SeqTable,
    seq: &mut HashMap<(u64, String), u32>,
    run: u64,
    bytes: &[u8],
) -> Result<(), String> {
    use redb::TableHandle;
    let mut t = txn.open_table(def).map_err(|e| e.to_string())?;
    let key = (run, def.name().to_string());
    let next = match seq.get(&key) {
        Some(n) => *n,
        None => t
            .range((run, 0)..=(run, u32::MAX))
            .map_err(|e| e.to_string())?
            .next_back()
            .transpose()
            .map_err(|e| e.to_string())?
            .map(|(k, _)| k.value().1 + 1)
            .unwrap_or(0),
    };
    t.insert((run, next), bytes).map_err(|e| e.to_string())?;
    seq.insert(key, next + 1);
    Ok(())
}

/// Writes one record of table `name` (id → bytes); `key` None takes the next id.
fn put_keyed(
    txn: &WriteTransaction,
    name: &'static str,
    key: Option<u64>,
    make: Box<dyn FnOnce(u64) -> Vec<u8> + Send>,
) -> Result<u64, String> {
    let def: TableDefinition<u64, &[u8]> = TableDefinition::new(name);
    let mut table = txn.open_table(def).map_err(|e| e.to_string())?;
    let id = match key {
        Some(k) => k,
        None => {
            table
                .last()
                .map_err(|e| e.to_string())?
                .map_or(0, |(k, _)| k.value())
                + 1
        }
    };
    let bytes = make(id);
    table
        .insert(id, bytes.as_slice())
        .map_err(|e| e.to_string())?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remediation_outcome() {
        let r = remediation(&RunEvent {
            at_s: 1.0,
            kind: "remediate".into(),
            detail: "remedy restart: the predicted trigger could not be evaluated: skipped".into(),
        });
        assert_eq!(r.action, "remedy restart");
        assert_eq!(r.outcome.as_deref(), Some("skipped"));
    }
}
