//! Options of a learning run (`res learn` flags, defaults for `learn from` in a scenario).

use super::error::LearnError;

/// How many unusable lines are tolerated before learning fails.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MaxBad {
    /// A fraction of the lines read (`1%` → 0.01).
    Fraction(f64),
    /// A number of lines.
    Lines(u64),
}

impl MaxBad {
    /// Parses `1%`, `0.5%` or `100`.
    pub fn parse(s: &str) -> Result<MaxBad, LearnError> {
        let bad = || {
            LearnError::BadOption(format!(
                "--max-bad {s}: expected a percentage (1%) or a number of lines (100)"
            ))
        };
        if let Some(p) = s.trim().strip_suffix('%') {
            let v: f64 = p.trim().parse().map_err(|_| bad())?;
            if !(0.0..=100.0).contains(&v) {
                return Err(bad());
            }
            Ok(MaxBad::Fraction(v / 100.0))
        } else {
            s.trim().parse().map(MaxBad::Lines).map_err(|_| bad())
        }
    }

    /// Whether `bad` of `lines` is over the limit.
    pub fn exceeded(self, bad: u64, lines: u64) -> bool {
        match self {
            MaxBad::Fraction(f) => bad as f64 > f * lines as f64,
            MaxBad::Lines(n) => bad > n,
        }
    }
}

impl std::fmt::Display for MaxBad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaxBad::Fraction(x) => write!(f, "{}%", crate::units::trim(x * 100.0)),
            MaxBad::Lines(n) => write!(f, "{n} lines"),
        }
    }
}

/// Options of [`super::learn_file`] and [`super::Learner`].
#[derive(Debug, Clone)]
pub struct LearnOptions {
    /// Fail when more lines than this are unusable (default: never, only report them).
    pub max_bad: Option<MaxBad>,
    /// A client's pause longer than this ends its session (seconds; default 30 minutes).
    pub idle_s: f64,
    /// User templates (`/orders/{id}`), matched before the automatic rules.
    pub templates: Vec<String>,
    /// Endpoints beyond this many share one `*` row.
    pub max_endpoints: usize,
    /// A line older than an earlier one by more than this is a clock jump (seconds, ≤ 3600).
    pub clock_tolerance_s: i64,
    /// How many unusable lines to show.
    pub examples: usize,
}

impl Default for LearnOptions {
    fn default() -> Self {
        LearnOptions {
            max_bad: None,
            idle_s: 1800.0,
            templates: Vec::new(),
            max_endpoints: 1000,
            clock_tolerance_s: 300,
            examples: 5,
        }
    }
}

impl LearnOptions {
    pub(crate) fn validate(&self) -> Result<(), LearnError> {
        if self.idle_s.is_nan() || self.idle_s <= 0.0 {
            return Err(LearnError::BadOption(
                "the idle cut-off must be longer than zero".into(),
            ));
        }
        if !(0..=3600).contains(&self.clock_tolerance_s) {
            return Err(LearnError::BadOption(
                "the clock tolerance must be between 0 and 1h".into(),
            ));
        }
        Ok(())
    }
}
