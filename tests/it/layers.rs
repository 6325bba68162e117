//! The layering, checked rather than hoped for (in the manner of rust-analyzer's tidy tests).
//!
//! ARCHITECTURE.md draws the library in layers: `syntax` < `check` < `plan` < `run`, with the
//! shared base (`diagnostic`, `units`, `net`) below everything; the engines (`load`, `chaos`,
//! `learn`, `profile`, `predict`, `remedy`, `demo`) take their own inputs and are driven by
//! `run`, so they never import `check` or `run`; `report` is written by `run` and does not
//! import it; the language server (`lsp`) may use `syntax`, `check` and `plan`, nothing that
//! runs. The CLI (`main.rs`, `cli/`) sits on top and may use anything.
//!
//! This test reads every `src/**/*.rs`, collects the `crate::…` paths it names (in `use`
//! declarations, grouped or not, and inline paths), and fails on an import from a layer the
//! file may not see. Known violations would be listed in [`ALLOWED`], each with the reason it
//! is still there (there are none); a new one fails. When one is removed, the test says the
//! entry can go.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The shared base every layer may use.
const BASE: &[&str] = &["diagnostic", "units", "net"];
const ENGINES: &[&str] = &[
    "load", "chaos", "learn", "profile", "predict", "remedy", "demo",
];

/// Violations that exist today, as (file under src/, module it imports), each with the reason
/// it is still there. Empty since issue 11: every engine takes its own input types and every
/// Model → engine translation lives in `run/` (ARCHITECTURE.md, "Where each translation
/// lives"). Keep the mechanism: an entry here is a debt written down, not a new rule.
const ALLOWED: &[(&str, &str)] = &[];

/// The modules `from` may not import (`None`: it may import anything).
fn forbidden(from: &str) -> Option<Vec<&'static str>> {
    let above_run = ["lsp", "cli", "main"];
    let mut deny: Vec<&'static str> = match from {
        m if BASE.contains(&m) => {
            let mut all = vec!["syntax", "check", "plan", "run", "report"];
            all.extend_from_slice(ENGINES);
            all
        }
        "syntax" => vec!["check", "plan", "run", "report"],
        "check" => vec!["plan", "run", "report"],
        "plan" => vec!["run", "report"],
        "report" => vec!["run"],
        "run" => vec![],
        "lsp" => {
            let mut v = vec!["run", "report"];
            v.extend_from_slice(ENGINES);
            v
        }
        m if ENGINES.contains(&m) => vec!["check", "run"],
        "cli" | "main" | "lib" => return None,
        // A module this test does not know yet: place it in the layers above.
        _ => vec!["lsp"],
    };
    if !matches!(from, "lsp") {
        deny.extend(above_run);
    } else {
        deny.extend(["cli", "main"]);
    }
    deny.retain(|m| *m != from);
    Some(deny)
}

/// The top-level module a file belongs to: `src/check/checker/mod.rs` → `check`.
fn module_of(rel: &Path) -> String {
    let mut parts = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string());
    let first = parts.next().unwrap_or_default();
    first.trim_end_matches(".rs").to_string()
}

/// Source text without comments (doc comments mention paths that are not imports) and
/// without string literals.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'r'
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
            && matches!(b.get(i + 1), Some(b'#') | Some(b'"'))
        {
            // A raw string: r"…", r#"…"#, ending at the quote followed by as many hashes.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push('r');
                i += 1;
                continue;
            }
            j += 1;
            while j < b.len()
                && !(b[j] == b'"'
                    && b[j + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&c| c == b'#')
                        .count()
                        == hashes)
            {
                j += 1;
            }
            i = j + 1 + hashes;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') && b.get(i + 3) == Some(&b'\'') {
            // An escaped char literal such as '\"'.
            out.push_str("' '");
            i += 4;
        } else if b[i] == b'"' {
            // A plain string literal.
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A one-byte char literal such as '"' must not open a string.
            out.push_str("' '");
            i += 3;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Every top-level module named by a `crate::` path in `code`.
fn imported_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        // `res::crate::` cannot happen; but `some_crate::` can: require a word boundary.
        let boundary = at == 0
            || !rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after = rest[at + "crate::".len()..].trim_start();
        if boundary {
            if let Some(group) = after.strip_prefix('{') {
                // `crate::{a::X, b, c::{d, e}}`: the names at depth 1 that start a segment.
                let mut depth = 1;
                let mut segment_start = true;
                let mut word = String::new();
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        ',' if depth == 1 => segment_start = true,
                        c if c.is_alphanumeric() || c == '_' => {
                            if segment_start && depth == 1 {
                                word.push(c);
                            }
                        }
                        _ => {
                            if !word.is_empty() {
                                found.insert(std::mem::take(&mut word));
                                segment_start = false;
                            } else if !c.is_whitespace() {
                                segment_start = false;
                            }
                        }
                    }
                }
                if !word.is_empty() {
                    found.insert(word);
                }
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
        rest = &rest[at + "crate::".len()..];
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// (file, its module, the module it may not import) for every import across a layer.
fn violations() -> Vec<(String, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(
        files.len() > 20,
        "src/ should hold the library ({} files)",
        files.len()
    );
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let rel = path.strip_prefix(&src).unwrap_or(&path).to_path_buf();
        let from = module_of(&rel);
        let Some(deny) = forbidden(&from) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        for to in imported_modules(&code_only(&text)) {
            if deny.contains(&to.as_str()) {
                let file = rel.to_string_lossy().replace('\\', "/");
                out.push((file, from.clone(), to));
            }
        }
    }
    out
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let found = violations();
    let new: Vec<String> = found
        .iter()
        .filter(|(file, _, to)| !ALLOWED.contains(&(file.as_str(), to.as_str())))
        .map(|(file, from, to)| format!("src/{file} ({from}) imports crate::{to}"))
        .collect();
    for (file, to) in ALLOWED {
        if !found.iter().any(|(f, _, t)| f == file && t == to) {
            // Not a failure: other work removes these in parallel. The entry can go.
            eprintln!("note: src/{file} no longer imports crate::{to}; remove it from ALLOWED");
        }
    }
    assert!(
        new.is_empty(),
        "imports across the layers of ARCHITECTURE.md:\n  {}\nmove the code to the layer \
         that may see both, or pass the engine its own type from run/",
        new.join("\n  ")
    );
}

#[test]
fn the_scanner_finds_grouped_and_inline_paths() {
    let code = code_only(
        "use crate::check::{Model, X};\nuse crate::{run::a, load::{b, c}, units};\n\
         // crate::lsp in a comment\nlet s = \"crate::cli\";\nfn f() { crate::plan::plan(); }\n\
         use my_crate::thing;\n",
    );
    let got: Vec<String> = imported_modules(&code).into_iter().collect();
    assert_eq!(got, ["check", "load", "plan", "run", "units"]);
    assert_eq!(module_of(Path::new("check/checker/mod.rs")), "check");
    assert_eq!(module_of(Path::new("diagnostic.rs")), "diagnostic");
    assert!(forbidden("load").unwrap().contains(&"check"));
    assert!(!forbidden("lsp").unwrap().contains(&"plan"));
}
