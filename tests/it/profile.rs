//! The profile database against real redb files in temporary directories: recording and
//! reading back, schema migration and refusal, damaged files left untouched, a writer killed
//! with SIGKILL, a reader beside a live writer, a full disk, and the derived numbers on
//! synthetic data whose answers are known.

use crate::common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use redb::{ReadableDatabase, TableDefinition};
use res::profile::derive::Slo;
use res::profile::schema::v1;
use res::profile::{
    resolve_db_path, sample_codec, ProfileError, ProfileStore, Recorder, RecorderOptions, RunId,
    RunMeta, SCHEMA_VERSION,
};
use res::report::{ExpectationResult, FaultEvent, Outcome, RunEvent, SeriesPoint};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Helpers

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "res-profile-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fast() -> RecorderOptions {
    RecorderOptions {
        commit_interval: Duration::from_millis(50),
        busy_wait: Duration::from_millis(500),
        ..RecorderOptions::default()
    }
}

fn meta(scenario: &str) -> RunMeta {
    RunMeta::new(
        Path::new("scenarios/x.res"),
        "scenario text",
        scenario,
        7,
        "2026-01-01T00:00:00Z".into(),
    )
}

fn point(t: u64, service: &str, offered: f64, p99: f64, error_rate: f64) -> SeriesPoint {
    let errors = (offered * error_rate).round() as u64;
    let mut kinds = BTreeMap::new();
    if errors > 0 {
        kinds.insert("status".to_string(), errors);
    }
    SeriesPoint {
        t,
        service: service.into(),
        rps: offered,
        offered_rps: offered,
        concurrency: 3,
        p50_ms: p99 / 3.0,
        p90_ms: p99 / 1.5,
        p99_ms: p99,
        p999_ms: p99 * 1.2,
        max_ms: p99 * 1.5,
        errors,
        errors_by_kind: kinds,
    }
}

fn fault(at: f64, action: &str, detail: &str) -> FaultEvent {
    FaultEvent {
        at_s: at,
        fault: "slow_db".into(),
        action: action.into(),
        target: "shop.payments".into(),
        detail: detail.into(),
    }
}

/// Records one whole run and returns its id.
fn record_run(
    rec: &Recorder,
    scenario: &str,
    seconds: &[Vec<SeriesPoint>],
    faults: &[FaultEvent],
) -> RunId {
    let run = rec.begin_run(meta(scenario)).unwrap();
    for f in faults {
        rec.record_fault(run, f);
    }
    for s in seconds {
        rec.record_seconds(run, s);
    }
    run
}

/// A deterministic normal-ish noise source (xorshift + Box–Muller).
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-12), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn res_cmd(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_res"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("res runs")
}

