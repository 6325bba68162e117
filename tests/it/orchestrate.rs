//! `res orchestrate` end to end, the real binary on a real redb file: a virtual week with
//! nightly 02:00–04:00 UTC windows and an event on day 5 expecting 3×. Runs happen only inside
//! windows, one at the event's multiple before it, none overlap, a restart in the middle
//! (after SIGTERM, which exits 0) re-runs nothing, every skip has its reason in the audit
//! log; a second orchestrator on the same database refuses.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::prometheus::{get, prometheus_bin, Prometheus};
use crate::common::*;
use serde_json::Value;

const FILE: &str = r#"
system shop {
  builtin demo_shop
  service catalog { route GET "/items/1" }
}
traffic short  { rate 5/s  hold 30m }
traffic medium { rate 5/s  hold 80m }
traffic long   { rate 5/s  hold 100m }
window nightly { every day 02:00..04:00 UTC }
event sale { at 2026-12-11T12:00Z lasts 1d expect 3x }

scenario a {
  in nightly or before sale
  step main = load short
}
scenario b {
  in nightly
  step main = load medium
}
scenario c {
  in nightly
  step main = load long
}
"#;

fn setup(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("res-orch-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("week.res");
    std::fs::write(&file, FILE).unwrap();
    (file, dir.join("profile.redb"))
}

fn orchestrate(file: &Path, db: &Path, clock: &str, speed: &str) -> Command {
    let mut c = Command::new(res_bin());
    c.args(["orchestrate"])
        .arg(file)
        .args(["--clock", clock, "--interval", "5m", "--speed", speed])
        .arg("--profile-db")
        .arg(db)
        .env("NO_COLOR", "1")
        .env("RES_STATE_DIR", state_dir());
    c
}

/// `res orchestrate FILE` that runs what it schedules (`--send`), every virtual minute of
/// `clock`, as fast as it can.
fn orchestrate_sending(file: &Path, db: &Path, clock: &str) -> Command {
    let mut c = Command::new(res_bin());
    c.arg("orchestrate")
        .arg(file)
        .args([
            "--clock",
            clock,
            "--interval",
            "1m",
            "--speed",
            "1e7",
            "--send",
        ])
        .arg("--profile-db")
        .arg(db)
        .env("RES_STATE_DIR", state_dir());
    c
}

/// The orchestrator's audit log in `db`, as `res orchestrate status --json` prints it.
pub(crate) fn decisions(db: &Path) -> Vec<Value> {
    let o = res(&[
        "orchestrate",
        "status",
        "--json",
        "--profile-db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice::<Vec<Value>>(&o.stdout).unwrap()
}

fn ts(s: &str) -> i64 {
    res::units::Timestamp::parse(s).unwrap().0
}

fn check_week(all: &[Value]) {
    let runs: Vec<&Value> = all.iter().filter(|d| d["action"] == "run").collect();
    // Every skip says why.
    for d in all.iter().filter(|d| d["action"] == "skip") {
        assert!(!d["reason"].as_str().unwrap().is_empty(), "{d}");
    }
    // Reasons the rules give are all there.
    let reasons: Vec<&str> = all
        .iter()
        .filter(|d| d["action"] == "skip")
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    for want in [
        "outside its windows",
        "another run is going",
        "cannot finish before window nightly closes",
        "waits for window nightly",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(want)),
            "no skip saying {want:?}: {reasons:#?}"
        );
    }
    // Inside windows, planned only, never overlapping, one per scenario per occurrence.
    let mut spans = Vec::new();
    let mut slots = std::collections::HashSet::new();
    for r in &runs {
        let at = ts(r["at"].as_str().unwrap());
        let until = ts(r["until"].as_str().unwrap());
        let day = at.div_euclid(86_400) * 86_400;
        assert!(
            at >= day + 2 * 3600 && until <= day + 4 * 3600,
            "a run outside the window: {r}"
        );
        assert_eq!(r["planned_only"], true);
        assert!(
            slots.insert((r["scenario"].to_string(), r["slot"].to_string())),
            "run twice in a slot: {r}"
        );
        spans.push((at, until));
    }
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[1].0 >= w[0].1, "runs overlap: {w:?}");
    }
    let count = |s: &str| runs.iter().filter(|r| r["scenario"] == s).count();
    // Seven nights; c never fits after a and b.
    assert_eq!(count("a"), 7, "{runs:#?}");
    assert_eq!(count("b"), 7, "{runs:#?}");
    assert_eq!(count("c"), 0, "{runs:#?}");
    // One run prepares for the sale, at its multiple, inside the lead time before it.
    let prep: Vec<&&Value> = runs
        .iter()
        .filter(|r| r["slot"].as_str().unwrap().starts_with("event sale"))
        .collect();
    assert_eq!(prep.len(), 1, "{runs:#?}");
    let at = ts(prep[0]["at"].as_str().unwrap());
    let sale = ts("2026-12-11T12:00Z");
    assert!(at < sale && sale - at <= 2 * 86_400, "{}", prep[0]);
    assert_eq!(prep[0]["multiple"], 3.0);
}

