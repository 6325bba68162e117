//! `res run` end to end against the embedded demo shop on 127.0.0.1: outcomes and exit codes,
//! reports against their schema, aborts, signals and panics all ending in an orderly shutdown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::Value;

fn scenario(name: &str, body: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("res-run-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.res"));
    let text = format!(
        "system shop {{\n  builtin demo_shop\n  service catalog {{ route GET \"/items/{{random.1000}}\" expect status 2xx }}\n  service checkout {{ route POST \"/checkout\" body json {{ \"item\": 1001, \"qty\": 1 }} }}\n}}\n{body}"
    );
    std::fs::write(&p, text).unwrap();
    p
}

fn report(path: &std::path::Path) -> Value {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the report was written"))
            .unwrap();
    let errors = validate(&load_schema("report.schema.json"), &v);
    assert!(errors.is_empty(), "report violates its schema: {errors:#?}");
    v
}

/// `res run FILE --seed N --report json=FILE.json`: the output and the report's path.
fn run_with_report(p: &std::path::Path, seed: u64) -> (std::process::Output, std::path::PathBuf) {
    let json = p.with_extension("json");
    let seed = seed.to_string();
    let report = format!("json={}", json.display());
    (
        res(&[
            "run",
            p.to_str().unwrap(),
            "--seed",
            &seed,
            "--report",
            &report,
        ]),
        json,
    )
}