fn json_of(o: &std::process::Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// A `_test-writer` child and its stdout lines.
struct Writer {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Writer {
    fn spawn(db: &Path, extra: &[&str]) -> Writer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_res"))
            .args(["profile", "_test-writer"])
            .arg(db)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the test writer");
        let stdout: ChildStdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Writer { child, lines }
    }

    /// Waits for a line starting with `prefix` and returns the rest of it.
    fn wait_for(&self, prefix: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    if let Some(rest) = l.strip_prefix(prefix) {
                        return Some(rest.trim().to_string());
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }

    /// Waits until at least `n` seconds are committed; returns the count seen.
    fn committed_at_least(&self, n: u64) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let k: u64 = self
                .wait_for("committed ", left)
                .expect("the writer reports commits")
                .parse()
                .unwrap();
            if k >= n {
                return k;
            }
        }
    }

    fn kill(mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Record and read back

#[test]
fn records_a_run_and_reads_it_back() {
    let dir = TempDir::new("roundtrip");
    let db = dir.join("nested/.res/profile.redb");
    let rec = Recorder::open_with(&db, fast()).unwrap();
    let run = rec.begin_run(meta("main")).unwrap();
    assert_eq!(run, RunId(1));
    let mut expected = Vec::new();
    for t in 0..5 {
        let second: Vec<SeriesPoint> = ["shop.catalog", "shop.checkout", "shop.payments"]
            .iter()
            .map(|s| point(t, s, 100.0 + t as f64, 20.0 + t as f64, 0.02))
            .collect();
        rec.record_seconds(run, &second);
        expected.extend(second);
    }
    let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    h.record(1500).unwrap();
    h.record(2500).unwrap();
    rec.record_histogram(run, "shop.checkout", 3, &h);
    rec.record_fault(run, &fault(1.0, "inject", "latency 250ms"));
    rec.record_fault(run, &fault(3.0, "revert", "latency 250ms"));
    for (kind, detail) in [
        ("start", "scenario main (seed 7)"),
        ("abort", "error_rate(shop) > 5% for 10s"),
        ("remediate", "remedy restart_payments: restarted: ok"),
    ] {
        rec.record_event(
            run,
            &RunEvent {
                at_s: 2.0,
                kind: kind.into(),
                detail: detail.into(),
            },
        );
    }
    rec.health().unwrap();
    let expectations = vec![ExpectationResult {
        text: "p99(shop.checkout) < 300ms".into(),
        scope: "whole run".into(),
        passed: true,
        observed: "p99(shop.checkout) = 24ms".into(),
    }];
    rec.finish(
        run,
        Outcome::Pass,
        "2026-01-01T00:00:05Z".into(),
        &expectations,
    )
    .unwrap();

    let store = ProfileStore::open(&db).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!((r.id, r.outcome.as_str(), r.complete), (1, "pass", true));
    assert_eq!(r.scenario, "main");
    assert_eq!(r.seed, 7);
    assert_eq!(
        r.file_hash,
        res::profile::fingerprint::file_hash(b"scenario text")
    );
    assert_eq!(r.writer_pid, Some(std::process::id() as i32));
    assert_eq!(r.ended_at.as_deref(), Some("2026-01-01T00:00:05Z"));

    let mut got = store.samples(1).unwrap();
    let key = |p: &SeriesPoint| (p.service.clone(), p.t);
    expected.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(got, expected);

    let d = store.detail(1).unwrap();
    assert_eq!(d.faults.len(), 2);
    assert_eq!(d.faults[0].kind, "latency");
    assert_eq!(d.faults[1].action, "revert");
    assert_eq!(d.events.len(), 3);
    assert_eq!(d.aborts.len(), 1);
    assert_eq!(d.remediations.len(), 1);
    assert_eq!(d.remediations[0].outcome.as_deref(), Some("ok"));
    assert_eq!(d.expectations.len(), 1);
    assert_eq!(d.services.len(), 3);
    let back = store.histogram(1, "shop.checkout", 3).unwrap().unwrap();
    assert_eq!(back.len(), 2);
    assert_eq!(store.histogram(1, "shop.checkout", 4).unwrap(), None);
    assert_eq!(store.stored_profile().unwrap().len(), 3);
    drop(store);

    // The command line, for machines.
    let db_arg = db.to_str().unwrap();
    let list = res_cmd(&[
        "profile",
        "list",
        "--format",
        "json",
        "--profile-db",
        db_arg,
    ]);
    assert!(list.status.success());
    let v = json_of(&list);
    let errors = common::validate(&common::load_schema("profile-list.schema.json"), &v);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(v[0]["outcome"], "pass");
    let show = res_cmd(&["profile", "show", "1", "--profile-db", db_arg]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains("shop.checkout") && text.contains("restart_payments"),
        "{text}"
    );
    let csv = res_cmd(&[
        "profile",
        "export",
        "--format",
        "csv",
        "--profile-db",
        db_arg,
    ]);
    assert_eq!(String::from_utf8_lossy(&csv.stdout).lines().count(), 1 + 15);
    let export = json_of(&res_cmd(&["profile", "export", "--profile-db", db_arg]));
    assert_eq!(export["schema_version"], SCHEMA_VERSION);
    assert_eq!(export["runs"][0]["samples"].as_array().unwrap().len(), 15);
    let missing = res_cmd(&["profile", "show", "9", "--profile-db", db_arg]);
    assert_eq!(missing.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no run 9"));
}

#[test]
fn the_recorder_can_be_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Recorder>();
    send_sync::<ProfileStore>();
}

#[test]
fn database_path_comes_from_flag_res_toml_or_default() {
    let dir = TempDir::new("paths");
    let scenario = dir.join("demo.res");
    assert_eq!(
        resolve_db_path(&scenario, None),
        dir.join(".res/profile.redb")
    );
    std::fs::write(dir.join("res.toml"), "[profile]\ndb = \"data/p.redb\"\n").unwrap();
    assert_eq!(resolve_db_path(&scenario, None), dir.join("data/p.redb"));
    assert_eq!(
        resolve_db_path(&scenario, Some(Path::new("/x/y.redb"))),
        Path::new("/x/y.redb")
    );
}

// ---------------------------------------------------------------------------------------------
// Schema versions

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const RUNS: TableDefinition<u64, &[u8]> = TableDefinition::new("runs");

#[test]
fn migrates_a_version_1_file() {
    let dir = TempDir::new("v1");
    let db = dir.join("profile.redb");
    {
        // Written by hand in the version 1 layout: samples keyed (run, second, service),
        // runs without `complete` or `writer_pid`.
        let d = redb::Database::create(&db).unwrap();
        let txn = d.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", 1)
            .unwrap();
        {
            let mut runs = txn.open_table(RUNS).unwrap();
            for (id, ended) in [(1u64, true), (2, false)] {
                let r = v1::RunRecordV1 {
                    id,
                    scenario: "main".into(),
                    file: "a.res".into(),
                    file_hash: "00".into(),
                    seed: 1,
                    started_at: "2025-01-01T00:00:00Z".into(),
                    ended_at: ended.then(|| "2025-01-01T00:01:00Z".into()),
                    outcome: ended.then(|| "pass".into()),
                    git_commit: None,
                };
                runs.insert(id, serde_json::to_vec(&r).unwrap().as_slice())
                    .unwrap();
            }
            let mut samples = txn.open_table(v1::SAMPLES).unwrap();
            let mut buf = Vec::new();
            for t in 0..3 {
                for s in ["b.svc", "a.svc"] {
                    sample_codec::encode(&point(t, s, 50.0, 10.0 + t as f64, 0.0), &mut buf);
                    samples.insert((1, t, s), buf.as_slice()).unwrap();
                }
            }
        }
        txn.commit().unwrap();
    }
    let store = ProfileStore::open(&db).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs[0].complete && runs[0].outcome == "pass");
    assert!(!runs[1].complete && runs[1].outcome == "incomplete");
    let samples = store.samples(1).unwrap();
    let order: Vec<(String, u64)> = samples.iter().map(|p| (p.service.clone(), p.t)).collect();
    assert_eq!(
        order,
        [
            ("a.svc", 0),
            ("a.svc", 1),
            ("a.svc", 2),
            ("b.svc", 0),
            ("b.svc", 1),
            ("b.svc", 2)
        ]
        .map(|(s, t)| (s.to_string(), t))
    );
    assert_eq!(samples[2].p99_ms, 12.0);
    drop(store);
    let d = redb::Database::open(&db).unwrap();
    let txn = d.begin_read().unwrap();
    let v = txn
        .open_table(META)
        .unwrap()
        .get("schema_version")
        .unwrap()
        .unwrap()
        .value();
    assert_eq!(v, SCHEMA_VERSION);
    // A recorder opens it and continues the ids.
    drop(txn);
    drop(d);
    let rec = Recorder::open_with(&db, fast()).unwrap();
    assert_eq!(rec.begin_run(meta("main")).unwrap(), RunId(3));
}

/// A step load of `steps` plateaus of 20 s on two services, with noise, as seconds.
fn step_seconds(steps: u64, seed: u64) -> Vec<Vec<SeriesPoint>> {
    let mut noise = Noise(seed);
    (0..steps * 20)
        .map(|t| {
            let rate = 50.0 * (t / 20 + 1) as f64;
            ["shop.catalog", "shop.checkout"]
                .iter()
                .map(|s| {
                    let offered = rate * (1.0 + 0.01 * noise.normal());
                    let p99 = 20.0 + rate / 10.0 + noise.normal().abs();
                    point(t, s, offered, p99, if rate > 300.0 { 0.02 } else { 0.0 })
                })
                .collect()
        })
        .collect()
}

#[test]
fn a_finished_run_stores_the_levels_its_seconds_reduce_to() {
    let dir = TempDir::new("levels");
    let db = dir.join("profile.redb");
    let rec = Recorder::open_with(&db, fast()).unwrap();
    // Faulted from 40 s to 60 s: those seconds are in no level.
    let faults = [
        fault(40.0, "inject", "latency 250ms"),
        fault(60.0, "revert", ""),
    ];
    let done = record_run(&rec, "main", &step_seconds(8, 11), &faults);
    rec.finish(done, Outcome::Pass, "2026-01-01T00:03:00Z".into(), &[])
        .unwrap();
    let rec = Recorder::open_with(&db, fast()).unwrap();
    let open = record_run(&rec, "main", &step_seconds(3, 12), &[]);
    rec.flush().unwrap();
    let store = ProfileStore::open(&db).unwrap();
    let stored = store
        .stored_levels(done.0)
        .unwrap()
        .expect("levels stored at finish");
    let reduced = store.levels_from_seconds(done.0).unwrap();
    assert_eq!(stored, reduced, "bit for bit what the seconds reduce to");
    assert_eq!(stored.len(), 2);
    // Eight steps of 20 s, one of them (40–60 s) faulted throughout.
    let catalog = &stored["shop.catalog"];
    assert_eq!(catalog.iter().map(|l| l.seconds).sum::<usize>(), 140);
    assert!(catalog.len() >= 7 && catalog.iter().all(|l| (l.offered - 150.0).abs() > 10.0));
    // The unfinished run has no rows; reading falls back to its seconds.
    assert_eq!(store.stored_levels(open.0).unwrap(), None);
    let read = store.levels(&[done.0, open.0], |_| true).unwrap();
    assert_eq!(read[0].1, reduced);
    assert_eq!(read[1].1, store.levels_from_seconds(open.0).unwrap());
    let seconds: usize = read[1].1["shop.checkout"].iter().map(|l| l.seconds).sum();
    assert_eq!(seconds, 3 * 20);
}

#[test]
fn migrates_a_version_3_file_deriving_the_levels_of_its_runs() {
    let dir = TempDir::new("v3");
    let db = dir.join("profile.redb");
    {
        let rec = Recorder::open_with(&db, fast()).unwrap();
        let faults = [
            fault(20.0, "inject", "latency 250ms"),
            fault(40.0, "revert", ""),
        ];
        let r = record_run(&rec, "main", &step_seconds(6, 21), &faults);
        rec.finish(r, Outcome::Pass, "2026-01-01T00:02:00Z".into(), &[])
            .unwrap();
        let rec = Recorder::open_with(&db, fast()).unwrap();
        let r = record_run(&rec, "main", &step_seconds(2, 22), &[]);
        rec.flush().unwrap();
        assert_eq!(r, RunId(2));
    }
    {
        // Back to the version 3 layout: no levels table, version 3.
        let d = redb::Database::open(&db).unwrap();
        let txn = d.begin_write().unwrap();
        txn.delete_table(res::profile::schema::LEVELS).unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", 3)
            .unwrap();
        txn.commit().unwrap();
    }
    let store = ProfileStore::open(&db).unwrap();
    let stored = store.stored_levels(1).unwrap().expect("migrated");
    assert_eq!(stored, store.levels_from_seconds(1).unwrap());
    let seconds: usize = stored["shop.checkout"].iter().map(|l| l.seconds).sum();
    assert_eq!(seconds, 5 * 20);
    // The unfinished run is left to be reduced when read; nothing recorded is lost.
    assert_eq!(store.stored_levels(2).unwrap(), None);
    assert_eq!(store.samples(1).unwrap().len(), 6 * 20 * 2);
    assert_eq!(store.samples(2).unwrap().len(), 2 * 20 * 2);
    assert_eq!(store.faults(1).unwrap().len(), 2);
    drop(store);
    let d = redb::Database::open(&db).unwrap();
    let v = d
        .begin_read()
        .unwrap()
        .open_table(META)
        .unwrap()
        .get("schema_version")
        .unwrap()
        .unwrap()
        .value();
    assert_eq!(v, SCHEMA_VERSION);
}

#[test]
fn refuses_a_newer_schema_and_leaves_it_alone() {
    let dir = TempDir::new("newer");
    let db = dir.join("profile.redb");
    {
        let d = redb::Database::create(&db).unwrap();
        let txn = d.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", 99)
            .unwrap();
        txn.commit().unwrap();
    }
    let before = std::fs::read(&db).unwrap();
    let e = ProfileStore::open(&db).err().expect("refused");
    assert!(
        matches!(e, ProfileError::NewerSchema { found: 99, .. }),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("99") && msg.contains(&SCHEMA_VERSION.to_string()),
        "{msg}"
    );
    let e = Recorder::open_with(&db, fast()).err().expect("refused");
    assert!(matches!(e, ProfileError::NewerSchema { .. }), "{e}");
    let cli = res_cmd(&["profile", "list", "--profile-db", db.to_str().unwrap()]);
    assert_eq!(cli.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&cli.stderr).contains("schema version 99"));
    assert_eq!(std::fs::read(&db).unwrap(), before);
}