#[test]
fn a_virtual_week_runs_inside_windows_and_resumes_after_sigterm() {
    let (file, db) = setup("week");
    // First: stopped by SIGTERM in the middle of the week.
    let mut first = orchestrate(&file, &db, "2026-12-07T00:00Z..2026-12-14T00:00Z", "30000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(first.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = 0;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains(" run ") && line.contains(" a ") {
            seen += 1;
            if seen == 3 {
                break;
            }
        }
        assert!(Instant::now() < deadline, "no runs within 60 s");
    }
    // A second orchestrator on the same database refuses.
    let o = orchestrate(&file, &db, "2026-12-07T00:00Z..2026-12-08T00:00Z", "1e7")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("another `res orchestrate` already runs"),
        "{}",
        stderr(&o)
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    std::thread::spawn(move || for _ in lines {});
    let status = first.wait().unwrap();
    assert_eq!(status.code(), Some(0), "SIGTERM exits 0");
    let before = decisions(&db);
    assert!(before.iter().any(|d| d["action"] == "stop"));
    let runs_before = before.iter().filter(|d| d["action"] == "run").count();
    assert!((3..14).contains(&runs_before), "{runs_before}");
    // Then the whole week again on the same database: it resumes, re-running nothing.
    let o = orchestrate(&file, &db, "2026-12-07T00:00Z..2026-12-14T00:00Z", "1e7")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all = decisions(&db);
    check_week(&all);
    // `status` summarises it.
    let o = res(&[
        "orchestrate",
        "status",
        file.to_str().unwrap(),
        "--profile-db",
        db.to_str().unwrap(),
        "--now",
        "2026-12-13T12:00Z",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("orchestrator: not running"), "{text}");
    assert!(
        text.contains("next nightly at 2026-12-14T02:00:00Z"),
        "{text}"
    );
}

#[test]
fn once_does_one_iteration() {
    let (file, db) = setup("once");
    let o = orchestrate(&file, &db, "2026-12-08T02:00Z..2026-12-09T00:00Z", "1e7")
        .arg("--once")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all = decisions(&db);
    let runs: Vec<&Value> = all.iter().filter(|d| d["action"] == "run").collect();
    assert_eq!(runs.len(), 1, "{all:#?}");
    assert_eq!(runs[0]["scenario"], "a");
    assert!(all.iter().all(|d| d["at"] == "2026-12-08T02:00:00Z"));
}

