//! `res profile ...`: the subcommands that read the profile database ([`crate::profile`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use crate::profile::derive::Slo;
use crate::profile::path::{resolve_db_path_checked, resolve_db_path_in};
use crate::profile::{compare, export, render, salvage, test_writer, ProfileError};
use crate::profile::{ProfileStore, RunSummary};
use crate::units::{Duration, Percent};

/// Where to find the database.
#[derive(Args, Debug, Clone)]
pub struct DbArgs {
    /// The profile database (default: the project's, in the nearest .res/ folder).
    #[arg(long = "profile-db", value_name = "PATH")]
    pub profile_db: Option<PathBuf>,
    /// Find the database from this scenario's folder instead of the current directory.
    #[arg(long = "file", value_name = "SCENARIO")]
    pub scenario_file: Option<PathBuf>,
}

/// The SLO the derived numbers are measured against.
#[derive(Args, Debug, Clone)]
pub struct SloArgs {
    /// A second keeps the SLO when its p99 is at or below this.
    #[arg(long = "slo-p99", default_value = "1s", value_parser = parse_duration)]
    pub p99: Duration,
    /// ... and its error rate at or below this.
    #[arg(long = "slo-errors", default_value = "1%", value_parser = parse_percent)]
    pub errors: Percent,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    Duration::parse(s).ok_or_else(|| format!("`{s}` is not a duration (e.g. 500ms, 1s)"))
}

fn parse_percent(s: &str) -> Result<Percent, String> {
    Percent::parse(s).ok_or_else(|| format!("`{s}` is not a percentage (e.g. 1%)"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
}

#[derive(Subcommand, Debug)]
pub enum ProfileCommand {
    /// List the recorded runs.
    List {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value = "text")]
        format: Format,
    },
    /// Show one run: its services, faults, aborts, remediations and expectations.
    Show {
        run: u64,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value = "text")]
        format: Format,
    },
    /// The derived resilience profile of every service.
    Services {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value = "text")]
        format: Format,
        #[command(flatten)]
        slo: SloArgs,
        /// Only runs of this scenario.
        #[arg(long)]
        scenario: Option<String>,
        /// Only the latest N runs.
        #[arg(long, value_name = "N")]
        last: Option<usize>,
    },
    /// What got worse from RUN_A to RUN_B, with significance. Exits 1 when something did.
    Compare {
        run_a: u64,
        run_b: u64,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value = "text")]
        format: Format,
        /// Significance level, shared by all the tests.
        #[arg(long, default_value_t = 0.05)]
        alpha: f64,
        #[command(flatten)]
        slo: SloArgs,
    },
    /// Export the stored runs: JSON (everything) or CSV (one row per service per second).
    Export {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value = "json")]
        format: ExportFormat,
        /// Only this run.
        #[arg(long)]
        run: Option<u64>,
    },
    /// Copy every run that can still be read from a damaged database into a new file.
    Salvage {
        #[command(flatten)]
        db: DbArgs,
        /// The new database (default: NAME-salvaged.redb beside the damaged one).
        #[arg(short = 'o', long = "output", value_name = "NEW")]
        output: Option<PathBuf>,
        #[arg(long, default_value = "text")]
        format: Format,
    },
    /// Merge the runs of another profile database into this one (a run already here — same
    /// scenario, file hash, seed and start — is skipped, so importing twice changes nothing).
    Import {
        /// The database to read runs from (only read).
        other: PathBuf,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, default_value = "text")]
        format: Format,
    },
    /// Write the profile over time as one self-contained HTML page: sustainable rate, knee
    /// and recovery per service per run with trend lines, fault deltas, predicted against
    /// measured.
    Report {
        #[command(flatten)]
        db: DbArgs,
        /// Only the services of this system.
        #[arg(long)]
        system: Option<String>,
        /// The HTML file to write.
        #[arg(short = 'o', long = "output", value_name = "FILE.html")]
        output: PathBuf,
        #[command(flatten)]
        slo: SloArgs,
    },
    /// Test helper: begin a run in DB and record one second every interval until killed.
    #[command(hide = true, name = "_test-writer")]
    TestWriter {
        db: PathBuf,
        #[arg(long, default_value_t = 3)]
        services: usize,
        #[arg(long, default_value_t = 100)]
        interval_ms: u64,
        #[arg(long, default_value_t = 1000)]
        commit_ms: u64,
        /// Limit the process's file size (RLIMIT_FSIZE), to fill the "disk" on purpose.
        #[arg(long)]
        max_file_bytes: Option<u64>,
        /// Stop and finish after this many seconds (0: never).
        #[arg(long, default_value_t = 0)]
        seconds: u64,
    },
}

/// Exit codes: 0 done, 1 `compare` found something worse, 4 the command failed.
pub fn run(cmd: ProfileCommand) -> u8 {
    let mut out = std::io::stdout().lock();
    match execute(cmd, &mut out) {
        Ok(code) => code,
        // The reader closed the pipe (`| head`): it has what it wanted.
        Err(e) if super::stdout::is_broken_pipe(&e) => 0,
        Err(e) => {
            let _ = out.flush();
            eprintln!("error: {e}");
            4
        }
    }
}

/// The database by the one rule of [`crate::state`], from `--file`'s folder or the current
/// directory.
pub(super) fn db_path(db: &DbArgs) -> Result<PathBuf, ProfileError> {
    match &db.scenario_file {
        Some(f) => resolve_db_path_checked(f, db.profile_db.as_deref()),
        None => resolve_db_path_in(Path::new("."), db.profile_db.as_deref()),
    }
}