// ---------------------------------------------------------------------------------------------
// Damaged files

/// A good database with two runs, closed cleanly.
fn good_db(path: &Path) {
    let rec = Recorder::open_with(path, fast()).unwrap();
    for _ in 0..2 {
        let seconds: Vec<Vec<SeriesPoint>> = (0..200)
            .map(|t| {
                (0..5)
                    .map(|s| point(t, &format!("s{s}"), 10.0, 5.0, 0.0))
                    .collect()
            })
            .collect();
        let run = record_run(&rec, "main", &seconds, &[]);
        rec.flush().unwrap();
        let _ = run;
    }
}

fn assert_refused_untouched(path: &Path, what: &str) {
    let before = std::fs::read(path).unwrap();
    let e = ProfileStore::open_with(path, Duration::from_millis(200))
        .err()
        .unwrap_or_else(|| panic!("{what}: reading was not refused"));
    assert!(
        matches!(
            e,
            ProfileError::NotADatabase { .. } | ProfileError::Corrupt { .. }
        ),
        "{what}: {e}"
    );
    assert!(e.to_string().contains("left untouched"), "{what}: {e}");
    let e = Recorder::open_with(path, fast())
        .err()
        .unwrap_or_else(|| panic!("{what}: recording was not refused"));
    assert!(
        matches!(
            e,
            ProfileError::NotADatabase { .. } | ProfileError::Corrupt { .. }
        ),
        "{what}: {e}"
    );
    let cli = res_cmd(&["profile", "list", "--profile-db", path.to_str().unwrap()]);
    assert_eq!(cli.status.code(), Some(4), "{what}");
    assert_eq!(
        std::fs::read(path).unwrap(),
        before,
        "{what}: the file changed"
    );
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".check-"))
        .collect();
    assert!(leftovers.is_empty(), "{what}: trial copies left behind");
}

