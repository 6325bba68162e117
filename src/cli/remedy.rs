//! `res remedy list|show ID|approve ID|reject ID`: the remediation audit log
//! ([`crate::remedy::Audit`]) in the profile database.
//!
//! While a run holds the database, `approve` and `reject` ask the running engine through a
//! request file beside it ([`crate::remedy::approvals`]) and print its answer.
//!
//! Exit codes: 0 done; 2 an unknown id, or approving/rejecting a decision that is not waiting
//! (or the running run refused it); 4 the database cannot be used (or a run holds it and did
//! not answer within 10 s).

use clap::Subcommand;

use super::profile::{db_path, DbArgs, Format};
use crate::exit::Exit;
use crate::remedy::{Audit, AuditError, DecisionRecord};

#[derive(Subcommand, Debug)]
pub enum RemedyCommand {
    /// List every decision, oldest first.
    List {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Show one decision: trigger and evidence, mode, change, state before and after,
    /// verification and undo.
    Show {
        id: u64,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Approve a decision waiting for approval: the engine that made it acts.
    Approve {
        id: u64,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Reject a decision waiting for approval: nothing is done.
    Reject {
        id: u64,
        #[command(flatten)]
        db: DbArgs,
    },
}

pub fn run(cmd: RemedyCommand) -> Exit {
    match execute(cmd) {
        Ok(()) => Exit::Ok,
        Err(e) => {
            let code = match e {
                AuditError::NotFound(_) | AuditError::NotPending { .. } => Exit::Invalid,
                _ => Exit::Tool,
            };
            super::fail(code, e)
        }
    }
}

fn audit(db: &DbArgs) -> Result<Audit, AuditError> {
    Ok(Audit::new(&db_path(db)?))
}

fn execute(cmd: RemedyCommand) -> Result<(), AuditError> {
    match cmd {
        RemedyCommand::List { db, format } => {
            let all = audit(&db)?.list()?;
            match format {
                Format::Json => println!("{}", to_json(&all)),
                Format::Text if all.is_empty() => println!("no remediation decisions recorded"),
                Format::Text => all.iter().for_each(|r| println!("{}", r.line())),
            }
        }
        RemedyCommand::Show { id, db, format } => {
            let r = audit(&db)?.get(id)?;
            match format {
                Format::Json => println!("{}", to_json(&r)),
                Format::Text => print!("{}", detail(&r)),
            }
        }
        RemedyCommand::Approve { id, db } => {
            let audit = audit(&db)?;
            match audit.approve(id) {
                Ok(r) => println!(
                    "approved #{} ({}): the engine acts at its next evaluation",
                    r.id, r.action
                ),
                Err(AuditError::Profile(crate::profile::ProfileError::Busy { pid, .. })) => {
                    ask_running(&audit, id, true, pid)?
                }
                Err(e) => return Err(e),
            }
        }
        RemedyCommand::Reject { id, db } => {
            let audit = audit(&db)?;
            match audit.reject(id) {
                Ok(r) => println!("rejected #{} ({}): nothing will be done", r.id, r.action),
                Err(AuditError::Profile(crate::profile::ProfileError::Busy { pid, .. })) => {
                    ask_running(&audit, id, false, pid)?
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// A run holds the database: leave the request for its engine and print its answer.
fn ask_running(audit: &Audit, id: u64, approve: bool, pid: Option<i32>) -> Result<(), AuditError> {
    use crate::remedy::approvals::{request, Answer};
    let holder = pid.map_or_else(|| "another process".to_string(), |p| format!("process {p}"));
    eprintln!("the database is held by {holder} (a run?): asking its remediation engine");
    let wait = std::time::Duration::from_secs(10);
    match request(audit.path(), id, approve, wait).map_err(AuditError::storage)? {
        Answer::Done(text) => {
            println!("{text}");
            Ok(())
        }
        Answer::Refused(text) => Err(AuditError::NotPending {
            id,
            result: format!("refused by the running run ({text})"),
        }),
        Answer::Unanswered => Err(AuditError::Storage(format!(
            "{holder} holds the database and took no request within 10 s; nothing was changed"
        ))),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The text of `res remedy show ID`.
fn detail(r: &DecisionRecord) -> String {
    let mut out = format!("{}\n", r.line());
    out.push_str(&format!("  at          {}\n", r.at));
    out.push_str(&format!(
        "  trigger     {}{} (window {}s)\n",
        if r.trigger.predicted {
            "predicted "
        } else {
            ""
        },
        r.trigger.condition,
        r.trigger.window_s
    ));
    for e in &r.trigger.evidence {
        out.push_str(&format!(
            "  evidence    {} = {}{} (threshold {}{})\n",
            e.quantity, e.value, e.unit, e.threshold, e.unit
        ));
    }
    if let Some(a) = &r.actuator {
        out.push_str(&format!("  actuator    {a}\n"));
    }
    for n in &r.notes {
        out.push_str(&format!("  note        {n}\n"));
    }
    let state = |s: &Option<crate::remedy::ActuatorState>| {
        s.as_ref().map_or("-".to_string(), |s| s.summary())
    };
    out.push_str(&format!("  before      {}\n", state(&r.before)));
    out.push_str(&format!("  after       {}\n", state(&r.after)));
    if let Some(u) = &r.undo {
        out.push_str(&format!(
            "  undo        {}: {}{}\n",
            u.result,
            state(&u.after),
            u.error
                .as_ref()
                .map_or(String::new(), |e| format!(" ({e})"))
        ));
    }
    out
}
