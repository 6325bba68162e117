//! The concept's whole flow in real time: `res orchestrate --interval 1s` as a real child
//! process, its scenario running for real against the demo shop with a one-worker checkout, on
//! a profile seeded by a recorded ramp. The test appends a burst to the access log while the
//! loop runs: the model learns the appended lines (a new version), the forecast rises, the
//! prediction says the checkout's SLO breaks, a run in the window after it advises `scale
//! shop.checkout by +2` (a `when predicted saturation(…) > 100% at peak(real)` remedy, advise
//! mode, nothing changed) and the predictions are scored against the runs — every step read
//! back from the audit log.
//!
//! Two tests: one on `builtin demo_shop` (the shop served inside each `res run` child), and
//! one on an external `res demo serve` scraped by a real Prometheus, which the loop reads its
//! current metrics from. In the second, the test then acts as the operator who follows the
//! advice (`POST /admin/scale` to three workers), and the next run the loop schedules in the
//! window (at a fixed 70/s) measures the new capacity: the model follows the system
//! (`since_run`) and reads a checkout capacity well above the one-worker shop's, and the run
//! answers more at a lower p99.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::prometheus::{prometheus_bin, Prometheus};
use crate::common::*;
use crate::orchestrate::decisions;
use serde_json::Value;

const FILE: &str = r#"
system shop {
  builtin demo_shop
  service checkout {
    route POST "/checkout" body json { "item": 1001, "qty": 1 }
    capacity 1
  }
}
traffic real {
  learn from "access.log" format combined
  scale 120x
  forecast peak over 7d
}
traffic warm { rate 30/s  ramp 2/s -> rate over 16s  hold 4s }
traffic peak_test { like real  rate peak(real)  hold 6s }
slo fast { p99(shop.checkout) < 300ms }
slo room { saturation(shop.checkout) < 100% }
window always { from 2020-01-01T00:00Z to 2100-01-01T00:00Z }
remedy ahead {
  when predicted saturation(shop.checkout) > 100% at peak(real)
  do scale shop.checkout by +2
  cooldown 1h
}
scenario seed { step main = load warm }
scenario check {
  in always
  runs at most 4 per window
  step main = load peak_test
  then remediate with ahead
  expect fast
  expect room
}
"#;

/// The two tests run one after the other: each is a loop running real loads against a
/// one-worker shop, and two at once on two cores measure each other.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A combined-format line at `t` (seconds since the epoch).
fn line(t: i64, i: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let s = res::units::Timestamp(t).to_rfc3339();
    let month: usize = s[5..7].parse().unwrap();
    format!(
        "10.0.0.{} - - [{}/{}/{}:{} +0000] \"POST /checkout HTTP/1.1\" 200 120 \"-\" \"ua{}\"\n",
        i % 9,
        &s[8..10],
        MONTHS[month - 1],
        &s[0..4],
        &s[11..19],
        i % 3
    )
}

/// Lines every `step` seconds over `[from, to)`.
fn lines(from: i64, to: i64, step: i64) -> String {
    (0..)
        .map(|k| from + k * step)
        .take_while(|&t| t < to)
        .map(|t| line(t, t as u64 / step as u64))
        .collect()
}

fn reason(d: &Value) -> &str {
    d["reason"].as_str().unwrap_or("")
}

/// A fresh directory for one test.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("res-orch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One flow's files: the scenario, the profile and the access log.
struct Flow {
    dir: PathBuf,
    file: PathBuf,
    db: PathBuf,
    log: PathBuf,
    now: i64,
}

