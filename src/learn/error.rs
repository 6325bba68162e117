//! Why learning from a log failed. Every message names the file and says what to do.

/// A line that was not used, for the report (the first few are kept).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BadLine {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

fn list(lines: &[BadLine]) -> String {
    lines.iter().map(|l| format!("\n  {l}")).collect::<String>()
}

/// Why a log could not be learned from.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    /// The log file (or standard input) could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The log has no lines at all.
    #[error("{path} is empty: there is nothing to learn from")]
    Empty { path: String },
    /// Lines have the shape of the format but none carries a usable time.
    #[error("{path}: no timestamps: none of its {lines} lines has a time the {format} format can read ({hint})")]
    NoTimestamps {
        path: String,
        lines: u64,
        format: &'static str,
        hint: &'static str,
    },
    /// No line parses in the given format; they look like another format.
    #[error("{path}: not a {expected} log: its lines look like {found} (try --format {found})")]
    WrongFormat {
        path: String,
        expected: &'static str,
        found: &'static str,
    },
    /// Part of the log is in another format (e.g. JSON lines appended to a CLF log).
    #[error("{path}: mixed formats: the log is read as {expected}, but {count} of its {lines} lines are {found} (first at line {first_line}); split the log by format")]
    MixedFormats {
        path: String,
        expected: &'static str,
        found: &'static str,
        count: u64,
        lines: u64,
        first_line: u64,
    },
    /// No line could be parsed at all.
    #[error("no line of {path} could be read as {format}; the first:{}", list(.examples))]
    NothingParsed {
        path: String,
        format: &'static str,
        examples: Vec<BadLine>,
    },
    /// More lines were malformed than `--max-bad` allows.
    #[error("{bad} of {lines} lines could not be used ({percent:.2}%), over the --max-bad limit of {limit}; the first:{}", list(.examples))]
    TooManyBad {
        bad: u64,
        lines: u64,
        percent: f64,
        limit: String,
        examples: Vec<BadLine>,
    },
    /// Most lines are older than the line before them: the log runs newest first.
    #[error("the timestamps go backwards: {count} of {lines} lines are older than a line before them (the log starts at {first} and runs back to {last}), so no rate, season or session can be learned from it as it is; the mix of requests could be, but a model is not written from a log read backwards: reverse it (tac access.log | res learn -)")]
    Backwards {
        count: u64,
        lines: u64,
        first: String,
        last: String,
    },
    /// Timestamps go backwards by more than the tolerance on too many lines.
    #[error("clock jumps: {count} of {lines} lines are more than {tolerance_s} s older than a line before them; the first:{}\nthe log must be in time order: sort it, or pass rotated files oldest first", list(.examples))]
    ClockJumps {
        count: u64,
        lines: u64,
        tolerance_s: i64,
        examples: Vec<BadLine>,
    },
    /// The input is gzip-compressed and this build cannot decompress it.
    #[error("{path} is gzip-compressed; this build reads plain logs only: decompress it first (gunzip -c {path} | res learn -)")]
    Gzip { path: String },
    /// A `--template` is not a path template.
    #[error("bad template {template:?}: {reason}")]
    BadTemplate { template: String, reason: String },
    /// An option is out of range (`--max-bad 150%`).
    #[error("{0}")]
    BadOption(String),
    /// A model file could not be read, written or understood.
    #[error("{path}: {reason}")]
    Model { path: String, reason: String },
}
