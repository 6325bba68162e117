//! The CLI contract: exit codes, text and JSON outputs of `res check`, `res fmt`, `res plan`.

use crate::common::*;
use serde_json::Value;

fn write_temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("res-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn check_accepts_every_shipped_file() {
    let mut files: Vec<String> = Vec::new();
    for dir in ["scenarios", "stdlib"] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "res") {
                files.push(p.to_string_lossy().into_owned());
            }
        }
    }
    assert!(files.len() >= 8, "scenarios and stdlib hold files");
    let mut args = vec!["check"];
    args.extend(files.iter().map(String::as_str));
    let o = res(&args);
    assert!(o.status.success(), "res check failed:\n{}", stderr(&o));
}

#[test]
fn check_reports_errors_with_exit_1_and_location() {
    let p = write_temp(
        "typo.res",
        "system shop {\n  builtin demo_shop\n  service checkout { route POST \"/checkout\" }\n}\nslo ok {\n  p99(shop.chekout) < 400ms\n}\n",
    );
    let o = res(&["check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("res::check::unknown_name"), "{err}");
    assert!(err.contains("did you mean `checkout`?"), "{err}");
    assert!(err.contains("typo.res:6:12"), "{err}");
}

#[test]
fn check_json_matches_schema() {
    let bad = write_temp("bad.res", "traffic t {\n  rate 5%\n  hold 10s\n}\nsystem s { builtin demo_shop  service a { route GET \"/\" } }\n");
    let o = res(&[
        "check",
        "--format",
        "json",
        "scenarios/demo.res",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("stdout is JSON");
    let errors = validate(&load_schema("check.schema.json"), &v);
    assert!(errors.is_empty(), "schema violations: {errors:#?}\n{v:#}");
    assert_eq!(v["ok"], false);
    assert_eq!(v["files"][0]["ok"], true);
    let d = &v["files"][1]["diagnostics"][0];
    assert_eq!(d["code"], "res::check::unit_mismatch");
    assert_eq!(d["line"], 2);
    assert_eq!(d["column"], 8);
}

#[test]
fn deny_warnings_turns_unused_into_failure() {
    let p = write_temp(
        "unused.res",
        "system shop { builtin demo_shop  service a { route GET \"/\" } }\ntraffic t { rate 5/s  hold 5s }\ntraffic spare { rate 1/s  hold 5s }\nscenario s { step main = load t }\n",
    );
    let o = res(&["check", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("traffic `spare` is declared but never used"),
        "{}",
        stderr(&o)
    );
    let o = res(&["check", "--deny-warnings", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn plan_text_is_an_ordered_timeline() {
    let o = res(&["plan", "scenarios/demo.res"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let offsets: Vec<f64> = out
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix('+'))
        .map(|l| {
            res::units::Duration::parse(l.split_whitespace().next().unwrap())
                .unwrap()
                .ms()
        })
        .collect();
    assert!(offsets.len() >= 6, "{out}");
    assert!(
        offsets.windows(2).all(|w| w[0] <= w[1]),
        "timeline is sorted:\n{out}"
    );
    assert!(out.contains("start load"), "{out}");
    assert!(out.contains("inject"), "{out}");
}

#[test]
fn plan_json_matches_schema_and_dot_is_graphviz() {
    let o = res(&["plan", "--format", "json", "scenarios/demo.res"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let errors = validate(&load_schema("plan.schema.json"), &v);
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
    let plan = &v["plans"][0];
    let nodes = plan["nodes"].as_array().unwrap();
    assert_eq!(nodes.first().unwrap()["kind"], "begin");
    for e in plan["edges"].as_array().unwrap() {
        let at = |id: &Value| {
            nodes.iter().find(|n| n["id"] == *id).unwrap()["at_ms"]
                .as_f64()
                .unwrap()
        };
        assert!(
            at(&e["to"]) + 1e-9 >= at(&e["from"]) + e["offset_ms"].as_f64().unwrap(),
            "edge {e} holds"
        );
    }
    let o = res(&["plan", "--format", "dot", "scenarios/demo.res"]);
    let dot = stdout(&o);
    assert!(dot.starts_with("digraph"), "{dot}");
    if std::process::Command::new("dot").arg("-V").output().is_ok() {
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(dot.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "graphviz renders the DOT");
        assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
    }
}

#[test]
fn plan_set_overrides_params_and_checks_units() {
    let p = write_temp(
        "params.res",
        "param soak = 10s\nsystem shop { builtin demo_shop  service a { route GET \"/\" } }\ntraffic t { rate 5/s }\nscenario s { step main = load t for soak }\n",
    );
    let o = res(&["plan", p.to_str().unwrap(), "--set", "soak=2m"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("+2m  stop load t"), "{}", stdout(&o));
    let o = res(&["plan", p.to_str().unwrap(), "--set", "soak=5%"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("res::check::bad_override"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn plan_unknown_scenario_and_cycles_exit_2() {
    let o = res(&["plan", "scenarios/demo.res", "--scenario", "nightly_peek"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `nightly_peak`?"),
        "{}",
        stderr(&o)
    );
    let p = write_temp(
        "cycle.res",
        "system shop { builtin demo_shop  service a { route GET \"/\" } }\ntraffic t { rate 5/s  hold 5s }\nscenario s {\n  step a = load t after b\n  step b = load t after a\n}\n",
    );
    let o = res(&["plan", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("res::plan::cycle") && err.contains("`a` waits for `b`"),
        "{err}"
    );
}

#[test]
fn fmt_check_passes_on_shipped_files_and_flags_messy_ones() {
    let o = res(&["fmt", "--check", "scenarios/demo.res"]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let p = write_temp(
        "messy.res",
        "system   shop{builtin demo_shop service a{route GET \"/\"}}\n",
    );
    let o = res(&["fmt", "--check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let o = res(&["fmt", p.to_str().unwrap()]);
    assert!(o.status.success());
    let o = res(&["fmt", "--check", p.to_str().unwrap()]);
    assert!(o.status.success(), "formatting is idempotent");
}

// ------------------------------------------------------------------ the command line's edges

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh directory of its own under the temp folder.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("res-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The state letter of /proc/PID/stat: `T` while stopped.
fn proc_state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')')
        .next()
        .and_then(|s| s.trim().chars().next())
        .unwrap_or('?')
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn send(child: &Child, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
}

/// Waits at most `limit` for `child` to exit; kills it and fails past that.
fn exit_code_within(child: &mut Child, limit: Duration) -> Option<i32> {
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("res did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_option_values_are_usage_errors_exit_2() {
    let json = scratch("bad-options");
    let cases: Vec<Vec<String>> = vec![
        vec!["load", "http://127.0.0.1:9/", "--rate", "500"],
        vec!["load", "http://127.0.0.1:9/", "--duration", "1"],
        vec!["load", "127.0.0.1:9/"],
        vec!["load", "http://127.0.0.1:9/", "--max-error-rate", "150%"],
        vec!["run", "scenarios/demo.res", "--report", "xml=a.xml"],
        vec!["run", "scenarios/demo.res", "--set", "no_equals_sign"],
        vec!["learn", "scenarios/logs/shop-access.log", "--idle", "5"],
        vec!["learn", "scenarios/logs/shop-access.log", "--max-bad", "x"],
        vec!["forecast", "model.json", "--horizon", "3"],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect();
    let mut cases = cases;
    // A report into a folder that does not exist is refused before the run starts.
    cases.push(vec![
        "run".into(),
        "scenarios/demo.res".into(),
        "--report".into(),
        format!("json={}", json.join("missing/r.json").display()),
    ]);
    for case in &cases {
        let args: Vec<&str> = case.iter().map(String::as_str).collect();
        let start = Instant::now();
        let o = res(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("invalid value"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(start.elapsed() < Duration::from_secs(5), "{args:?} at once");
    }
    let o = res(&[
        "run",
        "scenarios/demo.res",
        "--report",
        &format!("json={}", json.join("missing/r.json").display()),
    ]);
    assert!(
        stderr(&o).contains("missing/r.json"),
        "names the path: {}",
        stderr(&o)
    );
    assert!(!json.join("missing").exists());
}

#[test]
fn a_report_path_that_cannot_be_written_is_refused_before_the_run() {
    // A path below a plain file cannot be created, whoever runs the test (root included).
    let dir = scratch("unwritable-report");
    std::fs::write(dir.join("file"), "not a folder").unwrap();
    let start = Instant::now();
    let o = res(&[
        "run",
        "scenarios/demo.res",
        "--report",
        &format!("junit={}", dir.join("file/r.xml").display()),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(start.elapsed() < Duration::from_secs(5));
    // A folder is no report file either.
    let o = res(&[
        "run",
        "scenarios/demo.res",
        "--report",
        &format!("json={}", dir.display()),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn load_names_status_codes_and_fails_above_max_error_rate() {
    let demo = Demo::start();
    // `/items/x` is a 404 on the demo shop: every request fails with that status.
    let url = format!("http://{}/items/x", demo.addr);
    let o = res(&["load", &url, "--rate", "50/s", "--duration", "1s"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("status     404 ×"), "{out}");
    assert!(out.contains("unexpected status"), "{out}");
    assert!(stderr(&o).contains("--max-error-rate 1%"), "{}", stderr(&o));
    // All of them allowed to fail: the run is fine.
    let o = res(&[
        "load",
        &url,
        "--rate",
        "50/s",
        "--duration",
        "1s",
        "--max-error-rate",
        "100%",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A healthy path: status 200, no errors.
    let ok = format!("http://{}/items/1", demo.addr);
    let o = res(&["load", &ok, "--rate", "50/s", "--duration", "1s"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("status     200 ×"), "{}", stdout(&o));
}

#[test]
fn load_stops_orderly_on_sigterm_with_its_summary() {
    let demo = Demo::start();
    let url = format!("http://{}/items/1", demo.addr);
    let mut child = Command::new(res_bin())
        .args(["load", &url, "--rate", "50/s", "--duration", "60s"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    send(&child, nix::sys::signal::Signal::SIGTERM);
    let code = exit_code_within(&mut child, Duration::from_secs(10));
    let o = child.wait_with_output().unwrap();
    assert_eq!(code, Some(3), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("requests") && out.contains("latency"), "{out}");
    assert!(
        stderr(&o).contains("terminated (SIGTERM)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn sighup_and_sigquit_mid_pause_revert_and_exit_3() {
    for signal in [
        nix::sys::signal::Signal::SIGHUP,
        nix::sys::signal::Signal::SIGQUIT,
    ] {
        let dir = scratch(&format!("hup-{signal}"));
        let mut victim = Command::new("sleep").arg("60").spawn().unwrap();
        let pidfile = dir.join("victim.pid");
        std::fs::write(&pidfile, victim.id().to_string()).unwrap();
        let file = dir.join("pause.res");
        std::fs::write(
            &file,
            format!(
                "system sys {{\n  base \"http://127.0.0.1:9\"\n  service victim {{ process pidfile \"{}\" }}\n}}\nfault freeze {{\n  on sys.victim\n  pause\n}}\nscenario s {{\n  step frozen = inject freeze for 60s\n}}\n",
                pidfile.display()
            ),
        )
        .unwrap();
        let mut child = Command::new(res_bin())
            .args(["run", file.to_str().unwrap()])
            .env("RES_STATE_DIR", dir.join("state"))
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_until("the victim to stop", Duration::from_secs(10), || {
            proc_state(victim.id()) == 'T'
        });
        send(&child, signal);
        let code = exit_code_within(&mut child, Duration::from_secs(10));
        let o = child.wait_with_output().unwrap();
        let state = proc_state(victim.id());
        let _ = victim.kill();
        let _ = victim.wait();
        assert_eq!(code, Some(3), "{signal}: {}{}", stdout(&o), stderr(&o));
        assert_ne!(state, 'T', "{signal}: the victim runs again");
        assert!(
            stdout(&o).contains(&format!("({signal})")),
            "{signal}: {}",
            stdout(&o)
        );
    }
}

#[test]
fn a_closed_stdout_ends_commands_quietly() {
    let dir = scratch("pipe");
    let db = dir.join("p.redb");
    // A database with runs in it, written by the recorder's own test helper.
    let o = Command::new(res_bin())
        .args([
            "profile",
            "_test-writer",
            db.to_str().unwrap(),
            "--seconds",
            "2",
        ])
        .args(["--interval-ms", "20", "--commit-ms", "100"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    for args in [
        vec!["profile", "export", "--profile-db", db.to_str().unwrap()],
        vec![
            "profile",
            "export",
            "--format",
            "csv",
            "--profile-db",
            db.to_str().unwrap(),
        ],
        vec!["check", "--format", "json", "scenarios/demo.res"],
        vec!["plan", "--format", "json", "scenarios/demo.res"],
    ] {
        let mut child = Command::new(res_bin())
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before res writes: `res … | head -0`.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert!(
            !stderr(&o).contains("panicked") && !stderr(&o).contains("Broken pipe"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn an_address_in_use_is_named() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let o = res(&["demo", "serve", "--port", &port, "--payments-port", "0"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("127.0.0.1:{port}")),
        "{}",
        stderr(&o)
    );
}

/// A project like a fresh clone: `.git` at its root, scenarios below it.
fn project(name: &str) -> std::path::PathBuf {
    let root = scratch(name);
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("scenarios")).unwrap();
    std::fs::write(
        root.join("scenarios/quick.res"),
        "system shop {\n  builtin demo_shop\n  service catalog { route GET \"/items/1\" }\n}\ntraffic t { rate 20/s  hold 1s }\nscenario s { step main = load t }\n",
    )
    .unwrap();
    root
}

fn res_in(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(res_bin())
        .args(args)
        .current_dir(dir)
        .env_remove("RES_STATE_DIR")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn every_command_finds_the_same_state_folder() {
    let root = project("state");
    let o = res_in(&root, &["run", "scenarios/quick.res", "--seed", "1", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("recorded as run 1 in ./.res/profile.redb"),
        "{}",
        stdout(&o)
    );
    assert!(root.join(".res/profile.redb").exists());
    assert!(!root.join("scenarios/.res").exists());
    // From below the root, walking up finds the same folder.
    let o = res_in(
        &root.join("scenarios"),
        &["profile", "list", "--format", "json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    // RES_STATE_DIR overrides it.
    let elsewhere = root.join("elsewhere");
    let o = Command::new(res_bin())
        .args(["profile", "list"])
        .current_dir(&root)
        .env("RES_STATE_DIR", &elsewhere)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{}", elsewhere.join("profile.redb").display())),
        "{}",
        stderr(&o)
    );
}

#[test]
fn recover_names_its_journal_and_refuses_one_it_cannot_read() {
    let root = project("recover");
    let o = res_in(&root.join("scenarios"), &["recover"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!("{}", root.join(".res/faults.journal").display())),
        "{}",
        stdout(&o)
    );
    let o = res_in(&root, &["recover", "--journal", "no/such/faults.journal"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no/such/faults.journal"),
        "{}",
        stderr(&o)
    );
    // A folder is no journal: it cannot be read.
    std::fs::create_dir_all(root.join("dir.journal")).unwrap();
    let o = res_in(&root, &["recover", "--journal", "dir.journal"]);
    assert_eq!(o.status.code(), Some(4), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn completions_and_man_page_come_from_the_binary() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef res"),
        ("fish", "complete -c res"),
    ] {
        let o = res(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains(marker), "{shell}: {out}");
        assert!(
            out.contains("profile") && out.contains("max-error-rate"),
            "{shell}"
        );
    }
    let o = res(&["completions", "powershell"]);
    assert_eq!(o.status.code(), Some(2));
    let o = res(&["man"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = stdout(&o);
    assert!(
        page.contains(".TH res 1") && page.contains("completions"),
        "{page}"
    );
}
