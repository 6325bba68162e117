//! The prediction engine over a large profile: 1,000 runs × 600 s × 20 services (12 million
//! recorded seconds), timed along the path `res predict` takes (`predict::engine::predict`):
//! open a real redb profile, read each run's stored load levels (written when a run finishes),
//! fit the models (USL with bootstrap, knee, latency and error curves), hold them against a
//! rate, and store the predictions. Goal: under 1 s and 200 MB.
//!
//! Building the file is setup, not timed: the seconds of each run are generated and reduced
//! to levels exactly as the recorder does at `finish`, and the levels and run records are
//! written in one transaction (writing 12 million seconds through the recorder would take far
//! longer and is not what a prediction reads). The fallback for a run without stored levels
//! (reducing its recorded seconds when read) is timed separately on 20 real recorded runs.
//!
//! `cargo bench --bench predict`

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use res::predict::engine::predict;
use res::predict::history::{History, Second};
use res::predict::input::{Demand, PredictSpec, Quantity, SloLimit};
use res::profile::levels::levels;
use res::profile::levels_table::encode;
use res::profile::schema::{RunRecord, LEVELS, RUNS};
use res::units::Timestamp;

const RUNS_N: u64 = 1_000;
const SECONDS: u64 = 600;
const SERVICES: usize = 20;

