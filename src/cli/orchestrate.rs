//! `res orchestrate FILE…` (the loop, [`crate::orchestrate`]) and `res orchestrate status`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::diagnostic::RenderOptions;
use crate::exit::Exit;
use crate::units::{Duration, Timestamp};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct OrchestrateArgs {
    #[command(subcommand)]
    action: Option<OrchestrateAction>,
    /// The .res files whose scenarios to schedule and whose logs to learn.
    files: Vec<PathBuf>,
    /// Time between iterations (loop time: virtual under --clock).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    interval: Duration,
    /// One iteration, then exit (for cron or CI).
    #[arg(long)]
    once: bool,
    /// Virtual time: START..END (e.g. 2026-12-07T00:00Z..2026-12-14T00:00Z). Runs are
    /// planned and recorded, not sent, unless --send.
    #[arg(long, value_name = "START..END", value_parser = parse_clock)]
    clock: Option<(Timestamp, Timestamp)>,
    /// Under --clock: virtual seconds per wall second.
    #[arg(long, default_value_t = 3600.0)]
    speed: f64,
    /// Under --clock: run the scheduled scenarios for real (`res run --now VIRTUAL_TIME`).
    #[arg(long)]
    send: bool,
    /// How long before an event its preparing run may happen (at most the forecast's 7d).
    #[arg(long, default_value = "2d", value_parser = parse_duration)]
    lead: Duration,
    /// The profile database (default: as `res run` finds it).
    #[arg(long, value_name = "PATH")]
    profile_db: Option<PathBuf>,
    /// The system's metrics, Prometheus text (e.g. the demo shop's http://127.0.0.1:PORT/metrics).
    #[arg(long, value_name = "URL")]
    metrics: Option<String>,
    /// Skip runs while the system serves more than this (requests per second, from --metrics).
    #[arg(long, value_name = "REQ_PER_S")]
    busy_above: Option<f64>,
    /// Skip runs while more than this percentage of answers are 5xx (from --metrics).
    #[arg(long, value_name = "PERCENT")]
    errors_above: Option<f64>,
    /// Serve the loop's own Prometheus `/metrics` and `/healthz` on 127.0.0.1:PORT.
    #[arg(long, value_name = "127.0.0.1:PORT")]
    listen: Option<String>,
    /// Do not ask `res predict` after a new forecast.
    #[arg(long)]
    no_predict: bool,
    /// The log's form on stdout: `text` (lines to read) or `json` (one object per line, with
    /// each decision's fields, for a log shipper).
    #[arg(long, value_name = "text|json", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Override a param: --set name=value (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = super::parse_override)]
    set: Vec<(String, String)>,
}

#[derive(Debug, Subcommand)]
enum OrchestrateAction {
    /// Whether an orchestrator runs, the runs per window and event, the models, recent
    /// decisions, and (given files) the next windows.
    Status {
        files: Vec<PathBuf>,
        #[arg(long, value_name = "PATH")]
        profile_db: Option<PathBuf>,
        /// What time it is, for the next windows (default: the system clock).
        #[arg(long, value_name = "TIMESTAMP", value_parser = super::parse_now)]
        now: Option<Timestamp>,
        /// How many recent decisions to show.
        #[arg(long, default_value_t = 20)]
        recent: usize,
        /// Print every decision of the audit log as JSON (an array), instead of the summary.
        #[arg(long)]
        json: bool,
    },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    Duration::parse(s)
        .filter(|d| d.secs() >= 1.0)
        .ok_or_else(|| format!("`{s}`: expected a duration of at least 1s (e.g. 60s, 5m)"))
}

fn parse_clock(s: &str) -> Result<(Timestamp, Timestamp), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("`{s}`: expected START..END"))?;
    let a = super::parse_now(a.trim())?;
    let b = super::parse_now(b.trim())?;
    if b <= a {
        return Err(format!("`{s}`: END must come after START"));
    }
    Ok((a, b))
}

pub fn run(args: OrchestrateArgs, render: RenderOptions) -> Exit {
    if let Some(OrchestrateAction::Status {
        files,
        profile_db,
        now,
        recent,
        json,
    }) = args.action
    {
        let db = match crate::orchestrate::db_path(profile_db.as_deref()) {
            Ok(p) => p,
            Err(e) => return super::fail(Exit::Invalid, e),
        };
        if json {
            let store = crate::orchestrate::store::Store::new(&db);
            return match store.decisions(None) {
                Ok(d) => {
                    let text = serde_json::to_string_pretty(&d).unwrap_or_default() + "\n";
                    if super::stdout::print(&text) {
                        Exit::Ok
                    } else {
                        Exit::Tool
                    }
                }
                Err(e) => super::fail(Exit::Tool, e),
            };
        }
        let scenarios = match crate::orchestrate::load(&files, &[], render) {
            Ok((s, _)) => s,
            Err(code) => return code,
        };
        let now = now.unwrap_or_else(crate::run::clock::system_now).0;
        return match crate::orchestrate::status::text(&db, &scenarios, now, recent) {
            Ok(t) if super::stdout::print(&t) => Exit::Ok,
            Ok(_) => Exit::Tool,
            Err(e) => super::fail(Exit::Tool, e),
        };
    }
    if args.files.is_empty() {
        return super::fail(
            Exit::Invalid,
            "name the .res files to orchestrate: res orchestrate FILE…",
        );
    }
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return super::fail(Exit::Invalid, "--speed must be above 0");
    }
    let lead = args.lead.secs() as i64;
    if lead > crate::orchestrate::rules::FORECAST_SPAN {
        return super::fail(
            Exit::Invalid,
            "--lead may be at most 7d: a run prepares for an event only when its forecast covers it",
        );
    }
    let opts = crate::orchestrate::Options {
        files: args.files,
        interval: args.interval.secs().round() as i64,
        once: args.once,
        clock: args.clock.map(|(a, b)| (a.0, b.0)),
        speed: args.speed,
        send: args.send,
        lead,
        profile_db: args.profile_db,
        metrics: args.metrics,
        busy_above: args.busy_above,
        errors_above: args.errors_above.map(|p| p / 100.0),
        overrides: args.set,
        predict: !args.no_predict,
        listen: args.listen,
        json_log: args.log_format == "json",
    };
    crate::orchestrate::run(opts, render)
}
