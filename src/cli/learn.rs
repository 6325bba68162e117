//! `res learn`: arguments and the command.
//!
//! Exit codes follow the rest of `res`: 0 done, 1 the input is unusable (a bad log, a model
//! too short for the seasonality asked for), 4 the tool failed (cannot read or write a file).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::exit::Exit;
use crate::learn::format;
use crate::learn::{LearnError, LearnOptions, MaxBad, TrafficProfile};
use crate::units::Duration;

const EXIT_INPUT: u8 = Exit::Failed.code();
const EXIT_TOOL: u8 = Exit::Tool.code();

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Combined,
    Common,
    #[value(name = "nginx_json")]
    NginxJson,
    Alb,
}

/// Arguments of `res learn`.
#[derive(Debug, Args)]
pub struct LearnArgs {
    /// Access logs, read in order (rotated files oldest first); `-` reads standard input.
    #[arg(required = true, value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Log format (default: detected from the first readable line).
    #[arg(long)]
    pub format: Option<FormatArg>,
    /// Write the model here (.json).
    #[arg(short = 'o', long = "output", value_name = "MODEL")]
    pub output: Option<PathBuf>,
    /// Fail when more lines than this are unusable: a percentage (1%) or a count (100).
    #[arg(long, value_name = "LIMIT", value_parser = parse_max_bad)]
    pub max_bad: Option<MaxBad>,
    /// A client's pause longer than this ends its session.
    #[arg(long, default_value = "30m", value_name = "DURATION", value_parser = parse_duration)]
    pub idle: Duration,
    /// An endpoint template, matched before the automatic rules (repeatable).
    #[arg(long = "template", value_name = "/path/{id}")]
    pub templates: Vec<String>,
    /// Endpoints beyond this many are counted together as `*`.
    #[arg(long, default_value_t = 1000)]
    pub max_endpoints: usize,
    /// A line older than an earlier one by more than this is a clock jump (at most 1h).
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = parse_duration)]
    pub clock_tolerance: Duration,
}

/// A duration flag, parsed by clap so a bad one is a usage error (exit 2).
pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    Duration::parse(s).ok_or_else(|| format!("`{s}` is not a duration such as 30m or 7d"))
}

fn parse_max_bad(s: &str) -> Result<MaxBad, String> {
    MaxBad::parse(s).map_err(|e| e.to_string())
}

pub(super) fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(code)
}

pub(super) fn learn_code(e: &LearnError) -> u8 {
    match e {
        LearnError::Io { .. } => EXIT_TOOL,
        LearnError::Model { reason, .. } if reason.starts_with("cannot write") => EXIT_TOOL,
        _ => EXIT_INPUT,
    }
}

/// `res learn`.
pub fn run_learn(args: LearnArgs) -> ExitCode {
    let mut opts = LearnOptions {
        templates: args.templates.clone(),
        max_endpoints: args.max_endpoints,
        ..LearnOptions::default()
    };
    opts.idle_s = args.idle.secs();
    opts.clock_tolerance_s = args.clock_tolerance.secs().round() as i64;
    opts.max_bad = args.max_bad;
    let fmt = args.format.map(|f| match f {
        FormatArg::Combined => format::LogFormat::Combined,
        FormatArg::Common => format::LogFormat::Common,
        FormatArg::NginxJson => format::LogFormat::NginxJson,
        FormatArg::Alb => format::LogFormat::Alb,
    });
    // Refuse an unwritable model path before reading a big log.
    if let Some(out) = &args.output {
        let probe = TrafficProfile::load_check_extension(out);
        if let Err(e) = probe {
            return fail(EXIT_INPUT, e);
        }
    }
    let profile = match crate::learn::learn_files(&args.logs, fmt, &opts) {
        Ok(p) => p,
        Err(e) => return fail(learn_code(&e), e),
    };
    print!("{}", crate::learn::summary(&profile));
    if let Some(line) = stale_line(&profile) {
        println!("{line}");
    }
    if let Some(out) = &args.output {
        if let Err(e) = profile.save(out) {
            return fail(learn_code(&e), e);
        }
        println!("  model      written to {}", out.display());
    }
    ExitCode::SUCCESS
}

/// Says so when the log ended more than a day before now: a forecast from it starts now, and
/// the time between is forecast, not known.
fn stale_line(p: &TrafficProfile) -> Option<String> {
    let last = crate::units::Timestamp::parse(&p.source.last)?.0;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    (now - last > 86_400).then(|| {
        format!(
            "  stale      the log ends {} before now: a forecast starts now, so the time between is forecast, not known",
            crate::learn::forecast::human_span((now - last) as f64)
        )
    })
}
