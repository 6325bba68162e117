//! The invalid-file corpus: every `tests/invalid/*.res` must be rejected with clear diagnostics.
//!
//! Each file is checked (and, when the check is clean, planned) exactly as `res check` / `res
//! plan` would; the rendered diagnostics are snapshotted under `tests/invalid/snapshots/`, so a
//! change in wording or placement shows up in review. Files in `tests/invalid/modules/` are
//! only imported by the corpus, never checked on their own.
//!
//! A file's leading comments may carry directives for the harness:
//! `// plan-scenario: NAME` plans that scenario (as `res plan --scenario NAME`), and
//! `// set: NAME=VALUE` overrides a param (as `res check --set NAME=VALUE`; repeatable).
//!
//! Update snapshots with `INSTA_UPDATE=always cargo test --test it corpus::` (or `cargo insta
//! review`), then read them: every message must be clear and point at the right place.

use crate::support;

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use res::diagnostic::{Code, Severity};

const CORPUS: &str = "tests/invalid";

/// Corpus files, as paths relative to the package root (cargo runs integration tests there),
/// so diagnostics and snapshots name them the same on every machine.
fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .expect("tests/invalid exists (run from the package root)")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "res"))
        .map(|p| Path::new(CORPUS).join(p.file_name().expect("a file name")))
        .collect();
    files.sort();
    files
}

/// Harness directives in a file's leading comments.
#[derive(Default)]
struct Directives {
    scenario: Option<String>,
    overrides: Vec<(String, String)>,
}

fn directives(path: &Path) -> Directives {
    let mut d = Directives::default();
    let Ok(bytes) = std::fs::read(path) else {
        return d;
    };
    let text = String::from_utf8_lossy(&bytes);
    for line in text
        .lines()
        .take_while(|l| l.trim_start().starts_with("//"))
    {
        let line = line.trim_start().trim_start_matches('/').trim();
        if let Some(name) = line.strip_prefix("plan-scenario:") {
            d.scenario = Some(name.trim().to_string());
        } else if let Some((name, value)) =
            line.strip_prefix("set:").and_then(|s| s.split_once('='))
        {
            d.overrides
                .push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    d
}

/// Makes rendered text machine-independent: imported files may be named by absolute path.
fn machine_independent(text: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    text.replace(&format!("{root}/"), "").replace(root, ".")
}

fn snapshot_name(path: &Path) -> String {
    path.file_stem()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

/// Checks one corpus file; returns what is wrong with the result (empty when all is well) and
/// adds the codes it reported to `seen`.
fn check_one(path: &Path, seen: &mut HashSet<Code>) -> Vec<String> {
    let d = directives(path);
    let opts = res::check::Options {
        overrides: d.overrides,
    };
    let run = || {
        support::finish(
            res::check::check_path_with(path, &opts),
            d.scenario.as_deref(),
        )
    };
    let outcome = match catch_unwind(AssertUnwindSafe(run)) {
        Ok(o) => o,
        Err(p) => return vec![format!("panicked: {}", support::panic_text(&*p))],
    };
    seen.extend(outcome.diagnostics.iter().map(|d| d.code));
    let mut problems = support::span_problems(&outcome.diagnostics, &outcome.sources);
    if outcome.errors().next().is_none() {
        problems.push(format!(
            "expected at least one error, got {} diagnostic(s): {:?}",
            outcome.diagnostics.len(),
            outcome
                .diagnostics
                .iter()
                .map(|d| d.code.as_str())
                .collect::<Vec<_>>()
        ));
    }
    let rendered = match catch_unwind(AssertUnwindSafe(|| {
        support::render(&outcome.diagnostics, &outcome.sources)
    })) {
        Ok(r) => machine_independent(&r),
        Err(p) => {
            problems.push(format!("rendering panicked: {}", support::panic_text(&*p)));
            return problems;
        }
    };
    let name = snapshot_name(path);
    let description = path.display().to_string();
    let snap = catch_unwind(AssertUnwindSafe(|| {
        insta::with_settings!({
            snapshot_path => "../invalid/snapshots",
            prepend_module_to_snapshot => false,
            description => description.as_str(),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name.as_str(), rendered);
        });
    }));
    if let Err(p) = snap {
        let why = support::panic_text(&*p);
        problems.push(format!(
            "snapshot differs ({}); review with `cargo insta review`",
            why.lines().next().unwrap_or_default()
        ));
    }
    problems
}

#[test]
fn every_invalid_file_is_rejected_with_good_diagnostics() {
    let files = corpus_files();
    assert!(
        files.len() >= 70,
        "the corpus should have at least 70 files, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    let mut seen = HashSet::new();
    for path in &files {
        let start = Instant::now();
        let problems = check_one(path, &mut seen);
        let took = start.elapsed();
        if took.as_secs() >= 5 {
            failures.push(format!("{}: took {took:?}", path.display()));
        }
        failures.extend(
            problems
                .into_iter()
                .map(|p| format!("{}: {p}", path.display())),
        );
    }
    // Every code is exercised by some file (too_large by `too_large_file_is_refused`,
    // file_not_found by `a_missing_root_file_has_its_own_code`, the warning redundant by
    // `record_profile_is_reported_as_redundant`: a corpus file must hold an error).
    let elsewhere = [Code::TooLarge, Code::FileNotFound, Code::Redundant];
    let unexercised: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !seen.contains(*c) && !elsewhere.contains(c))
        .map(|c| c.as_str())
        .collect();
    if !unexercised.is_empty() {
        failures.push(format!("no corpus file produces {unexercised:?}: add one"));
    }
    assert!(
        failures.is_empty(),
        "{} problem(s) in {} corpus files:\n  {}",
        failures.len(),
        files.len(),
        failures.join("\n  ")
    );
}

/// Snapshots without a corpus file are left-overs from renamed or deleted files.
#[test]
fn every_snapshot_has_a_corpus_file() {
    let dir = Path::new(CORPUS).join("snapshots");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let names: Vec<String> = corpus_files().iter().map(|p| snapshot_name(p)).collect();
    let orphans: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".snap"))
        .filter(|f| !names.iter().any(|n| f == &format!("{n}.snap")))
        .collect();
    assert!(
        orphans.is_empty(),
        "snapshots without a corpus file in {}: {orphans:?}",
        dir.display()
    );
}

