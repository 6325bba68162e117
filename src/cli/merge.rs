//! `res merge SHARD.json… [-o run.json]`: the shards of a sharded run
//! ([`crate::run::merge`]) added into one run's report, judged, and recorded once into the
//! profile database. Exit codes as `res run`'s: 0 pass, 1 failed or incomplete (a shard
//! missing), 2 shards that are not of one run or of another version, 3 aborted, 4 tool error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::exit::Exit;

/// `res merge` flags.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shards' JSON reports (`res run --shard I/N --report json=FILE`).
    #[arg(required = true, value_name = "SHARD.json")]
    shards: Vec<PathBuf>,
    /// Write the merged report here (JSON, the schema of `res run --report json=`).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The scenario file the shards ran, when it is not where they named it.
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// The profile database (default: profile.redb in the project's .res/ folder).
    #[arg(long, value_name = "PATH")]
    profile_db: Option<PathBuf>,
    /// Do not record the merged run in the profile database.
    #[arg(long)]
    no_record: bool,
    /// A load step more than 10 % short of its planned rate does not fail the run.
    #[arg(long)]
    allow_short: bool,
}

pub fn run(args: MergeArgs) -> ExitCode {
    ExitCode::from(merge(args))
}

fn merge(args: MergeArgs) -> u8 {
    let loaded = match crate::run::merge::shards(&args.shards) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Invalid.code();
        }
    };
    let mut merged =
        match crate::run::merge_report::merge(&loaded, args.file.as_deref(), args.allow_short) {
            Ok(m) => m,
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Tool.code();
            }
        };
    let mut code = merged.report.outcome.exit_code();
    if !args.no_record {
        let db = crate::state::State::discover()
            .map_err(|e| e.to_string())
            .and_then(|s| {
                s.profile_db(args.profile_db.as_deref())
                    .map_err(|e| e.to_string())
            });
        let lead = loaded
            .iter()
            .find(|l| l.report.shard.index == l.report.shard.coordinator)
            .unwrap_or(&loaded[0]);
        match db {
            Ok(db) => {
                if let Some(dir) = db.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                if let Err(e) = crate::run::merge_report::record(&mut merged, &db, lead) {
                    eprintln!("error: {e}");
                    code = code.max(Exit::Tool.code());
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                code = code.max(Exit::Tool.code());
            }
        }
    }
    let m = merged.report.merge.as_ref();
    let mut summary = crate::report::to_summary(&merged.report);
    if let Some(m) = m {
        summary += &format!(
            "merged {} of {} shards (start spread {:.0} ms)\n",
            m.shards.len(),
            m.count,
            m.start_spread_ms
        );
        for s in &m.missing {
            summary += &format!(
                "missing shard {}/{}: {:.1} % of the load, about {} planned\n",
                s.index, m.count, s.share_pct, s.planned
            );
        }
    }
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(summary.as_bytes()).and_then(|()| out.flush());
    }
    if let Some(path) = &args.output {
        let text = serde_json::to_string_pretty(&merged.json).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            code = code.max(Exit::Tool.code());
        }
    }
    code
}
