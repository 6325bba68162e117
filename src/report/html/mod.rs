//! `--report html=FILE`: one self-contained HTML page of a run — no script, no network, no
//! font files — that opens from an email attachment.
//!
//! Charts are SVG drawn by [`super::chart`] (throughput, latency p50/p99 and errors per
//! service over time, with the fault windows shaded and the remediation decisions marked)
//! and [`super::gantt`] (the plan's steps). The tables ([`tables`]) keep the exact figures;
//! the charts are thinned to what a 1,920-px screen shows. The page follows the reader's
//! light or dark colour scheme and reflows on a phone.

mod style;
mod tables;

use std::collections::BTreeMap;
use std::fmt::Write;

use super::chart::{self, Band, Line, Marker, TimeChart};
use super::gantt::{self, PlanRow};
use super::{Outcome, RunReport};

pub use style::CSS;

/// Escapes text for HTML and XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The verdict in capitals, as the terminal summary says it.
pub fn verdict(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Incomplete => "INCOMPLETE",
        Outcome::Aborted => "ABORTED",
        Outcome::Error => "ERROR",
    }
}

/// A fault's time on its target: from the inject to the revert (or the run's end).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultWindow {
    pub fault: String,
    pub target: String,
    pub start: f64,
    pub end: f64,
    /// Whether a revert was recorded (false: still in place when the run ended, or failed).
    pub reverted: bool,
}

/// Pairs each inject with the next revert of the same fault on the same target.
pub fn fault_windows(r: &RunReport) -> Vec<FaultWindow> {
    let mut open: BTreeMap<(String, String), f64> = BTreeMap::new();
    let mut out = Vec::new();
    for f in &r.faults {
        let key = (f.fault.clone(), f.target.clone());
        match f.action.as_str() {
            "inject" => {
                open.insert(key, f.at_s);
            }
            "revert" | "revert_failed" => {
                if let Some(start) = open.remove(&key) {
                    out.push(FaultWindow {
                        fault: key.0,
                        target: key.1,
                        start,
                        end: f.at_s,
                        reverted: f.action == "revert",
                    });
                }
            }
            _ => {}
        }
    }
    for ((fault, target), start) in open {
        out.push(FaultWindow {
            fault,
            target,
            start,
            end: r.duration_s,
            reverted: false,
        });
    }
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    out
}

/// The services of the run, in a stable order: those with a summary, then any that only
/// appear in the series.
fn services(r: &RunReport) -> Vec<String> {
    let mut names: Vec<String> = r.services.keys().cloned().collect();
    for p in &r.series {
        if !names.contains(&p.service) {
            names.push(p.service.clone());
        }
    }
    names
}

/// Per service, its series as (t, point) in time order.
fn by_service(r: &RunReport) -> BTreeMap<&str, Vec<&super::SeriesPoint>> {
    let mut m: BTreeMap<&str, Vec<&super::SeriesPoint>> = BTreeMap::new();
    for p in &r.series {
        m.entry(p.service.as_str()).or_default().push(p);
    }
    for v in m.values_mut() {
        v.sort_by_key(|p| p.t);
    }
    m
}