#[test]
fn every_code_is_documented() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/errors.md");
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} must exist: {e}", path.display()));
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !doc.contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/errors.md does not document {} code(s): {missing:?}",
        missing.len()
    );
}

/// A scratch directory for generated files (not committed).
fn scratch_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("corpus-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// One block of valid declarations, numbered so names stay unique.
fn large_file_block(i: usize) -> String {
    format!(
        r#"system sys{i} {{
  base "http://localhost:8080"
  service catalog  {{ route GET "/items/{i}" expect status 2xx }}
  service checkout {{ route POST "/checkout" body json {{ "item": "{i}", "qty": 1 }}  depends on payments }}
  service payments {{ upstream "127.0.0.1:9101" }}
}}

traffic load{i} {{ against sys{i}  rate {rate}/s  hold 5m }}

fault slow{i} {{
  on sys{i}.payments
  latency {latency}ms jitter 10ms
  errors 503 at 5%
}}

slo ok{i} {{
  p99(sys{i}.checkout) < 400ms
  error_rate(sys{i}) < 1%
}}

scenario run{i} {{
  step main  = load load{i}
  step chaos = inject slow{i} after main.start + 1m for 2m
  expect ok{i} during main
}}

"#,
        rate = i % 1000 + 1,
        latency = i % 500 + 1
    )
}

/// 5 MB of valid declarations with one error on the very last statement: the error is found,
/// on the right line, and quickly. (Generated here, never committed.)
#[test]
fn large_file_error_at_the_end() {
    let mut text = String::from(
        "// generated by tests/it/corpus.rs: 5 MB of declarations, one error at the end\n",
    );
    let mut i = 0usize;
    while text.len() < 5 * 1024 * 1024 {
        text.push_str(&large_file_block(i));
        i += 1;
    }
    text.push_str("scenario last {\n  step main = load load0\n");
    let line = text.lines().count() + 1;
    text.push_str("  step late = load stedy after main\n}\n");
    let column = "  step late = load ".len() + 1;

    let path = scratch_dir().join("large.res");
    std::fs::write(&path, &text).expect("write the large file");
    let start = Instant::now();
    let checked = res::check::check_path(&path);
    let took = start.elapsed();
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "one error expected, got: {:#?}",
        errors
            .iter()
            .map(|d| (&d.code, &d.message))
            .collect::<Vec<_>>()
    );
    let d = errors[0];
    assert_eq!(d.code, Code::UnknownName, "{}", d.message);
    let src = checked.sources.get(d.file);
    assert_eq!(
        src.line_col(d.span.start),
        (line, column),
        "the error should point at `stedy` on the last lines"
    );
    assert_eq!(&src.text[d.span.start..d.span.end], "stedy");
    assert!(support::span_problems(&checked.diagnostics, &checked.sources).is_empty());
    // Speed is a benchmark's business (benches/check_plan.rs), not a timed test's: a loaded
    // machine made a 30 s limit fail. The figure is printed for whoever reads the log.
    println!("checking {} bytes took {took:?}", text.len());
    let _ = std::fs::remove_file(&path);
}