/// A service of capacity `cap`: second `t` of run `run` under a step load of ten plateaus.
fn second(run: u64, t: u64, cap: f64) -> Second {
    let step = (t / 60) as f64 + 1.0;
    let offered = cap * 0.12 * step * (1.0 + (run % 7) as f64 * 0.01);
    let goodput = offered.min(cap);
    let rho = (offered / cap).min(0.98);
    let p99 = 10.0 + 40.0 * rho / (1.0 - rho);
    Second {
        run,
        t,
        offered,
        goodput,
        answered: offered,
        in_flight: goodput * p99 / 1000.0,
        p50_ms: 10.0,
        p90_ms: p99 * 0.8,
        p99_ms: p99,
        p999_ms: p99,
        max_ms: p99,
        error_rate: if offered > cap {
            1.0 - cap / offered
        } else {
            0.0
        },
        faulted: false,
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Writes the profile `res predict` would find after 1,000 finished runs: run records and the
/// levels `finish` stores.
fn build(db: &Path, names: &[String], caps: &[f64]) -> Result<(), String> {
    let d = res::profile::open_for_writing(db).map_err(|e| e.to_string())?;
    let txn = d.begin_write().map_err(|e| e.to_string())?;
    {
        let mut runs = txn.open_table(RUNS).map_err(|e| e.to_string())?;
        let mut lv = txn.open_table(LEVELS).map_err(|e| e.to_string())?;
        let mut secs = Vec::with_capacity(SECONDS as usize);
        for run in 1..=RUNS_N {
            let rec = RunRecord {
                id: run,
                scenario: "bench".into(),
                file: "bench.res".into(),
                file_hash: "0".into(),
                seed: 1,
                started_at: "2026-12-01T00:00:00Z".into(),
                ended_at: Some("2026-12-01T00:10:00Z".into()),
                outcome: Some("pass".into()),
                complete: true,
                git_commit: None,
                writer_pid: None,
                res_version: String::new(),
                live: true,
            };
            let bytes = serde_json::to_vec(&rec).map_err(|e| e.to_string())?;
            runs.insert(run, bytes.as_slice())
                .map_err(|e| e.to_string())?;
            for (name, cap) in names.iter().zip(caps) {
                secs.clear();
                secs.extend((0..SECONDS).map(|t| second(run, t, *cap)));
                lv.insert((run, name.as_str()), encode(&levels(&secs)).as_slice())
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    txn.commit().map_err(|e| e.to_string())
}

fn main() {
    let names: Vec<String> = (0..SERVICES).map(|i| format!("shop.svc{i:02}")).collect();
    let caps: Vec<f64> = (0..SERVICES).map(|i| 100.0 + 50.0 * i as f64).collect();
    let dir = std::env::temp_dir().join(format!("res-bench-predict-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    let db = dir.join("profile.redb");
    let setup = Instant::now();
    if let Err(e) = build(&db, &names, &caps) {
        println!("cannot build the profile at {}: {e}", db.display());
        return;
    }
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
    println!(
        "profile of {RUNS_N} runs × {SECONDS} s × {SERVICES} services ({} recorded seconds) as levels: {:.1} MB, built in {:.2?} (setup, not timed)",
        RUNS_N * SECONDS * SERVICES as u64,
        size as f64 / 1e6,
        setup.elapsed()
    );
    let rss_before = peak_rss_mb();

    let spec = PredictSpec {
        system: "shop".into(),
        mix: BTreeMap::new(),
        demand: Demand::Rate(8000.0),
        slos: vec![SloLimit {
            name: "ok".into(),
            service: None,
            quantity: Quantity::P99Ms,
            limit: 400.0,
        }],
        notes: Vec::new(),
    };
    // The stages of the path, one by one (the same calls `engine::predict` makes).
    let t0 = Instant::now();
    let Ok(store) = res::profile::ProfileStore::open(&db) else {
        println!("  cannot open {}", db.display());
        return;
    };
    let runs = store.runs().unwrap_or_default();
    let t1 = Instant::now();
    let history = History::read_runs(&store, &runs, Some("shop")).unwrap_or_default();
    let t2 = Instant::now();
    let fitted = res::predict::engine::models(&history, 1);
    let t3 = Instant::now();
    let req = res::predict::engine::request(&spec, &history, 1);
    let v = res::predict::verdict::verdict(&fitted, &history.runs, &req);
    let t4 = Instant::now();
    drop(store);
    println!(
        "  stages: open + {} run records {:.2?}; levels of {} runs {:.2?}; fit {} services {:.2?}; verdict {:.2?} ({} services)",
        runs.len(),
        t1 - t0,
        history.runs.len(),
        t2 - t1,
        fitted.len(),
        t3 - t2,
        t4 - t3,
        v.services.len()
    );
    let start = Instant::now();
    let unstored = predict(&db, &spec, 1, Timestamp(1_796_000_000), false);
    println!(
        "  res predict --no-store path: {:.2?} ({})",
        start.elapsed(),
        if unstored.is_ok() { "ok" } else { "failed" }
    );
    let start = Instant::now();
    let out = predict(&db, &spec, 1, Timestamp(1_796_000_000), true);
    let took = start.elapsed();
    match out {
        Ok(o) => {
            let json = serde_json::to_string(&o).unwrap_or_default();
            println!(
                "  res predict path (open, read levels, fit, verdict, store {} predictions): {took:.2?}; JSON {} bytes",
                o.stored.len(),
                json.len()
            );
            if let Some(m) = o.verdict.services.get(5) {
                println!(
                    "  check: {} capacity {:.1}/s (true {:.1}/s) by {:?}",
                    m.service, m.model.capacity.rate.point, caps[5], m.model.capacity.method
                );
            }
        }
        Err(e) => println!("  predict failed: {e}"),
    }
    println!(
        "  peak resident memory: {:.0} MB (after setup: {rss_before:.0} MB)",
        peak_rss_mb()
    );
    let _ = std::fs::remove_dir_all(&dir);

    read_path();
}

/// Writes 20 runs into a real redb file through the recorder, leaving all but the last
/// unfinished (so without stored levels), and times reading them back: the fallback's cost per
/// recorded second, and the stored levels of the finished one.
fn read_path() {
    use res::profile::{ProfileStore, Recorder, RunMeta};
    use res::report::{Outcome, SeriesPoint};
    let dir = std::env::temp_dir().join(format!("res-bench-predict-rp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::create_dir_all(&dir);
    let db = dir.join("profile.redb");
    let runs = 20;
    let Ok(rec) = Recorder::open(&db) else {
        println!("  (read path skipped: cannot create {})", db.display());
        return;
    };
    for r in 0..runs {
        let Ok(id) = rec.begin_run(RunMeta {
            scenario: "bench".into(),
            file: "bench.res".into(),
            file_hash: "0".into(),
            seed: 1,
            started_at: "2026-12-01T00:00:00Z".into(),
            git_commit: None,
        }) else {
            return;
        };
        for t in 0..SECONDS {
            let points: Vec<SeriesPoint> = (0..SERVICES)
                .map(|i| {
                    let s = second(r, t, 100.0 + 50.0 * i as f64);
                    SeriesPoint {
                        t,
                        service: format!("shop.svc{i:02}"),
                        rps: s.goodput,
                        offered_rps: s.offered,
                        concurrency: s.in_flight as u64,
                        p50_ms: s.p50_ms,
                        p90_ms: s.p90_ms,
                        p99_ms: s.p99_ms,
                        p999_ms: s.p999_ms,
                        max_ms: s.max_ms,
                        errors: 0,
                        errors_by_kind: Default::default(),
                    }
                })
                .collect();
            rec.record_seconds(id, &points);
        }
        let _ = rec.flush();
        if r + 1 == runs {
            let _ = rec.finish(id, Outcome::Pass, "2026-12-01T00:10:00Z".into(), &[]);
            break;
        }
    }
    let start = Instant::now();
    let Ok(store) = ProfileStore::open(&db) else {
        return;
    };
    let Ok(h) = History::read(&store, Some("shop")) else {
        return;
    };
    let took = start.elapsed();
    let n = runs * SECONDS * SERVICES as u64;
    println!(
        "fallback: {runs} runs × {SECONDS} s × {SERVICES} services ({n} seconds; {} without stored levels) read and reduced in {took:.2?} ({:.0} ns per recorded second; {} runs seen)",
        runs - 1,
        took.as_nanos() as f64 / n as f64,
        h.runs.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
