//! The CLI contract: exit codes, text and JSON outputs of `res check`, `res fmt`, `res plan`.

mod common;

use common::*;
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