impl Flow {
    /// Writes `text` to `dir`, two days of a quiet shop (20 orders an hour: 0.7/s at `scale
    /// 120x`, a forecast peak of 0.9/s, a thirtieth of the 30/s the one worker serves) up
    /// to an hour ago into the access log, and seeds the profile with a recorded ramp on the
    /// one-worker checkout.
    fn seeded(dir: PathBuf, text: &str) -> Flow {
        let file = dir.join("flow.res");
        std::fs::write(&file, text).unwrap();
        let now = now_s();
        let flow = Flow {
            db: dir.join("profile.redb"),
            log: dir.join("access.log"),
            file,
            dir,
            now,
        };
        // The quiet log ends on the hour (a log ending seconds into an hour has that hour's
        // rate from seconds of coverage: the quiet forecast peak swung past the one worker's
        // capacity, and the first run advised); the burst starts there.
        std::fs::write(
            &flow.log,
            lines(flow.quiet_end() - 47 * 3600, flow.quiet_end(), 180),
        )
        .unwrap();
        let o = res(&[
            "run",
            flow.file.to_str().unwrap(),
            "--scenario",
            "seed",
            "--seed",
            "5",
            "--quiet",
            "--profile-db",
            flow.db.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        flow
    }

    /// Where the quiet log ends and the burst begins: the last hour boundary an hour or more
    /// before now.
    fn quiet_end(&self) -> i64 {
        (self.now - 3600).div_euclid(3600) * 3600
    }

    /// `res orchestrate FILE --interval 1s`, its JSON log lines into `out.log`.
    fn start_loop(&self) -> Child {
        Command::new(res_bin())
            .arg("orchestrate")
            .arg(&self.file)
            .args(["--interval", "1s", "--log-format", "json", "--profile-db"])
            .arg(&self.db)
            .env("RES_STATE_DIR", state_dir())
            .env_remove("CI")
            .stdout(std::fs::File::create(self.dir.join("out.log")).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// The audit log, once `f` holds of it; a failure after `limit` since `started`.
    fn wait_for(
        &self,
        started: Instant,
        limit: Duration,
        what: &str,
        f: &dyn Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        loop {
            let all = decisions(&self.db);
            if f(&all) {
                return all;
            }
            assert!(
                started.elapsed() < limit,
                "no {what} within {limit:?}: {all:#?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// The hour after the quiet log's end (which lies an hour or more ago): a burst of 3,600
    /// orders (120/s at `scale 120x`; a forecast peak of 63/s, twice what the one worker
    /// serves), appended to the log. Gives the number of lines appended. The log stays whole
    /// hours: a last hour covered for minutes swung the forecast's upper bound from 17/s to
    /// 1,141/s with the minute of the hour (measured 2026-12-08), and every later run sent it.
    fn append_burst(&self) -> usize {
        let burst = lines(self.quiet_end(), self.quiet_end() + 3600, 1);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&self.log)
            .and_then(|mut f| std::io::Write::write_all(&mut f, burst.as_bytes()))
            .unwrap();
        burst.lines().count()
    }

    /// SIGTERM to the loop (it exits 0), then the whole audit log.
    fn stop(&self, mut child: Child) -> Vec<Value> {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(0));
        decisions(&self.db)
    }
}

fn learned(all: &[Value]) -> usize {
    all.iter().filter(|d| d["action"] == "learn").count()
}

/// A run that ended.
fn ended(d: &Value) -> bool {
    d["action"] == "run" && d["outcome"].is_string()
}

fn id(d: &Value) -> u64 {
    d["id"].as_u64().unwrap()
}

/// The flow after the burst, read back from the audit log: the model learned the `appended`
/// lines alone and its forecast rose, the prediction after it says the checkout's SLO
/// breaks, a later run advised the scale-up (changing nothing), and the runs scored the
/// stored predictions. The advice's outcome is `outcome`. Gives the advice.
fn check_flow(all: &[Value], appended: usize, outcome: &str) -> Value {
    let text: Vec<String> = all
        .iter()
        .map(|d| format!("{} {}", d["action"], reason(d)))
        .collect();
    for d in all {
        eprintln!("#{} {} {} {}", id(d), d["action"], reason(d), d["evidence"]);
    }
    let mut learns = all.iter().filter(|d| d["action"] == "learn");
    let (first, second) = (learns.next().unwrap(), learns.next().unwrap());
    let v: Value = serde_json::from_str(second["evidence"].as_str().unwrap()).unwrap();
    assert_eq!(v["how"], "appended", "{text:#?}");
    assert_eq!(v["lines_added"], appended as u64, "{text:#?}");
    let words = format!("appended {},{:03} lines", appended / 1000, appended % 1000);
    assert!(reason(second).contains(&words), "{}", reason(second));
    let peak = |d: &Value| -> f64 {
        serde_json::from_str::<Value>(d["evidence"].as_str().unwrap()).unwrap()["peak_per_s"]
            .as_f64()
            .unwrap()
    };
    assert!(peak(second) > 3.0 * peak(first), "{text:#?}");
    let after = |d: &&Value| id(d) > id(second);
    let predicted = all
        .iter()
        .filter(after)
        .find(|d| d["action"] == "predict")
        .unwrap_or_else(|| panic!("no prediction after the burst: {text:#?}"));
    let evidence = predicted["evidence"].as_str().unwrap();
    assert!(evidence.contains("— breaks"), "{evidence}");
    let remedy = all
        .iter()
        .filter(after)
        .find(|d| d["action"] == "remedy")
        .unwrap_or_else(|| panic!("no remedy decision after the burst: {text:#?}"));
    assert_eq!(remedy["outcome"], outcome, "{remedy:#}");
    assert!(
        reason(remedy).contains("scale shop.checkout by +2") && reason(remedy).contains("[advise]"),
        "{remedy:#}"
    );
    let score = all.iter().find(|d| d["action"] == "score").unwrap();
    assert!(
        reason(score).contains("scored against later runs"),
        "{score:#}"
    );
    remedy.clone()
}

/// About 35 s.
#[test]
fn a_growing_log_raises_the_forecast_predicts_a_breach_advises_a_scale_up_and_scores() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let flow = Flow::seeded(fresh_dir("realtime"), FILE);
    let started = Instant::now();
    let child = flow.start_loop();
    let limit = Duration::from_secs(150);
    // The first model, and a run in the window on the quiet forecast, ended.
    let all = flow.wait_for(started, limit, "first run", &|all| {
        learned(all) >= 1 && all.iter().any(ended)
    });
    // (Its outcome is the SLO measured on a shared machine: not asserted.) Its predicted
    // remedy, at the quiet peak, did not fire.
    assert!(all.iter().all(|d| d["action"] != "remedy"), "{all:#?}");
    let appended = flow.append_burst();
    flow.wait_for(
        started,
        limit,
        "advised remedy and score after the burst",
        &|all| {
            learned(all) >= 2
                && all.iter().any(|d| d["action"] == "remedy")
                && all.iter().filter(|d| ended(d)).count() >= 2
                && all.iter().any(|d| d["action"] == "score")
        },
    );
    let all = flow.stop(child);
    check_flow(&all, appended, "advised");
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The checkout's figures (`res profile show --format json`) of the last complete run of
/// `check` at the scenario's 70/s that ended before `at`, and of the first that started after
/// it, each with its id.
fn checkout_runs(flow: &Flow, at: &str) -> ((u64, Value), (u64, Value)) {
    let db = flow.db.to_str().unwrap();
    let o = res(&["profile", "list", "--format", "json", "--profile-db", db]);
    let runs: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let when = |r: &Value, k: &str| r[k].as_str().unwrap().to_string();
    let checkout = |r: &Value| -> Value {
        let id = r["id"].to_string();
        let o = res(&[
            "profile",
            "show",
            &id,
            "--format",
            "json",
            "--profile-db",
            db,
        ]);
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        v["services"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["service"] == "shop.checkout")
            .unwrap()
            .clone()
    };
    // Complete runs of `check` at 70/s (not one scaled to an untested rate).
    let at_60: Vec<(u64, &Value, Value)> = runs
        .iter()
        .filter(|r| r["scenario"] == "check" && r["complete"] == true)
        .map(|r| (id(r), r, checkout(r)))
        .filter(|(_, _, c)| c["max_offered_rps"].as_f64().unwrap() < 100.0)
        .collect();
    let before = at_60
        .iter()
        .rfind(|(_, r, _)| when(r, "ended_at").as_str() < at)
        .unwrap_or_else(|| panic!("no run before {at}: {runs:#?}"));
    let after = at_60
        .iter()
        .find(|(_, r, _)| when(r, "started_at").as_str() > at)
        .unwrap_or_else(|| panic!("no run after {at}: {runs:#?}"));
    ((before.0, before.2.clone()), (after.0, after.2.clone()))
}

/// `res predict FILE --format json` (stored nowhere): the checkout's model.
fn checkout_model(flow: &Flow) -> Value {
    let o = res(&[
        "predict",
        flow.file.to_str().unwrap(),
        "--scenario",
        "check",
        "--format",
        "json",
        "--no-store",
        "--profile-db",
        flow.db.to_str().unwrap(),
    ]);
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    v["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == "shop.checkout")
        .unwrap_or_else(|| panic!("no checkout in {v:#}"))["model"]
        .clone()
}

/// What the loop read from Prometheus for the checkout: the rates it logged.
fn checkout_readings(flow: &Flow) -> Vec<f64> {
    let out = std::fs::read_to_string(flow.dir.join("out.log")).unwrap();
    out.lines()
        .filter_map(|l| l.split_once("metrics (Prometheus): "))
        .filter_map(|(_, m)| m.split_once("shop.checkout "))
        .filter_map(|(_, m)| m.split_once("/s"))
        .filter_map(|(r, _)| r.parse().ok())
        .collect()
}

/// About 50 s.
#[test]
fn an_operator_follows_the_advice_and_the_next_run_measures_the_new_capacity() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(bin) = prometheus_bin() else { return };
    let dir = fresh_dir("realtime-prom");
    let demo = Demo::start_with(&["--capacity", "checkout=1"]);
    let prom = Prometheus::start(&bin, &dir, &demo.addr);
    let system = format!(
        r#"  base "http://{}"
  metrics prometheus "http://{}"
  query rate "sum(rate(res_demo_requests_total{{service=\"$service\"}}[15s]))"
  query p99 "histogram_quantile(0.99, sum by (le) (rate(res_demo_request_duration_seconds_bucket{{service=\"$service\"}}[15s])))"
  query errors "sum(rate(res_demo_requests_total{{service=\"$service\",code=\"5xx\"}}[15s])) / sum(rate(res_demo_requests_total{{service=\"$service\"}}[15s]))"
"#,
        demo.addr, prom.addr
    );
    // The loop only advises; with a `scale via exec` actuator (the external shop has no
    // other), `res run` refuses even the advice without --allow-exec, which the loop does not
    // pass: the decision still names the scale-up, and the operator follows it. Every run is at
    // a fixed 70/s, whatever the forecast: more than one worker serves, under three, so the
    // runs before and after the scale-up compare; and above the forecast peak (63–66/s), so
    // no run goes to an untested rate (a one-worker run at a rate no scaled run measured
    // cannot be told apart from the scaled ones by the change test: since_run then kept it,
    // in the fresh-clone CI run of 2026-12-08 03:36, when the runs were at 60/s).
    let text = FILE
        .replace("  builtin demo_shop\n", &system)
        .replace("rate peak(real)", "rate 70/s")
        .replace("runs at most 4", "runs at most 6")
        .replace(
            "    capacity 1\n",
            r#"    capacity 1
    scale via exec "false {instances}" read "echo 1" within 1..8
"#,
        );
    let flow = Flow::seeded(dir, &text);
    let started = Instant::now();
    let child = flow.start_loop();
    let limit = Duration::from_secs(150);
    // The first model, and a run in the window on the quiet forecast, ended (a run starting
    // as the burst is appended would learn it itself and advise before the loop's model did).
    let all = flow.wait_for(started, limit, "first run", &|all| {
        learned(all) >= 1 && all.iter().any(ended)
    });
    assert!(all.iter().all(|d| d["action"] != "remedy"), "{all:#?}");
    let appended = flow.append_burst();
    // Should the prediction after the burst call the forecast's rate untested anyway, the
    // next run is scaled to reach it; the operator scales after that run.
    flow.wait_for(
        started,
        limit,
        "advised remedy and the untested rate's run",
        &|all| {
            let Some(second) = all.iter().filter(|d| d["action"] == "learn").nth(1) else {
                return false;
            };
            let Some(predicted) = all
                .iter()
                .find(|d| d["action"] == "predict" && id(d) > id(second))
            else {
                return false;
            };
            all.iter().any(|d| d["action"] == "remedy")
                && (!reason(predicted).contains(" untested at ")
                    || all.iter().any(|d| {
                        ended(d) && id(d) > id(predicted) && reason(d).contains("called untested")
                    }))
        },
    );
    // The operator follows the advice: checkout to three workers, through the shop's admin
    // API. The model before it, from the one-worker runs.
    let before = checkout_model(&flow);
    let (status, body) = demo.request("POST", "/admin/scale", r#"{"service":"checkout","to":3}"#);
    assert_eq!(status, 200, "{body}");
    let scaled_at = res::units::Timestamp(now_s()).to_rfc3339();
    // A second on, so any run decided after the mark started after the scale-up.
    std::thread::sleep(Duration::from_millis(1100));
    let mark = decisions(&flow.db).iter().map(id).max().unwrap();
    // The next run the loop starts in the window measures the scaled shop.
    let all = flow.wait_for(started, limit, "a run after scaling, and a score", &|all| {
        all.iter().any(|d| ended(d) && id(d) > mark) && all.iter().any(|d| d["action"] == "score")
    });
    let all = {
        let mut rest = flow.stop(child);
        rest.splice(0..all.len().min(rest.len()), all);
        rest
    };
    let wall = started.elapsed();
    check_flow(&all, appended, "refused");
    let after = checkout_model(&flow);
    let ((one_run, one), (scaled_run, three)) = checkout_runs(&flow, &scaled_at);
    // The loop read the checkout's current metrics from Prometheus.
    let readings = checkout_readings(&flow);
    assert!(
        readings.iter().any(|&r| r > 1.0),
        "no Prometheus reading of the checkout's traffic: {readings:?}"
    );
    let cap = |m: &Value| m["capacity"]["rate"]["point"].as_f64().unwrap();
    let p99 = |r: &Value| r["median_p99_ms"].as_f64().unwrap();
    let rps = |r: &Value| {
        r["mean_rps"].as_f64().unwrap()
            - r["errors"].as_f64().unwrap() / r["seconds"].as_f64().unwrap().max(1.0)
    };
    eprintln!(
        "checkout capacity {:.1}/s before scaling, {:.1}/s after (since run {}); p99 {:.0} ms at {:.1}/s answered before, {:.0} ms at {:.1}/s after; {wall:?}",
        cap(&before),
        cap(&after),
        after["since_run"],
        p99(&one),
        rps(&one),
        p99(&three),
        rps(&three),
    );
    // The scaled shop answers more, faster.
    assert!(p99(&three) < p99(&one), "{one:#}\n{three:#}");
    assert!(rps(&three) > 1.3 * rps(&one), "{one:#}\n{three:#}");
    // One run at 70/s can show little more than 70/s (a knee at the rate it sent, or a
    // scalability fit when its seconds spread over four levels): 1.5× the one worker's 30/s.
    assert!(cap(&after) > 1.5 * cap(&before), "{before:#}\n{after:#}");
    // The model follows the system: it leaves out the one-worker runs (a run that was going
    // on while the operator scaled may join the scaled ones). It may start at a later scaled
    // run than the first: two 6 s runs of the scaled shop can differ by more than the change
    // test allows (seen once in nine runs on 2026-12-08: since_run 5, the first scaled run 4).
    let since = after["since_run"].as_u64();
    assert!(
        since.is_some_and(|n| n > one_run),
        "since_run {since:?}: the last one-worker run {one_run}, the first scaled {scaled_run} (scaled at {scaled_at}); {}\n{after:#}",
        stdout(&res(&["profile", "list", "--profile-db", flow.db.to_str().unwrap()]))
    );
}