/// A file over the parser's limit is refused up front with `too_large`, without parsing it.
#[test]
fn too_large_file_is_refused() {
    let limit = res::syntax::MAX_FILE_BYTES;
    let line = "// padding padding padding padding padding padding padding padding padding\n";
    let text = line.repeat(limit / line.len() + 2);
    assert!(text.len() > limit);
    let path = scratch_dir().join("too_large.res");
    std::fs::write(&path, &text).expect("write the too-large file");
    let start = Instant::now();
    let checked = res::check::check_path(&path);
    assert!(
        start.elapsed().as_secs() < 10,
        "refusing a large file should be quick"
    );
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.code == Code::TooLarge && d.is_error()),
        "expected res::syntax::too_large, got {:?}",
        checked
            .diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect::<Vec<_>>()
    );
    for d in &checked.diagnostics {
        assert!(
            d.span.start <= d.span.end && d.span.end <= text.len(),
            "span {:?} outside the file",
            d.span
        );
    }
    let _ = std::fs::remove_file(&path);
}

// ------------------------------------------------------------------------------------------
// Sharp edges of issue 12, each pinned by a test that failed before its fix.

/// A file beside scenarios/demo.res (not written to disk: imports resolve against its name).
fn beside_demo(text: &str) -> res::check::Checked {
    let name = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/own_scenarios_test.res");
    res::check::check_source(
        &name.to_string_lossy(),
        text,
        &res::check::Options::default(),
    )
}

const OWN: &str = "import \"./demo.res\" { everyday, shop }\n\
    traffic t { like everyday  against shop  rate 10/s  hold 10s }\n\
    scenario r { step main = load t }\n";

#[test]
fn an_import_brings_only_the_names_it_lists() {
    let checked = beside_demo(OWN);
    let errors: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let model = checked.model.as_ref().expect("a model");
    let own: Vec<&str> = model.own().map(|s| s.name.as_str()).collect();
    assert_eq!(own, ["r"], "the demo's scenario must not leak in");
    // `res plan` (every scenario of the file) and `res run` (the file's only one).
    let plans = res::plan::plan_all_checked(&checked).expect("plans");
    let names: Vec<&str> = plans.iter().map(|p| p.scenario.as_str()).collect();
    assert_eq!(names, ["r"]);
    assert_eq!(
        res::plan::plan_checked(&checked, None)
            .expect("a plan")
            .scenario,
        "r"
    );
    // The demo's scenario by name: not this file's, and the help says how to make it so.
    let demo_scenario = &model
        .scenarios
        .iter()
        .find(|s| s.name != "r")
        .expect("the demo's scenario is still checked")
        .name;
    let e = res::plan::plan_checked(&checked, Some(demo_scenario)).expect_err("not ours");
    let help = e[0].help.clone().unwrap_or_default();
    assert!(
        help.contains("imported file") && help.contains("r"),
        "{help}"
    );
    // Imported by name, it is this file's too.
    let text = OWN.replace(
        "{ everyday, shop }",
        &format!("{{ everyday, shop, {demo_scenario} }}"),
    );
    let checked = beside_demo(&text);
    let own: Vec<String> = checked
        .model
        .as_ref()
        .expect("a model")
        .own()
        .map(|s| s.name.clone())
        .collect();
    assert_eq!(own, ["r".to_string(), demo_scenario.clone()]);
}

