//! `res orchestrate status`: whether an orchestrator holds the database, the runs per window
//! occurrence and event, the learned model versions, the most recent decisions, and (given
//! the files) each scenario's next windows.

use std::fmt::Write;
use std::path::Path;

use super::learn::ModelMark;
use super::store::{Decision, Lock, RunMark, Store};
use crate::units::Timestamp;

/// The status text; `files` adds the scenarios' next windows as of `now`.
pub fn text(
    db: &Path,
    scenarios: &[super::Scenario],
    now: i64,
    recent: usize,
) -> Result<String, String> {
    let store = Store::new(db);
    let mut out = String::new();
    let _ = writeln!(out, "database {}", db.display());
    match Lock::take(db) {
        Ok(_) => {
            let _ = writeln!(out, "orchestrator: not running");
        }
        Err(e) => {
            let _ = writeln!(out, "orchestrator: running — {e}");
        }
    }
    let runs = store.scan("run/")?;
    let _ = writeln!(out, "runs ({}):", runs.len());
    for (k, v) in &runs {
        let m: RunMark = serde_json::from_slice(v).map_err(|e| format!("{k}: {e}"))?;
        let _ = writeln!(
            out,
            "  {}  {} .. {}  {}",
            &k["run/".len()..],
            Timestamp(m.started),
            Timestamp(m.ends),
            m.outcome.as_deref().unwrap_or("going")
        );
    }
    let models = store.scan("model/")?;
    if !models.is_empty() {
        let _ = writeln!(out, "models:");
        for (k, v) in &models {
            if let Ok(m) = serde_json::from_slice::<ModelMark>(v) {
                let _ = writeln!(
                    out,
                    "  {}  version {}{}, {} requests, forecast at {}: peak {:.1}/s at {}",
                    &k["model/".len()..],
                    m.version,
                    if m.how.is_empty() {
                        String::new()
                    } else {
                        format!(" ({}, {} lines added)", m.how, m.lines_added)
                    },
                    m.requests,
                    Timestamp(m.forecast_at),
                    m.peak_per_s,
                    m.peak_at
                );
            }
        }
    }
    if !scenarios.is_empty() {
        let _ = writeln!(out, "next windows (as of {}):", Timestamp(now));
        for s in scenarios {
            let a = crate::schedule::allowance(&s.model, s.model(), now);
            let next = a
                .next
                .first()
                .map(|o| format!("next {} at {}", o.window, Timestamp(o.start)))
                .unwrap_or_else(|| "no window ahead".into());
            let _ = writeln!(
                out,
                "  {}: {}; {}",
                s.name,
                if a.allowed {
                    format!("may run now ({})", a.because)
                } else {
                    "may not run now".into()
                },
                next
            );
        }
    }
    let decisions: Vec<Decision> = store.decisions(Some(recent))?;
    let _ = writeln!(out, "recent decisions ({}):", decisions.len());
    for d in decisions {
        let _ = writeln!(out, "  #{} {}", d.id, d.line());
    }
    Ok(out)
}
