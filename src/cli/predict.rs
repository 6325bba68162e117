//! `res predict`: predict from the profile, list the stored predictions, score them.
//! `main.rs` mounts [`PredictArgs`] and calls [`run`].

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use crate::check::{check_path_with, Options};
use crate::diagnostic::{render_all, RenderOptions};
use crate::predict::engine::{self, Outcome};
use crate::predict::history::History;
use crate::predict::render::{text, thousands};
use crate::predict::score::{score, score_with, Scores};
use crate::predict::store::{self, StoredPrediction};
use crate::predict::PredictError;
use crate::profile::{resolve_db_path_checked, resolve_db_path_in, ProfileError, ProfileStore};
use crate::run::predict_input::{predict_spec, At};
use crate::units::{Duration, Rate, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PredictArgs {
    #[command(subcommand)]
    pub action: Option<PredictAction>,
    /// The scenario file whose system, forecast, events and SLOs to predict for.
    pub file: Option<PathBuf>,
    /// The scenario (default: the file's first).
    #[arg(long)]
    pub scenario: Option<String>,
    /// Predict at a total rate (`800/s`) or at the forecast hour of a time
    /// (`2026-12-08T14:00Z`) instead of over the whole horizon.
    #[arg(long, value_name = "RATE|TIMESTAMP")]
    pub at: Option<String>,
    /// How far ahead (default: the traffic's `forecast … over`, else 7d).
    #[arg(long, value_parser = parse_duration)]
    pub horizon: Option<Duration>,
    #[arg(long, default_value = "text")]
    pub format: Format,
    /// The profile database (default: as `res run FILE` finds it).
    #[arg(long = "profile-db", value_name = "PATH")]
    pub profile_db: Option<PathBuf>,
    /// Seeds the bootstrap intervals.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Do not write the predictions to the database.
    #[arg(long)]
    pub no_store: bool,
    /// Override a param: --set name=value (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum PredictAction {
    /// List the stored predictions.
    List {
        #[arg(long = "profile-db", value_name = "PATH")]
        profile_db: Option<PathBuf>,
        #[arg(long, default_value = "text")]
        format: Format,
    },
    /// Score the stored predictions whose outcome a later run measured — or, given the
    /// scenario FILE, that its learned logs recorded in the hour predicted for.
    Score {
        /// A scenario file: its `learn from` logs score the predictions made for a forecast
        /// hour they cover (its routes name the services).
        file: Option<PathBuf>,
        #[arg(long = "profile-db", value_name = "PATH")]
        profile_db: Option<PathBuf>,
        #[arg(long, default_value = "text")]
        format: Format,
    },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    Duration::parse(s).ok_or_else(|| format!("`{s}` is not a duration (e.g. 7d, 24h)"))
}

/// Parses `--at`: a rate (`800/s`) or a timestamp.
pub fn parse_at(s: &str) -> Option<At> {
    if let Some(r) = Rate::parse(s) {
        return Some(At::Rate(r.per_sec()));
    }
    Timestamp::parse(s).map(At::Time)
}

/// Runs `res predict …` and returns the exit code.
pub fn run(args: PredictArgs) -> u8 {
    let result = match &args.action {
        Some(PredictAction::List { profile_db, format }) => list(profile_db.as_deref(), *format),
        Some(PredictAction::Score {
            file,
            profile_db,
            format,
        }) => score_cmd(file.as_deref(), profile_db.as_deref(), *format),
        None => predict(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn predict(args: &PredictArgs) -> Result<u8, PredictError> {
    let Some(file) = &args.file else {
        return Err(PredictError::BadRequest(
            "res predict needs a scenario FILE (or `list`, `score`)".into(),
        ));
    };
    let at = match &args.at {
        Some(s) => Some(parse_at(s).ok_or_else(|| {
            PredictError::BadRequest(format!(
                "--at `{s}` is neither a rate (800/s) nor a timestamp (2026-12-08T14:00Z)"
            ))
        })?),
        None => None,
    };
    let mut opts = Options::default();
    for s in &args.set {
        let Some((k, v)) = s.split_once('=') else {
            return Err(PredictError::BadRequest(format!(
                "--set `{s}`: expected NAME=VALUE"
            )));
        };
        opts.overrides.push((k.to_string(), v.to_string()));
    }
    let checked = check_showing(file, &opts);
    let Some(model) = &checked.model else {
        return Ok(2);
    };
    let scenario = match &args.scenario {
        Some(name) => model.scenario(name).ok_or_else(|| {
            PredictError::BadRequest(format!("no scenario `{name}` in {}", file.display()))
        })?,
        None => model.scenarios.first().ok_or_else(|| {
            PredictError::BadRequest(format!("{} declares no scenario", file.display()))
        })?,
    };
    let base = file.parent().unwrap_or(Path::new("."));
    let spec =
        predict_spec(model, scenario, at, args.horizon, base).map_err(PredictError::BadRequest)?;
    let db = resolve_db_path_checked(file, args.profile_db.as_deref())?;
    let out = engine::predict(&db, &spec, args.seed, now(), !args.no_store)?;
    print_outcome(&out, args.format);
    Ok(0)
}

/// The wall clock, read once per command: predictions are stamped with it.
fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    Timestamp(secs)
}

fn print_outcome(out: &Outcome, format: Format) {
    match format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(out).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
        ),
        Format::Text => {
            for n in &out.notes {
                println!("note: {n}");
            }
            print!("{}", text(&out.verdict));
            if !out.stored.is_empty() {
                println!(
                    "\n{} predictions stored (res predict list; res predict score once a later run measured them)",
                    out.stored.len()
                );
            }
        }
    }
}

fn open(db: Option<&Path>) -> Result<(PathBuf, ProfileStore), PredictError> {
    let path = resolve_db_path_in(Path::new("."), db)?;
    match ProfileStore::open(&path) {
        Ok(s) => Ok((path, s)),
        Err(ProfileError::Missing { .. }) => Err(PredictError::NoRuns {
            what: "any system".into(),
            path,
        }),
        Err(e) => Err(e.into()),
    }
}

fn list(db: Option<&Path>, format: Format) -> Result<u8, PredictError> {
    let (_, store) = open(db)?;
    let all = store::list(&store)?;
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default()),
        Format::Text => {
            if all.is_empty() {
                println!("no predictions stored yet (res predict FILE makes some)");
            }
            for p in &all {
                println!("{}", line(p));
            }
        }
    }
    Ok(0)
}

