//! Approving a decision while a run holds the database. redb lets one process open a file, so
//! while `res run` records, `res remedy approve ID` cannot write the audit log. It leaves a
//! request beside the database instead — `PROFILE.redb.approvals/ID.approve` (or `.reject`),
//! written whole and renamed into place — and waits. The running engine takes requests every
//! second: a decision of its own that waits for approval is settled through the run's writer
//! (and, approved, acted on from the state read again); anything else is refused. Either way
//! it answers with `ID.done` or `ID.refused`, holding one line, which the command prints. A
//! request nobody took within the wait is removed again, so it cannot act later by surprise.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::Engine;

/// The folder of requests and answers for the database at `db`.
pub fn folder(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".approvals");
    db.with_file_name(name)
}

/// What the running engine answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Done(String),
    Refused(String),
    /// Nobody took the request within the wait (it was removed).
    Unanswered,
}

/// Leaves a request for decision `id` and waits up to `wait` for the running engine's answer.
pub fn request(db: &Path, id: u64, approve: bool, wait: Duration) -> std::io::Result<Answer> {
    let dir = folder(db);
    std::fs::create_dir_all(&dir)?;
    for old in ["done", "refused"] {
        let _ = std::fs::remove_file(dir.join(format!("{id}.{old}")));
    }
    let verb = if approve { "approve" } else { "reject" };
    let tmp = dir.join(format!(".{id}.{verb}.{}", std::process::id()));
    let req = dir.join(format!("{id}.{verb}"));
    std::fs::write(&tmp, format!("pid {}\n", std::process::id()))?;
    std::fs::rename(&tmp, &req)?;
    let until = Instant::now() + wait;
    loop {
        for (ext, answer) in [
            ("done", Answer::Done as fn(String) -> Answer),
            ("refused", Answer::Refused),
        ] {
            let p = dir.join(format!("{id}.{ext}"));
            if let Ok(text) = std::fs::read_to_string(&p) {
                let _ = std::fs::remove_file(&p);
                return Ok(answer(text.trim().to_string()));
            }
        }
        if Instant::now() >= until {
            // Taken at the last moment: the answer follows shortly; else withdraw it.
            if std::fs::remove_file(&req).is_ok() {
                return Ok(Answer::Unanswered);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The requests waiting now: `(id, approve)`, each taken (removed) as it is read.
fn take(dir: &Path) -> Vec<(u64, bool)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some((id, verb)) = name.split_once('.') else {
            continue;
        };
        let (Ok(id), Some(approve)) = (
            id.parse::<u64>(),
            match verb {
                "approve" => Some(true),
                "reject" => Some(false),
                _ => None,
            },
        ) else {
            continue;
        };
        // Removing it is taking it: a request withdrawn a moment ago is not acted on.
        if std::fs::remove_file(e.path()).is_ok() {
            out.push((id, approve));
        }
    }
    out.sort_unstable();
    out
}

fn answer(dir: &Path, id: u64, ok: bool, text: &str) {
    let ext = if ok { "done" } else { "refused" };
    let tmp = dir.join(format!(".{id}.{ext}.tmp"));
    if std::fs::write(&tmp, format!("{text}\n")).is_ok() {
        let _ = std::fs::rename(&tmp, dir.join(format!("{id}.{ext}")));
    }
}

/// Takes the requests left for the engine's database and settles them; the decisions
/// approved and acted on.
pub async fn serve(engine: &mut Engine) -> Vec<u64> {
    let Some(db) = engine.audit_path().map(Path::to_path_buf) else {
        return Vec::new();
    };
    let dir = folder(&db);
    let mut acted = Vec::new();
    for (id, approve) in take(&dir) {
        match engine.settle_here(id, approve).await {
            Ok(result) if approve => {
                acted.push(id);
                answer(
                    &dir,
                    id,
                    true,
                    &format!(
                        "approved #{id}: the running engine acted on it: {}",
                        result.name()
                    ),
                );
            }
            Ok(_) => answer(
                &dir,
                id,
                true,
                &format!("rejected #{id}: nothing will be done"),
            ),
            Err(e) => answer(
                &dir,
                id,
                false,
                &format!("the running run cannot settle it: {e}"),
            ),
        }
    }
    acted
}
