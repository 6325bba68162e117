//! Property-based fuzzing of the front end: parser, checker and planner never panic, and every
//! diagnostic they report points inside its file.
//! (Files without a scenario are checked, not planned: `no_scenario` is the corpus's business.)
//!
//! Generators: arbitrary bytes, arbitrary strings, "token soup" from the language's own
//! vocabulary, and a grammar-aware mutator that damages the valid files in `scenarios/` and
//! `stdlib/` (deletes, duplicates and swaps tokens and lines, inserts unit literals and
//! brackets). Case counts are moderate so the whole file runs in well under a minute on two
//! cores; raise them with `PROPTEST_CASES=5000 cargo test --release --test it fuzz::`.
//!
//! Failures are kept: proptest's seeds go to `tests/fuzz-corpus/*.seeds` (replayed first on
//! every run) and the shrunk failing input itself is written to `tests/fuzz-corpus/*.res`,
//! which `replay_fuzz_corpus` checks as an ordinary test from then on. Commit both.

use crate::support;

use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};

const FUZZ_CORPUS: &str = "tests/fuzz-corpus";

/// Cases per property: `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `property` over `strategy`. Seeds of failures are persisted to
/// `tests/fuzz-corpus/NAME.seeds`; the shrunk failing input is saved as a `.res` file so it is
/// replayed by `replay_fuzz_corpus` even when the generators change.
fn fuzz<S>(
    name: &'static str,
    seeds: &'static str,
    default_cases: u32,
    strategy: S,
    property: impl Fn(&[u8]) -> Result<(), String>,
) where
    S: Strategy,
    S::Value: AsRef<[u8]> + std::fmt::Debug,
{
    std::fs::create_dir_all(FUZZ_CORPUS).expect("create tests/fuzz-corpus");
    let config = Config {
        cases: cases(default_cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(seeds))),
        // Inputs are small; shrinking a panic should not take minutes.
        max_shrink_iters: 2048,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |input| {
        property(input.as_ref()).map_err(TestCaseError::fail)
    });
    match result {
        Ok(()) => {}
        Err(TestError::Abort(why)) => panic!("{name}: proptest aborted: {why}"),
        Err(TestError::Fail(why, input)) => {
            let bytes = input.as_ref();
            let saved = save_failure(name, bytes);
            panic!(
                "{name}: {why}\nminimal input ({} bytes) saved to {}:\n{}",
                bytes.len(),
                saved.display(),
                String::from_utf8_lossy(bytes)
            );
        }
    }
}

fn save_failure(name: &str, bytes: &[u8]) -> PathBuf {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    let path = Path::new(FUZZ_CORPUS).join(format!("{name}-{:016x}.res", h.finish()));
    if let Err(e) = std::fs::write(&path, bytes) {
        eprintln!(
            "could not save the failing input to {}: {e}",
            path.display()
        );
    }
    path
}

/// Everything that must hold for any input text, checked in memory (imports relative to
/// `name`'s folder). A panic becomes an error message so proptest can shrink it.
fn front_end_holds(name: &str, text: &str) -> Result<(), String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        support::finish_plannable(res::check::check_source(
            name,
            text,
            &res::check::Options::default(),
        ))
    }))
    .map_err(|p| format!("check/plan panicked: {}", support::panic_text(&*p)))?;
    let problems = support::span_problems(&outcome.diagnostics, &outcome.sources);
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    catch_unwind(AssertUnwindSafe(|| {
        support::render(&outcome.diagnostics, &outcome.sources)
    }))
    .map_err(|p| format!("rendering panicked: {}", support::panic_text(&*p)))?;
    Ok(())
}