#[test]
fn several_scenarios_ask_for_one_by_name() {
    let text = format!("{OWN}scenario q {{ step main = load t }}\n");
    let checked = beside_demo(&text);
    let e = res::plan::plan_checked(&checked, None).expect_err("ambiguous");
    assert_eq!(e[0].code, Code::NoScenario);
    assert!(e[0].message.contains("2 scenarios"), "{}", e[0].message);
    assert_eq!(e[0].help.as_deref(), Some("--scenario r | q"));
    assert_eq!(
        res::plan::plan_checked(&checked, Some("q"))
            .expect("q")
            .scenario,
        "q"
    );
    // The binary says the same and refuses (exit 2) before anything runs.
    let dir = scratch_dir();
    let path = dir.join("two.res");
    std::fs::write(
        &path,
        "system shop { builtin demo_shop  service catalog { route GET \"/items\" } }\n\
         traffic t { against shop  rate 10/s  hold 10s }\n\
         scenario a { step main = load t }\nscenario b { step main = load t }\n",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_res"))
        .args(["run", "--dry-run"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--scenario a | b"), "{stderr}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn rendering_many_diagnostics_is_linear_and_capped() {
    // 20,000 errors: quadratic rendering took minutes here (5,000 took 3.8 s, 10,000 14.6 s).
    let n = 20_000;
    let mut text = String::from(
        "system shop { builtin demo_shop  service catalog { route GET \"/items\" } }\n",
    );
    for i in 0..n {
        text.push_str(&format!("param p{i}: duration = 5%\n"));
    }
    let checked = res::check::check_source("many.res", &text, &res::check::Options::default());
    assert_eq!(checked.diagnostics.len(), n);
    let start = Instant::now();
    let rendered = res::diagnostic::render_all(
        &checked.diagnostics,
        &checked.sources,
        res::diagnostic::RenderOptions::default(),
    );
    let render_took = start.elapsed();
    let shown = rendered.matches("res::check::unit_mismatch").count();
    assert_eq!(
        shown,
        res::diagnostic::RENDER_LIMIT,
        "the first 100 are drawn"
    );
    assert!(
        rendered.contains(&format!(
            "… and {} more errors not shown ({n} in all)",
            n - 100
        )),
        "{}",
        &rendered[rendered.len().saturating_sub(300)..]
    );
    // JSON keeps every one, placed in linear time.
    let start = Instant::now();
    let json: Vec<_> = checked
        .diagnostics
        .iter()
        .map(|d| res::diagnostic::to_json(d, &checked.sources))
        .collect();
    let json_took = start.elapsed();
    assert_eq!(json.len(), n);
    assert_eq!(json[n - 1].line, n + 1);
    // Generous bounds for an unoptimised build on a busy machine; quadratic work is minutes.
    assert!(render_took.as_secs() < 10, "rendering took {render_took:?}");
    assert!(json_took.as_secs() < 10, "placing took {json_took:?}");
}

#[test]
fn a_missing_root_file_has_its_own_code() {
    let checked = res::check::check_path(Path::new("scenarios/no_such_file.res"));
    let codes: Vec<Code> = checked.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::FileNotFound]);
    let d = &checked.diagnostics[0];
    assert!(
        d.message
            .contains("cannot read the file `scenarios/no_such_file.res`"),
        "{}",
        d.message
    );
    assert!(d
        .help
        .as_deref()
        .unwrap_or_default()
        .contains("check the path"));
}

#[test]
fn a_wrong_rate_is_reported_once() {
    let text = "system shop { builtin demo_shop  service catalog { route GET \"/items\" } }\n\
        traffic t { against shop  rate 5ms  ramp 0/s -> rate over 1m  hold 1m }\n\
        scenario s { step main = load t }\n";
    let checked = res::check::check_source("rate.res", text, &res::check::Options::default());
    let codes: Vec<&str> = checked
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(
        codes,
        ["res::check::unit_mismatch"],
        "no bogus unknown name `rate`"
    );
}

#[test]
fn record_profile_is_reported_as_redundant() {
    let text = "system shop { builtin demo_shop  service catalog { route GET \"/items\" } }\n\
        traffic t { against shop  rate 10/s  hold 10s }\n\
        scenario s {\n  step main = load t\n  record profile\n}\n";
    let checked = res::check::check_source("rec.res", text, &res::check::Options::default());
    let d: Vec<_> = checked.diagnostics.iter().collect();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].code, Code::Redundant);
    assert_eq!(d[0].severity, Severity::Warning);
    assert_eq!(&text[d[0].span.start..d[0].span.end], "record profile");
    assert!(checked.model.is_some(), "a warning, not an error");
}

/// The shipped `.res` files, as paths relative to the package root, in order.
fn shipped_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .expect("scenarios/ exists (run from the package root)")
        .flatten()
        .map(|e| Path::new("scenarios").join(e.file_name()))
        .filter(|p| p.extension().is_some_and(|x| x == "res"))
        .collect();
    files.sort();
    files
}