fn line(p: &StoredPrediction) -> String {
    let at = match (&p.at_time, p.quantity.as_str()) {
        (_, "capacity") => String::new(),
        (Some(t), _) => format!(" at {} req/s ({t})", thousands(p.at_rate)),
        (None, _) => format!(" at {} req/s", thousands(p.at_rate)),
    };
    format!(
        "#{} {} {} {}{at}: {:.3} (90 %: {:.3}–{:.3}) [{} {}, runs {}]",
        p.id,
        p.made_at,
        p.service,
        p.quantity,
        p.point,
        p.lo,
        p.hi,
        p.model_version,
        p.model,
        p.runs
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Checks `file`, printing its diagnostics to stderr.
fn check_showing(file: &Path, opts: &Options) -> crate::check::Checked {
    let checked = check_path_with(file, opts);
    if !checked.diagnostics.is_empty() {
        eprint!(
            "{}",
            render_all(
                &checked.diagnostics,
                &checked.sources,
                RenderOptions::default()
            )
        );
    }
    checked
}

fn score_cmd(file: Option<&Path>, db: Option<&Path>, format: Format) -> Result<u8, PredictError> {
    let observed = match file {
        Some(file) => {
            let checked = check_showing(file, &Options::default());
            let Some(model) = &checked.model else {
                return Ok(2);
            };
            let base = file.parent().unwrap_or(Path::new("."));
            Some(crate::run::log_outcome::observe(model, base))
        }
        None => None,
    };
    let (_, store) = match file {
        Some(f) => {
            let path = resolve_db_path_checked(f, db)?;
            let store = ProfileStore::open(&path)?;
            (path, store)
        }
        None => open(db)?,
    };
    let all = store::list(&store)?;
    let history = History::read(&store, None)?;
    let mut s: Scores = match &observed {
        Some((obs, _)) => score_with(&all, &history, obs),
        None => score(&all, &history),
    };
    if let Some((_, notes)) = observed {
        s.logs = notes;
    }
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&s).unwrap_or_default()),
        Format::Text => {
            for x in &s.scored {
                let from = match (&x.log, x.measured_rate) {
                    (Some(log), Some(rate)) => {
                        format!(" (in {log}: that hour at {rate:.1}/s)")
                    }
                    _ => String::new(),
                };
                println!(
                    "{} → measured {:.3}{from}, error {:+.1} %, {}",
                    line(&x.prediction),
                    x.measured,
                    x.relative_error * 100.0,
                    if x.covered {
                        "inside the interval"
                    } else {
                        "OUTSIDE the interval"
                    }
                );
            }
            for note in &s.logs {
                println!("log {note}");
            }
            println!(
                "{} scored, {} waiting for an outcome; interval coverage {:.0} %",
                s.scored.len(),
                s.pending,
                s.coverage * 100.0
            );
            for m in &s.summary {
                println!(
                    "  {} {} {}: {} scored, mean |error| {:.1} %, coverage {:.0} %",
                    m.model_version,
                    m.quantity,
                    m.model,
                    m.scored,
                    m.mean_abs_relative_error * 100.0,
                    m.coverage * 100.0
                );
            }
        }
    }
    Ok(0)
}
