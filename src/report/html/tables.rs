//! The HTML report's tables: the exact figures behind the charts (run metadata, per service
//! summary, fault windows, remediation decisions, expectations with their verdicts, planned
//! against achieved load, parts not run, events). Every text from the scenario is escaped.

use std::fmt::Write;

use super::{esc, verdict, FaultWindow};
use crate::report::RunReport;

fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A table with a caption; `rows` are already-escaped cells.
fn table(id: &str, title: &str, head: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut out =
        format!("<section id=\"{id}\"><h2>{title}</h2><div class=\"tablebox\"><table><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></section>");
    out
}

pub fn metadata(r: &RunReport) -> String {
    let mut out = String::from("<dl class=\"meta\">");
    let mut item = |k: &str, v: String| {
        let _ = write!(out, "<div><dt>{k}</dt><dd>{v}</dd></div>");
    };
    item("file", format!("<code>{}</code>", esc(&r.file)));
    item("scenario", esc(&r.scenario));
    item("outcome", verdict(r.outcome).into());
    item("seed", r.seed.to_string());
    item("started", esc(&r.started_at));
    item("duration", format!("{:.1} s", r.duration_s));
    item("res", esc(&r.res_version));
    item(
        "recorded",
        esc(r.recorded.as_deref().unwrap_or("not recorded")),
    );
    out.push_str("</dl>");
    out
}

pub fn services(r: &RunReport) -> String {
    let rows = r
        .services
        .iter()
        .map(|(name, s)| {
            let rate = if s.requests > 0 {
                s.errors as f64 / s.requests as f64 * 100.0
            } else {
                0.0
            };
            vec![
                esc(name),
                s.requests.to_string(),
                format!("{:.1}", s.rps),
                format!("{} ({:.2}%)", s.errors, rate),
                num(s.latency_ms.p50),
                num(s.latency_ms.p90),
                num(s.latency_ms.p99),
                num(s.latency_ms.p999),
                num(s.latency_ms.max),
            ]
        })
        .collect();
    table(
        "services",
        "Services",
        &[
            "service", "requests", "rps", "errors", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms",
            "max ms",
        ],
        rows,
    )
}

pub fn faults(windows: &[FaultWindow], r: &RunReport) -> String {
    if r.faults.is_empty() {
        return String::new();
    }
    let mut rows: Vec<Vec<String>> = windows
        .iter()
        .map(|w| {
            vec![
                esc(&w.fault),
                esc(&w.target),
                format!("{:.1}", w.start),
                format!("{:.1}", w.end),
                if w.reverted {
                    "reverted".into()
                } else {
                    "<strong>not reverted</strong>".into()
                },
            ]
        })
        .collect();
    for f in r
        .faults
        .iter()
        .filter(|f| !matches!(f.action.as_str(), "inject" | "revert"))
    {
        rows.push(vec![
            esc(&f.fault),
            esc(&f.target),
            format!("{:.1}", f.at_s),
            String::new(),
            format!("{}: {}", esc(&f.action), esc(&f.detail)),
        ]);
    }
    table(
        "faults",
        "Faults",
        &["fault", "target", "injected s", "reverted s", "state"],
        rows,
    )
}

pub fn remediations(r: &RunReport) -> String {
    if r.remediations.is_empty() {
        return String::new();
    }
    let rows = r
        .remediations
        .iter()
        .map(|d| {
            vec![
                d.id.to_string(),
                d.at_s
                    .map_or("after the steps".into(), |s| format!("{s:.0} s")),
                esc(&d.remedy),
                format!(
                    "<code>{}</code>{}",
                    esc(&d.trigger),
                    if d.predicted { " (predicted)" } else { "" }
                ),
                esc(&d.action),
                esc(&name(&d.mode)),
                esc(&name(&d.result)),
                esc(&name(&d.verification)),
                esc(d.detail.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    table(
        "remediations",
        "Remediation decisions",
        &[
            "#",
            "at",
            "remedy",
            "trigger",
            "action",
            "mode",
            "result",
            "verification",
            "detail",
        ],
        rows,
    )
}

/// A serialisable enum as the JSON report spells it.
fn name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(v) => v.to_string(),
        Err(_) => String::new(),
    }
}

pub fn expectations(r: &RunReport) -> String {
    let rows = r
        .expectations
        .iter()
        .map(|e| {
            vec![
                if e.passed {
                    "<span class=\"ok\">pass</span>".into()
                } else {
                    "<span class=\"bad\">FAIL</span>".into()
                },
                esc(&e.text),
                esc(&e.scope),
                esc(&e.observed),
            ]
        })
        .collect();
    table(
        "expectations",
        "Expectations",
        &["verdict", "expectation", "scope", "observed"],
        rows,
    )
}

pub fn steps(r: &RunReport) -> String {
    if r.steps.is_empty() {
        return String::new();
    }
    let rows = r
        .steps
        .iter()
        .map(|s| {
            vec![
                esc(&s.step),
                esc(&s.traffic),
                format!("{:.0}–{:.0}", s.start_s, s.start_s + s.length_s),
                format!("{:.1} {}/s", s.planned_rps, esc(&s.unit)),
                format!("{:.1}", s.achieved_rps),
                if s.short {
                    format!("<span class=\"bad\">short {:.1}%</span>", s.short_pct)
                } else {
                    format!("{:+.1}%", -s.short_pct)
                },
            ]
        })
        .collect();
    table(
        "steps",
        "Load steps: planned against sent",
        &["step", "traffic", "s", "planned", "sent", ""],
        rows,
    )
}

pub fn skipped(r: &RunReport) -> String {
    if r.skipped.is_empty() {
        return String::new();
    }
    let rows = r
        .skipped
        .iter()
        .map(|s| vec![esc(&s.how), esc(&s.part), esc(&s.name), esc(&s.reason)])
        .collect();
    table(
        "skipped",
        "Not run as written",
        &["how", "part", "name", "reason"],
        rows,
    )
}

pub fn events(r: &RunReport) -> String {
    if r.events.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<section id=\"events\"><details><summary>Events</summary><ol class=\"events\">",
    );
    for e in &r.events {
        let _ = write!(
            out,
            "<li><span class=\"t\">{:.1} s</span> <strong>{}</strong> {}</li>",
            e.at_s,
            esc(&e.kind),
            esc(&e.detail)
        );
    }
    out.push_str("</ol></details></section>");
    out
}