#[test]
fn damaged_files_are_refused_and_never_overwritten() {
    let dir = TempDir::new("damaged");

    let text = dir.join("notes.redb");
    std::fs::write(&text, "these are my notes, not a database\n").unwrap();
    assert_refused_untouched(&text, "a text file");

    let tiny = dir.join("tiny.redb");
    std::fs::write(&tiny, b"redb").unwrap();
    assert_refused_untouched(&tiny, "a 4-byte file");

    let truncated = dir.join("truncated.redb");
    good_db(&truncated);
    let len = std::fs::metadata(&truncated).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&truncated)
        .unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    assert_refused_untouched(&truncated, "a truncated database");

    let corrupt = dir.join("corrupt.redb");
    good_db(&corrupt);
    let mut bytes = std::fs::read(&corrupt).unwrap();
    // Keep the magic number, scramble the header and the first pages after it.
    let mut n = Noise(0x5eed);
    let end = bytes.len().min(64 * 1024);
    for b in &mut bytes[9..end] {
        *b = (n.uniform() * 256.0) as u8;
    }
    std::fs::write(&corrupt, &bytes).unwrap();
    assert_refused_untouched(&corrupt, "a corrupted database");

    // Damage inside: the header is fine, the pages in the middle are not. Recording is
    // refused before anything is written; reading fails where it meets the damage.
    let inside = dir.join("inside.redb");
    good_db(&inside);
    let mut bytes = std::fs::read(&inside).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 4..3 * len / 4] {
        *b = (n.uniform() * 256.0) as u8;
    }
    std::fs::write(&inside, &bytes).unwrap();
    let e = Recorder::open_with(&inside, fast())
        .err()
        .expect("recording refused");
    assert!(matches!(e, ProfileError::Corrupt { .. }), "{e}");
    let show = res_cmd(&[
        "profile",
        "show",
        "1",
        "--profile-db",
        inside.to_str().unwrap(),
    ]);
    assert_eq!(show.status.code(), Some(4));
    let err = String::from_utf8_lossy(&show.stderr);
    assert!(
        err.contains("is damaged") && !err.contains("panicked"),
        "{err}"
    );
    assert_eq!(std::fs::read(&inside).unwrap(), bytes, "the file changed");
}

#[test]
fn an_empty_file_becomes_a_database() {
    let dir = TempDir::new("empty");
    let db = dir.join("profile.redb");
    std::fs::write(&db, b"").unwrap();
    let rec = Recorder::open_with(&db, fast()).unwrap();
    rec.begin_run(meta("main")).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Crashes, concurrency, a full disk

#[test]
fn a_run_killed_with_sigkill_keeps_its_committed_seconds() {
    let dir = TempDir::new("sigkill");
    let db = dir.join("profile.redb");
    let w = Writer::spawn(
        &db,
        &[
            "--services",
            "4",
            "--interval-ms",
            "20",
            "--commit-ms",
            "100",
        ],
    );
    assert_eq!(
        w.wait_for("run ", Duration::from_secs(10)).as_deref(),
        Some("1")
    );
    let committed = w.committed_at_least(15);
    w.kill();

    let store = ProfileStore::open(&db).unwrap();
    assert!(!store.writer_was_live());
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, "incomplete");
    assert!(!runs[0].complete);
    let samples = store.samples(1).unwrap();
    let s0: Vec<u64> = samples
        .iter()
        .filter(|p| p.service == "svc.s0")
        .map(|p| p.t)
        .collect();
    assert!(
        s0.len() as u64 >= committed,
        "{} seconds stored, {committed} reported committed",
        s0.len()
    );
    assert_eq!(
        s0,
        (0..s0.len() as u64).collect::<Vec<_>>(),
        "seconds are contiguous"
    );
    assert_eq!(samples.len(), s0.len() * 4);
    assert_eq!(store.faults(1).unwrap().len(), 1);
    drop(store);

    // The next writer marks it incomplete for good and carries on.
    let rec = Recorder::open_with(&db, fast()).unwrap();
    assert_eq!(rec.begin_run(meta("main")).unwrap(), RunId(2));
    drop(rec);
    let v = json_of(&res_cmd(&[
        "profile",
        "list",
        "--format",
        "json",
        "--profile-db",
        db.to_str().unwrap(),
    ]));
    assert_eq!(v[0]["outcome"], "incomplete");
    assert_eq!(v[0]["complete"], false);
    assert_eq!(v[1]["outcome"], "incomplete");
}

#[test]
fn readers_see_a_live_run_and_a_second_writer_is_told_it_is_busy() {
    let dir = TempDir::new("concurrent");
    let db = dir.join("profile.redb");
    let w = Writer::spawn(
        &db,
        &[
            "--services",
            "3",
            "--interval-ms",
            "20",
            "--commit-ms",
            "100",
        ],
    );
    w.wait_for("run ", Duration::from_secs(10)).unwrap();
    w.committed_at_least(3);
    let pid = w.child.id() as i32;

    // In this process: a consistent snapshot that grows.
    let mut last = 0;
    for _ in 0..5 {
        let store = ProfileStore::open(&db).unwrap();
        assert!(store.writer_was_live());
        let runs = store.runs().unwrap();
        assert_eq!(runs[0].outcome, "running");
        let n = store.samples(1).unwrap().len();
        assert!(n.is_multiple_of(3) && n >= last, "{n} after {last}");
        last = n;
        drop(store);
        std::thread::sleep(Duration::from_millis(60));
    }
    assert!(last > 0);

    // Other processes: data or a clear busy error, never anything else.
    let mut ok = 0;
    for _ in 0..5 {
        let o = res_cmd(&[
            "profile",
            "show",
            "1",
            "--format",
            "json",
            "--profile-db",
            db.to_str().unwrap(),
        ]);
        if o.status.success() {
            let v = json_of(&o);
            assert_eq!(v["outcome"], "running");
            ok += 1;
        } else {
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains("in use by another res process"), "{err}");
        }
    }
    assert!(ok > 0, "no reader got through");

    // A second recorder cannot write at the same time, and says who holds the file.
    let e = Recorder::open_with(&db, fast()).err().expect("busy");
    match &e {
        ProfileError::Busy { pid: Some(p), .. } => assert_eq!(*p, pid),
        other => panic!("{other}"),
    }
    assert!(e
        .to_string()
        .contains(&format!("in use by another res process (pid {pid})")));
    w.kill();
}

#[test]
fn an_open_reader_does_not_keep_a_run_from_recording() {
    let dir = TempDir::new("reader-first");
    let db = dir.join("profile.redb");
    drop(Recorder::open_with(&db, fast()).unwrap());
    let store = ProfileStore::open(&db).unwrap();
    let rec = Recorder::open_with(&db, fast()).unwrap();
    let run = rec.begin_run(meta("main")).unwrap();
    rec.record_seconds(run, &[point(0, "a.b", 1.0, 1.0, 0.0)]);
    rec.flush().unwrap();
    assert_eq!(store.samples(run.0).unwrap().len(), 1);
    rec.finish(run, Outcome::Fail, "2026-01-01T00:00:01Z".into(), &[])
        .unwrap();
    assert_eq!(store.runs().unwrap()[0].outcome, "fail");
}

