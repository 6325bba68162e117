//! `res profile _test-writer`: a stand-in for a run, for the crash, concurrency and full-disk
//! tests. It records synthetic seconds through the real [`Recorder`] and prints what is
//! committed, so a test can kill it at a known point and check what survived.
//!
//! Prints `run N` once, then `committed K` each time the committed count grows, and
//! `stopped: REASON` if recording fails (exit 3).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::recorder::{Recorder, RecorderOptions, RunMeta};
use super::ProfileError;
use crate::report::{FaultEvent, Outcome, SeriesPoint};

pub struct Options {
    pub services: usize,
    pub interval: Duration,
    pub commit: Duration,
    pub max_file_bytes: Option<u64>,
    /// 0: until killed.
    pub seconds: u64,
}

pub fn run(db: &Path, o: &Options) -> Result<u8, ProfileError> {
    if let Some(limit) = o.max_file_bytes {
        limit_file_size(limit)?;
    }
    let rec = Recorder::open_with(
        db,
        RecorderOptions {
            commit_interval: o.commit,
            ..RecorderOptions::default()
        },
    )?;
    let run = rec.begin_run(RunMeta {
        scenario: "test_writer".into(),
        file: "test_writer.res".into(),
        file_hash: super::fingerprint::file_hash(b"test_writer"),
        seed: 1,
        started_at: "2026-01-01T00:00:00Z".into(),
        git_commit: None,
    })?;
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "run {run}");
    let _ = stdout.flush();
    let mut committed = 0;
    let mut t = 0u64;
    loop {
        if o.seconds > 0 && t >= o.seconds {
            break;
        }
        let points: Vec<SeriesPoint> = (0..o.services).map(|s| point(t, s)).collect();
        rec.record_seconds(run, &points);
        if t == 2 {
            rec.record_fault(
                run,
                &FaultEvent {
                    at_s: 2.0,
                    fault: "slow".into(),
                    action: "inject".into(),
                    target: "svc.s0".into(),
                    detail: "latency 100ms".into(),
                },
            );
        }
        t += 1;
        std::thread::sleep(o.interval);
        let now = rec.committed_seconds();
        if now != committed {
            committed = now;
            let _ = writeln!(stdout, "committed {committed}");
            let _ = stdout.flush();
        }
        if let Err(e) = rec.health() {
            let _ = writeln!(stdout, "stopped: {e}");
            let _ = stdout.flush();
            return Ok(3);
        }
    }
    rec.finish(run, Outcome::Pass, "2026-01-01T00:10:00Z".into(), &[])?;
    let _ = writeln!(stdout, "finished");
    Ok(0)
}

fn point(t: u64, s: usize) -> SeriesPoint {
    let rate = 100.0 + (t % 50) as f64;
    SeriesPoint {
        t,
        service: format!("svc.s{s}"),
        rps: rate,
        offered_rps: rate,
        concurrency: 4,
        p50_ms: 5.0,
        p90_ms: 8.0,
        p99_ms: 12.0 + (t % 7) as f64,
        p999_ms: 30.0,
        max_ms: 40.0,
        errors: t % 3,
        errors_by_kind: [("timeout".to_string(), t % 3)].into_iter().collect(),
    }
}

/// Makes writes past `limit` bytes fail with EFBIG, as a full disk fails them with ENOSPC.
fn limit_file_size(limit: u64) -> Result<(), ProfileError> {
    use nix::sys::resource::{setrlimit, Resource};
    use nix::sys::signal::{signal, SigHandler, Signal};
    let fail = |e: nix::Error| ProfileError::Invalid(format!("cannot limit the file size: {e}"));
    // SAFETY: ignoring a signal installs no handler code; SIGXFSZ would otherwise kill us.
    unsafe { signal(Signal::SIGXFSZ, SigHandler::SigIgn) }.map_err(fail)?;
    setrlimit(Resource::RLIMIT_FSIZE, limit, limit).map_err(fail)
}