#[test]
fn passing_run_reports_every_service_and_exits_0() {
    let p = scenario(
        "pass",
        "traffic t { rate 60/s  arrival poisson  ramp 0/s -> rate over 1s  hold 2s }\nslo ok { p99(shop.catalog) < 2s  error_rate(shop) < 5% }\nscenario s {\n  step main = load t\n  expect ok during main\n}\n",
    );
    let json = p.with_extension("json");
    let junit = p.with_extension("xml");
    let o = res(&[
        "run",
        p.to_str().unwrap(),
        "--seed",
        "42",
        "--report",
        &format!("json={}", json.display()),
        "--report",
        &format!("junit={}", junit.display()),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v = report(&json);
    assert_eq!(v["outcome"], "pass");
    assert_eq!(v["seed"], 42);
    for svc in ["shop.catalog", "shop.checkout"] {
        assert!(
            v["services"][svc]["requests"].as_u64().unwrap() > 20,
            "{svc} got load: {v:#}"
        );
    }
    let total: u64 = ["shop.catalog", "shop.checkout"]
        .iter()
        .map(|s| v["services"][s]["requests"].as_u64().unwrap())
        .sum();
    // 30 (ramp) + 120 (hold) requests expected; Poisson arrivals vary.
    assert!((100..=200).contains(&total), "about 150 requests: {total}");
    assert!(!v["series"].as_array().unwrap().is_empty());
    assert_eq!(v["expectations"][0]["passed"], true);
    assert!(
        stdout(&o).contains("shop.catalog"),
        "summary table: {}",
        stdout(&o)
    );
    let x = std::fs::read_to_string(&junit).unwrap();
    assert!(
        x.contains("<testsuite") && x.contains("failures=\"0\""),
        "{x}"
    );
}

#[test]
fn failed_expectation_exits_1() {
    let p = scenario(
        "fail",
        "traffic t { rate 40/s  hold 2s }\nscenario s {\n  step main = load t\n  expect p99(shop.checkout) < 1ms during main\n}\n",
    );
    let (o, json) = run_with_report(&p, 1);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let v = report(&json);
    assert_eq!(v["outcome"], "fail");
    let e = &v["expectations"][0];
    assert_eq!(e["passed"], false);
    assert!(
        e["observed"]
            .as_str()
            .unwrap()
            .contains("p99(shop.checkout) ="),
        "{e}"
    );
}

#[test]
fn abort_condition_stops_the_run_within_a_second_and_exits_3() {
    let p = scenario(
        "abort",
        "traffic t { rate 50/s  hold 30s }\nabort when throughput(shop) > 10/s for 1s\nscenario s { step main = load t }\n",
    );
    let json = p.with_extension("json");
    let start = Instant::now();
    let o = res(&[
        "run",
        p.to_str().unwrap(),
        "--seed",
        "1",
        "--report",
        &format!("json={}", json.display()),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}{}", stdout(&o), stderr(&o));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "aborted early, not after 30 s"
    );
    let v = report(&json);
    assert_eq!(v["outcome"], "aborted");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("throughput(shop) > 10/s"),
        "{v:#}"
    );
}

#[test]
fn sigterm_ends_in_an_orderly_shutdown_with_a_report() {
    let p = scenario(
        "term",
        "traffic t { rate 20/s  hold 60s }\nscenario s { step main = load t }\n",
    );
    let json = p.with_extension("json");
    let mut child = Command::new(res_bin())
        .args([
            "run",
            p.to_str().unwrap(),
            "--seed",
            "1",
            "--report",
            &format!("json={}", json.display()),
        ])
        .env("RES_STATE_DIR", state_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let start = Instant::now();
    let status = child.wait().unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "stopped promptly"
    );
    assert_eq!(status.code(), Some(3));
    let v = report(&json);
    assert_eq!(v["outcome"], "aborted");
    assert!(v["reason"].as_str().unwrap().contains("SIGTERM"));
    assert!(v["services"]["shop.catalog"]["requests"].as_u64().unwrap() > 0);
}

#[test]
fn a_panicking_step_still_writes_the_report_and_exits_4() {
    let p = scenario("panic", "traffic t { rate 20/s  hold 2s }\nscenario s {\n  step first = load t\n  step boom = wait 1s at +1s\n}\n");
    let json = p.with_extension("json");
    let o = Command::new(res_bin())
        .args([
            "run",
            p.to_str().unwrap(),
            "--seed",
            "1",
            "--report",
            &format!("json={}", json.display()),
        ])
        .env("RES_TEST_PANIC_STEP", "boom")
        .env("RES_STATE_DIR", state_dir())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    let v = report(&json);
    assert_eq!(v["outcome"], "error");
    assert!(
        v["reason"].as_str().unwrap().contains("step boom panicked"),
        "{v:#}"
    );
}

#[test]
fn dry_run_prints_the_timeline_and_sends_nothing() {
    let p = scenario(
        "dry",
        "traffic t { rate 20/s  hold 2s }\nscenario s { step main = load t }\n",
    );
    let start = Instant::now();
    let o = res(&["run", "--dry-run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "a dry run does not wait"
    );
    let out = stdout(&o);
    assert!(
        out.contains("dry run") && out.contains("start load t") && out.contains("stop load t"),
        "{out}"
    );
}

#[test]
fn a_learned_traffic_replays_its_session_chain() {
    // The demo's `peak_test` is `like everyday`, which learns the shop's access log: its
    // sessions walk the learned chain over the routes the log's endpoints match (the
    // payments endpoint has no route, so it is taken out of the chain).
    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.res");
    let o = res(&["run", "--dry-run", demo]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("learned sessions walking a 2-state chain")
            && out.contains("mix GET /items/{items.id} 91%, POST /checkout 9%"),
        "{out}"
    );
    // Without a rate of its own, a learned traffic replays the forecast hour by hour.
    let log = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/logs/shop-access.log"
    );
    let p = scenario(
        "replay",
        &format!(
            "traffic seen {{ learn from \"{log}\"  scale 10000x }}\ntraffic again {{ like seen }}\nscenario s {{ step main = load again for 1m }}\n"
        ),
    );
    let o = res(&["run", "--dry-run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("start load again — learned sessions walking a 2-state chain, requests"),
        "{out}"
    );
}

#[test]
fn unreachable_target_is_counted_as_errors_not_a_hang() {
    // A port nothing listens on: connection refused, counted per kind.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let dir = std::env::temp_dir().join(format!("res-run-{}-down", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("down.res");
    std::fs::write(
        &p,
        format!("system down {{\n  base \"http://127.0.0.1:{port}\"\n  timeout 1s\n  service api {{ route GET \"/\" }}\n}}\ntraffic t {{ rate 20/s  hold 2s }}\nscenario s {{\n  step main = load t\n  expect error_rate(down) < 1%\n}}\n"),
    )
    .unwrap();
    let (o, json) = run_with_report(&p, 1);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let v = report(&json);
    let kinds = &v["services"]["down.api"]["errors_by_kind"];
    assert!(kinds["refused"].as_u64().unwrap_or(0) > 10, "{v:#}");
}

#[test]
fn invalid_scenario_exits_2() {
    let p = scenario(
        "invalid",
        "traffic t { rate 5%  hold 2s }\nscenario s { step main = load t }\n",
    );
    let o = res(&["run", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("res::check::unit_mismatch"));
}

#[test]
fn faults_are_injected_through_the_proxy_and_reverted() {
    let p = scenario(
        "fault",
        "traffic t { rate 40/s  hold 6s }\nfault slow { on shop.catalog  latency 150ms }\nscenario s {\n  step main = load t\n  step chaos = inject slow with main + 2s for 2s\n  expect p50(shop.catalog) > 100ms during chaos\n  expect p50(shop.catalog) < 100ms after chaos\n}\n",
    );
    let (o, json) = run_with_report(&p, 3);
    let v = report(&json);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}\n{v:#}",
        stdout(&o),
        stderr(&o)
    );
    let actions: Vec<&str> = v["faults"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["inject", "revert"], "{v:#}");
    assert_eq!(v["faults"][0]["target"], "shop.catalog");
    assert!(
        v["expectations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["passed"] == true),
        "{v:#}"
    );
}

/// The demo's access log, learned by the traffics of the rate tests.
const SHOP_LOG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/logs/shop-access.log"
);

/// Requests offered in each second of a report's series, all services together.
fn offered_per_second(v: &Value) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for p in v["series"].as_array().unwrap() {
        let t = p["t"].as_u64().unwrap() as usize;
        if out.len() <= t {
            out.resize(t + 1, 0.0);
        }
        out[t] += p["offered_rps"].as_f64().unwrap();
    }
    out
}

#[test]
fn learned_sessions_meet_the_planned_rate_at_two_seeds_and_two_step_lengths() {
    // Issue 12: sessions walking the learned chain held ~33/s for 50/s planned and started
    // ramps at 20–26/s. Requests now start on the schedule and sessions supply which request
    // each start sends. Constant arrivals, so a 10 s window's count carries no Poisson noise
    // and the 5 % bound measures the session model alone; a Poisson run is checked below.
    // Steps: ramp 5 s + hold 10 s (the minimal file) and ramp 10 s + hold 20 s (the
    // demo's shape, whose windows after 5 s include part of the ramp).
    let cases = [
        (5.0, 10.0, 1u64),
        (5.0, 10.0, 2),
        (10.0, 20.0, 1),
        (10.0, 20.0, 2),
    ];
    let runs: Vec<_> = cases
        .iter()
        .map(|&(ramp, hold, seed)| {
            let p = scenario(
                &format!("rate-{ramp}-{hold}-{seed}"),
                &format!(
                    "traffic seen {{ learn from \"{SHOP_LOG}\"  scale 10000x }}\ntraffic t {{ like seen  rate 50/s  arrival constant  ramp 0/s -> rate over {ramp}s  hold {hold}s }}\nscenario s {{ step main = load t }}\n"
                ),
            );
            let json = p.with_extension("json");
            let child = Command::new(res_bin())
                .args(["run", p.to_str().unwrap(), "--no-record", "--quiet", "--seed"])
                .arg(seed.to_string())
                .arg("--report")
                .arg(format!("json={}", json.display()))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (ramp, hold, seed, child, json)
        })
        .collect();
    for (ramp, hold, seed, child, json) in runs {
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        let v = report(&json);
        let got = offered_per_second(&v);
        let planned = |t: f64| -> f64 {
            // Requests planned in [0, t): the ramp's triangle, then the hold.
            let r = 50.0;
            if t <= ramp {
                r * t * t / (2.0 * ramp)
            } else {
                r * ramp / 2.0 + r * (t - ramp)
            }
        };
        let len = (ramp + hold) as usize;
        for a in 5..=(len - 10) {
            let sent: f64 = got.iter().skip(a).take(10).sum();
            let plan = planned(a as f64 + 10.0) - planned(a as f64);
            assert!(
                (sent - plan).abs() / plan <= 0.05,
                "ramp {ramp}s hold {hold}s seed {seed}: {sent} requests in [{a}s, {}s), planned {plan:.0}; per second {got:?}",
                a + 10
            );
        }
        // A ramp from 0/s starts near 0, not at the sessions of a steady state.
        assert!(got[0] <= 10.0, "first second {}: {got:?}", got[0]);
        // Planned against achieved, per step, in the report.
        let step = &v["steps"][0];
        assert_eq!(step["step"], "main");
        let planned_rps = step["planned_rps"].as_f64().unwrap();
        let want = planned(ramp + hold) / (ramp + hold);
        assert!((planned_rps - want).abs() < 0.01, "{step}");
        assert!(step["short_pct"].as_f64().unwrap().abs() < 5.0, "{step}");
        assert_eq!(step["short"], false);
        // Both learned endpoints are requested: the sessions walk the chain.
        let checkout = v["services"]["shop.checkout"]["requests"]
            .as_u64()
            .unwrap_or(0);
        assert!(checkout > 0, "{v:#}");
    }
}

#[test]
fn learned_sessions_with_poisson_arrivals_hold_the_plan_within_their_noise() {
    // The demo's arrival law. A Poisson count of n has a standard deviation of √n, so each
    // 10 s window is held to 5 % plus three of those.
    let p = scenario(
        "rate-poisson",
        &format!(
            "traffic seen {{ learn from \"{SHOP_LOG}\"  scale 10000x }}\ntraffic t {{ like seen  rate 80/s  arrival poisson  ramp 0/s -> rate over 10s  hold 20s }}\nscenario s {{ step main = load t }}\n"
        ),
    );
    let json = p.with_extension("json");
    let o = res(&[
        "run",
        p.to_str().unwrap(),
        "--no-record",
        "--quiet",
        "--seed",
        "5",
        "--report",
        &format!("json={}", json.display()),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let v = report(&json);
    let got = offered_per_second(&v);
    let planned = |t: f64| {
        if t <= 10.0 {
            4.0 * t * t
        } else {
            400.0 + 80.0 * (t - 10.0)
        }
    };
    for a in 5..=20 {
        let sent: f64 = got.iter().skip(a).take(10).sum();
        let plan = planned(a as f64 + 10.0) - planned(a as f64);
        assert!(
            (sent - plan).abs() <= 0.05 * plan + 3.0 * plan.sqrt(),
            "{sent} requests in [{a}s, {}s), planned {plan:.0}; per second {got:?}",
            a + 10
        );
    }
}

#[test]
fn a_learned_traffic_holding_without_a_rate_replays_the_learned_rate() {
    // Issue 12: `hold 20s` with no rate ran at 0/s.
    let p = scenario(
        "hold-no-rate",
        &format!(
            "traffic seen {{ learn from \"{SHOP_LOG}\"  scale 10000x }}\ntraffic t {{ like seen  hold 20s }}\nscenario s {{ step main = load t }}\n"
        ),
    );
    let o = res(&[
        "run",
        "--dry-run",
        "--now",
        "2026-12-07T19:00Z",
        p.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let line = out
        .lines()
        .find(|l| l.contains("start load t"))
        .expect("a start line");
    assert!(
        line.contains("learned sessions walking") && !line.contains("requests 0.0/s for 20s"),
        "{out}"
    );
    // Replayed: the learned evening rate, well above nothing.
    let rates: Vec<f64> = line
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter_map(|x| x.strip_suffix('.').unwrap_or(x).parse::<f64>().ok())
        .collect();
    assert!(rates.iter().any(|r| *r > 5.0), "{line}");
}

#[test]
fn a_fixed_now_and_seed_give_byte_identical_dry_runs() {
    // Issue 11: where in the week a learned replay starts came from the system clock.
    let p = scenario(
        "now",
        &format!(
            "traffic seen {{ learn from \"{SHOP_LOG}\"  scale 10000x }}\ntraffic t {{ like seen }}\nscenario s {{ step main = load t for 2h }}\n"
        ),
    );
    let dry = |now: &str| {
        let o = res(&[
            "run",
            "--dry-run",
            "--seed",
            "7",
            "--now",
            now,
            p.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        o.stdout
    };
    let a = dry("2026-12-07T10:00Z");
    assert_eq!(a, dry("2026-12-07T10:00Z"), "same file, seed and --now");
    assert_ne!(
        a,
        dry("2026-12-08T03:00Z"),
        "the replay starts where --now falls in the week"
    );
    let o = res(&[
        "run",
        "--dry-run",
        "--now",
        "yesterday",
        p.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn skipped_remedies_make_the_run_incomplete_not_a_pass() {
    // Issue 12: `then remediate` was skipped silently under a PASS. A predicted trigger still
    // waits for the prediction engine (issue 15 wired measured ones).
    let p = scenario(
        "incomplete",
        "traffic t { rate 20/s  hold 2s }\nremedy grow { when predicted p99(shop.checkout) > 400ms at peak(t)  do scale shop.checkout by +2 }\nscenario s {\n  step main = load t\n  expect error_rate(shop) < 50% during main\n  then remediate with grow\n}\n",
    );
    let (o, json) = run_with_report(&p, 4);
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let v = report(&json);
    assert_eq!(v["outcome"], "incomplete");
    assert_eq!(v["skipped"][0]["part"], "remediate");
    assert_eq!(v["skipped"][0]["name"], "grow");
    assert!(
        v["reason"].as_str().unwrap().contains("remediate grow"),
        "{v:#}"
    );
    let out = stdout(&o);
    assert!(
        out.contains("INCOMPLETE")
            && !out.contains("PASS")
            && out.contains("skipped remediate grow"),
        "{out}"
    );
    assert!(out.contains("recorded as run "), "{out}");
}

#[test]
fn stressed_sees_a_service_only_its_fault_proxy_reaches() {
    // Issue 12: the demo's payments, called by checkout through its fault proxy, had "no
    // requests in the last 10s" for `on stressed(...)`. Slowed by 300 ms, it is ranked from
    // the proxy's own counts and chosen among the top two (checkout, waiting on it with
    // every worker, is the first).
    let dir = std::env::temp_dir().join(format!("res-run-{}-stressed", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("stressed.res");
    std::fs::write(
        &p,
        "system shop {\n  builtin demo_shop\n  service catalog { route GET \"/items/{random.1000}\" expect status 2xx }\n  service checkout {\n    route POST \"/checkout\" body json { \"item\": 1001, \"qty\": 1 }\n    depends on payments\n  }\n  service payments { upstream \"127.0.0.1:9101\" }\n}\ntraffic t { rate 40/s  hold 16s }\nfault slow_pay { on shop.payments  latency 300ms }\nfault pick { on stressed(shop, top 2, by latency)  errors 503 at 1% }\nscenario s {\n  step main = load t\n  step slow = inject slow_pay with main + 2s for 12s\n  step chosen = inject pick with main + 13s for 2s\n}\n",
    )
    .unwrap();
    let (o, json) = run_with_report(&p, 9);
    let v = report(&json);
    let pick = v["faults"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fault"] == "pick" && f["action"] == "inject")
        .unwrap_or_else(|| panic!("pick was injected: {}{}\n{v:#}", stdout(&o), stderr(&o)));
    assert!(
        pick["target"].as_str().unwrap().contains("shop.payments"),
        "{pick}"
    );
    assert!(
        pick["detail"]
            .as_str()
            .unwrap()
            .contains("shop.payments (at its fault proxy): mean"),
        "{pick}"
    );
}

#[test]
fn saturation_measures_against_a_declared_capacity() {
    // Catalog of the embedded shop with one worker (`capacity 1`) at 60/s: about half of its
    // ~170/s, so requests in flight (Little's law) over 1 is well above the idle share and
    // below a queue that never drains; with the queueing measure (no capacity) the same load
    // reads near 0 %.
    let dir = std::env::temp_dir().join(format!("res-run-{}-saturation", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("saturation.res");
    std::fs::write(
        &p,
        "system shop {\n  builtin demo_shop\n  service catalog {\n    route GET \"/items/1\"\n    capacity 1\n  }\n}\n\
         traffic t { rate 60/s  arrival constant  hold 5s }\n\
         scenario s {\n  step main = load t\n  expect saturation(shop.catalog) > 25% during main\n  expect saturation(shop.catalog) < 150% during main\n}\n",
    )
    .unwrap();
    let (o, json) = run_with_report(&p, 4);
    let v = report(&json);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}\n{:#}",
        stdout(&o),
        stderr(&o),
        v["expectations"]
    );
}

#[test]
fn peak_forecasts_from_now_within_a_horizon_of_the_log_and_says_so_beyond() {
    // The demo's log ends on 2026-11-22. Three days later peak() forecasts the week from now;
    // a month later the hours since the log are covered by nothing, so it forecasts the week
    // after the log's end and says so, instead of a guess that widens every day the file ages.
    let dry = |now: &str| {
        let o = res(&["run", "scenarios/demo.res", "--dry-run", "--now", now]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let soon = dry("2026-11-25T12:00Z");
    assert!(
        soon.contains("h before now; peak() forecasts the 168 h from now"),
        "{soon}"
    );
    let late = dry("2026-12-25T12:00Z");
    assert!(
        late.contains(
            "more than the forecast's horizon; peak() forecasts the 7d after the log's end"
        ),
        "{late}"
    );
    let peak_at = |out: &str| {
        let at = out.find("forecast peak ").unwrap();
        out[at..].split(" at ").nth(1).unwrap()[..10].to_string()
    };
    assert!(peak_at(&late).as_str() < "2026-12-01", "{late}");
    assert!(peak_at(&soon).as_str() >= "2026-11-25", "{soon}");
}

#[test]
fn load_scale_runs_every_load_at_its_multiple_and_the_report_plans_it() {
    let p = scenario(
        "scaled",
        "traffic t { rate 15/s  hold 6s }\nscenario s {\n  step main = load t\n}\n",
    );
    let json = p.with_extension("json");
    let report_arg = format!("json={}", json.display());
    let o = res(&[
        "run",
        p.to_str().unwrap(),
        "--seed",
        "3",
        "--load-scale",
        "200%",
        "--report",
        &report_arg,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = report(&json);
    assert_eq!(v["load_scale"], 2.0);
    let step = &v["steps"][0];
    let planned = step["planned_rps"].as_f64().unwrap();
    assert!((planned - 30.0).abs() < 0.01, "{step}");
    // Counted by the shop's own service counters, not by the plan.
    let sent = v["services"]["shop.catalog"]["requests"].as_u64().unwrap() as f64
        + v["services"]["shop.checkout"]["requests"]
            .as_u64()
            .unwrap_or(0) as f64;
    assert!((sent - 180.0).abs() <= 9.0, "sent {sent} of 180: {step}");
    // The dry run shows the scaled plan, and a scale that is no number is refused.
    let dry = res(&["run", p.to_str().unwrap(), "--dry-run", "--load-scale", "2"]);
    assert!(stdout(&dry).contains("30.0/s for 6s"), "{}", stdout(&dry));
    assert!(
        stdout(&dry).contains("every load at 2× its plan"),
        "{}",
        stdout(&dry)
    );
    let bad = res(&["run", p.to_str().unwrap(), "--load-scale", "0"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}