/// The parser on its own: never panics, spans inside the text.
fn parser_holds(text: &str) -> Result<(), String> {
    let parsed = catch_unwind(AssertUnwindSafe(|| res::syntax::parse(text, 0)))
        .map_err(|p| format!("parse panicked: {}", support::panic_text(&*p)))?;
    let mut sources = res::diagnostic::SourceMap::new();
    sources.add("fuzz.res", text);
    let problems = support::span_problems(&parsed.diagnostics, &sources);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

/// Bytes, as read from disk: decode (not-UTF-8 is a diagnostic), then parse and check.
fn bytes_hold(bytes: &[u8]) -> Result<(), String> {
    let (text, diag) = catch_unwind(AssertUnwindSafe(|| res::syntax::decode(bytes, 0)))
        .map_err(|p| format!("decode panicked: {}", support::panic_text(&*p)))?;
    if let Some(d) = diag {
        let mut sources = res::diagnostic::SourceMap::new();
        sources.add("fuzz.res", text.as_str());
        let problems = support::span_problems(&[d], &sources);
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
    }
    parser_holds(&text)?;
    front_end_holds("fuzz.res", &text)
}

/// The same through the file system, as `res check FILE` reads it (a few cases only: IO).
fn file_holds(bytes: &[u8]) -> Result<(), String> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("input-{n}.res"));
    std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
    let result = path_holds(&path);
    let _ = std::fs::remove_file(&path);
    result
}

/// Checks and plans the file at `path` (imports relative to it); spans inside their files.
fn path_holds(path: &Path) -> Result<(), String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        support::finish_plannable(res::check::check_path(path))
    }))
    .map_err(|p| format!("check_path panicked: {}", support::panic_text(&*p)))?;
    let problems = support::span_problems(&outcome.diagnostics, &outcome.sources);
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    catch_unwind(AssertUnwindSafe(|| {
        support::render(&outcome.diagnostics, &outcome.sources)
    }))
    .map_err(|p| format!("rendering panicked: {}", support::panic_text(&*p)))?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// generators

/// Words and literals of the language, valid and nearly valid, for token soup and insertions.
const VOCABULARY: &[&str] = &[
    "import",
    "param",
    "data",
    "system",
    "traffic",
    "fault",
    "window",
    "event",
    "slo",
    "abort",
    "remedy",
    "scenario",
    "template",
    "service",
    "route",
    "GET",
    "POST",
    "depends",
    "on",
    "upstream",
    "process",
    "builtin",
    "base",
    "header",
    "timeout",
    "rate",
    "ramp",
    "hold",
    "mix",
    "session",
    "visit",
    "users",
    "think",
    "like",
    "against",
    "learn",
    "from",
    "forecast",
    "peak",
    "over",
    "latency",
    "jitter",
    "errors",
    "at",
    "reset",
    "blackhole",
    "kill",
    "pause",
    "restart",
    "cpu",
    "cores",
    "memory",
    "toxicity",
    "match",
    "every",
    "day",
    "to",
    "lasts",
    "expect",
    "when",
    "predicted",
    "do",
    "scale",
    "by",
    "cooldown",
    "mode",
    "act",
    "advise",
    "verify",
    "within",
    "require",
    "approval",
    "via",
    "admin",
    "read",
    "balance",
    "haproxy",
    "backend",
    "most",
    "per",
    "in",
    "or",
    "and",
    "not",
    "before",
    "step",
    "load",
    "inject",
    "wait",
    "after",
    "with",
    "during",
    "for",
    "record",
    "profile",
    "predict",
    "then",
    "remediate",
    "shop",
    "shop.checkout",
    "steady",
    "main",
    "main.start",
    "p99",
    "error_rate",
    "peak",
    "env",
    "secret",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "=",
    "->",
    "..",
    ".",
    "+",
    "-",
    "*",
    "/",
    "<",
    ">",
    "==",
    "!=",
    "<=",
    ">=",
    "\"x\"",
    "\"/items/{items.id}\"",
    "\"",
    "'",
    ";",
    "//",
    "/*",
    "*/",
    "\\",
    "\n",
    "5",
    "0",
    "0.95",
    "200ms",
    "30s",
    "5m",
    "1h",
    "7d",
    "1w",
    "1h30m",
    "500/s",
    "0/s",
    "64KiB",
    "10MB",
    "1MiB/s",
    "5%",
    "150%",
    "1.3x",
    "2xx",
    "503",
    "2026-11-27",
    "2026-11-27T00:00Z",
    "2026-13-40",
    "02:00",
    "25:61",
    "UTC",
    "+01:00",
    "true",
    "false",
    "null",
    "5mo",
    "5 sec",
    "-5m",
    "99999999999999999999999w",
    "é",
    "\u{feff}",
    "\0",
    "\r\n",
];

