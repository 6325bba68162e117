//! `res recover`: revert the faults a crashed `res` left active, as its fault journal lists
//! them ([`crate::chaos::recover`]). The journal is the project's (see [`crate::state`]) unless
//! `--journal` names one; the command says which it read.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::chaos::recover;
use crate::exit::Exit;
use crate::state::State;

/// `res recover` flags.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// The fault journal [default: faults.journal in the project's .res/ folder].
    #[arg(long)]
    pub journal: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Reverts what the journal says is still active and whose owner is gone (or overdue).
/// Exit 0 when nothing failed; 2 when the journal given with `--journal` does not exist; 4
/// when the journal cannot be read or a revert failed.
pub fn run_recover(args: RecoverArgs) -> ExitCode {
    let (journal, given) = match args.journal {
        Some(j) => (j, true),
        None => match State::discover() {
            Ok(state) => (state.journal(), false),
            Err(e) => return super::fail(Exit::Tool, e).into(),
        },
    };
    if !journal.exists() {
        if given {
            return super::fail(
                Exit::Invalid,
                format!("no fault journal at {}", journal.display()),
            )
            .into();
        }
        // No journal in the project: no run here ever injected a fault.
        if !args.json {
            println!(
                "{}: no fault journal, nothing to recover",
                journal.display()
            );
        }
    }
    let report = recover(&journal);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else if journal.exists() {
        print!("read {}\n{}", journal.display(), report.summary());
    }
    unverified_remedies(args.json);
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        Exit::Tool.into()
    }
}

/// Remediation decisions a crashed run left in verification: the action stays in place and
/// is marked `unverified` in the audit log, and said here (on stderr under `--json`).
fn unverified_remedies(json: bool) {
    let Ok(db) = State::discover().and_then(|s| s.profile_db(None)) else {
        return;
    };
    if !db.exists() {
        return;
    }
    match crate::remedy::Audit::new(&db).mark_unverified() {
        Ok(marked) => {
            for r in marked {
                let line = format!(
                    "remedy decision {} ({}): `{}` stays in place, unverified: its run ended during verification (res remedy show {})",
                    r.id, r.remedy, r.action, r.id
                );
                if json {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
            }
        }
        Err(e) => eprintln!("warning: remediation audit log in {}: {e}", db.display()),
    }
}