#[test]
fn a_full_disk_ends_recording_cleanly() {
    let dir = TempDir::new("full");
    let db = dir.join("profile.redb");
    // Create the database first, so the limit only bites on growth.
    drop(Recorder::open_with(&db, fast()).unwrap());
    let size = std::fs::metadata(&db).unwrap().len();
    let limit = (size + 4 * 1024 * 1024).to_string();
    let w = Writer::spawn(
        &db,
        &[
            "--services",
            "300",
            "--interval-ms",
            "2",
            "--commit-ms",
            "50",
            "--max-file-bytes",
            &limit,
        ],
    );
    w.wait_for("run ", Duration::from_secs(10)).unwrap();
    let stopped = w
        .wait_for("stopped: ", Duration::from_secs(20))
        .expect("recording stops when the file cannot grow");
    assert!(stopped.contains("recording stopped"), "{stopped}");
    let mut child = w.child;
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));

    let store = ProfileStore::open(&db).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs[0].outcome, "incomplete");
    let samples = store.samples(1).unwrap();
    assert!(!samples.is_empty());
    let s0 = samples.iter().filter(|p| p.service == "svc.s0").count();
    assert_eq!(samples.len(), s0 * 300, "every committed second is whole");
}

// ---------------------------------------------------------------------------------------------
// The derived profile

/// Run 1 ramps the load from 10 to 1200 rps: p99 is flat (20 ms) to 600 rps, then climbs by
/// 2 ms per rps, so the knee is at 600 and the 1 s SLO breaks at 1090. Run 2 holds 300 rps
/// and injects a latency fault from 100 s to 160 s that adds 200 ms and 5 % errors, with a
/// 5 s tail after the revert.
fn synthetic_profile(rec: &Recorder) {
    let mut n = Noise(42);
    let ramp: Vec<Vec<SeriesPoint>> = (0..1200u64)
        .map(|t| {
            let rate = 10.0 + t as f64 * (1190.0 / 1199.0);
            let p99 = 20.0 + 2.0 * (rate - 600.0).max(0.0) + n.normal();
            vec![point(t, "shop.checkout", rate, p99.max(1.0), 0.0)]
        })
        .collect();
    let run = record_run(rec, "ramp", &ramp, &[]);
    rec.flush().unwrap();
    let _ = run;
    let steady: Vec<Vec<SeriesPoint>> = (0..300u64)
        .map(|t| {
            let base = 20.0 + n.normal();
            let (p99, err) = match t {
                100..160 => (base + 200.0, 0.05),
                160..165 => (base + 100.0, 0.02),
                _ => (base, 0.0),
            };
            vec![point(t, "shop.checkout", 300.0 + n.normal(), p99, err)]
        })
        .collect();
    record_run(
        rec,
        "steady",
        &steady,
        &[
            fault(100.0, "inject", "latency 200ms"),
            fault(160.0, "revert", "latency 200ms"),
        ],
    );
    rec.flush().unwrap();
}