/// Well-formed literals of every unit: swapping one for another keeps the file parseable, so
/// the checker and planner (not just the parser) see the damage.
const VALID_LITERALS: &[&str] = &[
    "0",
    "1",
    "3",
    "0.95",
    "1000000",
    "0ms",
    "250ms",
    "30s",
    "5m",
    "1h30m",
    "7d",
    "1w",
    "0/s",
    "500/s",
    "30000/m",
    "512B",
    "64KiB",
    "1GiB",
    "1MiB/s",
    "0%",
    "5%",
    "100%",
    "150%",
    "1.3x",
    "0x",
    "2xx",
    "503",
    "2026-11-27",
    "2026-11-27T00:00Z",
    "02:00",
    "24:00",
    "true",
    "false",
    "\"\"",
    "\"x\"",
];

/// Unit literals (good and bad) the mutator inserts.
const LITERALS: &[&str] = &[
    "5mo",
    "5 sec",
    "5",
    "5%",
    "150%",
    "1.3x",
    "500/s",
    "64KiB",
    "1MiB/s",
    "200ms",
    "-5m",
    "0s",
    "2026-13-40",
    "2026-02-30T00:00Z",
    "25:00",
    "2xx",
    "999",
    "\"\\q\"",
    "\"unterminated",
    "'single'",
    "1e9",
    "0.0001ms",
    "18446744073709551616",
    "1/0",
    "0x",
    "0%",
    "100%",
    "-1",
    "nan",
    "inf",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            prop::sample::select(VOCABULARY),
            prop::sample::select(&[" ", " ", "\n", "", "  "][..]),
        ),
        0..80,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(w, sep)| format!("{w}{sep}"))
            .collect()
    })
}

/// A valid file to start from: every `.res` in scenarios/ and stdlib/ (names relative to the
/// package root, so relative imports resolve).
fn seeds() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dir in ["scenarios", "stdlib"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "res"))
            .collect();
        paths.sort();
        for p in paths {
            if let Ok(text) = std::fs::read_to_string(&p) {
                out.push((
                    format!("{dir}/{}", p.file_name().unwrap().to_string_lossy()),
                    text,
                ));
            }
        }
    }
    assert!(
        !out.is_empty(),
        "scenarios/*.res should exist (run from the package root)"
    );
    out
}

/// Byte ranges of tokens: runs of word characters (with `.`, `%`, `/`, `:` inside literals),
/// strings, and single punctuation characters.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' && b[i] != b'\n' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
        } else if c.is_ascii_alphanumeric() || c == b'_' {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric()
                    || matches!(b[i], b'_' | b'.' | b'%' | b'/' | b':'))
            {
                i += 1;
            }
        } else {
            // One character (possibly multi-byte).
            i += text[i..].chars().next().map_or(1, char::len_utf8);
        }
        while i < b.len() && !text.is_char_boundary(i) {
            i += 1;
        }
        out.push((start, i));
    }
    out
}

