//! The prediction engine over a large profile: 1,000 runs × 600 s × 20 services (12 million
//! recorded seconds), reduced run by run to load levels as they would be read, then fitted
//! (USL with bootstrap, knee, latency and error curves) and held against a rate. Prints the
//! wall time of each stage and the process's peak resident memory. Goal: under 1 s and
//! 200 MB for the prediction.
//!
//! Also times reading a real redb profile of 20 runs × 600 s × 20 services, to give the cost
//! per recorded second of the read path.
//!
//! `cargo bench --bench predict`

use std::collections::BTreeMap;
use std::time::Instant;

use res::predict::engine::models;
use res::predict::history::{History, Second};
use res::predict::input::{Quantity, Request, SloLimit, Target};
use res::predict::verdict::verdict;

const RUNS: u64 = 1_000;
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
        concurrency: goodput * p99 / 1000.0,
        p99_ms: p99,
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

fn main() {
    let names: Vec<String> = (0..SERVICES).map(|i| format!("shop.svc{i:02}")).collect();
    let caps: Vec<f64> = (0..SERVICES).map(|i| 100.0 + 50.0 * i as f64).collect();

    let start = Instant::now();
    let mut history = History::default();
    let mut run_seconds = Vec::with_capacity(SECONDS as usize * SERVICES);
    for run in 1..=RUNS {
        run_seconds.clear();
        for t in 0..SECONDS {
            for (name, cap) in names.iter().zip(&caps) {
                run_seconds.push((name.as_str(), second(run, t, *cap)));
            }
        }
        history.add_run(run, run_seconds.drain(..));
    }
    let reduce = start.elapsed();

    let fit_start = Instant::now();
    let fitted = models(&history, 1);
    let fit = fit_start.elapsed();

    let rates: BTreeMap<String, f64> = names.iter().map(|n| (n.clone(), 400.0)).collect();
    let req = Request {
        target: Target::Rates(rates),
        slos: vec![SloLimit {
            name: "ok".into(),
            service: None,
            quantity: Quantity::P99Ms,
            limit: 400.0,
        }],
        seed: 1,
    };
    let v_start = Instant::now();
    let v = verdict(&fitted, &history.runs, &req);
    let judge = v_start.elapsed();
    let json = serde_json::to_string(&v).unwrap_or_default();
    println!(
        "predict over {RUNS} runs × {SECONDS} s × {SERVICES} services ({} recorded seconds):",
        RUNS * SECONDS * SERVICES as u64
    );
    println!("  reduce to levels (the read path's in-memory work): {reduce:.2?}");
    println!(
        "  fit {} services (USL + bootstrap, knee, curves): {fit:.2?}",
        fitted.len()
    );
    println!("  verdict: {judge:.2?}; JSON {} bytes", json.len());
    println!("  prediction (fit + verdict): {:.2?}", fit + judge);
    println!("  total: {:.2?}", start.elapsed());
    println!("  peak resident memory: {:.0} MB", peak_rss_mb());
    let m = &fitted[5];
    println!(
        "  check: {} capacity {:.1}/s (true {:.1}/s) by {:?}",
        m.service, m.capacity.rate.point, caps[5], m.capacity.method
    );

    read_path();
}

/// Writes 20 runs into a real redb file through the recorder and times reading them back.
fn read_path() {
    use res::profile::{ProfileStore, Recorder, RunMeta};
    use res::report::{Outcome, SeriesPoint};
    let dir = std::env::temp_dir().join(format!("res-bench-predict-{}", std::process::id()));
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
                        concurrency: s.concurrency as u64,
                        p50_ms: 10.0,
                        p90_ms: s.p99_ms * 0.8,
                        p99_ms: s.p99_ms,
                        p999_ms: s.p99_ms,
                        max_ms: s.p99_ms,
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
        "read path: {runs} runs × {SECONDS} s × {SERVICES} services ({n} seconds) read and reduced in {took:.2?} ({:.0} ns per recorded second; {} runs seen)",
        took.as_nanos() as f64 / n as f64,
        h.runs.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
