//! The concept's whole flow in real time: `res orchestrate --interval 1s` as a real child
//! process, its scenario running for real against the demo shop (`builtin demo_shop`: the
//! demo shop served inside each `res run` child, with a one-worker checkout), on a profile
//! seeded by a recorded ramp. The test appends a burst to the access log while the loop runs:
//! the model learns the appended lines (a new version), the forecast rises, the prediction
//! says the checkout's SLO breaks, a run in the window after it advises `scale shop.checkout
//! by +2` (a `when predicted saturation(…) > 100% at peak(real)` remedy, advise mode,
//! nothing changed) and the
//! predictions are scored against the runs — every step read back from the audit log.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
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

fn decisions(db: &Path) -> Vec<Value> {
    let o = res(&[
        "orchestrate",
        "status",
        "--json",
        "--profile-db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn reason(d: &Value) -> &str {
    d["reason"].as_str().unwrap_or("")
}

#[test]
fn a_growing_log_raises_the_forecast_predicts_a_breach_advises_a_scale_up_and_scores() {
    let dir = std::env::temp_dir().join(format!("res-orch-realtime-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("flow.res");
    std::fs::write(&file, FILE).unwrap();
    let db = dir.join("profile.redb");
    let log = dir.join("access.log");
    // Two days of a quiet shop (80 orders an hour: 2.7/s at `scale 120x`), up to an hour ago.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    std::fs::write(&log, lines(now - 48 * 3600, now - 3600, 45)).unwrap();
    // The profile: a recorded ramp on the one-worker checkout.
    let o = res(&[
        "run",
        file.to_str().unwrap(),
        "--scenario",
        "seed",
        "--seed",
        "5",
        "--quiet",
        "--profile-db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));

    let started = Instant::now();
    let mut child = Command::new(res_bin())
        .arg("orchestrate")
        .arg(&file)
        .args(["--interval", "1s", "--log-format", "json", "--profile-db"])
        .arg(&db)
        .env("RES_STATE_DIR", state_dir())
        .env_remove("CI")
        .stdout(std::fs::File::create(dir.join("out.log")).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let wait_for = |what: &str, f: &dyn Fn(&[Value]) -> bool| -> Vec<Value> {
        loop {
            let all = decisions(&db);
            if f(&all) {
                return all;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no {what} within 60 s: {all:#?}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    };
    let learned = |all: &[Value]| all.iter().filter(|d| d["action"] == "learn").count();
    // The first model, and a run in the window on the quiet forecast, ended.
    let ended = |d: &Value| d["action"] == "run" && d["outcome"].is_string();
    let all = wait_for("first run", &|all| {
        learned(all) >= 1 && all.iter().any(ended)
    });
    let first = all.iter().find(|d| d["action"] == "learn").unwrap().clone();
    // (Its outcome is the SLO measured on a shared machine: not asserted.) Its predicted
    // remedy, at the quiet peak, did not fire.
    assert!(all.iter().all(|d| d["action"] != "remedy"), "{all:#?}");
    // The last hour: a burst, 1,800 orders an hour (60/s at `scale 120x`).
    let burst = lines(now - 3600, now, 2);
    let appended = burst.lines().count();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .and_then(|mut f| std::io::Write::write_all(&mut f, burst.as_bytes()))
        .unwrap();
    let all = wait_for("advised remedy and score after the burst", &|all| {
        learned(all) >= 2
            && all.iter().any(|d| d["action"] == "remedy")
            && all.iter().filter(|d| ended(d)).count() >= 2
            && all.iter().any(|d| d["action"] == "score")
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let all = {
        let mut all = all;
        all.extend(decisions(&db).into_iter().skip(all.len()));
        all
    };
    let text: Vec<String> = all
        .iter()
        .map(|d| format!("{} {}", d["action"], reason(d)))
        .collect();

    // The model learned the appended lines alone, and its forecast rose.
    let second = all
        .iter()
        .filter(|d| d["action"] == "learn")
        .nth(1)
        .unwrap();
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
    assert!(peak(second) > 3.0 * peak(&first), "{text:#?}");
    // The prediction after it says the checkout's SLO breaks.
    let second_id = second["id"].as_u64().unwrap();
    let after = |d: &&Value| d["id"].as_u64().unwrap() > second_id;
    let predicted = all
        .iter()
        .filter(after)
        .find(|d| d["action"] == "predict")
        .unwrap_or_else(|| panic!("no prediction after the burst: {text:#?}"));
    let evidence = predicted["evidence"].as_str().unwrap();
    assert!(evidence.contains("— breaks"), "{evidence}");
    // The next run advised the scale-up, changing nothing.
    let remedy = all
        .iter()
        .filter(after)
        .find(|d| d["action"] == "remedy")
        .unwrap_or_else(|| panic!("no remedy decision after the burst: {text:#?}"));
    assert_eq!(remedy["outcome"], "advised", "{remedy:#}");
    assert!(
        reason(remedy).contains("scale shop.checkout by +2") && reason(remedy).contains("[advise]"),
        "{remedy:#}"
    );
    // And the runs scored the stored predictions.
    let score = all.iter().find(|d| d["action"] == "score").unwrap();
    assert!(
        reason(score).contains("scored against later runs"),
        "{score:#}"
    );
    assert!(started.elapsed() < Duration::from_secs(75));
}