fn lines(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == '\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    DeleteToken(usize),
    DuplicateToken(usize),
    SwapTokens(usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    InsertLiteral(usize, usize),
    ReplaceToken(usize, usize),
    InsertWord(usize, usize),
    Truncate(usize),
    /// Replace the i-th name with the j-th name of the same file.
    ReplaceName(usize, usize),
    /// Replace the i-th literal with a well-formed literal (often of another unit).
    ReplaceLiteral(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<usize>();
    prop_oneof![
        3 => i.prop_map(Mutation::DeleteToken),
        2 => i.prop_map(Mutation::DuplicateToken),
        2 => (i, any::<usize>()).prop_map(|(a, b)| Mutation::SwapTokens(a, b)),
        2 => i.prop_map(Mutation::DeleteLine),
        2 => i.prop_map(Mutation::DuplicateLine),
        1 => (i, any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        3 => (i, 0..LITERALS.len()).prop_map(|(a, b)| Mutation::InsertLiteral(a, b)),
        3 => (i, 0..LITERALS.len()).prop_map(|(a, b)| Mutation::ReplaceToken(a, b)),
        2 => (i, 0..VOCABULARY.len()).prop_map(|(a, b)| Mutation::InsertWord(a, b)),
        1 => i.prop_map(Mutation::Truncate),
        4 => (i, any::<usize>()).prop_map(|(a, b)| Mutation::ReplaceName(a, b)),
        4 => (i, 0..VALID_LITERALS.len()).prop_map(|(a, b)| Mutation::ReplaceLiteral(a, b)),
    ]
}

/// Applies one mutation; indices wrap around the number of tokens or lines.
fn apply(text: &str, m: &Mutation) -> String {
    fn splice(text: &str, (s, e): (usize, usize), with: &str) -> String {
        format!("{}{}{}", &text[..s], with, &text[e..])
    }
    fn swap(text: &str, a: (usize, usize), b: (usize, usize)) -> String {
        let (a, b) = if a.0 <= b.0 { (a, b) } else { (b, a) };
        if a == b || a.1 > b.0 {
            return text.to_string();
        }
        format!(
            "{}{}{}{}{}",
            &text[..a.0],
            &text[b.0..b.1],
            &text[a.1..b.0],
            &text[a.0..a.1],
            &text[b.1..]
        )
    }
    let toks = tokens(text);
    let lns = lines(text);
    let tok = |i: usize| toks.get(i % toks.len().max(1)).copied();
    let line = |i: usize| lns.get(i % lns.len().max(1)).copied();
    match *m {
        Mutation::DeleteToken(i) => {
            tok(i).map_or_else(|| text.to_string(), |t| splice(text, t, ""))
        }
        Mutation::DuplicateToken(i) => tok(i).map_or_else(
            || text.to_string(),
            |t| splice(text, (t.1, t.1), &format!(" {}", &text[t.0..t.1])),
        ),
        Mutation::SwapTokens(a, b) => match (tok(a), tok(b)) {
            (Some(a), Some(b)) => swap(text, a, b),
            _ => text.to_string(),
        },
        Mutation::DeleteLine(i) => {
            line(i).map_or_else(|| text.to_string(), |l| splice(text, l, ""))
        }
        Mutation::DuplicateLine(i) => line(i).map_or_else(
            || text.to_string(),
            |l| splice(text, (l.1, l.1), &text[l.0..l.1]),
        ),
        Mutation::SwapLines(a, b) => match (line(a), line(b)) {
            (Some(a), Some(b)) => swap(text, a, b),
            _ => text.to_string(),
        },
        Mutation::InsertLiteral(i, k) => {
            let at = tok(i).map_or(text.len(), |t| t.1);
            splice(text, (at, at), &format!(" {}", LITERALS[k]))
        }
        Mutation::ReplaceToken(i, k) => {
            tok(i).map_or_else(|| text.to_string(), |t| splice(text, t, LITERALS[k]))
        }
        Mutation::InsertWord(i, k) => {
            let at = tok(i).map_or(text.len(), |t| t.0);
            splice(text, (at, at), &format!("{} ", VOCABULARY[k]))
        }
        Mutation::ReplaceName(i, j) => {
            let names: Vec<(usize, usize)> = toks
                .iter()
                .copied()
                .filter(|t| text[t.0..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
                .collect();
            match (
                names.get(i % names.len().max(1)),
                names.get(j % names.len().max(1)),
            ) {
                (Some(&a), Some(&b)) => splice(text, a, &text[b.0..b.1]),
                _ => text.to_string(),
            }
        }
        Mutation::ReplaceLiteral(i, k) => {
            let lits: Vec<(usize, usize)> = toks
                .iter()
                .copied()
                .filter(|t| text[t.0..].starts_with(|c: char| c.is_ascii_digit()))
                .collect();
            lits.get(i % lits.len().max(1))
                .map_or_else(|| text.to_string(), |&t| splice(text, t, VALID_LITERALS[k]))
        }
        Mutation::Truncate(i) => {
            let mut at = i % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text[..at].to_string()
        }
    }
}

/// A seed file (by index) and the text after 1–4 mutations. The seed's name is kept so the
/// checker resolves its relative imports.
fn mutated(seeds: &'static [(String, String)]) -> impl Strategy<Value = (usize, String)> {
    (0..seeds.len(), prop::collection::vec(mutation(), 1..5)).prop_map(move |(k, ms)| {
        let text = ms.iter().fold(seeds[k].1.clone(), |t, m| apply(&t, m));
        (k, text)
    })
}

fn leaked_seeds() -> &'static [(String, String)] {
    static SEEDS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(seeds)
}

/// The seed name travels with the text: `NAME\0TEXT`, so a failure is saved as one file.
struct Named(Vec<u8>);

impl AsRef<[u8]> for Named {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

// ---------------------------------------------------------------------------------------------
// properties

#[test]
fn arbitrary_bytes_never_panic() {
    fuzz(
        "bytes",
        "tests/fuzz-corpus/bytes.seeds",
        256,
        prop::collection::vec(any::<u8>(), 0..512),
        bytes_hold,
    );
}

#[test]
fn arbitrary_bytes_through_a_file_never_panic() {
    fuzz(
        "file",
        "tests/fuzz-corpus/file.seeds",
        32,
        prop::collection::vec(any::<u8>(), 0..256),
        file_holds,
    );
}

#[test]
fn arbitrary_strings_never_panic() {
    fuzz(
        "string",
        "tests/fuzz-corpus/string.seeds",
        256,
        any::<String>(),
        |b| {
            let text = std::str::from_utf8(b).map_err(|e| e.to_string())?;
            parser_holds(text)?;
            front_end_holds("fuzz.res", text)
        },
    );
}

#[test]
fn token_soup_never_panics() {
    fuzz(
        "soup",
        "tests/fuzz-corpus/soup.seeds",
        384,
        token_soup(),
        |b| {
            let text = std::str::from_utf8(b).map_err(|e| e.to_string())?;
            parser_holds(text)?;
            front_end_holds("fuzz.res", text)
        },
    );
}

#[test]
fn mutated_scenarios_never_panic() {
    let seeds = leaked_seeds();
    let strategy = mutated(seeds)
        .prop_map(|(k, text)| Named(format!("{}\0{}", seeds[k].0, text).into_bytes()));
    fuzz(
        "mutated",
        "tests/fuzz-corpus/mutated.seeds",
        384,
        strategy,
        |b| {
            let (name, text) = split_named(b)?;
            parser_holds(text)?;
            front_end_holds(name, text)
        },
    );
}

fn split_named(b: &[u8]) -> Result<(&str, &str), String> {
    let s = std::str::from_utf8(b).map_err(|e| e.to_string())?;
    s.split_once('\0').ok_or_else(|| "no name".to_string())
}

/// The mutator itself is sound: each mutation does what its name says (a deletion removes
/// one contiguous piece, a duplication inserts one, a truncation keeps a prefix, a swap keeps
/// the bytes), never panics on a char boundary, and nearly always changes the text, so the
/// fuzzers above really feed damaged input.
#[test]
fn mutations_keep_text_valid() {
    /// Lengths of the common prefix and suffix of `a` and `b`, not overlapping.
    fn common(a: &str, b: &str) -> (usize, usize) {
        let p = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
        let max_s = a.len().min(b.len()) - p;
        let s = a
            .bytes()
            .rev()
            .zip(b.bytes().rev())
            .take(max_s)
            .take_while(|(x, y)| x == y)
            .count();
        (p, s)
    }
    /// `short` is `long` with one contiguous piece taken out.
    fn one_piece_removed(long: &str, short: &str) -> bool {
        let (p, s) = common(long, short);
        short.len() <= long.len() && p + s >= short.len()
    }
    fn histogram(t: &str) -> [u32; 256] {
        let mut h = [0u32; 256];
        for &b in t.as_bytes() {
            h[usize::from(b)] += 1;
        }
        h
    }
    let (mut total, mut changed) = (0usize, 0usize);
    let mut failures = Vec::new();
    for (name, text) in leaked_seeds() {
        let n = tokens(text).len() + lines(text).len() + 3;
        for i in 0..n {
            for m in [
                Mutation::DeleteToken(i),
                Mutation::DuplicateToken(i),
                Mutation::SwapTokens(i, i * 7 + 3),
                Mutation::DeleteLine(i),
                Mutation::DuplicateLine(i),
                Mutation::SwapLines(i, i + 2),
                Mutation::InsertLiteral(i, i % LITERALS.len()),
                Mutation::ReplaceToken(i, i % LITERALS.len()),
                Mutation::InsertWord(i, i % VOCABULARY.len()),
                Mutation::Truncate(i * 13),
                Mutation::ReplaceName(i, i * 5 + 1),
                Mutation::ReplaceLiteral(i, i % VALID_LITERALS.len()),
            ] {
                let out = apply(text, &m);
                total += 1;
                if i % 4 != 0 {
                    // Every index is applied (no panic on any boundary); the contents are
                    // checked on a quarter of them, which keeps the test to seconds.
                    changed += usize::from(out != *text);
                    continue;
                }
                changed += usize::from(out != *text);
                let ok = match m {
                    Mutation::DeleteToken(_) | Mutation::DeleteLine(_) => {
                        out.len() < text.len() && one_piece_removed(text, &out)
                    }
                    Mutation::DuplicateToken(_)
                    | Mutation::DuplicateLine(_)
                    | Mutation::InsertLiteral(..)
                    | Mutation::InsertWord(..) => {
                        out.len() > text.len() && one_piece_removed(&out, text)
                    }
                    Mutation::Truncate(_) => text.starts_with(out.as_str()),
                    Mutation::SwapTokens(..) | Mutation::SwapLines(..) => {
                        out.len() == text.len() && histogram(&out) == histogram(text)
                    }
                    Mutation::ReplaceToken(..)
                    | Mutation::ReplaceName(..)
                    | Mutation::ReplaceLiteral(..) => {
                        // One token replaced: what is new in the output is one short piece
                        // (a literal, a word or a name), the rest of the text untouched.
                        let (p, s) = common(text, &out);
                        out.len() - (p + s).min(out.len()) <= 200
                    }
                };
                if !ok && failures.len() < 10 {
                    failures.push(format!("{name}: {m:?} did not do what it says"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(total > 1000, "only {total} mutations tried");
    assert!(
        changed * 100 >= total * 90,
        "only {changed} of {total} mutations changed the text"
    );
}

/// How much of the mutated input gets past the parser (so the checker and planner are
/// exercised too). Informational: `cargo test --test it fuzz::mutation_reach -- --nocapture`.
#[test]
fn mutation_reach() {
    let seeds = leaked_seeds();
    let mut runner = TestRunner::deterministic();
    let strategy = mutated(seeds);
    let (mut parsed, mut checked_clean, total) = (0, 0, 200);
    for _ in 0..total {
        let (k, text) = strategy.new_tree(&mut runner).expect("a value").current();
        let outcome = support::run_source(&seeds[k].0, &text);
        let syntax = outcome
            .errors()
            .any(|d| d.code.as_str().starts_with("res::syntax::"));
        parsed += usize::from(!syntax);
        checked_clean += usize::from(
            outcome
                .errors()
                .all(|d| d.code.as_str().starts_with("res::plan::")),
        );
    }
    eprintln!("mutation reach: {parsed}/{total} parse, {checked_clean}/{total} pass the checker");
    assert!(
        parsed > 0,
        "no mutated input parses: the mutator only tests the parser"
    );
}

/// Every input that ever failed (saved by `fuzz`) and the hand-written nasty inputs in
/// tests/fuzz-corpus/ must keep passing.
#[test]
fn replay_fuzz_corpus() {
    let Ok(entries) = std::fs::read_dir(FUZZ_CORPUS) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "res"))
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    for path in &paths {
        let bytes = std::fs::read(path).expect("readable corpus file");
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        let result = if stem.starts_with("mutated-") {
            // Saved as `NAME\0TEXT`: check as NAME so its imports resolve.
            split_named(&bytes).and_then(|(name, text)| {
                parser_holds(text).and_then(|_| front_end_holds(name, text))
            })
        } else {
            bytes_hold(&bytes).and_then(|_| path_holds(path))
        };
        if let Err(e) = result {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} fuzz-corpus file(s) fail:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}
