//! `res run FILE`: check, plan and run a scenario ([`crate::run::run_path`]). The flags are
//! parsed and checked here, before anything starts: a `--report` path that cannot be written
//! is refused at once (exit 2), not after an hour of load.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::diagnostic::RenderOptions;

/// `res run` flags.
#[derive(Debug, Args)]
pub struct RunArgs {
    file: PathBuf,
    /// The scenario to run (default: the file's only one; a file with several asks).
    #[arg(long)]
    scenario: Option<String>,
    /// Seed for every random choice (default: from the clock; printed in the report).
    #[arg(long)]
    seed: Option<u64>,
    /// Print what would happen, in order, and touch nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write reports: json=FILE, junit=FILE, html=FILE (a page with charts) or md=FILE
    /// (Markdown for a pull request); repeatable.
    #[arg(long = "report", value_name = "KIND=FILE", value_parser = parse_report)]
    report: Vec<Report>,
    /// Override a param: --set name=value (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = super::parse_override)]
    set: Vec<(String, String)>,
    /// No live progress line.
    #[arg(long, short)]
    quiet: bool,
    /// Do not record this run in the profile database.
    #[arg(long)]
    no_record: bool,
    /// The profile database (default: profile.redb in the project's .res/ folder).
    #[arg(long, value_name = "PATH")]
    profile_db: Option<PathBuf>,
    /// What time it is when the run starts (RFC 3339, e.g. 2026-12-07T10:00Z), instead of
    /// the system clock: with --seed, the same file gives the same schedule.
    #[arg(long, value_name = "TIMESTAMP", value_parser = super::parse_now)]
    now: Option<crate::units::Timestamp>,
    /// A load step more than 10 % short of its planned rate does not fail the run.
    #[arg(long)]
    allow_short: bool,
    /// What remedies do: advise (record what they would do, change nothing) or act.
    /// Default: advise under CI=true, act for measured triggers otherwise.
    #[arg(long, value_name = "advise|act", value_parser = parse_mode)]
    remediate: Option<crate::remedy::Mode>,
    /// Remedies may run local commands (exec actuators).
    #[arg(long)]
    allow_exec: bool,
    /// Run even when the scenario's windows are all closed and its events past (by default
    /// such a run is refused, exit 2, naming the next opening).
    #[arg(long)]
    ignore_window: bool,
    /// Every load at X times its plan (1.5 or 150%): rates, closed-model users and
    /// connections; the report's planned rates are the scaled ones. `SYSTEM.SERVICE=RATE`
    /// picks the X at which the busiest step sends that service RATE per second.
    #[arg(long, value_name = "X|SERVICE=RATE", value_parser = crate::run::load_scale::parse_arg)]
    load_scale: Option<crate::run::load_scale::LoadScale>,
    /// Run shard I of N: a deterministic 1/N share of every load; `res merge` adds the
    /// shards' reports into one run (docs/distributed.md).
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    shard: Option<crate::load::shard::Shard>,
    /// The shard that injects faults and runs remedies (default 1).
    #[arg(long, value_name = "K", requires = "shard")]
    coordinator: Option<u32>,
    /// Start at this time (RFC 3339 UTC, e.g. 2026-12-07T10:00:05Z), so every shard begins
    /// together; a start more than a second past is refused.
    #[arg(long, value_name = "TIMESTAMP", value_parser = super::parse_now, requires = "shard")]
    start_at: Option<crate::units::Timestamp>,
    /// A folder every shard shares: each says it is ready there, and the coordinator writes
    /// the common start when all are.
    #[arg(long, value_name = "DIR", requires = "shard")]
    sync: Option<PathBuf>,
}

fn parse_shard(s: &str) -> Result<crate::load::shard::Shard, String> {
    s.parse()
        .map_err(|e: crate::load::shard::ShardError| e.to_string())
}

fn parse_mode(s: &str) -> Result<crate::remedy::Mode, String> {
    s.parse()
}

/// One `--report KIND=FILE`.
#[derive(Debug, Clone)]
enum Report {
    Json(PathBuf),
    Junit(PathBuf),
    Html(PathBuf),
    Markdown(PathBuf),
}

/// `json=FILE`, `junit=FILE`, `html=FILE` or `md=FILE`, whose FILE can be written: its folder exists and takes a new
/// file, or the file exists and opens for writing. Nothing is left behind by the probe.
fn parse_report(s: &str) -> Result<Report, String> {
    let (kind, path) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected {KINDS}"))?;
    let path = PathBuf::from(path);
    let report = match kind {
        "json" => Report::Json(path.clone()),
        "junit" => Report::Junit(path.clone()),
        "html" => Report::Html(path.clone()),
        "md" | "markdown" => Report::Markdown(path.clone()),
        other => return Err(format!("`{other}` is not a report kind: expected {KINDS}")),
    };
    writable(&path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(report)
}

const KINDS: &str = "json=FILE, junit=FILE, html=FILE or md=FILE";

pub(super) fn writable(path: &std::path::Path) -> std::io::Result<()> {
    if path.as_os_str().is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "no file name",
        ));
    }
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a folder",
        ));
    }
    if path.exists() {
        return std::fs::OpenOptions::new().write(true).open(path).map(drop);
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    std::fs::remove_file(path)
}

pub fn run(args: RunArgs, render: RenderOptions) -> ExitCode {
    let mut opts = crate::run::RunOptions {
        scenario: args.scenario,
        seed: args.seed,
        dry_run: args.dry_run,
        overrides: args.set,
        quiet: args.quiet,
        no_record: args.no_record,
        profile_db: args.profile_db,
        now: args.now,
        allow_short: args.allow_short,
        remediate: args.remediate,
        allow_exec: args.allow_exec,
        ignore_window: args.ignore_window,
        shard: args.shard,
        load_scale: args.load_scale,
        coordinator: args.coordinator,
        start_at: args.start_at,
        sync: args.sync,
        ..Default::default()
    };
    for r in args.report {
        match r {
            Report::Json(path) => opts.report_json = Some(path),
            Report::Junit(path) => opts.report_junit = Some(path),
            Report::Html(path) => opts.report_html = Some(path),
            Report::Markdown(path) => opts.report_md = Some(path),
        }
    }
    ExitCode::from(crate::run::run_path(&args.file, &opts, render))
}
