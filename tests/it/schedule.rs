//! Windows and events enforced by the real binary: `res run` (and `--dry-run`) refuse a
//! scenario whose windows are closed and whose events are past, naming the next opening;
//! `--ignore-window` and `--now` inside a window let it run; `res plan --now` shows the next
//! openings (its JSON against docs/plan.schema.json); an event's `expect` multiplies `peak()`
//! while it lasts; and the demo shop's `/metrics` answers in the Prometheus text format.

use crate::common::*;
use serde_json::Value;

fn scenario(name: &str, body: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("res-schedule-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.res"));
    let text = format!(
        "system shop {{\n  builtin demo_shop\n  service catalog {{ route GET \"/items/1\" }}\n}}\ntraffic t {{ rate 5/s  hold 1s }}\nwindow nightly {{ every day 02:00..04:00 UTC }}\n{body}"
    );
    std::fs::write(&p, text).unwrap();
    p
}

const NIGHTLY: &str = "scenario s {\n  in nightly\n  step main = load t\n}\n";

#[test]
fn run_outside_its_window_is_refused_with_the_next_opening() {
    let p = scenario("closed", NIGHTLY);
    let f = p.to_str().unwrap();
    for dry in [true, false] {
        let mut args = vec!["run", f, "--now", "2026-12-07T13:00Z", "--no-record"];
        if dry {
            args.push("--dry-run");
        }
        let o = res(&args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("window nightly is closed") && err.contains("2026-12-08T02:00:00Z"),
            "{err}"
        );
        assert!(err.contains("--ignore-window"), "{err}");
    }
    // Inside the window, and outside it with --ignore-window, the dry run goes ahead.
    let o = res(&["run", f, "--now", "2026-12-08T02:30Z", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("window nightly is open until 2026-12-08T04:00:00Z"));
    let o = res(&[
        "run",
        f,
        "--now",
        "2026-12-07T13:00Z",
        "--dry-run",
        "--ignore-window",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("runs outside its windows (--ignore-window)"));
    // And for real: a short run inside the window passes.
    let o = res(&["run", f, "--now", "2026-12-08T02:30Z", "--no-record", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_past_event_refuses_and_an_upcoming_one_allows() {
    let p = scenario(
        "event",
        "event sale { at 2026-12-10T00:00Z lasts 1d expect 3x }\nscenario s {\n  in before sale\n  step main = load t\n}\n",
    );
    let f = p.to_str().unwrap();
    let o = res(&["run", f, "--now", "2026-12-09T12:00Z", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for now in ["2026-12-10T06:00Z", "2026-12-12T00:00Z"] {
        let o = res(&["run", f, "--now", now, "--dry-run"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("event sale"), "{}", stderr(&o));
    }
}

#[test]
fn plan_shows_the_next_openings_in_text_and_json() {
    let p = scenario(
        "plan",
        "event sale { at 2026-12-10T00:00Z lasts 1d expect 3x }\nscenario s {\n  in nightly or before sale\n  step main = load t\n}\n",
    );
    let f = p.to_str().unwrap();
    let o = res(&["plan", f, "--now", "2026-12-07T13:00Z"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("may run — before event sale"), "{text}");
    assert!(
        text.contains("2026-12-08T02:00:00Z .. 2026-12-08T04:00:00Z"),
        "{text}"
    );
    assert!(text.contains("expect 3x"), "{text}");
    let o = res(&["plan", f, "--now", "2026-12-11T13:00Z", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let errors = validate(&load_schema("plan.schema.json"), &v);
    assert!(errors.is_empty(), "{errors:#?}");
    let s = &v["plans"][0]["schedule"];
    assert_eq!(s["allowed"], false);
    assert_eq!(s["openings"][0]["start"], "2026-12-12T02:00:00Z");
    assert_eq!(s["openings"][0]["fits"], true);
    assert_eq!(s["events"][0]["phase"], "past");
    assert!(s["reason"].as_str().unwrap().contains("event sale is past"));
}

/// The forecast peak a dry run reports ("forecast peak 12.3/s").
fn dry_peak(file: &std::path::Path, now: &str) -> f64 {
    let o = res(&["run", file.to_str().unwrap(), "--now", now, "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let at = out
        .find("forecast peak ")
        .unwrap_or_else(|| panic!("{out}"));
    out[at + "forecast peak ".len()..]
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn an_events_expect_multiplies_peak_while_it_lasts() {
    let dir = std::env::temp_dir().join(format!("res-schedule-{}-peak", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/logs/shop-access.log");
    let write = |name: &str, event: &str| {
        let p = dir.join(name);
        std::fs::write(
            &p,
            format!(
                "system shop {{\n  builtin demo_shop\n  service catalog {{ route GET \"/items/{{random.1000}}\" }}\n}}\ntraffic everyday {{ learn from \"{}\" format combined  scale 10000x  forecast peak over 7d }}\ntraffic test {{ like everyday  rate peak(everyday)  hold 1s }}\n{event}\nscenario s {{\n  step main = load test\n}}\n",
                log.display()
            ),
        )
        .unwrap();
        p
    };
    let plain = write("plain.res", "");
    // The whole week after the log's end counts three times.
    let sale = write(
        "sale.res",
        "event sale { at 2026-11-22T00:00Z lasts 9d expect 3x }",
    );
    let now = "2026-11-23T00:00Z";
    let (a, b) = (dry_peak(&plain, now), dry_peak(&sale, now));
    assert!(a > 0.0);
    assert!((b / a - 3.0).abs() < 0.02, "plain {a}, with the sale {b}");
    // An event outside the forecast's horizon changes nothing.
    let later = write(
        "later.res",
        "event sale { at 2027-06-01T00:00Z lasts 1d expect 3x }",
    );
    assert!((dry_peak(&later, now) - a).abs() < 1e-9);
}

/// `name{labels} value` → value, for the line whose name and labels are given.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|r| r.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn demo_shop_serves_prometheus_metrics() {
    let demo = Demo::start();
    for _ in 0..5 {
        assert_eq!(demo.request("GET", "/items/1001", "").0, 200);
    }
    assert_eq!(demo.request("GET", "/items/abc", "").0, 404);
    assert_eq!(
        demo.request("POST", "/checkout", "{\"item\": 1001, \"qty\": 1}")
            .0,
        200
    );
    let (status, text) = demo.request("GET", "/metrics", "");
    assert_eq!(status, 200);
    // Every non-comment line is `name{labels} number`; every family has HELP and TYPE.
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let kind = rest.split_whitespace().nth(1).unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        assert!(series.ends_with('}') && series.contains('{'), "{line}");
    }
    let catalog = "{service=\"catalog\",code=\"2xx\"}";
    assert_eq!(
        sample(&text, &format!("res_demo_requests_total{catalog}")),
        5.0
    );
    assert_eq!(
        sample(
            &text,
            "res_demo_requests_total{service=\"catalog\",code=\"4xx\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "res_demo_requests_total{service=\"checkout\",code=\"2xx\"}"
        ),
        1.0
    );
    assert_eq!(
        sample(
            &text,
            "res_demo_requests_total{service=\"payments\",code=\"2xx\"}"
        ),
        1.0
    );
    // The histogram: cumulative buckets ending in +Inf = count = 6 catalog requests.
    let count = sample(
        &text,
        "res_demo_request_duration_seconds_count{service=\"catalog\"}",
    );
    assert_eq!(count, 6.0);
    assert_eq!(
        sample(
            &text,
            "res_demo_request_duration_seconds_bucket{service=\"catalog\",le=\"+Inf\"}"
        ),
        6.0
    );
    let mut last = 0.0;
    for l in text
        .lines()
        .filter(|l| l.starts_with("res_demo_request_duration_seconds_bucket{service=\"catalog\""))
    {
        let v: f64 = l.rsplit_once(' ').unwrap().1.parse().unwrap();
        assert!(v >= last, "buckets are cumulative: {l}");
        last = v;
    }
    assert!(
        sample(
            &text,
            "res_demo_request_duration_seconds_sum{service=\"catalog\"}"
        ) > 0.0
    );
    assert_eq!(
        sample(&text, "res_demo_capacity{service=\"checkout\"}"),
        4.0
    );
    assert_eq!(
        sample(&text, "res_demo_queue_depth{service=\"catalog\"}"),
        0.0
    );
}
