//! `--report md=FILE`: the run in Markdown for a pull-request comment or a GitHub Actions job
//! summary (`res run` appends it to `$GITHUB_STEP_SUMMARY` when that is set): the verdict, a
//! row per service, the expectations, faults and remediation decisions, and what changed
//! against the previous recorded run of the same scenario ([`crate::profile::compare`]).
//!
//! Names come from the scenario and may hold `|`, `<` or backticks: every cell is escaped so
//! a name cannot break the table or inject markup.

use std::fmt::Write;
use std::path::Path;

use super::html::{fault_windows, verdict};
use super::{Outcome, RunReport};
use crate::profile::compare::{self, Comparison};
use crate::profile::derive::Slo;
use crate::profile::ProfileStore;

/// What the run is compared with.
#[derive(Debug, Clone)]
pub enum Previous {
    /// `--no-record`: nothing to compare in the profile.
    NotRecorded,
    /// The first recorded run of its scenario.
    First,
    /// The previous run of the same scenario against this one.
    Compared(Box<Comparison>),
    /// The profile could not be read; why.
    Unavailable(String),
}

/// Compares run `id` of `db` with the latest earlier finished run of the same scenario.
pub fn previous(db: &Path, id: u64, scenario: &str) -> Previous {
    let go = || -> Result<Previous, crate::profile::ProfileError> {
        let store = ProfileStore::open(db)?;
        let runs = store.runs()?;
        let Some(cur) = runs.iter().find(|r| r.id == id).cloned() else {
            return Ok(Previous::Unavailable(format!(
                "run {id} is not in the profile"
            )));
        };
        let Some(prev) = runs
            .iter()
            .rfind(|r| r.id < id && r.scenario == scenario && r.complete)
            .cloned()
        else {
            return Ok(Previous::First);
        };
        let obs = store.observations(&[prev.clone(), cur.clone()])?;
        let exp_a = store.detail(prev.id)?.expectations;
        let exp_b = store.detail(cur.id)?.expectations;
        let c = compare::compare(
            prev,
            cur,
            &obs[0],
            &obs[1],
            &exp_a,
            &exp_b,
            0.05,
            &Slo::default(),
        );
        Ok(Previous::Compared(Box::new(c)))
    };
    go().unwrap_or_else(|e| Previous::Unavailable(e.to_string()))
}

/// Escapes text for a Markdown table cell.
pub fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn icon(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "✅",
        Outcome::Fail | Outcome::Error => "❌",
        Outcome::Incomplete | Outcome::Aborted => "⚠️",
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.digits$}"))
}

pub fn to_markdown(r: &RunReport, prev: &Previous) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {} res: {} — {}\n",
        icon(r.outcome),
        md(&r.scenario),
        verdict(r.outcome)
    );
    let _ = writeln!(
        out,
        "{} · seed {} · {:.1} s · started {} · res {}\n",
        md(&r.file),
        r.seed,
        r.duration_s,
        md(&r.started_at),
        md(&r.res_version)
    );
    if let Some(reason) = &r.reason {
        let _ = writeln!(out, "**Why:** {}\n", md(reason));
    }
    if !r.services.is_empty() {
        out.push_str("| service | requests | rps | errors | p50 ms | p99 ms | max ms |\n");
        out.push_str("|---|--:|--:|--:|--:|--:|--:|\n");
        for (name, s) in &r.services {
            let _ = writeln!(
                out,
                "| {} | {} | {:.1} | {} | {:.1} | {:.1} | {:.1} |",
                md(name),
                s.requests,
                s.rps,
                s.errors,
                s.latency_ms.p50,
                s.latency_ms.p99,
                s.latency_ms.max
            );
        }
        out.push('\n');
    }
    if !r.expectations.is_empty() {
        out.push_str("| | expectation | scope | observed |\n|---|---|---|---|\n");
        for e in &r.expectations {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                if e.passed { "✅" } else { "❌" },
                md(&e.text),
                md(&e.scope),
                md(&e.observed)
            );
        }
        out.push('\n');
    }
    let windows = fault_windows(r);
    if !windows.is_empty() {
        out.push_str("**Faults:** ");
        let parts: Vec<String> = windows
            .iter()
            .map(|w| {
                format!(
                    "{} on {} {:.0}–{:.0} s{}",
                    md(&w.fault),
                    md(&w.target),
                    w.start,
                    w.end,
                    if w.reverted {
                        ""
                    } else {
                        " (**not reverted**)"
                    }
                )
            })
            .collect();
        let _ = writeln!(out, "{}\n", parts.join("; "));
    }
    for d in &r.remediations {
        let _ = writeln!(
            out,
            "- remediation #{} {}: {} → {}{}",
            d.id,
            md(&d.remedy),
            md(&d.action),
            md(&serde_json::to_value(d.result)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()),
            d.at_s.map_or(String::new(), |s| format!(" at {s:.0} s"))
        );
    }
    if !r.remediations.is_empty() {
        out.push('\n');
    }
    for s in &r.skipped {
        let _ = writeln!(
            out,
            "- not run as written: {} {} {} ({})",
            md(&s.how),
            md(&s.part),
            md(&s.name),
            md(&s.reason)
        );
    }
    if !r.skipped.is_empty() {
        out.push('\n');
    }
    changes(&mut out, prev);
    out
}

fn changes(out: &mut String, prev: &Previous) {
    match prev {
        Previous::NotRecorded => {
            out.push_str("_Not compared with earlier runs: this run was not recorded._\n")
        }
        Previous::First => {
            out.push_str("_The first recorded run of this scenario: nothing to compare yet._\n")
        }
        Previous::Unavailable(why) => {
            let _ = writeln!(out, "_Not compared with earlier runs: {}_", md(why));
        }
        Previous::Compared(c) => {
            let _ = writeln!(
                out,
                "**Against run {} ({})**, the previous run of this scenario:\n",
                c.a.id,
                md(&c.a.started_at)
            );
            out.push_str("| service | p99 ms | error rate | sustainable rps | |\n");
            out.push_str("|---|--:|--:|--:|---|\n");
            for s in &c.services {
                let pct = |v: Option<f64>| opt(v.map(|v| v * 100.0), 2) + "%";
                let _ = writeln!(
                    out,
                    "| {} | {} → {} | {} → {} | {} → {} | {} |",
                    md(&s.service),
                    opt(s.p99_ms_a, 1),
                    opt(s.p99_ms_b, 1),
                    pct(s.error_rate_a),
                    pct(s.error_rate_b),
                    opt(s.sustainable_rps_a, 1),
                    opt(s.sustainable_rps_b, 1),
                    if s.p99_worse || s.error_rate_worse {
                        "**worse**"
                    } else {
                        ""
                    }
                );
            }
            out.push('\n');
            if c.worse.is_empty() {
                out.push_str("Nothing got significantly worse.\n");
            } else {
                for w in &c.worse {
                    let _ = writeln!(out, "- worse: {}", md(w));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::md;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(md("a|b<c>&`d`"), "a\\|b&lt;c&gt;&amp;\\`d\\`");
        assert_eq!(md("x\ny"), "x y");
    }
}