#[test]
fn a_busy_system_is_not_tested_and_a_metrics_outage_is_said() {
    let demo = Demo::start();
    let (file, db) = setup("busy");
    // Real traffic on the demo shop while the orchestrator looks.
    let (done, load) = background_load(demo.addr.clone());
    let url = format!("http://{}/metrics", demo.addr);
    let o = orchestrate(&file, &db, "2026-12-08T02:00Z..2026-12-08T02:10Z", "300")
        .args(["--metrics", &url, "--busy-above", "5"])
        .output()
        .unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    load.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all = decisions(&db);
    assert!(all.iter().all(|d| d["action"] != "run"), "{all:#?}");
    assert!(
        all.iter()
            .any(|d| d["reason"].as_str().unwrap().contains("the system is busy")),
        "{all:#?}"
    );
    // Metrics that cannot be read: said once, and the loop schedules without them.
    let (file, db) = setup("no-metrics");
    let o = orchestrate(&file, &db, "2026-12-08T02:00Z..2026-12-08T02:10Z", "1e7")
        .args([
            "--metrics",
            "http://127.0.0.1:9/metrics",
            "--busy-above",
            "5",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all = decisions(&db);
    let outages: Vec<&Value> = all.iter().filter(|d| d["action"] == "metrics").collect();
    assert_eq!(outages.len(), 1, "{all:#?}");
    assert!(outages[0]["reason"]
        .as_str()
        .unwrap()
        .contains("cannot read current metrics"));
    assert!(all.iter().any(|d| d["action"] == "run"), "{all:#?}");
}

#[test]
fn send_runs_the_scenario_for_real_at_the_virtual_time() {
    let dir = std::env::temp_dir().join(format!("res-orch-{}-send", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("short.res");
    std::fs::write(
        &file,
        "system shop {\n  builtin demo_shop\n  service catalog { route GET \"/items/1\" }\n}\ntraffic t { rate 20/s  hold 2s }\nwindow nightly { every day 02:00..04:00 UTC }\nslo ok { error_rate(shop) < 5% }\nscenario s {\n  in nightly\n  step main = load t\n  expect ok\n}\n",
    )
    .unwrap();
    let db = dir.join("profile.redb");
    let o = orchestrate_sending(&file, &db, "2026-12-08T02:00Z..2026-12-08T02:02Z")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all = decisions(&db);
    let runs: Vec<&Value> = all.iter().filter(|d| d["action"] == "run").collect();
    assert_eq!(runs.len(), 1, "{all:#?}");
    assert_eq!(runs[0]["planned_only"], false);
    assert_eq!(runs[0]["outcome"], "pass", "{all:#?}");
    // The run itself is in the profile database, started at the virtual time.
    let o = res(&[
        "profile",
        "list",
        "--format",
        "json",
        "--profile-db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("2026-12-08T02:00:00Z"), "{text}");
}

#[test]
fn sigterm_stops_a_real_run_orderly_and_exits_0() {
    let dir = std::env::temp_dir().join(format!("res-orch-{}-term", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("long.res");
    std::fs::write(
        &file,
        "system shop {\n  builtin demo_shop\n  service catalog { route GET \"/items/1\" }\n}\ntraffic t { rate 20/s  hold 60s }\nwindow nightly { every day 02:00..04:00 UTC }\nscenario s {\n  in nightly\n  step main = load t\n}\n",
    )
    .unwrap();
    let db = dir.join("profile.redb");
    let started = Instant::now();
    let mut child = orchestrate_sending(&file, &db, "2026-12-08T02:00Z..2026-12-08T02:02Z")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains(" run ") {
            break;
        }
    }
    std::thread::sleep(Duration::from_secs(2));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    std::thread::spawn(move || for _ in lines {});
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "the 60 s run was stopped"
    );
    let all = decisions(&db);
    let run = all.iter().find(|d| d["action"] == "run").unwrap();
    let outcome = run["outcome"].as_str().unwrap();
    assert!(outcome.contains("stopped by a stop signal"), "{outcome}");
    assert!(all.iter().any(|d| d["action"] == "stop"));
}

#[test]
fn the_loop_serves_its_own_metrics_and_health() {
    let (file, db) = setup("listen");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = orchestrate(&file, &db, "2026-12-08T01:50Z..2026-12-08T03:00Z", "300")
        .args(["--listen", &addr])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains(" run ") {
            break;
        }
    }
    let (status, body) = get(&addr, "/metrics");
    assert!(status.contains("200"), "{status}");
    let iterations: f64 = body
        .lines()
        .find_map(|l| l.strip_prefix("res_orchestrate_iterations_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(iterations >= 3.0, "{body}");
    assert!(
        body.contains("res_orchestrate_runs_total{outcome=\"planned\"} 1"),
        "{body}"
    );
    assert!(
        body.contains("res_orchestrate_skips_total{reason=\"outside_window\"}"),
        "{body}"
    );
    let (status, body) = get(&addr, "/healthz");
    assert!(
        status.contains("200") && body.starts_with("ok"),
        "{status} {body}"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    std::thread::spawn(move || for _ in lines {});
    assert_eq!(child.wait().unwrap().code(), Some(0));
    // Every skip in the audit log names its kind.
    for d in decisions(&db).iter().filter(|d| d["action"] == "skip") {
        assert!(d["kind"].is_string(), "{d}");
    }
}

/// Requests to the demo shop's catalog, about 50 per second, until the flag is set (at most
/// 60 s).
fn background_load(
    addr: String,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<()>,
) {
    use std::io::{Read, Write};
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    let h = std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(60);
        while !flag.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < until {
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                let _ = s.write_all(b"GET /items/1 HTTP/1.0\r\nHost: x\r\n\r\n");
                let _ = s.read_to_end(&mut Vec::new());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    (done, h)
}

#[test]
fn a_declared_prometheus_source_is_read_and_guards_the_schedule() {
    let Some(bin) = prometheus_bin() else { return };
    let demo = Demo::start();
    let (_, db) = setup("prometheus");
    let dir = db.parent().unwrap().to_path_buf();
    let (done, load) = background_load(demo.addr.clone());
    let prom = Prometheus::start(&bin, &dir, &demo.addr);
    // Wait until Prometheus has scraped the traffic twice (a rate needs two samples).
    let deadline = Instant::now() + Duration::from_secs(40);
    while prom
        .query(r#"sum(rate(res_demo_requests_total{service="catalog"}[30s]))"#)
        .is_none_or(|r| r <= 1.0)
    {
        assert!(
            Instant::now() < deadline,
            "Prometheus never saw the demo's traffic"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let file = dir.join("prom.res");
    std::fs::write(
        &file,
        format!(
            r#"
system shop {{
  builtin demo_shop
  metrics prometheus "http://{}"
  query rate "sum(rate(res_demo_requests_total{{service=\"$service\"}}[30s]))"
  query p99 "histogram_quantile(0.99, sum by (le) (rate(res_demo_request_duration_seconds_bucket{{service=\"$service\"}}[30s])))"
  query errors "sum(rate(res_demo_requests_total{{service=\"$service\",code=\"5xx\"}}[30s])) / sum(rate(res_demo_requests_total{{service=\"$service\"}}[30s]))"
  service catalog {{ route GET "/items/1" }}
  service ghost {{
    route GET "/ghost"
    query rate "sum(rate(res_demo_requests_total{{service=\"no_such_service\"}}[30s]))"
  }}
}}
traffic quick {{ rate 5/s hold 1m }}
window nightly {{ every day 02:00..04:00 UTC }}
scenario a {{
  in nightly
  step main = load quick
}}
scenario g1 {{
  in nightly
  skip when throughput(shop.catalog) > 0.5/s
  step main = load quick
}}
scenario g2 {{
  in nightly
  skip when error_rate(shop) > 50% or p99(shop.catalog) > 10s
  step main = load quick
}}
"#,
            prom.addr
        ),
    )
    .unwrap();
    let o = orchestrate(&file, &db, "2026-12-08T02:00Z..2026-12-08T02:10Z", "1e7")
        .args(["--busy-above", "0.5"])
        .output()
        .unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    load.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.starts_with("metrics (Prometheus): shop.catalog "))
        .unwrap_or_else(|| panic!("no Prometheus reading in:\n{out}"));
    // The catalog's rate, as Prometheus computed it from the demo's own counters.
    let rate: f64 = line
        .split_whitespace()
        .nth(3)
        .and_then(|w| w.strip_suffix("/s"))
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no rate in {line:?}"));
    assert!(rate > 0.5, "{line}");
    assert!(
        line.contains("errors 0.0 %") && line.contains(" ms "),
        "{line}"
    );
    let all = decisions(&db);
    assert!(all.iter().all(|d| d["action"] != "run"), "{all:#?}");
    assert!(
        all.iter()
            .any(|d| d["kind"] == "busy"
                && d["reason"].as_str().unwrap().contains("the system is busy")),
        "{all:#?}"
    );
    // A scenario's own guard, read from Prometheus: g1's holds (the catalog is serving), g2's
    // does not (then the --busy-above guard skips it).
    let of = |name: &str| -> Vec<&Value> { all.iter().filter(|d| d["scenario"] == name).collect() };
    assert!(
        of("g1").iter().any(|d| d["kind"] == "guard"
            && d["reason"]
                .as_str()
                .unwrap()
                .contains("holds now: throughput(shop.catalog) = ")),
        "{all:#?}"
    );
    assert!(of("g2").iter().all(|d| d["kind"] == "busy"), "{all:#?}");
    // The ghost's queries return nothing: each said once, with the service and the query.
    let empty: Vec<&str> = all
        .iter()
        .filter(|d| d["kind"] == "metrics_empty")
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    assert_eq!(empty.len(), 3, "{all:#?}");
    assert!(
        empty.iter().all(|r| r.starts_with("shop.ghost: the ")),
        "{empty:#?}"
    );
    assert!(
        empty
            .iter()
            .any(|r| r.contains("the rate query") && r.contains("no_such_service")),
        "{empty:#?}"
    );
    // Prometheus down: said, and the loop schedules without current metrics.
    drop(prom);
    let (_, db) = setup("prometheus-down");
    let o = orchestrate(&file, &db, "2026-12-08T02:00Z..2026-12-08T02:10Z", "1e7")
        .args(["--busy-above", "5"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all = decisions(&db);
    let down: Vec<&Value> = all.iter().filter(|d| d["kind"] == "metrics_down").collect();
    assert_eq!(down.len(), 1, "{all:#?}");
    assert!(
        down[0]["reason"]
            .as_str()
            .unwrap()
            .contains("Prometheus at"),
        "{down:#?}"
    );
    assert!(
        all.iter()
            .any(|d| d["action"] == "run" && d["scenario"] == "a"),
        "{all:#?}"
    );
    // Guards that cannot be told skip: never test blind.
    for g in ["g1", "g2"] {
        let ds: Vec<&Value> = all.iter().filter(|d| d["scenario"] == g).collect();
        assert!(
            ds.iter().any(|d| d["kind"] == "guard_unknown")
                && ds.iter().all(|d| d["action"] != "run"),
            "{all:#?}"
        );
    }
}

#[test]
fn json_logs_carry_each_decisions_fields() {
    let (file, db) = setup("json-log");
    let o = orchestrate(&file, &db, "2026-12-08T01:00Z..2026-12-08T03:00Z", "1e7")
        .args(["--log-format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines
        .iter()
        .all(|l| l["level"] == "INFO" && l["timestamp"].is_string() && l["message"].is_string()));
    let logged: Vec<&Value> = lines.iter().filter(|l| l["action"].is_string()).collect();
    let all = decisions(&db);
    assert_eq!(logged.len(), all.len(), "{lines:#?}");
    for (l, d) in logged.iter().zip(&all) {
        for field in ["id", "at", "action", "scenario", "kind", "slot", "outcome"] {
            assert_eq!(
                l.get(field),
                d.get(field).filter(|v| !v.is_null()),
                "{field}: {l} vs {d}"
            );
        }
    }
    assert!(logged
        .iter()
        .any(|l| l["action"] == "run" && l["outcome"] == "planned"));
    assert!(logged.iter().any(|l| l["kind"] == "outside_window"));
}

/// A prediction that calls a rate `untested` has the scenario's next run scaled to reach it
/// (`res run --load-scale SERVICE=RATE`), for real against the demo shop; afterwards the
/// profile has measured it and the prediction no longer says `untested`.
#[test]
fn an_untested_rate_is_tested_by_the_next_run_in_the_window() {
    let dir = std::env::temp_dir().join(format!("res-orch-{}-untested", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/logs/shop-access.log"),
        dir.join("shop-access.log"),
    )
    .unwrap();
    let file = dir.join("untested.res");
    std::fs::write(
        &file,
        "system shop {\n  builtin demo_shop\n  service catalog { route GET \"/items/{random.100}\" expect status 2xx }\n  service checkout { route POST \"/checkout\" body json { \"item\": 1, \"qty\": 1 } }\n}\n\
         traffic everyday {\n  learn from \"shop-access.log\" format combined\n  scale 10000x\n  forecast peak over 7d\n}\n\
         traffic low { like everyday  rate 4/s  hold 6s }\ntraffic peak_test { like everyday  rate peak(everyday)  hold 6s }\n\
         window nightly { every day 02:00..04:00 UTC }\nslo ok { error_rate(shop) < 50% }\n\
         scenario warm { step main = load low }\nscenario check {\n  in nightly\n  step main = load peak_test\n  expect ok\n}\n",
    )
    .unwrap();
    let db = dir.join("profile.redb");
    let f = file.to_str().unwrap();
    let d = db.to_str().unwrap();
    // Only a low rate measured so far.
    let o = res(&["run", f, "--scenario", "warm", "--quiet", "--profile-db", d]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let untested = |o: &std::process::Output| -> Option<f64> {
        let v: Value = serde_json::from_slice(&o.stdout).expect("predict JSON");
        v["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == "shop.catalog")
            .and_then(|s| s["untested"]["test_rate"].as_f64())
    };
    let before = res(&[
        "predict",
        f,
        "--scenario",
        "check",
        "--format",
        "json",
        "--profile-db",
        d,
    ]);
    assert!(untested(&before).is_some(), "{}", stdout(&before));
    let o = orchestrate_sending(&file, &db, "2026-12-08T02:00Z..2026-12-08T02:01Z")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all = decisions(&db);
    let predicted = all.iter().find(|d| d["action"] == "predict").unwrap();
    assert!(
        predicted["reason"]
            .as_str()
            .unwrap()
            .contains("shop.catalog untested at"),
        "{predicted:#}"
    );
    let run = all.iter().find(|d| d["action"] == "run").unwrap();
    assert_eq!(run["scenario"], "check");
    assert_eq!(run["outcome"], "pass", "{all:#?}");
    assert!(
        run["reason"]
            .as_str()
            .unwrap()
            .contains("the rate the prediction called untested"),
        "{run:#}"
    );
    // The run measured it: the same prediction no longer calls the catalog untested.
    let after = res(&[
        "predict",
        f,
        "--scenario",
        "check",
        "--format",
        "json",
        "--profile-db",
        d,
    ]);
    assert_eq!(untested(&after), None, "{}", stdout(&after));
}

/// `runs at most 2 per window`: two planned runs in one occurrence of the window, never a
/// third, and the skip says how many the scenario allows.
#[test]
fn runs_at_most_n_per_window_allows_that_many_runs_in_one_occurrence() {
    let (file, db) = setup("twice");
    std::fs::write(
        &file,
        "system shop {\n  builtin demo_shop\n  service catalog { route GET \"/items/1\" }\n}\ntraffic t { rate 5/s  hold 30m }\nwindow nightly { every day 02:00..04:00 UTC }\nscenario twice {\n  in nightly\n  runs at most 2 per window\n  step main = load t\n}\n",
    )
    .unwrap();
    let o = orchestrate(&file, &db, "2026-12-08T01:55Z..2026-12-08T04:00Z", "1e7")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let all = decisions(&db);
    let runs: Vec<&Value> = all.iter().filter(|d| d["action"] == "run").collect();
    assert_eq!(runs.len(), 2, "{all:#?}");
    assert_eq!(runs[0]["slot"], "nightly@2026-12-08T02:00:00Z");
    assert_eq!(runs[1]["slot"], "nightly@2026-12-08T02:00:00Z#2");
    assert_eq!(runs[1]["at"], "2026-12-08T02:30:00Z");
    let skip = all
        .iter()
        .find(|d| d["kind"] == "already_ran")
        .expect("a third run is refused");
    assert!(
        skip["reason"]
            .as_str()
            .unwrap()
            .contains("at most 2 runs per occurrence"),
        "{skip:#}"
    );
}
