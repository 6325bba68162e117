//! The recorder: what the interpreter calls during a run. Every call only hands data to a
//! channel; a background thread owns the database, batches what arrives and commits about
//! once a second (or sooner when a batch fills). The run's hot path never waits for the disk,
//! and a run killed mid-way keeps every second committed before it died.
//!
//! ```no_run
//! # use res::profile::{Recorder, RunMeta};
//! # use res::report::Outcome;
//! let rec = Recorder::open(std::path::Path::new(".res/profile.redb"))?;
//! let run = rec.begin_run(RunMeta::new(
//!     std::path::Path::new("demo.res"), "scenario text", "main", 1, "2026-01-01T00:00:00Z".into(),
//! ))?;
//! // once a second: rec.record_seconds(run, &points); and poll rec.health()
//! rec.finish(run, Outcome::Pass, "2026-01-01T00:01:00Z".into(), &[])?;
//! # Ok::<(), res::profile::ProfileError>(())
//! ```

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::fingerprint::{file_hash, git_commit};
use super::open::{open_writer, DEFAULT_BUSY_WAIT};
use super::schema::{fault_kind, FaultRecord};
use super::writer::{Msg, Writer};
use super::ProfileError;
use crate::report::{ExpectationResult, FaultEvent, Outcome, RunEvent, SeriesPoint};

/// A run's id in the profile database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunId(pub u64);

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// How many of a run's faults and events [`Recorder::record_new`] has queued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    pub faults: usize,
    pub events: usize,
}

/// What is known about a run when it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMeta {
    pub scenario: String,
    /// The scenario file as given on the command line.
    pub file: String,
    /// See [`file_hash`](super::fingerprint::file_hash).
    pub file_hash: String,
    pub seed: u64,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub git_commit: Option<String>,
}

impl RunMeta {
    /// Fills the hash from the scenario's text and the commit from the git work tree holding
    /// the file, if any.
    pub fn new(file: &Path, source: &str, scenario: &str, seed: u64, started_at: String) -> Self {
        RunMeta {
            scenario: scenario.to_string(),
            file: file.to_string_lossy().into_owned(),
            file_hash: file_hash(source.as_bytes()),
            seed,
            started_at,
            git_commit: git_commit(file),
        }
    }
}

/// How the recorder batches. The defaults suit a run; tests commit more often.
#[derive(Debug, Clone)]
pub struct RecorderOptions {
    /// Commit at least this often while data arrives.
    pub commit_interval: Duration,
    /// Commit early once this many rows are waiting.
    pub max_batch_rows: usize,
    /// Stop recording (and say so through `health`) when this many rows wait uncommitted:
    /// the disk is not keeping up, and memory must not grow without bound.
    pub max_backlog_rows: usize,
    /// How long `open` waits for another process to release the database.
    pub busy_wait: Duration,
}

impl Default for RecorderOptions {
    fn default() -> Self {
        RecorderOptions {
            commit_interval: Duration::from_secs(1),
            max_batch_rows: 20_000,
            max_backlog_rows: 500_000,
            busy_wait: DEFAULT_BUSY_WAIT,
        }
    }
}

/// State the writer thread shares with the callers.
#[derive(Default)]
pub(crate) struct Status {
    /// Why recording stopped, once it has.
    pub failure: Mutex<Option<String>>,
    /// `record_seconds` calls whose data is committed.
    pub committed_seconds: AtomicU64,
    /// Rows handed over and not yet committed.
    pub backlog: AtomicUsize,
}

impl Status {
    pub fn fail(&self, reason: String) {
        if let Ok(mut f) = self.failure.lock() {
            f.get_or_insert(reason);
        }
    }

    fn failed(&self) -> bool {
        self.failure.lock().map(|f| f.is_some()).unwrap_or(true)
    }
}

/// Records runs into the profile database from a background thread.
pub struct Recorder {
    tx: Option<Sender<Msg>>,
    /// The sender [`KeyedWriter`]s use; emptied when the recorder stops, so that no handle
    /// left elsewhere keeps the writer thread waiting.
    keyed: Arc<Mutex<Option<Sender<Msg>>>>,
    thread: Option<JoinHandle<()>>,
    status: Arc<Status>,
    options: RecorderOptions,
    path: PathBuf,
}

