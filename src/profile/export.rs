//! `res profile export`: the stored runs as JSON (everything) or CSV (one row per service per
//! second), written run by run so a large database does not have to fit in memory.

use std::io::Write;

use serde_json::json;

use super::schema::SCHEMA_VERSION;
use super::store::{ProfileStore, RunSummary};
use super::ProfileError;

/// The columns of the CSV export.
pub const CSV_HEADER: &str = "run,scenario,service,t,offered_rps,rps,concurrency,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,errors,errors_by_kind";

fn write_err(e: std::io::Error) -> ProfileError {
    ProfileError::Io {
        action: "write the export to",
        path: "standard output".into(),
        source: e,
    }
}

/// `{"schema_version": 2, "runs": [{...run, "samples": [...], "faults": [...], ...}]}`.
pub fn json(
    store: &ProfileStore,
    runs: &[RunSummary],
    out: &mut dyn Write,
) -> Result<(), ProfileError> {
    write!(out, "{{\"schema_version\": {SCHEMA_VERSION}, \"runs\": [").map_err(write_err)?;
    for (i, r) in runs.iter().enumerate() {
        let d = store.detail(r.id)?;
        let v = json!({
            "run": d.run,
            "samples": store.samples(r.id)?,
            "faults": d.faults,
            "aborts": d.aborts,
            "remediations": d.remediations,
            "expectations": d.expectations,
            "events": d.events,
        });
        if i > 0 {
            out.write_all(b",").map_err(write_err)?;
        }
        out.write_all(b"\n").map_err(write_err)?;
        serde_json::to_writer(&mut *out, &v).map_err(|e| write_err(e.into()))?;
    }
    out.write_all(b"\n]}\n").map_err(write_err)
}

/// One row per service per second; `errors_by_kind` as `kind=n;kind=n`.
pub fn csv(
    store: &ProfileStore,
    runs: &[RunSummary],
    out: &mut dyn Write,
) -> Result<(), ProfileError> {
    writeln!(out, "{CSV_HEADER}").map_err(write_err)?;
    for r in runs {
        for p in store.samples(r.id)? {
            let kinds: Vec<String> = p
                .errors_by_kind
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                r.id,
                field(&r.scenario),
                field(&p.service),
                p.t,
                p.offered_rps,
                p.rps,
                p.concurrency,
                p.p50_ms,
                p.p90_ms,
                p.p99_ms,
                p.p999_ms,
                p.max_ms,
                p.errors,
                field(&kinds.join(";"))
            )
            .map_err(write_err)?;
        }
    }
    Ok(())
}

/// Quotes a CSV field when it needs it.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
