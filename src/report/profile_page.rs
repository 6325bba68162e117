//! `res profile report -o FILE.html`: the resilience profile over time, as one
//! self-contained HTML page like the run report ([`super::html`]).
//!
//! Each run is derived on its own ([`crate::profile::derive`]) to give, per service, its
//! sustainable rate, knee and recovery time in that run; the charts draw them run after run
//! (oldest first) with a least-squares trend line per service. Below: the fault deltas of
//! the whole history, and every stored prediction held against what a later run measured
//! ([`crate::predict::score`]).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::chart::{self, Line, TimeChart};
use super::html::esc;
use crate::predict::history::History;
use crate::profile::derive::{self, Slo};
use crate::profile::{ProfileError, ProfileStore, RunSummary};

/// Per service, per metric: (run index, value) of the runs that gave a value.
type PerRun = BTreeMap<String, BTreeMap<&'static str, Vec<(f64, f64)>>>;

const METRICS: [(&str, &str, &str); 3] = [
    ("sustainable", "Sustainable rate per run", "requests/s"),
    ("knee", "Knee per run", "requests/s"),
    ("recovery", "Recovery per run", "seconds"),
];

fn wanted(system: Option<&str>, service: &str) -> bool {
    system.is_none_or(|s| {
        service
            .strip_prefix(s)
            .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// Least squares through `pts`: the line's two ends over the points' x range.
pub fn trend(pts: &[(f64, f64)]) -> Option<Vec<(f64, f64)>> {
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let slope = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    let (x0, x1) = (pts[0].0, pts[pts.len() - 1].0);
    let at = |x: f64| (my + slope * (x - mx)).max(0.0);
    Some(vec![(x0, at(x0)), (x1, at(x1))])
}

/// The page. `label` names the database for the reader; `now` is when it was written.
pub fn to_html(
    store: &ProfileStore,
    system: Option<&str>,
    slo: &Slo,
    label: &str,
    now: &str,
) -> Result<String, ProfileError> {
    let mut runs: Vec<RunSummary> = store
        .runs()?
        .into_iter()
        .filter(|r| r.outcome != "running")
        .collect();
    runs.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    let obs = store.observations(&runs)?;
    let mut per_run: PerRun = BTreeMap::new();
    let mut rows = Vec::new();
    for (i, o) in obs.iter().enumerate() {
        let p = derive::derive(std::slice::from_ref(o), slo);
        for s in p.services.iter().filter(|s| wanted(system, &s.service)) {
            let m = per_run.entry(s.service.clone()).or_default();
            let mut put = |k: &'static str, v: Option<f64>| {
                if let Some(v) = v {
                    m.entry(k).or_default().push((i as f64, v));
                }
            };
            put("sustainable", s.sustainable_rps);
            put("knee", s.knee_rps);
            put("recovery", s.recovery_s);
            rows.push((i, s.clone()));
        }
    }
    let overall = derive::derive(&obs, slo);
    let mut out = String::with_capacity(64 * 1024);
    let title = match system {
        Some(s) => format!("Resilience profile of {s}"),
        None => "Resilience profile".to_string(),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"color-scheme\" content=\"light dark\"><title>{t}</title><style>{css}</style></head>\
         <body><main><header><h1>{t}</h1><dl class=\"meta\"><div><dt>database</dt><dd><code>{db}</code></dd></div>\
         <div><dt>runs</dt><dd>{n}</dd></div><div><dt>SLO</dt><dd>p99 ≤ {p99} ms, errors ≤ {err}%</dd></div>\
         <div><dt>written</dt><dd>{now}</dd></div></dl></header>",
        t = esc(&title),
        css = super::html::CSS,
        db = esc(label),
        n = runs.len(),
        p99 = slo.p99.ms(),
        err = slo.errors.0,
        now = esc(now),
    );
    if runs.is_empty() {
        out.push_str("<p>No runs recorded yet.</p>");
    }
    let services: Vec<&String> = per_run.keys().collect();
    if !services.is_empty() && !runs.is_empty() {
        out.push_str("<section><h2>Over the runs</h2><ul class=\"legend\">");
        for (i, s) in services.iter().enumerate() {
            let _ = write!(
                out,
                "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
                chart::css_color(i),
                esc(s)
            );
        }
        out.push_str("<li>dashed: trend (least squares)</li></ul>");
        for (key, title, unit) in METRICS {
            let mut lines = Vec::new();
            for (i, s) in services.iter().enumerate() {
                let pts = per_run[*s].get(key).cloned().unwrap_or_default();
                if let Some(t) = trend(&pts) {
                    lines.push(Line {
                        service: (*s).clone(),
                        metric: "trend",
                        color: i,
                        points: t,
                        dots: false,
                    });
                }
                lines.push(Line {
                    service: (*s).clone(),
                    metric: key,
                    color: i,
                    points: pts,
                    dots: true,
                });
            }
            if lines.iter().all(|l| l.points.is_empty()) {
                let _ = write!(
                    out,
                    "<figure id=\"{key}\"><figcaption>{title}</figcaption><p>No run gave one yet.</p></figure>"
                );
                continue;
            }
            let c = TimeChart {
                id: key.to_string(),
                y_desc: unit.to_string(),
                x_desc: "run (oldest first)".into(),
                height: 300,
                x: -0.2..(runs.len() as f64 - 0.8).max(1.0),
                lines,
                bands: Vec::new(),
                markers: Vec::new(),
                integer_x: true,
            };
            let svg = chart::render(&c).map_err(ProfileError::Invalid)?;
            let _ = write!(
                out,
                "<figure><figcaption>{title}</figcaption><div class=\"chartbox\">{svg}</div></figure>"
            );
        }
        out.push_str("</section>");
    }
    out.push_str(&runs_table(&runs, &rows));
    out.push_str(&faults_table(&overall, system));
    out.push_str(&predictions(store, system)?);
    out.push_str("</main></body></html>\n");
    Ok(out)
}

fn opt(v: Option<f64>, d: usize) -> String {
    v.map_or("–".into(), |v| format!("{v:.d$}"))
}

fn runs_table(runs: &[RunSummary], rows: &[(usize, derive::ServiceProfile)]) -> String {
    let mut out = String::from(
        "<section id=\"runs\"><h2>Runs</h2><div class=\"tablebox\"><table><thead><tr><th>#</th><th>run</th><th>started</th><th>scenario</th><th>outcome</th><th>service</th><th>sustainable rps</th><th>knee rps</th><th>recovery s</th><th>p99 ms (clean)</th></tr></thead><tbody>",
    );
    for (i, s) in rows {
        let r = &runs[*i];
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            r.id,
            esc(&r.started_at),
            esc(&r.scenario),
            esc(&r.outcome),
            esc(&s.service),
            if s.sustainable_is_lower_bound { "≥ " } else { "" },
            opt(s.sustainable_rps, 1),
            opt(s.knee_rps, 1),
            opt(s.recovery_s, 1),
            opt(s.baseline_p99_ms, 1),
        );
    }
    out.push_str("</tbody></table></div></section>");
    out
}

fn faults_table(p: &derive::Profile, system: Option<&str>) -> String {
    let mut out = String::from(
        "<section id=\"faults\"><h2>Fault deltas (all runs)</h2><div class=\"tablebox\"><table><thead><tr><th>service</th><th>fault kind</th><th>seconds</th><th>p99 Δ ms (95 % CI)</th><th>p50 Δ ms</th><th>error rate Δ</th><th>recovery s</th><th>not recovered</th></tr></thead><tbody>",
    );
    let services: Vec<_> = p
        .services
        .iter()
        .filter(|s| wanted(system, &s.service))
        .collect();
    if services.iter().all(|s| s.faults.is_empty()) {
        return "<section id=\"faults\"><h2>Fault deltas (all runs)</h2><p>No fault recorded.</p></section>".into();
    }
    for s in services {
        for (kind, f) in &s.faults {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&s.service),
                esc(kind),
                f.seconds,
                opt(f.p99_delta_ms, 1),
                f.p99_delta_ci95
                    .map_or(String::new(), |c| format!(" ({:.1} … {:.1})", c[0], c[1])),
                opt(f.p50_delta_ms, 1),
                f.error_rate_delta
                    .map_or("–".into(), |v| format!("{:+.2}%", v * 100.0)),
                opt(f.recovery_s, 1),
                f.not_recovered
            );
        }
    }
    out.push_str("</tbody></table></div></section>");
    out
}

