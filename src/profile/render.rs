//! The `res profile` output for people: aligned tables and short sentences. The JSON forms
//! are the serialised structs themselves (schemas in docs/profile-*.schema.json).

use std::fmt::Write;

use super::compare::{p_text, Comparison};
use super::derive::{FaultImpact, Profile};
use super::store::{RunDetail, RunSummary};

/// Left-aligned columns, two spaces apart; numeric columns right-aligned.
fn table(header: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(c.chars().count());
            if i > 0 {
                s.push_str("  ");
            }
            if right.get(i).copied().unwrap_or(false) {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    for r in rows {
        line(r.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

fn opt(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) => format!("{}{unit}", num(v)),
        None => "-".into(),
    }
}

fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn signed(v: f64) -> String {
    if v >= 0.0 {
        format!("+{}", num(v))
    } else {
        num(v)
    }
}

pub fn list(runs: &[RunSummary]) -> String {
    if runs.is_empty() {
        return "no runs recorded\n".into();
    }
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                r.started_at.clone(),
                r.scenario.clone(),
                r.outcome.clone(),
                r.seed.to_string(),
                r.file.clone(),
            ]
        })
        .collect();
    table(
        &["ID", "STARTED", "SCENARIO", "OUTCOME", "SEED", "FILE"],
        &rows,
        &[true, false, false, false, true, false],
    )
}

pub fn show(d: &RunDetail) -> String {
    let r = &d.run;
    let mut out = String::new();
    let _ = writeln!(out, "run {}: scenario {} ({})", r.id, r.scenario, r.file);
    let _ = writeln!(
        out,
        "outcome {}{}, seed {}, file hash {}{}",
        r.outcome,
        if r.complete { "" } else { " (not finished)" },
        r.seed,
        r.file_hash,
        r.git_commit
            .as_ref()
            .map(|c| format!(", commit {}", &c[..c.len().min(12)]))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "started {}{}",
        r.started_at,
        r.ended_at
            .as_ref()
            .map(|e| format!(", ended {e}"))
            .unwrap_or_default()
    );
    out.push('\n');
    if d.services.is_empty() {
        out.push_str("no seconds recorded\n");
    } else {
        let rows: Vec<Vec<String>> = d
            .services
            .iter()
            .map(|s| {
                vec![
                    s.service.clone(),
                    s.seconds.to_string(),
                    num(s.mean_rps),
                    num(s.max_offered_rps),
                    num(s.median_p99_ms),
                    num(s.max_p99_ms),
                    s.errors.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "SERVICE",
                "SECONDS",
                "RPS",
                "MAX OFFERED",
                "P99 MS",
                "MAX P99 MS",
                "ERRORS",
            ],
            &rows,
            &[false, true, true, true, true, true, true],
        ));
    }
    if !d.faults.is_empty() {
        out.push_str("\nfaults:\n");
        for f in &d.faults {
            let _ = writeln!(
                out,
                "  {:>7.1}s  {} {} ({}) on {}{}",
                f.at_s,
                f.action,
                f.fault,
                f.kind,
                if f.target.is_empty() { "-" } else { &f.target },
                if f.params.is_empty() {
                    String::new()
                } else {
                    format!(": {}", f.params)
                }
            );
        }
    }
    if !d.aborts.is_empty() {
        out.push_str("\naborts:\n");
        for a in &d.aborts {
            let _ = writeln!(out, "  {:>7.1}s  {}: {}", a.at_s, a.kind, a.detail);
        }
    }
    if !d.remediations.is_empty() {
        out.push_str("\nremediations:\n");
        for m in &d.remediations {
            let _ = writeln!(
                out,
                "  {:>7.1}s  {} → {}",
                m.at_s,
                m.action,
                m.outcome.as_deref().unwrap_or("?")
            );
        }
    }
    if !d.expectations.is_empty() {
        out.push_str("\nexpectations:\n");
        for e in &d.expectations {
            let _ = writeln!(
                out,
                "  {} {} [{}]: {}",
                if e.passed { "✓" } else { "✗" },
                e.text,
                e.scope,
                e.observed
            );
        }
    }
    out
}