fn slo(s: &SloArgs) -> Result<Slo, ProfileError> {
    if s.p99.ms() <= 0.0 || !(0.0..=100.0).contains(&s.errors.0) {
        return Err(ProfileError::Invalid(
            "the SLO needs a positive --slo-p99 and --slo-errors between 0% and 100%".into(),
        ));
    }
    Ok(Slo {
        p99: s.p99,
        errors: s.errors,
    })
}

fn emit(out: &mut dyn Write, text: &str) -> Result<(), ProfileError> {
    out.write_all(text.as_bytes())
        .map_err(|e| ProfileError::Io {
            action: "write to",
            path: "standard output".into(),
            source: e,
        })
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}

fn execute(cmd: ProfileCommand, out: &mut dyn Write) -> Result<u8, ProfileError> {
    match cmd {
        ProfileCommand::List { db, format } => {
            let path = db_path(&db)?;
            let runs = match ProfileStore::open(&path) {
                Ok(store) => store.runs()?,
                Err(ProfileError::Missing { .. }) => {
                    if format == Format::Text {
                        eprintln!(
                            "no runs recorded yet (no profile database at {})",
                            path.display()
                        );
                    }
                    Vec::new()
                }
                Err(e) => return Err(e),
            };
            emit(
                out,
                &match format {
                    Format::Text => render::list(&runs),
                    Format::Json => to_json(&runs),
                },
            )?;
            Ok(0)
        }
        ProfileCommand::Show { run, db, format } => {
            let store = ProfileStore::open(&db_path(&db)?)?;
            let d = store.detail(run)?;
            emit(
                out,
                &match format {
                    Format::Text => render::show(&d),
                    Format::Json => to_json(&d),
                },
            )?;
            Ok(0)
        }
        ProfileCommand::Services {
            db,
            format,
            slo: s,
            scenario,
            last,
        } => {
            let slo = slo(&s)?;
            let store = ProfileStore::open(&db_path(&db)?)?;
            let mut runs: Vec<RunSummary> = store
                .runs()?
                .into_iter()
                .filter(|r| scenario.as_ref().is_none_or(|s| &r.scenario == s))
                .collect();
            if let Some(n) = last {
                runs.drain(..runs.len().saturating_sub(n));
            }
            let profile = store.profile(Some(&runs), &slo)?;
            emit(
                out,
                &match format {
                    Format::Text => render::services(&profile),
                    Format::Json => to_json(&profile),
                },
            )?;
            Ok(0)
        }
        ProfileCommand::Compare {
            run_a,
            run_b,
            db,
            format,
            alpha,
            slo: s,
        } => {
            if !(alpha > 0.0 && alpha < 1.0) {
                return Err(ProfileError::Invalid(
                    "--alpha must be between 0 and 1".into(),
                ));
            }
            let slo = slo(&s)?;
            let store = ProfileStore::open(&db_path(&db)?)?;
            let (a, b) = (store.run(run_a)?, store.run(run_b)?);
            let obs = store.observations(&[a.clone(), b.clone()])?;
            let exp_a = store.detail(run_a)?.expectations;
            let exp_b = store.detail(run_b)?.expectations;
            let c = compare::compare(a, b, &obs[0], &obs[1], &exp_a, &exp_b, alpha, &slo);
            emit(
                out,
                &match format {
                    Format::Text => render::compare(&c),
                    Format::Json => to_json(&c),
                },
            )?;
            Ok(if c.worse.is_empty() { 0 } else { 1 })
        }
        ProfileCommand::Export { db, format, run } => {
            let store = ProfileStore::open(&db_path(&db)?)?;
            let runs = match run {
                Some(id) => vec![store.run(id)?],
                None => store.runs()?,
            };
            match format {
                ExportFormat::Json => export::json(&store, &runs, out)?,
                ExportFormat::Csv => export::csv(&store, &runs, out)?,
            }
            Ok(0)
        }
        ProfileCommand::Salvage { db, output, format } => {
            let source = db_path(&db)?;
            let output = output.unwrap_or_else(|| salvage::default_output(&source));
            let report = salvage::salvage(&source, &output)?;
            emit(
                out,
                &match format {
                    Format::Text => salvage::render(&report),
                    Format::Json => to_json(&report),
                },
            )?;
            Ok(0)
        }
        ProfileCommand::Import { other, db, format } => {
            let target = db_path(&db)?;
            if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| ProfileError::Io {
                    action: "create",
                    path: dir.to_path_buf(),
                    source: e,
                })?;
            }
            let report = crate::profile::import::import(&target, &other)?;
            emit(
                out,
                &match format {
                    Format::Text => crate::profile::import::render(&report),
                    Format::Json => to_json(&report),
                },
            )?;
            Ok(0)
        }
        ProfileCommand::Report {
            db,
            system,
            output,
            slo: s,
        } => {
            let slo = slo(&s)?;
            let path = db_path(&db)?;
            let store = ProfileStore::open(&path)?;
            let now = crate::units::Timestamp(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64),
            )
            .to_rfc3339();
            let html = crate::report::profile_page::to_html(
                &store,
                system.as_deref(),
                &slo,
                &path.display().to_string(),
                &now,
            )?;
            std::fs::write(&output, html).map_err(|e| ProfileError::Io {
                action: "write",
                path: output.clone(),
                source: e,
            })?;
            emit(out, &format!("wrote {}\n", output.display()))?;
            Ok(0)
        }
        ProfileCommand::TestWriter {
            db,
            services,
            interval_ms,
            commit_ms,
            max_file_bytes,
            seconds,
        } => test_writer::run(
            &db,
            &test_writer::Options {
                services,
                interval: std::time::Duration::from_millis(interval_ms),
                commit: std::time::Duration::from_millis(commit_ms),
                max_file_bytes,
                seconds,
            },
        ),
    }
}