/// Every shipped scenario runs (its dry run plans and resolves everything a run needs), and
/// the ones that read environment variables say so at check time.
#[test]
fn every_shipped_scenario_dry_runs_and_names_its_environment() {
    let mut failures = Vec::new();
    let files = shipped_files();
    let mut ran = 0;
    for path in &files {
        let checked = res::check::check_path(path);
        let Some(model) = &checked.model else {
            failures.push(format!("{}: does not check", path.display()));
            continue;
        };
        for s in model.own() {
            ran += 1;
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_res"))
                // The shipped scenarios keep their windows; this test is about their
                // environment, not about when they may run.
                .args(["run", "--dry-run", "--ignore-window", "--scenario", &s.name])
                .arg(path)
                .env_remove("RES_PROFILE_DB")
                .output()
                .unwrap();
            if !out.status.success() {
                failures.push(format!(
                    "{} --scenario {}: exit {:?}: {}",
                    path.display(),
                    s.name,
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        // `res check` names the unset variables the file reads.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_res"))
            .arg("check")
            .arg(path)
            .env_clear()
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        for u in &model.env {
            if !stderr.contains(&format!("{} (", u.name)) {
                failures.push(format!(
                    "{}: check does not name {}: {stderr}",
                    path.display(),
                    u.name
                ));
            }
        }
    }
    assert!(
        ran >= 8,
        "the shipped scenarios should hold at least 8 scenarios, ran {ran}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The plan of every shipped scenario (each of a file's own scenarios) is snapshotted under
/// tests/snapshots/: a change in a plan's timing, order or wording shows up in review.
/// Update with `INSTA_UPDATE=always cargo test --test it corpus::shipped_plans`, then read them.
#[test]
fn shipped_plans_are_snapshotted() {
    let files = shipped_files();
    let mut planned = 0;
    for path in &files {
        let checked = res::check::check_path(path);
        let model = checked
            .model
            .as_ref()
            .unwrap_or_else(|| panic!("{} should check", path.display()));
        for s in model.own() {
            let plan = res::plan::plan(model, checked.root, Some(&s.name))
                .unwrap_or_else(|e| panic!("{} {}: {e:?}", path.display(), s.name));
            let text = machine_independent(&res::plan::to_text(&plan, model));
            let name = format!("plan__{}__{}", snapshot_name(path), s.name);
            let description = format!("res plan {} --scenario {}", path.display(), s.name);
            insta::with_settings!({
                snapshot_path => "../snapshots",
                prepend_module_to_snapshot => false,
                description => description.as_str(),
                omit_expression => true,
            }, {
                insta::assert_snapshot!(name.as_str(), text);
            });
            planned += 1;
        }
    }
    assert!(planned >= 10, "planned {planned} shipped scenarios");
}

/// The checker's name table: declarations with the spans of their names, and the uses it
/// resolved, across imports; available even when the file has errors.
#[test]
fn the_checker_exposes_its_name_table() {
    let checked = res::check::check_path(Path::new("scenarios/demo.res"));
    let t = &checked.names;
    let text = &checked.sources.get(checked.root).text;
    // Each declaration's span is its name, in the file it names.
    for d in &t.decls {
        assert_eq!(
            &checked.sources.get(d.file).text[d.span.start..d.span.end],
            d.name
        );
    }
    for r in &t.refs {
        let d = &t.decls[r.decl];
        let used = &checked.sources.get(r.file).text[r.span.start..r.span.end];
        assert!(used == d.name || !used.is_empty(), "{used} → {}", d.name);
    }
    // `peak_test` is declared in demo.res and used by its scenario's steps.
    let at = text
        .find("traffic peak_test")
        .expect("demo declares peak_test")
        + "traffic ".len();
    let (i, d) = t.at(checked.root, at).expect("a declaration at its name");
    assert_eq!(
        (d.name.as_str(), d.kind.word().as_str()),
        ("peak_test", "traffic")
    );
    let uses: Vec<&str> = t
        .references(i)
        .map(|r| &text[r.span.start..r.span.end])
        .collect();
    assert!(
        uses.len() >= 2 && uses.iter().all(|u| *u == "peak_test"),
        "{uses:?}"
    );
    // A use leads back to the declaration.
    let r = t.references(i).next().unwrap();
    assert_eq!(t.at(checked.root, r.span.start).map(|(j, _)| j), Some(i));
    // An imported name resolves into the module that declares it.
    let imported = t
        .refs
        .iter()
        .find(|r| r.file == checked.root && t.decls[r.decl].file != checked.root)
        .expect("demo.res imports something");
    assert!(text[..imported.span.start].contains("import"));
    // With an error elsewhere, the names still resolve.
    let broken = "system shop { builtin demo_shop  service catalog { route GET \"/items\" } }\n\
        traffic t { against shop  rate 5ms  hold 1m }\nscenario s { step main = load t }\n";
    let checked = res::check::check_source("broken.res", broken, &res::check::Options::default());
    assert!(checked.has_errors());
    let t = &checked.names;
    let at = broken.find("load t").unwrap() + "load ".len();
    assert_eq!(
        t.at(checked.root, at).map(|(_, d)| d.name.as_str()),
        Some("t")
    );
}