pub fn services(p: &Profile) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "SLO: p99 ≤ {} ms and errors ≤ {}%, from {} run{}",
        num(p.slo.p99_ms),
        num(p.slo.error_rate * 100.0),
        p.runs,
        if p.runs == 1 { "" } else { "s" }
    );
    if p.services.is_empty() {
        out.push_str("no service has recorded seconds\n");
        return out;
    }
    out.push('\n');
    let rows: Vec<Vec<String>> = p
        .services
        .iter()
        .map(|s| {
            vec![
                s.service.clone(),
                match s.sustainable_rps {
                    Some(v) if s.sustainable_is_lower_bound => format!("≥{} rps", num(v)),
                    v => opt(v, " rps"),
                },
                opt(s.knee_rps, " rps"),
                opt(s.recovery_s, " s"),
                opt(s.baseline_p99_ms, " ms"),
                opt(s.baseline_error_rate.map(|e| e * 100.0), "%"),
                s.clean_seconds.to_string(),
            ]
        })
        .collect();
    out.push_str(&table(
        &[
            "SERVICE",
            "SUSTAINABLE",
            "KNEE",
            "RECOVERY",
            "BASE P99",
            "BASE ERRORS",
            "CLEAN S",
        ],
        &rows,
        &[false, true, true, true, true, true, true],
    ));
    for s in &p.services {
        if s.faults.is_empty() && s.trend.is_none() {
            continue;
        }
        let _ = writeln!(out, "\n{}", s.service);
        for (kind, f) in &s.faults {
            let _ = writeln!(out, "  under {kind}: {}", fault_line(f));
        }
        if let Some(t) = &s.trend {
            let slope = match (t.p99_slope_ms_per_run, t.p99_slope_ci95) {
                (Some(v), Some([a, b])) => {
                    format!("p99 {} ms/run [{}, {}]", signed(v), num(a), num(b))
                }
                _ => "p99 slope needs 3 runs".into(),
            };
            let recent = t
                .recent
                .as_ref()
                .map(|r| {
                    format!(
                        "; last {} vs earlier {}: p99 {} ms (p = {})",
                        r.recent_runs,
                        r.earlier_runs,
                        signed(r.p99_delta_ms),
                        p_text(r.p99_p_value)
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  trend over {} runs: {slope}{recent}",
                t.run_ids.len()
            );
        }
    }
    out
}

fn fault_line(f: &FaultImpact) -> String {
    let mut parts = Vec::new();
    if f.matched_seconds == 0 {
        parts.push(format!(
            "{} second{}, none at a load also seen without a fault: no deltas",
            f.seconds,
            if f.seconds == 1 { "" } else { "s" }
        ));
    } else {
        parts.push(format!(
            "p99 {}{} (p = {}), p50 {}, errors {} pp over {} of {} seconds",
            f.p99_delta_ms
                .map(|v| format!("{} ms", signed(v)))
                .unwrap_or("-".into()),
            f.p99_delta_ci95
                .map(|[a, b]| format!(" [{}, {}]", num(a), num(b)))
                .unwrap_or_default(),
            p_text(f.p99_p_value),
            f.p50_delta_ms
                .map(|v| format!("{} ms", signed(v)))
                .unwrap_or("-".into()),
            f.error_rate_delta
                .map(|v| signed(v * 100.0))
                .unwrap_or("-".into()),
            f.matched_seconds,
            f.seconds,
        ));
    }
    match (f.recovery_s, f.recoveries + f.not_recovered) {
        (_, 0) => {}
        (Some(r), n) => parts.push(format!(
            "recovered in {} s ({} of {n} reverts)",
            num(r),
            f.recoveries
        )),
        (None, n) => parts.push(format!(
            "not recovered after {n} revert{}",
            if n == 1 { "" } else { "s" }
        )),
    }
    parts.join("; ")
}

pub fn compare(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {} ({}, {}) → run {} ({}, {})",
        c.a.id, c.a.scenario, c.a.outcome, c.b.id, c.b.scenario, c.b.outcome
    );
    let rows: Vec<Vec<String>> = c
        .services
        .iter()
        .map(|s| {
            vec![
                s.service.clone(),
                format!("{} → {}", opt(s.p99_ms_a, ""), opt(s.p99_ms_b, "")),
                p_text(s.p99_p_value),
                format!(
                    "{} → {}",
                    opt(s.error_rate_a.map(|e| e * 100.0), "%"),
                    opt(s.error_rate_b.map(|e| e * 100.0), "%")
                ),
                p_text(s.error_rate_p_value),
                if s.p99_worse || s.error_rate_worse {
                    "worse".into()
                } else {
                    "-".into()
                },
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&table(
        &["SERVICE", "P99 MS", "P", "ERRORS", "P", "VERDICT"],
        &rows,
        &[false, true, true, true, true, false],
    ));
    let _ = writeln!(
        out,
        "\nsignificance: one-sided Mann–Whitney U, each test at {:.4} (α = {} over {} tests)",
        c.threshold,
        c.alpha,
        (c.alpha / c.threshold).round()
    );
    if c.worse.is_empty() {
        out.push_str("nothing got significantly worse\n");
    } else {
        out.push_str("worse:\n");
        for w in &c.worse {
            let _ = writeln!(out, "  {w}");
        }
    }
    out
}
