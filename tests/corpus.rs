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
//! Update snapshots with `INSTA_UPDATE=always cargo test --test corpus` (or `cargo insta
//! review`), then read them: every message must be clear and point at the right place.

mod support;

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
            snapshot_path => "invalid/snapshots",
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
    // Every code is exercised by some file (too_large by `too_large_file_is_refused`).
    let unexercised: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| !seen.contains(*c) && **c != Code::TooLarge)
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
        "// generated by tests/corpus.rs: 5 MB of declarations, one error at the end\n",
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
    // Generous: an unoptimised build on a slow CI machine. (Linear work takes a few seconds.)
    assert!(
        took.as_secs() < 30,
        "checking {} bytes took {took:?}",
        text.len()
    );
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