#[test]
fn derives_sustainable_rate_knee_degradation_and_recovery() {
    let dir = TempDir::new("derive");
    let db = dir.join("profile.redb");
    let rec = Recorder::open_with(&db, fast()).unwrap();
    synthetic_profile(&rec);
    drop(rec);

    // For the examples in docs/profile.md.
    if let Some(keep) = std::env::var_os("RES_PROFILE_TEST_KEEP") {
        std::fs::copy(&db, keep).unwrap();
    }
    let store = ProfileStore::open(&db).unwrap();
    let p = store.profile(None, &Slo::default()).unwrap();
    assert_eq!(p.services.len(), 1);
    let s = &p.services[0];
    let sustainable = s.sustainable_rps.unwrap();
    assert!(
        (sustainable - 1090.0).abs() < 0.05 * 1090.0,
        "sustainable {sustainable}"
    );
    assert!(!s.sustainable_is_lower_bound);
    let knee = s.knee_rps.unwrap();
    assert!((knee - 600.0).abs() < 0.10 * 600.0, "knee {knee}");
    let f = &s.faults["latency"];
    let d99 = f.p99_delta_ms.unwrap();
    assert!((d99 - 200.0).abs() < 10.0, "p99 delta {d99}");
    let derr = f.error_rate_delta.unwrap();
    assert!((derr - 0.05).abs() < 0.005, "error delta {derr}");
    assert!(f.p99_p_value.unwrap() < 0.001);
    let rec_s = f.recovery_s.unwrap();
    assert!((4.0..=6.0).contains(&rec_s), "recovery {rec_s}");
    assert_eq!(s.recovery_s, Some(rec_s));
    assert!(s.trend.is_some());
    drop(store);

    let out = res_cmd(&[
        "profile",
        "services",
        "--format",
        "json",
        "--profile-db",
        db.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let v = json_of(&out);
    let errors = common::validate(&common::load_schema("profile-services.schema.json"), &v);
    assert!(errors.is_empty(), "{errors:?}");
    let svc = &v["services"][0];
    assert!(svc["sustainable_rps"].is_number() && svc["knee_rps"].is_number());
    assert!(svc["recovery_s"].is_number());
    assert!(svc["faults"]["latency"]["p99_delta_ms"].is_number());
    assert!(svc["faults"]["latency"]["error_rate_delta"].is_number());

    // A stricter SLO lowers the sustainable rate.
    let strict = json_of(&res_cmd(&[
        "profile",
        "services",
        "--format",
        "json",
        "--slo-p99",
        "500ms",
        "--profile-db",
        db.to_str().unwrap(),
    ]));
    let r = strict["services"][0]["sustainable_rps"].as_f64().unwrap();
    assert!((r - 840.0).abs() < 0.05 * 840.0, "{r}");
    let text = res_cmd(&["profile", "services", "--profile-db", db.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("under latency"), "{text}");
}

#[test]
fn compare_flags_a_significant_regression_and_not_noise() {
    let dir = TempDir::new("compare");
    let db = dir.join("profile.redb");
    let rec = Recorder::open_with(&db, fast()).unwrap();
    let mut n = Noise(7);
    let run = |shift: f64, n: &mut Noise| -> Vec<Vec<SeriesPoint>> {
        (0..120u64)
            .map(|t| {
                vec![
                    point(
                        t,
                        "shop.checkout",
                        200.0,
                        100.0 + shift + 10.0 * n.normal(),
                        0.0,
                    ),
                    point(t, "shop.catalog", 400.0, 15.0 + 2.0 * n.normal(), 0.0),
                ]
            })
            .collect()
    };
    let (a, b, c) = (run(0.0, &mut n), run(30.0, &mut n), run(0.0, &mut n));
    for s in [&a, &b, &c] {
        record_run(&rec, "main", s, &[]);
    }
    rec.flush().unwrap();
    drop(rec);
    let db_arg = db.to_str().unwrap();

    let worse = res_cmd(&[
        "profile",
        "compare",
        "1",
        "2",
        "--format",
        "json",
        "--profile-db",
        db_arg,
    ]);
    assert_eq!(
        worse.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&worse.stderr)
    );
    let v = json_of(&worse);
    let services = v["services"].as_array().unwrap();
    let checkout = services
        .iter()
        .find(|s| s["service"] == "shop.checkout")
        .unwrap();
    assert_eq!(checkout["p99_worse"], true);
    assert!(checkout["p99_p_value"].as_f64().unwrap() < 0.001);
    let catalog = services
        .iter()
        .find(|s| s["service"] == "shop.catalog")
        .unwrap();
    assert_eq!(catalog["p99_worse"], false);
    assert_eq!(v["worse"].as_array().unwrap().len(), 1);

    let same = res_cmd(&[
        "profile",
        "compare",
        "1",
        "3",
        "--format",
        "json",
        "--profile-db",
        db_arg,
    ]);
    assert_eq!(same.status.code(), Some(0));
    let v = json_of(&same);
    assert!(v["worse"].as_array().unwrap().is_empty(), "{v}");

    let text = res_cmd(&["profile", "compare", "1", "2", "--profile-db", db_arg]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("shop.checkout: p99"));
}

// ---------------------------------------------------------------------------------------------
// Cost

/// What recording costs a run, for a second of 100 services: the time `record_seconds`
/// takes on the caller's thread, and the writer thread's time to commit that second (with
/// its fsync), as a run commits once a second. Also the time to reopen the file (the
/// read-only check before writing). Figures are printed: run with --nocapture, and with
/// --release for the numbers in docs/profile.md.
#[test]
fn recorder_cost_per_second_of_100_services() {
    let dir = TempDir::new("cost");
    let db = dir.join("profile.redb");
    let rec = Recorder::open_with(&db, RecorderOptions::default()).unwrap();
    let run = rec.begin_run(meta("bench")).unwrap();
    let seconds = 300u64;
    let data: Vec<Vec<SeriesPoint>> = (0..seconds)
        .map(|t| {
            (0..100)
                .map(|s| point(t, &format!("sys.service{s:03}"), 500.0, 25.0, 0.01))
                .collect()
        })
        .collect();
    let (mut caller, mut worst, mut commit) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for s in &data {
        let t0 = Instant::now();
        rec.record_seconds(run, s);
        let d = t0.elapsed();
        caller += d;
        worst = worst.max(d);
        let t1 = Instant::now();
        rec.flush().unwrap();
        commit += t1.elapsed();
    }
    rec.health().unwrap();
    drop(rec);
    let size = std::fs::metadata(&db).unwrap().len();
    let t0 = Instant::now();
    drop(Recorder::open_with(&db, RecorderOptions::default()).unwrap());
    let reopen = t0.elapsed();
    let per_call = caller / seconds as u32;
    let per_commit = commit / seconds as u32;
    println!(
        "recorder cost, 100 services: caller {per_call:?} per second (worst {worst:?}); \
         writer thread {per_commit:?} per second incl. fsync; {} bytes per service-second; \
         reopen of {} KiB {reopen:?}",
        size / (seconds * 100),
        size / 1024
    );
    // A second of wall time per second of data: the caller's share must stay far below 2 %.
    assert!(per_call < Duration::from_millis(5), "{per_call:?}");
    assert!(per_commit < Duration::from_millis(300), "{per_commit:?}");
}

// ---------------------------------------------------------------------------------------------
// Issue 13: killed runs, interrupted creates, racing runs, a full disk, a damaged page

/// A scenario against the embedded demo shop: load on the catalog for 12 s, and a latency
/// fault of 150 ms on it from 6 s to 10 s.
fn demo_scenario(dir: &TempDir) -> PathBuf {
    let p = dir.join("killed.res");
    std::fs::write(
        &p,
        "system shop {\n  builtin demo_shop\n  service catalog { route GET \"/items/{random.1000}\" }\n}\n\
         traffic t { rate 40/s  hold 12s }\n\
         fault slow { on shop.catalog  latency 150ms }\n\
         scenario s {\n  step main = load t\n  step chaos = inject slow with main + 6s for 4s\n}\n",
    )
    .unwrap();
    p
}

fn run_demo(scenario: &Path, db: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_res"))
        .args(["run", "--seed", "3", "--profile-db"])
        .arg(db)
        .arg(scenario)
        .current_dir(scenario.parent().unwrap())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("res run starts")
}

fn show_json(db: &Path, run: u64) -> Option<Value> {
    let o = res_cmd(&[
        "profile",
        "show",
        &run.to_string(),
        "--format",
        "json",
        "--profile-db",
        db.to_str().unwrap(),
    ]);
    o.status.success().then(|| json_of(&o))
}

#[test]
fn a_run_killed_after_an_injection_keeps_its_faults_and_the_profile_does_not_lie() {
    let dir = TempDir::new("killed-run");
    let scenario = demo_scenario(&dir);
    let db = dir.join("profile.redb");
    // Two identical runs to the end.
    for _ in 0..2 {
        let o = run_demo(&scenario, &db).wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // The third is killed with SIGKILL two seconds after its fault went in. The fault is
    // read back while the run goes on: it is recorded as it happens.
    let mut child = run_demo(&scenario, &db);
    let deadline = Instant::now() + Duration::from_secs(30);
    let injected_at = loop {
        assert!(Instant::now() < deadline, "the injection never showed up");
        let injected = show_json(&db, 3).and_then(|v| {
            v["faults"]
                .as_array()
                .and_then(|f| f.iter().find(|f| f["action"] == "inject").cloned())
        });
        if let Some(f) = injected {
            break f["at_s"].as_f64().unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!((5.5..8.0).contains(&injected_at), "{injected_at}");
    std::thread::sleep(Duration::from_secs(2));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = child.wait();

    let v = show_json(&db, 3).expect("the killed run can be shown");
    assert_eq!(v["outcome"], "incomplete");
    let actions: Vec<&str> = v["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["inject"], "{v:#}");
    assert!(
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "inject"),
        "events are recorded as they happen too: {v:#}"
    );
    let text = String::from_utf8_lossy(
        &res_cmd(&["profile", "show", "3", "--profile-db", db.to_str().unwrap()]).stdout,
    )
    .into_owned();
    assert!(text.contains("inject slow"), "{text}");

    // The faulted seconds of the killed run are not taken for clean ones: its clean p99 is
    // that of the identical runs, not 150 ms higher.
    let p = json_of(&res_cmd(&[
        "profile",
        "services",
        "--format",
        "json",
        "--profile-db",
        db.to_str().unwrap(),
    ]));
    let catalog = p["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "shop.catalog")
        .expect("catalog profiled")
        .clone();
    let by_run: Vec<f64> = catalog["trend"]["p99_ms_by_run"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(by_run.len(), 3, "{catalog:#}");
    let identical = by_run[0].max(by_run[1]);
    assert!(
        by_run[2] < identical + 50.0,
        "the killed run's clean p99 {by_run:?} counts faulted seconds as clean"
    );
    assert!(
        catalog["baseline_p99_ms"].as_f64().unwrap() < 100.0,
        "{catalog:#}"
    );
}

#[test]
fn an_unfinished_run_from_before_live_recording_counts_no_unknown_seconds() {
    // A run recorded by an older res, killed mid-fault: samples committed, faults never
    // written. Its seconds after its last known state must not count as clean.
    let dir = TempDir::new("old-incomplete");
    let db = dir.join("profile.redb");
    let rec = Recorder::open_with(&db, fast()).unwrap();
    let clean: Vec<Vec<SeriesPoint>> = (0..40)
        .map(|t| vec![point(t, "shop.catalog", 50.0, 20.0, 0.0)])
        .collect();
    let done = record_run(&rec, "s", &clean, &[]);
    rec.flush().unwrap();
    rec.finish(done, Outcome::Pass, "2026-01-01T00:01:00Z".into(), &[])
        .unwrap();
    let rec = Recorder::open_with(&db, fast()).unwrap();
    let slow: Vec<Vec<SeriesPoint>> = (0..40)
        .map(|t| {
            let p99 = if t >= 10 { 170.0 } else { 20.0 };
            vec![point(t, "shop.catalog", 50.0, p99, 0.0)]
        })
        .collect();
    let killed = record_run(&rec, "s", &slow, &[]);
    rec.flush().unwrap();
    drop(rec);
    // Make it look like the older recording: not live.
    {
        let redb_db = redb::Database::open(&db).unwrap();
        let w = redb_db.begin_write().unwrap();
        {
            let mut runs = w.open_table(RUNS).unwrap();
            use redb::ReadableTable;
            let mut r: Value =
                serde_json::from_slice(runs.get(killed.0).unwrap().unwrap().value()).unwrap();
            r["live"] = Value::Bool(false);
            let bytes = serde_json::to_vec(&r).unwrap();
            runs.insert(killed.0, bytes.as_slice()).unwrap();
        }
        w.commit().unwrap();
    }
    let store = ProfileStore::open(&db).unwrap();
    let obs = store.observations(&store.runs().unwrap()).unwrap();
    assert_eq!(obs[0].services["shop.catalog"].len(), 40);
    assert!(
        obs[1]
            .services
            .get("shop.catalog")
            .is_none_or(|s| s.is_empty()),
        "no second of a dead run without its faults is known"
    );
    let p = store.profile(None, &Slo::default()).unwrap();
    assert_eq!(p.services[0].clean_seconds, 40);
}

fn files_like(dir: &Path, needle: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(needle))
        .collect()
}

#[test]
fn a_leftover_of_an_interrupted_create_counts_as_empty() {
    let dir = TempDir::new("leftover");
    // What a create killed between sizing the file and writing redb's magic number leaves:
    // the first pages of a database, with the header's magic number still zero.
    let model = dir.join("model.redb");
    drop(redb::Database::create(&model).unwrap());
    let mut bytes = std::fs::read(&model).unwrap();
    bytes.truncate(73_728);
    bytes.resize(73_728, 0);
    bytes[..9].fill(0);
    for (i, bytes) in [bytes.clone(), Vec::new(), vec![0u8; 73_728]]
        .into_iter()
        .enumerate()
    {
        let db = dir.join(&format!("profile-{i}.redb"));
        std::fs::write(&db, &bytes).unwrap();
        let list = res_cmd(&["profile", "list", "--profile-db", db.to_str().unwrap()]);
        assert_eq!(list.status.code(), Some(0), "{i}");
        assert!(
            String::from_utf8_lossy(&list.stderr).contains("no runs recorded yet"),
            "{i}: {}",
            String::from_utf8_lossy(&list.stderr)
        );
        let rec = Recorder::open_with(&db, fast()).unwrap();
        assert_eq!(rec.begin_run(meta("main")).unwrap(), RunId(1), "{i}");
        drop(rec);
        assert_eq!(ProfileStore::open(&db).unwrap().runs().unwrap().len(), 1);
    }
    for junk in [".new-", ".leftover-", ".check-"] {
        assert!(files_like(&dir.0, junk).is_empty(), "{junk} left behind");
    }
    // Zeros at the start of a big file are something else: refused, untouched.
    let big = dir.join("big.redb");
    std::fs::write(&big, vec![0u8; 8 * 1024 * 1024]).unwrap();
    assert!(Recorder::open_with(&big, fast()).is_err());
    assert_eq!(std::fs::metadata(&big).unwrap().len(), 8 * 1024 * 1024);
}

#[test]
fn runs_racing_to_create_one_database_never_see_a_half_made_file() {
    let dir = TempDir::new("race");
    for round in 0..4 {
        let db = dir.join(&format!("profile-{round}.redb"));
        // Three writers at the same instant; each holds the file about 4 s, longer than the
        // 3 s a second writer waits, so the losers must say the file is in use.
        let children: Vec<Child> = (0..3)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_res"))
                    .args(["profile", "_test-writer"])
                    .arg(&db)
                    .args(["--services", "1", "--interval-ms", "20", "--seconds", "200"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut won = 0;
        for c in children {
            let o = c.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            if o.status.success() {
                won += 1;
            } else {
                assert!(
                    err.contains("in use by another res process"),
                    "round {round}: {err}"
                );
            }
        }
        assert!(won >= 1, "round {round}: nobody recorded");
        let runs = ProfileStore::open(&db).unwrap().runs().unwrap();
        assert_eq!(runs.len(), won, "round {round}");
    }
    assert!(files_like(&dir.0, ".new-").is_empty());
}

/// A tmpfs of `size` mounted for the test, unmounted on drop. `None` without root (a
/// failure under CI=true, where the test must run).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(name: &str, size: &str) -> Option<Tmpfs> {
        let dir = std::env::temp_dir().join(format!("res-tmpfs-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_dir(&dir);
            common::skip("cannot mount a tmpfs (needs root)");
            return None;
        }
        Some(Tmpfs(dir))
    }

    /// Writes a file until the file system is full.
    fn fill(&self) {
        use std::io::Write;
        let mut f = std::fs::File::create(self.0.join("fill")).unwrap();
        let chunk = vec![0xA5u8; 64 * 1024];
        for _ in 0..100_000 {
            if f.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = f.sync_all();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
fn a_full_disk_is_never_a_silent_pass() {
    let Some(disk) = Tmpfs::mount("full", "4m") else {
        return;
    };
    let dir = TempDir::new("full-disk");
    let scenario = dir.join("full.res");
    std::fs::write(
        &scenario,
        "system shop {\n  builtin demo_shop\n  service catalog { route GET \"/items/{random.1000}\" }\n  service checkout { route POST \"/checkout\" body json { \"item\": 1001, \"qty\": 1 } }\n}\n\
         traffic t { rate 50/s  hold 10s }\n\
         scenario s {\n  step main = load t\n}\n",
    )
    .unwrap();
    let db = disk.0.join("profile.redb");
    let report = dir.join("report.json");
    let child = Command::new(env!("CARGO_BIN_EXE_res"))
        .args(["run", "--seed", "5", "--profile-db"])
        .arg(&db)
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .arg(&scenario)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Fill the disk once the run is recording.
    let deadline = Instant::now() + Duration::from_secs(20);
    while show_json(&db, 1).is_none() {
        assert!(Instant::now() < deadline, "the run never started recording");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    disk.fill();
    let o = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{out}\n{err}");
    assert!(!out.contains("PASS"), "{out}");
    assert!(
        out.contains("profile database"),
        "the summary says why: {out}"
    );
    assert!(
        out.contains("shop.catalog"),
        "the load result is printed: {out}"
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["outcome"], "error");
    assert!(
        v["reason"].as_str().unwrap().contains("profile database"),
        "{v:#}"
    );
    // The disk is still full: reading still works, and leaves nothing behind.
    let list = res_cmd(&["profile", "list", "--profile-db", db.to_str().unwrap()]);
    assert_eq!(
        list.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    assert!(String::from_utf8_lossy(&list.stdout).contains("incomplete"));
    assert!(files_like(&disk.0, ".check-").is_empty());
    assert!(files_like(&disk.0, ".new-").is_empty());
}

#[test]
fn one_damaged_page_does_not_lose_the_other_runs() {
    let dir = TempDir::new("salvage");
    let good = dir.join("good.redb");
    {
        let rec = Recorder::open_with(&good, fast()).unwrap();
        for (scenario, services, seconds) in [("small", 1, 30), ("big", 8, 1500), ("small", 1, 30)]
        {
            let data: Vec<Vec<SeriesPoint>> = (0..seconds)
                .map(|t| {
                    (0..services)
                        .map(|s| point(t, &format!("{scenario}.s{s}"), 20.0, 10.0, 0.0))
                        .collect()
                })
                .collect();
            let run = record_run(
                &rec,
                scenario,
                &data,
                &[fault(3.0, "inject", "latency 1ms")],
            );
            rec.flush().unwrap();
            let _ = run;
        }
    }
    let bytes = std::fs::read(&good).unwrap();
    // Pages that hold the big run's samples (their keys name its services).
    let page = 4096;
    let pages: Vec<usize> = (1..bytes.len() / page)
        .filter(|i| {
            let p = &bytes[i * page..(i + 1) * page];
            p.windows(5).filter(|w| w == b"big.s").count() > 20
                && !p.windows(5).any(|w| w == b"small")
        })
        .collect();
    assert!(pages.len() > 10, "{} pages of samples", pages.len());
    let damaged = dir.join("profile.redb");
    let mut noise = Noise(0xbad);
    let mut found = false;
    // Pages freed by later commits may hold stale copies: damage one page after another
    // until the damage is noticed.
    for &i in pages.iter().skip(pages.len() / 3) {
        let mut b = bytes.clone();
        for x in &mut b[i * page..(i + 1) * page] {
            *x = (noise.uniform() * 256.0) as u8;
        }
        std::fs::write(&damaged, &b).unwrap();
        if Recorder::open_with(&damaged, fast()).is_err() {
            found = true;
            break;
        }
    }
    assert!(found, "no damage was noticed");
    let db = damaged.to_str().unwrap();
    // The error says what to do.
    let e = Recorder::open_with(&damaged, fast())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("res profile salvage"), "{e}");
    assert!(!e.contains("unreachable"), "{e}");
    // The documented recovery: salvage into a new file, move it into place.
    let before = std::fs::read(&damaged).unwrap();
    let out = dir.join("profile-salvaged.redb");
    let s = res_cmd(&["profile", "salvage", "--profile-db", db, "--format", "json"]);
    assert_eq!(
        s.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&s.stderr)
    );
    let r = json_of(&s);
    let kept: Vec<u64> = r["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert!(kept.contains(&1) && kept.contains(&3), "{r:#}");
    assert_eq!(
        std::fs::read(&damaged).unwrap(),
        before,
        "salvage wrote to the damaged file"
    );
    let again = res_cmd(&["profile", "salvage", "--profile-db", db]);
    assert_eq!(
        again.status.code(),
        Some(4),
        "an existing output is never overwritten"
    );
    std::fs::rename(&damaged, dir.join("profile.redb.damaged")).unwrap();
    std::fs::rename(&out, &damaged).unwrap();
    let store = ProfileStore::open(&damaged).unwrap();
    let runs = store.runs().unwrap();
    assert!(runs.iter().any(|r| r.id == 1) && runs.iter().any(|r| r.id == 3));
    assert_eq!(store.samples(1).unwrap().len(), 30);
    assert_eq!(store.faults(3).unwrap().len(), 1);
    drop(store);
    // And recording goes on in it, after the salvaged ids.
    let rec = Recorder::open_with(&damaged, fast()).unwrap();
    assert_eq!(rec.begin_run(meta("main")).unwrap(), RunId(4));
}
