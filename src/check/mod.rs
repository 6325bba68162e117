//! Check: AST → resolved [`Model`]. Loads imports (relative files and the embedded stdlib),
//! resolves names, checks units and types, reports duplicates and unused declarations with
//! "did you mean" help — every problem it can find, not just the first. A file with an item
//! that does not parse is still checked: the syntax layer recovers the other items, and
//! names the broken ones would declare are not reported as unknown.
//!
//! [`Checked`] is also the front end language tools read: the modules loaded (with an
//! [`Overlay`] of unsaved buffers before the disk), their syntax trees, and the name table
//! ([`names`]) of declarations and the references the checker resolved.
//!
//! The only IO here is reading the files a scenario imports; nothing else touches the system.

mod checker;
pub mod eval;
mod expr;
mod loader;
pub use loader::{normalize, Module, Overlay};
pub mod model;
pub mod names;

use std::path::Path;

pub use model::*;

use crate::diagnostic::{Diagnostic, FileId, SourceMap};

include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));

/// The source of a stdlib module (`std/faults`), if it exists.
pub fn stdlib_module(name: &str) -> Option<&'static str> {
    STDLIB.iter().find(|(n, _)| *n == name).map(|(_, src)| *src)
}

/// Options that change what a check means.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--set name=value` overrides of `param` defaults, in the order given.
    pub overrides: Vec<(String, String)>,
}

/// The outcome of checking one root file and everything it imports.
#[derive(Debug)]
pub struct Checked {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// The model, when there were no errors (warnings allowed).
    pub model: Option<Model>,
    /// Declarations (of every module loaded, whether or not the checker ran) and the
    /// references the checker resolved (when it ran, errors or not).
    pub names: names::NameTable,
    /// Every module loaded, the root first: its syntax tree (recovered items included) and
    /// what its imports loaded. Language tools read names and imports from here.
    pub modules: Vec<Module>,
    pub root: FileId,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads, parses and checks the file at `path` and its imports.
pub fn check_path(path: &Path) -> Checked {
    check_path_with(path, &Options::default())
}

pub fn check_path_with(path: &Path, opts: &Options) -> Checked {
    let loaded = loader::load_root(path);
    finish(loaded, opts)
}

/// Checks text that is not (or not yet) on disk; relative imports resolve against `name`'s folder.
pub fn check_source(name: &str, text: &str, opts: &Options) -> Checked {
    check_source_in(name, text, opts, &Overlay::new())
}

/// [`check_source`] with imports read from `overlay` (open editor buffers) before the disk.
pub fn check_source_in(name: &str, text: &str, opts: &Options, overlay: &Overlay) -> Checked {
    let loaded = loader::load_text(name, text, overlay);
    finish(loaded, opts)
}

fn finish(loaded: loader::Loaded, opts: &Options) -> Checked {
    let loader::Loaded {
        sources,
        modules,
        mut diagnostics,
    } = loaded;
    let root = modules.first().map_or(0, |m| m.file);
    let fatal = diagnostics.iter().any(|d| {
        d.is_error()
            && modules
                .first()
                .is_some_and(|m| m.file == d.file && m.ast.items.is_empty())
    });
    let mut names = names::declarations(&modules);
    let model = if modules.is_empty() || fatal {
        None
    } else {
        let (model, diags, decls, refs) = checker::check(&modules, &sources, opts);
        diagnostics.extend(diags);
        names.resolve(&decls, &refs);
        Some(model)
    };
    dedup(&mut diagnostics);
    crate::diagnostic::anchor_whole_file(&mut diagnostics, &sources);
    diagnostics.sort_by_key(|d| (d.file != root, d.file, d.span.start, d.span.end));
    // A file that did not parse whole shows its parse error first, as it did before the
    // items around it were recovered and checked.
    for first in modules.iter().filter_map(|m| m.first_error.as_ref()) {
        let same =
            |d: &Diagnostic| d.file == first.file && d.span == first.span && d.code == first.code;
        let (Some(at), Some(start)) = (
            diagnostics.iter().position(same),
            diagnostics.iter().position(|d| d.file == first.file),
        ) else {
            continue;
        };
        diagnostics[start..=at].rotate_right(1);
    }
    let model = if diagnostics.iter().any(Diagnostic::is_error) {
        None
    } else {
        model
    };
    Checked {
        sources,
        diagnostics,
        model,
        names,
        modules,
        root,
    }
}

/// A note naming the environment variables the checked file reads (`env("NAME")`,
/// `secret("NAME")`) that are not set in this process's environment, with the default that
/// stands in for each; `None` when every one is set (or the file reads none). A run against
/// a real system usually needs them, so `res check` says so before anything runs.
pub fn env_note(checked: &Checked) -> Option<String> {
    let model = checked.model.as_ref()?;
    let unset = model.unset_env(|name| std::env::var_os(name).is_some());
    if unset.is_empty() {
        return None;
    }
    let list: Vec<String> = unset
        .iter()
        .map(|(name, default)| match default {
            Some(d) => format!("{name} (default \"{d}\" used)"),
            None => format!("{name} (no default)"),
        })
        .collect();
    let file = &checked.sources.get(checked.root).name;
    Some(format!(
        "note: {file} reads environment variables that are not set here: {}",
        list.join(", ")
    ))
}

/// Templates are checked where declared and again per instantiation; report each problem once.
fn dedup(diags: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::HashSet::new();
    diags.retain(|d| seen.insert((d.code, d.file, d.span, d.message.clone())));
}