/// The three time charts: throughput, latency (p50 dashed, p99 solid) and errors.
fn time_charts(r: &RunReport) -> Result<Vec<(&'static str, String)>, String> {
    let names = services(r);
    let series = by_service(r);
    let end = r
        .series
        .iter()
        .map(|p| p.t as f64 + 1.0)
        .fold(r.duration_s, f64::max)
        .max(1.0);
    let bands: Vec<Band> = fault_windows(r)
        .into_iter()
        .map(|w| Band {
            label: format!("{} on {}", w.fault, w.target),
            start: w.start,
            end: w.end,
        })
        .collect();
    let markers = || -> Vec<Marker> {
        r.remediations
            .iter()
            .map(|d| Marker {
                label: format!("#{} {}", d.id, d.remedy),
                at: d.at_s.unwrap_or(end),
                attrs: format!(
                    "data-remedy=\"{}\" data-decision=\"{}\" data-timed=\"{}\"",
                    esc(&d.remedy),
                    d.id,
                    d.at_s.is_some()
                ),
            })
            .collect()
    };
    let cols = chart::columns();
    let line = |name: &str,
                i: usize,
                metric: &'static str,
                peak: bool,
                f: fn(&super::SeriesPoint) -> f64| {
        let pts: Vec<(f64, f64)> = series
            .get(name)
            .map(|v| v.iter().map(|p| (p.t as f64 + 0.5, f(p))).collect())
            .unwrap_or_default();
        Line {
            service: name.to_string(),
            metric,
            color: i,
            points: chart::downsample(&pts, cols, peak),
            dots: false,
        }
    };
    let mk = |id: &str, y: &str, lines: Vec<Line>| TimeChart {
        id: id.into(),
        y_desc: y.into(),
        x_desc: "seconds since the start".into(),
        height: 340,
        x: 0.0..end,
        lines,
        bands: bands
            .iter()
            .map(|b| Band {
                label: b.label.clone(),
                start: b.start,
                end: b.end,
            })
            .collect(),
        markers: markers(),
        integer_x: false,
    };
    let enumerate = || names.iter().enumerate();
    let rps = mk(
        "throughput",
        "requests/s",
        enumerate()
            .map(|(i, n)| line(n, i, "rps", false, |p| p.rps))
            .collect(),
    );
    let mut lat = Vec::new();
    for (i, n) in enumerate() {
        lat.push(line(n, i, "p99", true, |p| p.p99_ms));
        lat.push(line(n, i, "p50", false, |p| p.p50_ms));
    }
    let latency = mk("latency", "latency, ms", lat);
    let errors = mk(
        "errors",
        "errors/s",
        enumerate()
            .map(|(i, n)| line(n, i, "errors", false, |p| p.errors as f64))
            .collect(),
    );
    Ok(vec![
        ("Throughput", chart::render(&rps)?),
        ("Latency (p99 solid, p50 dashed)", chart::render(&latency)?),
        ("Errors", chart::render(&errors)?),
    ])
}

fn legend(r: &RunReport) -> String {
    let mut out = String::from("<ul class=\"legend\">");
    for (i, n) in services(r).iter().enumerate() {
        let _ = write!(
            out,
            "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
            chart::css_color(i),
            esc(n)
        );
    }
    if !r.faults.is_empty() {
        out.push_str("<li><span class=\"swatch fault\"></span>fault window</li>");
    }
    if !r.remediations.is_empty() {
        out.push_str("<li><span class=\"swatch remedy\"></span>remediation decision</li>");
    }
    out.push_str("</ul>");
    out
}

/// The whole page. `plan` is the execution plan's steps ([`PlanRow::from_plan`]); empty
/// leaves the Gantt chart out.
pub fn to_html(r: &RunReport, plan: &[PlanRow]) -> Result<String, String> {
    let mut out = String::with_capacity(64 * 1024 + r.series.len() * 64);
    let title = format!("{} — {}", r.scenario, verdict(r.outcome));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\">\
         <meta name=\"generator\" content=\"res {}\"><title>{}</title><style>{}</style></head>\
         <body data-outcome=\"{:?}\"><main>",
        esc(&r.res_version),
        esc(&title),
        style::CSS,
        r.outcome
    );
    let _ = write!(
        out,
        "<header><h1>{} <span class=\"verdict {}\">{}</span></h1>",
        esc(&r.scenario),
        verdict(r.outcome).to_lowercase(),
        verdict(r.outcome)
    );
    if let Some(reason) = &r.reason {
        let _ = write!(out, "<p class=\"reason\">{}</p>", esc(reason));
    }
    out.push_str(&tables::metadata(r));
    out.push_str("</header>");
    out.push_str(&tables::services(r));
    if !r.series.is_empty() {
        out.push_str("<section><h2>Over time</h2>");
        out.push_str(&legend(r));
        for (title, svg) in time_charts(r)? {
            let _ = write!(
                out,
                "<figure><figcaption>{title}</figcaption><div class=\"chartbox\">{svg}</div></figure>"
            );
        }
        out.push_str("</section>");
    }
    out.push_str(&tables::faults(&fault_windows(r), r));
    out.push_str(&tables::remediations(r));
    if !plan.is_empty() {
        let total = plan.iter().map(|p| p.end_s).fold(0.0, f64::max);
        let _ = write!(
            out,
            "<section><h2>Plan</h2><figure><figcaption>Steps as planned: <span class=\"k load\">load</span> <span class=\"k fault\">fault</span> <span class=\"k wait\">wait</span></figcaption><div class=\"chartbox\">{}</div></figure></section>",
            gantt::render(plan, total)?
        );
    }
    out.push_str(&tables::expectations(r));
    out.push_str(&tables::steps(r));
    out.push_str(&tables::skipped(r));
    out.push_str(&tables::events(r));
    let _ = writeln!(
        out,
        "<footer>written by res {} · seed {} · rerun with <code>res run {} --seed {}</code></footer></main></body></html>",
        esc(&r.res_version),
        r.seed,
        esc(&r.file),
        r.seed
    );
    Ok(out)
}
