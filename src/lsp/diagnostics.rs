//! Diagnostics: what `res check` reports (syntax, names, units, imports) plus the planner's
//! timing errors, as LSP diagnostics on the document.
//!
//! They are read off the same [`Graph`] hover, definition and symbols answer from: one check
//! of the editor's text with its path as name (relative imports resolve against its folder
//! exactly as `res check FILE` would), imports from the open buffers first. Problems in the document
//! itself are published on it, with UTF-16 ranges, the stable `res::…` code, the help line
//! and secondary labels as related information. A problem inside an imported file is not
//! published on that file (it may be open with text of its own, and its diagnostics are its
//! own to publish); it is summarised on the `import` that brings it in, with related
//! information pointing into the file. "No scenario to plan" is left out: a module that
//! only declares things for others to import is fine.

use std::collections::{HashMap, HashSet};

use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticRelatedInformation, DiagnosticSeverity, DiagnosticTag, Location,
    NumberOrString, Range, Uri,
};

use crate::diagnostic::{Code, Diagnostic, FileId, Severity, SourceMap};

use super::describe::ParamValues;
use super::graph::Graph;
use super::text::LineIndex;

pub struct Analysis {
    pub diagnostics: Vec<lsp::Diagnostic>,
    /// Param values, when the document checks without errors.
    pub values: Option<ParamValues>,
}

/// The diagnostics of the check behind `g`: the same kind of [`Graph`] hover, definition
/// and symbols answer from (imports read from the open buffers before the disk), so
/// squiggles and answers see the same files.
pub fn analyse(uri: &Uri, g: &Graph) -> Analysis {
    let checked = &g.checked;
    let text: &str = &g.root().text;
    let mut diags = checked.diagnostics.clone();
    if checked.model.is_some() {
        if let Err(plan) = crate::plan::plan_all_checked(checked) {
            diags.extend(plan.into_iter().filter(|d| d.code != Code::NoScenario));
        }
    }
    let values = checked.model.as_ref().map(|model| {
        model
            .params
            .iter()
            .filter(|p| p.origin.file < checked.sources.len())
            .map(|p| {
                let file = checked.sources.get(p.origin.file).name.clone();
                ((file, p.name.clone()), p.value.clone())
            })
            .collect()
    });
    let lines = LineIndex::new(text);
    let (own, others): (Vec<&Diagnostic>, Vec<&Diagnostic>) =
        diags.iter().partition(|d| d.file == checked.root);
    let mut out: Vec<lsp::Diagnostic> = own.iter().map(|d| convert(d, uri, text, &lines)).collect();
    if !others.is_empty() {
        out.extend(summaries(g, &others, text, &lines));
    }
    Analysis {
        diagnostics: out,
        values,
    }
}

fn severity(s: Severity) -> DiagnosticSeverity {
    match s {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
    }
}

fn convert(d: &Diagnostic, uri: &Uri, text: &str, lines: &LineIndex) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if !d.label.is_empty() && d.label != d.message {
        message.push('\n');
        message.push_str(&d.label);
    }
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .map(|l| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), lines.range(text, l.span)),
            message: l.text.clone(),
        })
        .collect();
    lsp::Diagnostic {
        range: lines.range(text, d.span),
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some("res".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: (d.code == Code::Unused).then(|| vec![DiagnosticTag::UNNECESSARY]),
        ..Default::default()
    }
}

/// One diagnostic per import of the document that leads to files with problems.
fn summaries(
    g: &Graph,
    others: &[&Diagnostic],
    text: &str,
    lines: &LineIndex,
) -> Vec<lsp::Diagnostic> {
    let checked = &g.checked;
    let imports = &g.root().outline.imports;
    let owner = attribute(g);
    let mut groups: Vec<(Option<usize>, Vec<&Diagnostic>)> = Vec::new();
    for d in others {
        let key = owner.get(&d.file).copied();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(d),
            None => groups.push((key, vec![d])),
        }
    }
    groups
        .into_iter()
        .map(|(import, list)| {
            let (range, module) = match import.and_then(|i| imports.get(i)) {
                Some(imp) => (lines.range(text, imp.path_span), imp.path.clone()),
                None => (
                    Range::default(),
                    checked.sources.get(list[0].file).name.clone(),
                ),
            };
            summary(&checked.sources, &list, range, &module)
        })
        .collect()
}

fn summary(
    sources: &SourceMap,
    list: &[&Diagnostic],
    range: Range,
    module: &str,
) -> lsp::Diagnostic {
    let errors = list.iter().filter(|d| d.is_error()).count();
    let warnings = list.len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let count = match (errors, warnings) {
        (0, w) => plural(w, "warning"),
        (e, 0) => plural(e, "error"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    };
    let first = list.iter().find(|d| d.is_error()).unwrap_or(&list[0]);
    let related: Vec<DiagnosticRelatedInformation> = list
        .iter()
        .filter_map(|d| {
            let src = sources.get(d.file);
            let file_uri = std::path::Path::new(&src.name)
                .is_absolute()
                .then(|| Uri::from_file_path(&src.name))
                .flatten()?;
            let lines = LineIndex::new(&src.text);
            Some(DiagnosticRelatedInformation {
                location: Location::new(file_uri, lines.range(&src.text, d.span)),
                message: d.message.clone(),
            })
        })
        .collect();
    let (line, col) = sources.get(first.file).line_col(first.span.start);
    lsp::Diagnostic {
        range,
        severity: Some(if errors > 0 {
            DiagnosticSeverity::ERROR
        } else {
            DiagnosticSeverity::WARNING
        }),
        code: Some(NumberOrString::String(first.code.as_str().to_string())),
        source: Some("res".into()),
        message: format!(
            "{count} in {module}; the first, at {line}:{col}: {}",
            first.message
        ),
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

/// For each loaded file, the import of the root that first leads to it, following the
/// imports the checker's loader resolved.
fn attribute(g: &Graph) -> HashMap<FileId, usize> {
    let modules = &g.modules;
    let mut owner = HashMap::new();
    let Some(root) = modules.first() else {
        return owner;
    };
    for (i, start) in root.imports.iter().enumerate() {
        let Some(start) = *start else { continue };
        let mut stack = vec![start];
        let mut seen = HashSet::new();
        while let Some(m) = stack.pop() {
            if m == 0 || !seen.insert(m) {
                continue;
            }
            let Some(module) = modules.get(m) else {
                continue;
            };
            owner.entry(module.file).or_insert(i);
            stack.extend(module.imports.iter().flatten());
        }
    }
    owner
}
