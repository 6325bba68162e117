//! Helpers shared by tests/it/corpus.rs and tests/it/fuzz.rs: run the whole front end (check, then
//! plan when the check is clean) and validate the diagnostics it produces.

#![allow(dead_code)]

pub mod haproxy;

use std::path::Path;

use res::check::Checked;
use res::diagnostic::{Diagnostic, SourceMap};

/// Everything one run reports: the check's diagnostics and, when the check found no error,
/// the planner's.
pub struct Outcome {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

impl Outcome {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

/// Adds the planner's diagnostics to a check's, if the check was clean.
pub fn finish(checked: Checked, scenario: Option<&str>) -> Outcome {
    let mut diagnostics = checked.diagnostics.clone();
    if !diagnostics.iter().any(Diagnostic::is_error) {
        if let Err(more) = res::plan::plan_checked(&checked, scenario) {
            diagnostics.extend(more);
        }
    }
    Outcome {
        sources: checked.sources,
        diagnostics,
    }
}

/// Like [`finish`], but plans only when the model has a scenario: a module (a file without
/// scenarios) is checked, as `res check` does, and not planned. The fuzzers use this.
pub fn finish_plannable(checked: Checked) -> Outcome {
    if checked
        .model
        .as_ref()
        .is_some_and(|m| m.scenarios.is_empty())
    {
        return Outcome {
            diagnostics: checked.diagnostics,
            sources: checked.sources,
        };
    }
    finish(checked, None)
}

/// Checks the file at `path` (as given: relative paths keep snapshots machine-independent),
/// then plans it.
pub fn run_path(path: &Path, scenario: Option<&str>) -> Outcome {
    finish(res::check::check_path(path), scenario)
}

/// Checks in-memory text named `name` (relative imports resolve against its folder), then
/// plans it.
pub fn run_source(name: &str, text: &str) -> Outcome {
    finish(
        res::check::check_source(name, text, &res::check::Options::default()),
        None,
    )
}

/// Every way a diagnostic can be malformed, in words; empty when all are fine.
///
/// A span must lie inside its file, start and end on character boundaries, and be non-empty —
/// except a zero-length span at the very end of the file (an error at end of input). The code
/// must be one of the stable `res::...` codes and the message must say something.
pub fn span_problems(diags: &[Diagnostic], sources: &SourceMap) -> Vec<String> {
    let mut out = Vec::new();
    for d in diags {
        let what = format!("{} `{}` {:?}", d.code, d.message, d.span);
        if d.file >= sources.len() {
            out.push(format!(
                "{what}: file id {} is not in the source map ({} files)",
                d.file,
                sources.len()
            ));
            continue;
        }
        let src = sources.get(d.file);
        let text: &str = &src.text;
        if !d.code.as_str().starts_with("res::") {
            out.push(format!("{what}: code does not start with `res::`"));
        }
        if d.message.trim().is_empty() {
            out.push(format!("{what}: empty message"));
        }
        let mut spans = vec![("primary", d.span)];
        spans.extend(d.labels.iter().map(|l| ("secondary", l.span)));
        for (kind, s) in spans {
            if s.start > s.end || s.end > text.len() {
                out.push(format!(
                    "{what}: {kind} span {s:?} is outside `{}` ({} bytes)",
                    src.name,
                    text.len()
                ));
            } else if !text.is_char_boundary(s.start) || !text.is_char_boundary(s.end) {
                out.push(format!(
                    "{what}: {kind} span {s:?} splits a character in `{}`",
                    src.name
                ));
            } else if s.start == s.end && s.end != text.len() {
                out.push(format!(
                    "{what}: {kind} span {s:?} is empty but not at the end of `{}` ({} bytes)",
                    src.name,
                    text.len()
                ));
            }
        }
    }
    out
}

/// Renders without colour at a fixed width, as the snapshots expect.
pub fn render(diags: &[Diagnostic], sources: &SourceMap) -> String {
    res::diagnostic::render_all(
        diags,
        sources,
        res::diagnostic::RenderOptions {
            color: false,
            width: 100,
        },
    )
}

/// A short text for a panic payload.
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}
