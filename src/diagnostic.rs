//! Diagnostics shared by every stage: sources, spans, stable codes and miette rendering.
//!
//! Each stage (syntax, check, plan) reports problems as [`Diagnostic`] values that carry a
//! stable [`Code`] (`res::check::unknown_name`), the file, a primary byte span with a label,
//! optional secondary labels and a help line. Stages collect many diagnostics per run; only
//! the edge (CLI, language server) decides how to show them: [`render`] for people (miette's
//! graphical handler) and [`to_json`] for machines.

use std::fmt;
use std::sync::{Arc, OnceLock};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;

/// Index of a file in a [`SourceMap`].
pub type FileId = usize;

/// A byte range in one source file, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for SourceSpan {
    fn from(s: Span) -> SourceSpan {
        SourceSpan::new(s.start.into(), s.len())
    }
}

impl From<pest::Span<'_>> for Span {
    fn from(s: pest::Span<'_>) -> Span {
        Span::new(s.start(), s.end())
    }
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct Source {
    /// The name shown to users: a path as given, or `std/faults` for stdlib modules.
    pub name: String,
    pub text: Arc<str>,
    /// Byte offsets where lines start, built on first use: with it, placing each of many
    /// diagnostics costs a binary search, not a scan from the top of the file.
    line_starts: OnceLock<Vec<usize>>,
}

impl Source {
    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(
                    self.text
                        .bytes()
                        .enumerate()
                        .filter(|&(_, b)| b == b'\n')
                        .map(|(i, _)| i + 1),
                )
                .collect()
        });
        let line = starts.partition_point(|&s| s <= offset).max(1);
        let line_start = starts[line - 1];
        let col = String::from_utf8_lossy(&self.text.as_bytes()[line_start..offset])
            .chars()
            .count()
            + 1;
        (line, col)
    }
}

/// All files of one check: the root file, its imports and stdlib modules.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<Source>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        self.files.push(Source {
            name: name.into(),
            text: text.into(),
            line_starts: OnceLock::new(),
        });
        self.files.len() - 1
    }

    pub fn get(&self, id: FileId) -> &Source {
        &self.files[id]
    }

    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files.iter().position(|f| f.name == name)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, )*) => {
        /// Every stable diagnostic code. docs/errors.md lists them all (a test keeps it so).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $( Code::$variant => $code, )*
                }
            }
        }
    };
}

codes! {
    /// The text does not follow the grammar.
    Expected => "res::syntax::expected",
    /// Brackets, braces or parentheses nest deeper than the parser allows.
    TooDeep => "res::syntax::too_deep",
    /// The file is not UTF-8 text.
    NotText => "res::syntax::not_text",
    /// The file is larger than the parser accepts.
    TooLarge => "res::syntax::too_large",
    /// A literal is malformed: a bad escape, an impossible date, a number out of range.
    BadLiteral => "res::syntax::bad_literal",
    /// The file declares nothing.
    Empty => "res::check::empty",
    /// A name is used but never declared.
    UnknownName => "res::check::unknown_name",
    /// Two declarations share a name.
    Duplicate => "res::check::duplicate",
    /// A declaration is never used.
    Unused => "res::check::unused",
    /// A value has the wrong unit (`latency 5%`).
    UnitMismatch => "res::check::unit_mismatch",
    /// An operator is applied to values it cannot combine (`2m + 5%`).
    BadOperator => "res::check::bad_operator",
    /// A name refers to the wrong kind of declaration (a fault where a traffic is expected).
    WrongKind => "res::check::wrong_kind",
    /// An import names a file or stdlib module that does not exist.
    ImportNotFound => "res::check::import_not_found",
    /// The file given to check, plan or run cannot be read.
    FileNotFound => "res::check::file_not_found",
    /// Imports form a cycle.
    ImportCycle => "res::check::import_cycle",
    /// An imported name is not declared by the module.
    UnknownExport => "res::check::unknown_export",
    /// A block lacks a statement it needs.
    Missing => "res::check::missing",
    /// Two statements contradict each other or one is repeated.
    Conflict => "res::check::conflict",
    /// A value is outside the range that makes sense (`toxicity 150%`).
    OutOfRange => "res::check::out_of_range",
    /// A function name is unknown.
    UnknownFunction => "res::check::unknown_function",
    /// A call or template instantiation has wrong arguments.
    BadArguments => "res::check::bad_arguments",
    /// A word is not one of the accepted options (`arrival poison`).
    UnknownOption => "res::check::unknown_option",
    /// A `--set` override does not fit its parameter.
    BadOverride => "res::check::bad_override",
    /// A statement that changes nothing (`record profile`: every run is recorded).
    Redundant => "res::check::redundant",
    /// A step's time relations form a cycle.
    Cycle => "res::plan::cycle",
    /// A step cannot fit the time it is given.
    ImpossibleTiming => "res::plan::impossible_timing",
    /// A step has no end: no duration and nothing that bounds it.
    Unbounded => "res::plan::unbounded",
    /// The requested scenario does not exist, the file has none, or it has several and none
    /// was chosen.
    NoScenario => "res::plan::no_scenario",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary label: another place in the same file that explains the problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One problem found by a stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub file: FileId,
    pub span: Span,
    pub label: String,
    pub help: Option<String>,
    pub labels: Vec<Label>,
}