impl Recorder {
    /// Opens (or creates) the database at `path` for recording.
    pub fn open(path: &Path) -> Result<Recorder, ProfileError> {
        Recorder::open_with(path, RecorderOptions::default())
    }

    /// [`open`](Recorder::open) with explicit batching options.
    pub fn open_with(path: &Path, options: RecorderOptions) -> Result<Recorder, ProfileError> {
        let db = open_writer(path, options.busy_wait)?;
        let status = Arc::new(Status::default());
        let (tx, rx) = mpsc::channel();
        let writer = Writer::new(db, path.to_path_buf(), options.clone(), status.clone());
        let thread = std::thread::Builder::new()
            .name("res-profile-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| ProfileError::Io {
                action: "start the recorder thread for",
                path: path.to_path_buf(),
                source: e,
            })?;
        Ok(Recorder {
            keyed: Arc::new(Mutex::new(Some(tx.clone()))),
            tx: Some(tx),
            thread: Some(thread),
            status,
            options,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores a new run, unfinished, and commits it before returning.
    pub fn begin_run(&self, meta: RunMeta) -> Result<RunId, ProfileError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(Msg::Begin(meta, std::process::id() as i32, reply))?;
        self.wait(answer)?
    }

    /// Queues one second of every service. Never blocks on the disk; if recording has stopped
    /// the points are dropped (see [`health`](Recorder::health)).
    pub fn record_seconds(&self, run: RunId, points: &[SeriesPoint]) {
        if !self.admit(points.len()) {
            return;
        }
        let _ = self.send(Msg::Seconds(run, points.to_vec()));
    }

    /// Queues the latency histogram of one service's second, stored beside its sample.
    pub fn record_histogram(&self, run: RunId, service: &str, t: u64, h: &Histogram<u64>) {
        if !self.admit(1) {
            return;
        }
        let _ = self.send(Msg::Histogram(run, service.to_string(), t, h.clone()));
    }

    /// Queues a fault injected, reverted or failed.
    pub fn record_fault(&self, run: RunId, event: &FaultEvent) {
        if !self.admit(1) {
            return;
        }
        let record = FaultRecord {
            at_s: event.at_s,
            fault: event.fault.clone(),
            kind: fault_kind(&event.fault, &event.detail),
            action: event.action.clone(),
            target: event.target.clone(),
            params: event.detail.clone(),
        };
        let _ = self.send(Msg::Fault(run, record));
    }

    /// Queues a run event. Events whose kind starts with `abort`, or is `stop`, are also kept
    /// as abort events; those starting with `remed` as remediation actions.
    pub fn record_event(&self, run: RunId, event: &RunEvent) {
        if !self.admit(1) {
            return;
        }
        let _ = self.send(Msg::Event(run, event.clone()));
    }

    /// Queues the faults and events added to the run's lists since the last call, so they
    /// are committed as they happen (with the next batch, within a second) rather than at the
    /// end: a run killed mid-way keeps them. `sent` remembers how far each list was sent.
    pub fn record_new(
        &self,
        run: RunId,
        faults: &[FaultEvent],
        events: &[RunEvent],
        sent: &mut Sent,
    ) {
        for f in faults.get(sent.faults..).unwrap_or_default() {
            self.record_fault(run, f);
        }
        for e in events.get(sent.events..).unwrap_or_default() {
            self.record_event(run, e);
        }
        sent.faults = sent.faults.max(faults.len());
        sent.events = sent.events.max(events.len());
    }

    /// Whether recording still works. After an error (a full disk, an I/O error) nothing more
    /// is recorded; the run may go on, and what was committed before stays intact.
    pub fn health(&self) -> Result<(), ProfileError> {
        match self.status.failure.lock() {
            Ok(f) => match &*f {
                None => Ok(()),
                Some(reason) => Err(ProfileError::RecordingStopped {
                    reason: reason.clone(),
                }),
            },
            Err(_) => Err(ProfileError::RecordingStopped {
                reason: "the recorder thread panicked".into(),
            }),
        }
    }

    /// How many `record_seconds` calls are committed to disk.
    pub fn committed_seconds(&self) -> u64 {
        self.status.committed_seconds.load(Ordering::Acquire)
    }

    /// Commits whatever is queued and returns once it is on disk.
    /// A handle through which another engine (the remediation audit log) writes records of
    /// its own table into the file while the run records; it fails once the recorder stopped.
    pub fn keyed_writer(&self) -> KeyedWriter {
        KeyedWriter {
            tx: self.keyed.clone(),
        }
    }

    pub fn flush(&self) -> Result<(), ProfileError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(Msg::Flush(reply))?;
        self.wait(answer)?
    }

