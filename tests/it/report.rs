//! The reports as people and CI systems see them: the demo run's HTML page rendered by
//! headless Chromium (a screenshot that is not blank, and a DOM whose SVG holds one path per
//! service per chart and the fault windows at the injected times), the JUnit XML validated by
//! xmllint against a published schema, Markdown compared with the previous run and appended
//! to `GITHUB_STEP_SUMMARY`, escaping of hostile names, the size of an hour-long report,
//! `res profile import` (twice changes nothing), `res profile report`, `res forecast --plot`,
//! the CI examples of docs/ci.md, and report paths refused before a run starts.
//!
//! Chromium (Debian `chromium`) and xmllint (`libxml2-utils`) are installed by .ci/run: the
//! tests that need them skip locally without them and fail under `CI=true`.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{res, skip, stderr, stdout};
use crate::report_support::*;
use serde_json::Value;

/// A scenario of a few seconds against the embedded shop, with one fault.
fn quick(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(format!("{name}.res"));
    std::fs::write(
        &p,
        "system shop {\n  builtin demo_shop\n  service catalog { route GET \"/items/{random.1000}\" expect status 2xx }\n}\n\
         traffic t { rate 30/s  hold 4s }\nfault slow { on shop.catalog  latency 40ms }\n\
         scenario quick {\n  step main = load t\n  step chaos = inject slow after main.start + 1s for 2s\n  expect p99(shop.catalog) < 2s during main\n}\n",
    )
    .unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn demo_html_report_in_headless_chromium() {
    let dir = temp_dir("demo");
    let (html, json, junit, db) = (
        dir.join("demo.html"),
        dir.join("demo.json"),
        dir.join("demo.xml"),
        dir.join("profile.redb"),
    );
    let out = res(&[
        "run",
        "scenarios/demo.res",
        "--seed",
        "7",
        "--quiet",
        "--profile-db",
        s(&db),
        "--report",
        &format!("html={}", s(&html)),
        "--report",
        &format!("json={}", s(&json)),
        "--report",
        &format!("junit={}", s(&junit)),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let page = std::fs::read_to_string(&html).unwrap();
    assert_self_contained(&page);
    validate_junit(&junit, &report);

    let Some(chromium) = chromium() else {
        return skip("chromium is not installed (apt-get install chromium)");
    };
    let dom = chromium_dom(&chromium, &html, &dir);
    let services: Vec<String> = report["services"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert!(services.len() >= 2, "the demo loads several services");
    for (chart, metrics) in [
        ("throughput", &["rps"][..]),
        ("latency", &["p99", "p50"][..]),
        ("errors", &["errors"][..]),
    ] {
        let svg = element(&dom, &format!("data-chart=\"{chart}\""), "svg")
            .unwrap_or_else(|| panic!("no {chart} chart in the DOM"));
        for m in metrics {
            for sv in &services {
                let groups = groups(&svg, &format!("data-service=\"{sv}\" data-metric=\"{m}\""));
                assert_eq!(groups.len(), 1, "{chart}: one {m} series of {sv}");
                assert_eq!(
                    groups[0].matches("<polyline").count(),
                    1,
                    "{chart}: one path for {m} of {sv}"
                );
            }
        }
        // Fault rectangles at the injected times, ±1 s, in data and in pixels.
        let geometry = Geometry::of(&svg);
        let injected: Vec<(String, f64, f64)> = fault_windows(&report);
        assert!(!injected.is_empty(), "the demo injects faults");
        for (fault, start, end) in &injected {
            let g = groups(&svg, &format!("data-fault=\"{fault}"));
            assert!(!g.is_empty(), "{chart}: a window for {fault}");
            let at = attr(&g[0], "data-fault-start").unwrap();
            assert!(
                (at - start).abs() <= 1.0,
                "{chart}: {fault} starts at {at}, injected at {start}"
            );
            let to = attr(&g[0], "data-fault-end").unwrap();
            assert!(
                (to - end).abs() <= 1.0,
                "{chart}: {fault} ends at {to}, reverted at {end}"
            );
            let (x0, x1) = rect_x(&g[0]).expect("a fault rectangle");
            assert!(
                (geometry.time(x0) - start).abs() <= 1.0,
                "{chart}: rectangle of {fault} starts at {} s",
                geometry.time(x0)
            );
            assert!(
                (geometry.time(x1) - end).abs() <= 1.0,
                "{chart}: rectangle of {fault} ends at {} s",
                geometry.time(x1)
            );
        }
    }
    let plan = element(&dom, "data-chart=\"plan\"", "svg").expect("the plan's Gantt chart");
    for step in ["warmup", "main", "chaos", "flaky"] {
        assert_eq!(
            groups(&plan, &format!("data-step=\"{step}\"")).len(),
            1,
            "plan step {step}"
        );
    }
    assert!(
        dom.contains("id=\"expectations\""),
        "the expectations table"
    );

    for (name, size, dark) in [
        ("wide", "1280,2600", false),
        ("phone", "390,3000", false),
        ("dark", "1280,2600", true),
    ] {
        let png = dir.join(format!("{name}.png"));
        screenshot(&chromium, &html, &png, size, dark, &dir);
        let img = Png::read(&png);
        let look = img.look();
        assert!(
            look.differing > 0.02,
            "{name}: the page is not blank ({look:?})"
        );
        assert!(
            look.coloured > 0.001,
            "{name}: the charts' colours show ({look:?})"
        );
        if dark {
            assert!(
                look.background_luma < 80.0,
                "dark scheme: a dark background ({look:?})"
            );
        } else {
            assert!(
                look.background_luma > 200.0,
                "light scheme: a light background ({look:?})"
            );
        }
    }
    // Kept when the test fails, to look at; removed when it passes.
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn markdown_compares_with_the_previous_run_and_fills_the_step_summary() {
    let dir = temp_dir("md");
    // A file name with markup, an ampersand and an emoji: escaped, never markup.
    let file = quick(&dir, "quick & <co> 🔥");
    let db = dir.join("p.redb");
    let summary = dir.join("step-summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let run = |seed: &str, md: &Path| {
        let out = Command::new(common::res_bin())
            .args([
                "run",
                s(&file),
                "--seed",
                seed,
                "--quiet",
                "--allow-short", // a loaded machine must not make a report test fail
                "--profile-db",
                s(&db),
            ])
            .arg("--report")
            .arg(format!("md={}", s(md)))
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("RES_STATE_DIR", common::state_dir())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    let (first, second) = (dir.join("1.md"), dir.join("2.md"));
    run("1", &first);
    run("2", &second);
    let first = std::fs::read_to_string(first).unwrap();
    let second = std::fs::read_to_string(second).unwrap();
    assert!(first.contains("### ✅ res: quick — PASS"), "{first}");
    assert!(first.contains("| shop.catalog |"), "{first}");
    assert!(
        first.contains("| ✅ | p99(shop.catalog) &lt; 2s | during main |"),
        "{first}"
    );
    assert!(first.contains("first recorded run"), "{first}");
    assert!(
        first.contains("quick &amp; &lt;co&gt; 🔥.res · seed 1"),
        "{first}"
    );
    assert!(second.contains("**Against run 1"), "{second}");
    assert!(second.contains("| shop.catalog | "), "{second}");
    let appended = std::fs::read_to_string(&summary).unwrap();
    assert!(
        appended.starts_with("earlier step\n"),
        "appended, not overwritten"
    );
    assert_eq!(
        appended.matches("### ✅ res: quick").count(),
        2,
        "{appended}"
    );
    // Kept when the test fails, to look at; removed when it passes.
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostile_names_are_escaped_in_every_format() {
    let r = hostile_report();
    let html = res::report::to_html(&r, &hostile_plan()).unwrap();
    for raw in ["<script>", "<b>", "\"x\" onload", "& <i>"] {
        assert!(!html.contains(raw), "raw `{raw}` in the HTML");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("🔥"), "emoji kept as text");
    assert!(html.contains("data-service=\"shop.&lt;b&gt;&amp;&quot;x&quot; onload=&#39;\""));
    let md = res::report::to_markdown(&r, &res::report::Previous::First);
    assert!(
        !md.contains("<script>") && md.contains("&lt;script&gt;"),
        "{md}"
    );
    assert!(md.contains("\\|"), "a pipe cannot end a cell: {md}");
    let junit = res::report::to_junit(&r);
    assert!(!junit.contains("<script>"), "{junit}");
    let dir = temp_dir("hostile");
    let xml = dir.join("junit.xml");
    std::fs::write(&xml, &junit).unwrap();
    xmllint_schema(&xml);
    // Kept when the test fails, to look at; removed when it passes.
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_hour_with_twenty_services_stays_under_two_megabytes() {
    let r = synthetic_report(3600, 20);
    let started = std::time::Instant::now();
    let html = res::report::to_html(&r, &[]).unwrap();
    // For information only: the speed goal is benches/report_html.rs's.
    eprintln!(
        "1 h × 20 services: {} bytes in {:?} (debug build)",
        html.len(),
        started.elapsed()
    );
    assert!(
        html.len() < 2 * 1024 * 1024,
        "{} bytes for 1 h × 20 services",
        html.len()
    );
    // Thinned to what a chart can show: no series keeps more points than pixel columns.
    let most = html
        .split("data-points=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse::<usize>().ok())
        .max()
        .unwrap();
    assert!(
        most <= res::report::chart::columns(),
        "{most} points in a series"
    );
    // The tables keep the exact figures.
    assert!(
        html.contains("<td>shop.s19</td><td>360000</td>"),
        "exact request count"
    );
}

#[test]
fn report_paths_that_cannot_be_written_are_refused_before_the_run() {
    for kind in ["html", "md", "json", "junit"] {
        let out = res(&[
            "run",
            "scenarios/demo.res",
            "--report",
            &format!("{kind}=/nonexistent-folder/report.out"),
        ]);
        assert_eq!(out.status.code(), Some(2), "{kind}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("cannot write /nonexistent-folder/report.out"),
            "{}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty(), "nothing ran");
    }
    let out = res(&["run", "scenarios/demo.res", "--report", "pdf=x.pdf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("html=FILE"), "{}", stderr(&out));
}

#[test]
fn profile_import_merges_runs_and_importing_twice_changes_nothing() {
    let dir = temp_dir("import");
    let file = quick(&dir, "quick");
    let (a, b) = (dir.join("a.redb"), dir.join("b.redb"));
    for (db, seed) in [(&a, "1"), (&a, "2"), (&b, "3")] {
        let out = res(&[
            "run",
            s(&file),
            "--seed",
            seed,
            "--quiet",
            "--allow-short", // a loaded machine must not make a report test fail
            "--profile-db",
            s(db),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }
    let list = |db: &Path| -> Vec<Value> {
        let out = res(&["profile", "list", "--profile-db", s(db), "--format", "json"]);
        serde_json::from_str::<Value>(&stdout(&out))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let export = |db: &Path| stdout(&res(&["profile", "export", "--profile-db", s(db)]));
    let out = res(&[
        "profile",
        "import",
        s(&a),
        "--profile-db",
        s(&b),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(first["imported"].as_array().unwrap().len(), 2, "{first}");
    let runs = list(&b);
    assert_eq!(runs.len(), 3);
    let seeds: Vec<u64> = runs.iter().map(|r| r["seed"].as_u64().unwrap()).collect();
    assert_eq!(seeds, vec![3, 1, 2], "imported runs follow the ones here");
    {
        // Each imported run's levels (what prediction reads) are stored under its new id and
        // are what its copied seconds reduce to.
        let store = res::profile::ProfileStore::open(&b).unwrap();
        for pair in first["imported"].as_array().unwrap() {
            let new = pair[1].as_u64().unwrap();
            let stored = store.stored_levels(new).unwrap().expect("levels imported");
            assert!(!stored.is_empty(), "run {new}: {stored:?}");
            assert_eq!(stored, store.levels_from_seconds(new).unwrap(), "run {new}");
            for levels in stored.values() {
                assert!(levels.iter().all(|l| l.run == new), "run {new}: {levels:?}");
            }
        }
    }
    let a_samples = stdout(&res(&[
        "profile",
        "export",
        "--profile-db",
        s(&a),
        "--format",
        "csv",
    ]));
    let b_samples = stdout(&res(&[
        "profile",
        "export",
        "--profile-db",
        s(&b),
        "--format",
        "csv",
    ]));
    assert_eq!(
        a_samples.lines().count() - 1,
        b_samples.lines().filter(|l| !l.starts_with("1,")).count() - 1,
        "every sample came along"
    );
    let before = export(&b);
    let out = res(&["profile", "import", s(&a), "--profile-db", s(&b)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("imported 0 run(s)") && stdout(&out).contains("2 already here"),
        "{}",
        stdout(&out)
    );
    assert_eq!(export(&b), before, "importing twice changes nothing");
    let out = res(&["profile", "import", s(&b), "--profile-db", s(&b)]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "a database into itself is refused"
    );

    // The profile over time, from the merged database.
    let page = dir.join("profile.html");
    let out = res(&[
        "profile",
        "report",
        "--profile-db",
        s(&b),
        "--system",
        "shop",
        "-o",
        s(&page),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    assert!(
        html.contains("data-chart=\"sustainable\""),
        "sustainable chart"
    );
    for chart in ["knee", "recovery"] {
        assert!(
            html.contains(&format!("data-chart=\"{chart}\""))
                || html.contains(&format!("<figure id=\"{chart}\"><figcaption>")),
            "{chart}: a chart, or why there is none"
        );
    }
    assert!(html.contains("data-service=\"shop.catalog\" data-metric=\"sustainable\""));
    assert!(
        html.contains("data-service=\"shop.catalog\" data-metric=\"trend\""),
        "a trend line over 3 runs"
    );
    assert!(
        html.contains("Fault deltas") && html.contains("<td>latency</td>"),
        "fault deltas"
    );
    assert!(html.contains("Predicted against measured"));
    // Kept when the test fails, to look at; removed when it passes.
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn forecast_plot_draws_history_forecast_and_interval() {
    let dir = temp_dir("forecast");
    let model = dir.join("model.json");
    let out = res(&["learn", "scenarios/logs/shop-access.log", "-o", s(&model)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let svg = dir.join("forecast.svg");
    let out = res(&["forecast", s(&model), "--horizon", "2d", "--plot", s(&svg)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<?xml") && text.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    for part in ["history", "forecast", "interval", "peak"] {
        assert_eq!(
            text.matches(&format!("data-series=\"{part}\"")).count(),
            1,
            "{part}"
        );
    }
    assert_eq!(
        attr(&text, "data-forecast-points"),
        Some(48.0),
        "one point per hour of 2 days"
    );
    assert!(text.contains("<polygon"), "the interval is a filled band");
    let out = res(&["forecast", s(&model), "--plot", "/nonexistent-folder/f.svg"]);
    assert_eq!(out.status.code(), Some(2), "refused before forecasting");
    // Kept when the test fails, to look at; removed when it passes.
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ci_examples_are_valid_yaml_that_keep_the_profile() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/ci.md")).unwrap();
    let blocks = yaml_blocks(&doc);
    assert_eq!(blocks.len(), 2, "a GitHub Actions and a GitLab CI example");
    let docs: Vec<yaml_rust2::Yaml> = blocks
        .iter()
        .map(|b| {
            let mut d =
                yaml_rust2::YamlLoader::load_from_str(b).unwrap_or_else(|e| panic!("{e}\n{b}"));
            assert_eq!(d.len(), 1);
            d.remove(0)
        })
        .collect();
    let github = &docs[0];
    assert!(
        !github["on"].is_badvalue() && !github["jobs"].is_badvalue(),
        "a workflow"
    );
    let steps = github["jobs"]["resilience"]["steps"]
        .as_vec()
        .expect("steps");
    let uses: Vec<&str> = steps.iter().filter_map(|s| s["uses"].as_str()).collect();
    assert!(
        uses.iter().any(|u| u.starts_with("actions/cache")),
        "caches the build and .res/"
    );
    assert!(
        uses.iter()
            .any(|u| u.starts_with("actions/upload-artifact")),
        "keeps the reports"
    );
    let gitlab = &docs[1];
    let job = &gitlab["resilience"];
    assert!(
        job["script"].as_vec().is_some(),
        "a GitLab job with a script"
    );
    assert!(
        job["artifacts"]["reports"]["junit"].as_str().is_some(),
        "JUnit for the MR widget"
    );
    assert!(
        job["cache"]
            .as_vec()
            .or(job["cache"]["paths"].as_vec())
            .is_some()
            || !job["cache"].is_badvalue()
    );
    for b in &blocks {
        assert!(b.contains(".res/"), "keeps the profile history: {b}");
        assert!(b.contains("profile import"), "merges histories: {b}");
    }
}

#[test]
fn remediation_decisions_are_marked_where_they_were_made() {
    let dir = temp_dir("remedy");
    let file = dir.join("rem.res");
    std::fs::write(
        &file,
        "import \"std/remedies\" { scale_out }\nsystem shop {\n  builtin demo_shop\n  service catalog { route GET \"/items/{random.1000}\" expect status 2xx }\n}\n\
         traffic t { rate 30/s  hold 5s }\nremedy grow = scale_out(target: shop.catalog, when_p99: 1ms, by: 1, sustained: 2s)\n\
         scenario rem {\n  step main = load t\n  then remediate with grow\n}\n",
    )
    .unwrap();
    let (html, json) = (dir.join("rem.html"), dir.join("rem.json"));
    let out = res(&[
        "run",
        s(&file),
        "--seed",
        "1",
        "--quiet",
        "--no-record",
        "--remediate",
        "advise",
        "--report",
        &format!("html={}", s(&html)),
        "--report",
        &format!("json={}", s(&json)),
    ]);
    assert_eq!(out.status.code(), Some(1), "advised only: incomplete");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let errors = common::validate(&common::load_schema("report.schema.json"), &report);
    assert!(errors.is_empty(), "{errors:?}");
    let decisions = report["remediations"].as_array().unwrap();
    assert!(!decisions.is_empty(), "the trigger fired");
    let page = std::fs::read_to_string(&html).unwrap();
    for chart in ["throughput", "latency", "errors"] {
        let svg = element(&page, &format!("data-chart=\"{chart}\""), "svg").unwrap();
        for d in decisions {
            let at = d["at_s"]
                .as_f64()
                .expect("a measured decision has its time");
            assert!(at > 0.0 && at <= report["duration_s"].as_f64().unwrap());
            let g = groups(&svg, &format!("data-decision=\"{}\"", d["id"]));
            assert_eq!(g.len(), 1, "{chart}: decision {}", d["id"]);
            assert_eq!(
                attr(&g[0], "data-at"),
                Some(at),
                "{chart}: marked when it was made"
            );
        }
    }
    assert!(page.contains("id=\"remediations\""), "the decisions' table");
    // Kept when the test fails, to look at; removed when it passes.
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn profile_report_holds_predictions_against_measurements() {
    let dir = temp_dir("predicted");
    let db = dir.join("p.redb");
    let write = |hold: &str| {
        let p = dir.join(format!("p{hold}.res"));
        std::fs::write(
            &p,
            format!("system shop {{\n  builtin demo_shop\n  service catalog {{ route GET \"/items/{{random.1000}}\" expect status 2xx }}\n}}\ntraffic t {{ rate 30/s  arrival constant  hold {hold} }}\nscenario quick {{ step main = load t }}\n"),
        )
        .unwrap();
        p
    };
    let (short, long) = (write("4s"), write("15s"));
    let run = |file: &Path, seed: &str| {
        let out = res(&[
            "run",
            s(file),
            "--seed",
            seed,
            "--quiet",
            "--allow-short", // a loaded machine must not make a report test fail
            "--profile-db",
            s(&db),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    for seed in ["1", "2", "3"] {
        run(&short, seed);
    }
    let out = res(&["predict", s(&short), "--at", "30/s", "--profile-db", s(&db)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // A later run at the predicted rate (evenly spaced, so every second offers it), long
    // enough to measure a load level.
    run(&long, "4");
    let page = dir.join("profile.html");
    let out = res(&["profile", "report", "--profile-db", s(&db), "-o", s(&page)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    let svg = element(&html, "data-chart=\"predicted-p99_ms\"", "svg")
        .expect("a chart of p99 predicted against measured");
    for metric in ["predicted", "measured"] {
        let g = groups(
            &svg,
            &format!("data-service=\"shop.catalog\" data-metric=\"{metric}\""),
        );
        assert_eq!(g.len(), 1, "{metric}");
        assert!(g[0].contains("<circle"), "{metric}: a dot per prediction");
    }
    assert!(
        html.contains("<td>p99_ms</td><td>30.0</td>"),
        "the table row"
    );
    // Kept when the test fails, to look at; removed when it passes.
    let _ = std::fs::remove_dir_all(&dir);
}