impl Diagnostic {
    pub fn error(code: Code, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            file,
            span,
            label: String::new(),
            help: None,
            labels: Vec::new(),
        }
    }

    pub fn warning(code: Code, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, file, span, message)
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A diagnostic bound to its source, so miette can render it.
struct Bound<'a> {
    diag: &'a Diagnostic,
    source: NamedSource<Arc<str>>,
}

impl fmt::Debug for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for Bound<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for Bound<'_> {}

impl miette::Diagnostic for Bound<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = std::iter::once(LabeledSpan::new_primary_with_span(
            (!self.diag.label.is_empty()).then(|| self.diag.label.clone()),
            self.diag.span,
        ));
        let rest = self
            .diag
            .labels
            .iter()
            .map(|l| LabeledSpan::new_with_span(Some(l.text.clone()), l.span));
        Some(Box::new(primary.chain(rest)))
    }
}

/// How to draw diagnostics for people.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    pub color: bool,
    pub width: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            width: 100,
        }
    }
}

/// Renders one diagnostic the way `res check` prints it.
pub fn render(diag: &Diagnostic, sources: &SourceMap, opts: RenderOptions) -> String {
    let src = sources.get(diag.file);
    let bound = Bound {
        diag,
        source: NamedSource::new(src.name.clone(), src.text.clone()),
    };
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &bound).is_err() {
        out = format!("{}: {}\n", diag.code, diag.message);
    }
    out
}

/// Most diagnostics drawn for people; the rest are counted (JSON lists them all).
pub const RENDER_LIMIT: usize = 100;

/// Renders many diagnostics, in order, separated by blank lines: the first [`RENDER_LIMIT`],
/// then one line counting the rest, as compilers do. The first errors are the ones to fix,
/// and a generated file with thousands of them should neither bury the terminal nor take
/// minutes to draw.
pub fn render_all(diags: &[Diagnostic], sources: &SourceMap, opts: RenderOptions) -> String {
    let mut out = diags
        .iter()
        .take(RENDER_LIMIT)
        .map(|d| render(d, sources, opts))
        .collect::<Vec<_>>()
        .join("\n");
    if let Some(rest) = diags.get(RENDER_LIMIT..).filter(|r| !r.is_empty()) {
        let errors = rest.iter().filter(|d| d.is_error()).count();
        let warnings = rest.len() - errors;
        let what = match (errors, warnings) {
            (e, 0) => format!("{e} more error{}", if e == 1 { "" } else { "s" }),
            (0, w) => format!("{w} more warning{}", if w == 1 { "" } else { "s" }),
            (e, w) => format!(
                "{e} more error{} and {w} warning{}",
                if e == 1 { "" } else { "s" },
                if w == 1 { "" } else { "s" }
            ),
        };
        out.push_str(&format!(
            "\n… and {what} not shown ({} in all); `res check --format json` lists every one\n",
            diags.len()
        ));
    }
    out
}

/// The machine-readable form of a diagnostic (`res check --format json`).
#[derive(Debug, Clone, Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub start: usize,
    pub end: usize,
    pub label: String,
    pub help: Option<String>,
}

pub fn to_json(diag: &Diagnostic, sources: &SourceMap) -> JsonDiagnostic {
    let src = sources.get(diag.file);
    let (line, column) = src.line_col(diag.span.start);
    let (end_line, end_column) = src.line_col(diag.span.end);
    JsonDiagnostic {
        code: diag.code.as_str(),
        severity: diag.severity,
        message: diag.message.clone(),
        file: src.name.clone(),
        line,
        column,
        end_line,
        end_column,
        start: diag.span.start,
        end: diag.span.end,
        label: diag.label.clone(),
        help: diag.help.clone(),
    }
}

/// Diagnostics about a whole file (no scenario, an unknown `--set` name) are made without a
/// span; anchor them on the file's first non-blank line so every diagnostic points somewhere.
pub fn anchor_whole_file(diags: &mut [Diagnostic], sources: &SourceMap) {
    for d in diags.iter_mut().filter(|d| d.span == Span::new(0, 0)) {
        if d.file >= sources.len() {
            continue;
        }
        let text = &sources.get(d.file).text;
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim_end();
            if !trimmed.trim().is_empty() {
                d.span = Span::new(start, start + trimmed.len());
                break;
            }
            start += line.len();
        }
    }
}

/// "a" or "an" before a word, by its first letter.
pub fn article(word: &str) -> &'static str {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// "did you mean" for a misspelt name: the closest candidate within a small edit distance.
pub fn suggest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (wrong.chars().count().div_ceil(3)).max(1) + usize::from(wrong.len() > 6);
    candidates
        .into_iter()
        .filter(|c| *c != wrong)
        .map(|c| (strsim::damerau_levenshtein(wrong, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}