    /// Records the end of the run, commits everything and stops the writer thread. Also
    /// refreshes the stored derived profile of the run's services.
    pub fn finish(
        mut self,
        run: RunId,
        outcome: Outcome,
        ended_at: String,
        expectations: &[ExpectationResult],
    ) -> Result<(), ProfileError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let sent = self.send(Msg::Finish {
            run,
            outcome: outcome_name(outcome).to_string(),
            ended_at,
            expectations: expectations.to_vec(),
            reply,
        });
        let result = match sent {
            Ok(()) => self.wait(answer).and_then(|r| r),
            Err(e) => Err(e),
        };
        self.stop();
        result
    }

    fn admit(&self, rows: usize) -> bool {
        if self.status.failed() {
            return false;
        }
        let queued = self.status.backlog.fetch_add(rows, Ordering::AcqRel) + rows;
        if queued > self.options.max_backlog_rows {
            self.status.backlog.fetch_sub(rows, Ordering::AcqRel);
            self.status.fail(format!(
                "the disk is not keeping up: {queued} rows are waiting to be written"
            ));
            return false;
        }
        true
    }

    fn send(&self, msg: Msg) -> Result<(), ProfileError> {
        self.health()?;
        let tx = self.tx.as_ref().ok_or_else(stopped)?;
        tx.send(msg).map_err(|_| stopped())
    }

    fn wait<T>(&self, answer: mpsc::Receiver<T>) -> Result<T, ProfileError> {
        answer
            .recv()
            .map_err(|_| self.health().err().unwrap_or_else(stopped))
    }

    fn stop(&mut self) {
        self.tx.take();
        if let Ok(mut k) = self.keyed.lock() {
            k.take();
        }
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                self.status.fail("the recorder thread panicked".into());
            }
        }
    }
}

impl Drop for Recorder {
    /// Commits what is queued. A run dropped without `finish` stays unfinished and is marked
    /// `incomplete` by the next open.
    fn drop(&mut self) {
        self.stop();
    }
}

fn stopped() -> ProfileError {
    ProfileError::RecordingStopped {
        reason: "the recorder thread has stopped".into(),
    }
}

/// The stored spelling of an outcome, as in the JSON report.
pub fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::Incomplete => "incomplete",
        Outcome::Aborted => "aborted",
        Outcome::Error => "error",
    }
}

/// Replies go through rendezvous channels of one slot.
/// Writes records of another engine's table (id → bytes) through the recorder's thread,
/// which owns the file during a run. Each call commits before it returns.
#[derive(Clone)]
pub struct KeyedWriter {
    tx: Arc<Mutex<Option<Sender<Msg>>>>,
}

impl KeyedWriter {
    /// Writes the record `make` renders under `key`, or under the table's next id when `key`
    /// is `None`; returns the id.
    pub fn put(
        &self,
        table: &'static str,
        key: Option<u64>,
        make: impl FnOnce(u64) -> Vec<u8> + Send + 'static,
    ) -> Result<u64, ProfileError> {
        let (reply, answer) = mpsc::sync_channel(1);
        let msg = Msg::Keyed {
            table,
            key,
            make: Box::new(make),
            reply,
        };
        let sent = self
            .tx
            .lock()
            .ok()
            .and_then(|t| t.as_ref().map(|tx| tx.send(msg).is_ok()));
        if sent != Some(true) {
            return Err(stopped());
        }
        answer.recv().map_err(|_| stopped())?
    }
}

pub(crate) type Reply<T> = SyncSender<Result<T, ProfileError>>;