/// Per quantity, each scored prediction (in the order they were made) beside what was
/// measured: dots per service, `data-metric` `predicted` or `measured`.
fn scored_charts(scored: &[crate::predict::score::Scored]) -> Result<String, ProfileError> {
    let mut by_quantity: BTreeMap<&str, Vec<&crate::predict::score::Scored>> = BTreeMap::new();
    for s in scored {
        by_quantity
            .entry(s.prediction.quantity.as_str())
            .or_default()
            .push(s);
    }
    let mut out = String::new();
    for (quantity, mut list) in by_quantity {
        list.sort_by(|a, b| a.prediction.made_at.cmp(&b.prediction.made_at));
        let services: Vec<&str> = {
            let mut v: Vec<&str> = list.iter().map(|s| s.prediction.service.as_str()).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let mut lines = Vec::new();
        for (i, svc) in services.iter().enumerate() {
            let pick = |f: fn(&crate::predict::score::Scored) -> f64| -> Vec<(f64, f64)> {
                list.iter()
                    .enumerate()
                    .filter(|(_, s)| s.prediction.service == *svc)
                    .map(|(k, s)| (k as f64, f(s)))
                    .collect()
            };
            for (metric, f) in [
                (
                    "predicted",
                    (|s: &crate::predict::score::Scored| s.prediction.point) as fn(&_) -> f64,
                ),
                ("measured", |s: &crate::predict::score::Scored| s.measured),
            ] {
                lines.push(Line {
                    service: svc.to_string(),
                    metric,
                    color: i,
                    points: pick(f),
                    dots: true,
                });
            }
        }
        let c = TimeChart {
            id: format!("predicted-{quantity}"),
            y_desc: quantity.to_string(),
            x_desc: "scored prediction (oldest first)".into(),
            height: 280,
            x: -0.2..(list.len() as f64 - 0.8).max(1.0),
            lines,
            bands: Vec::new(),
            markers: Vec::new(),
            integer_x: true,
        };
        let svg = chart::render(&c).map_err(ProfileError::Invalid)?;
        let _ = write!(
            out,
            "<figure><figcaption>{} predicted (filled) against measured (hollow)</figcaption><div class=\"chartbox\">{svg}</div></figure>",
            esc(quantity)
        );
    }
    Ok(out)
}

fn predictions(store: &ProfileStore, system: Option<&str>) -> Result<String, ProfileError> {
    let all =
        crate::predict::store::list(store).map_err(|e| ProfileError::Invalid(e.to_string()))?;
    let all: Vec<_> = all
        .into_iter()
        .filter(|p| wanted(system, &p.service))
        .collect();
    let history = History::read(store, system)?;
    let scores = crate::predict::score::score(&all, &history);
    let mut out = format!(
        "<section id=\"predictions\"><h2>Predicted against measured</h2><p>{} scored, {} waiting for a run to measure them; the 90 % interval held {:.0}% of the measurements.</p>",
        scores.scored.len(),
        scores.pending,
        scores.coverage * 100.0
    );
    if scores.scored.is_empty() {
        out.push_str("</section>");
        return Ok(out);
    }
    out.push_str(&scored_charts(&scores.scored)?);
    out.push_str("<div class=\"tablebox\"><table><thead><tr><th>made</th><th>service</th><th>quantity</th><th>at rate</th><th>predicted (90 % interval)</th><th>measured</th><th>error</th><th>held</th></tr></thead><tbody>");
    for s in &scores.scored {
        let p = &s.prediction;
        let _ = write!(
            out,
            "<tr data-service=\"{}\" data-quantity=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.2} ({:.2} … {:.2})</td><td>{:.2}</td><td>{:+.1}%</td><td>{}</td></tr>",
            esc(&p.service),
            esc(&p.quantity),
            esc(&p.made_at),
            esc(&p.service),
            esc(&p.quantity),
            p.at_rate,
            p.point,
            p.lo,
            p.hi,
            s.measured,
            s.relative_error * 100.0,
            if s.covered {
                "<span class=\"ok\">yes</span>"
            } else {
                "<span class=\"bad\">no</span>"
            }
        );
    }
    out.push_str("</tbody></table></div></section>");
    Ok(out)
}
