//! The terminal summary printed at the end of `res run`: it says what the JSON report knows —
//! what was learned and forecast, planned against achieved rate per step, where the run was
//! recorded, and every part that was skipped or only advised (the verdict is then
//! INCOMPLETE, never PASS).

use std::fmt::Write;

use super::{Outcome, RunReport};

pub fn to_summary(r: &RunReport) -> String {
    let mut out = String::new();
    let verdict = match r.outcome {
        Outcome::Pass => "PASS",
        Outcome::Fail => "FAIL",
        Outcome::Incomplete => "INCOMPLETE",
        Outcome::Aborted => "ABORTED",
        Outcome::Error => "ERROR",
    };
    let _ = writeln!(
        out,
        "\nscenario {} — {} in {:.1}s (seed {})",
        r.scenario, verdict, r.duration_s, r.seed
    );
    if let Some(reason) = &r.reason {
        let _ = writeln!(out, "reason: {reason}");
    }
    for l in &r.learned {
        let _ = writeln!(
            out,
            "learned {}: {} lines, {} requests, {} endpoints, {} sessions from {}; forecast peak {:.1}/s at {}",
            l.traffic, l.lines, l.requests, l.endpoints, l.sessions, l.log, l.peak_rps, l.peak_at
        );
    }
    if !r.steps.is_empty() {
        let _ = writeln!(out, "\nload steps (planned → sent):");
        for s in &r.steps {
            let unit = if s.unit == "sessions" {
                " sessions"
            } else {
                ""
            };
            let mark = if s.short { "SHORT" } else { "ok   " };
            let _ = writeln!(
                out,
                "  {mark} {} ({}, {:.0}s): planned {:.1}{unit}/s, sent {:.1}{unit}/s ({:+.1}%)",
                s.step, s.traffic, s.length_s, s.planned_rps, s.achieved_rps, -s.short_pct
            );
        }
    }
    if !r.skipped.is_empty() {
        let _ = writeln!(out, "\nnot run as written:");
        for s in &r.skipped {
            let _ = writeln!(out, "  {} {} {}: {}", s.how, s.part, s.name, s.reason);
        }
    }
    if !r.services.is_empty() {
        let width = r.services.keys().map(|k| k.len()).max().unwrap_or(7).max(7);
        let _ = writeln!(
            out,
            "\n{:<width$} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "service",
            "requests",
            "errors",
            "rps",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms"
        );
        for (name, s) in &r.services {
            let l = &s.latency_ms;
            let _ = writeln!(
                out,
                "{:<width$} {:>9} {:>8} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                name, s.requests, s.errors, s.rps, l.p50, l.p90, l.p99, l.p999, l.max
            );
            if !s.errors_by_kind.is_empty() {
                let kinds: Vec<String> = s
                    .errors_by_kind
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect();
                let _ = writeln!(out, "{:<width$}   errors: {}", "", kinds.join(", "));
            }
        }
    }
    if let Some(lag) = &r.send_lag_ms {
        let _ = writeln!(
            out,
            "\nsend lag: median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            lag.median_ms, lag.p99_ms, lag.max_ms
        );
    }
    if !r.faults.is_empty() {
        let _ = writeln!(out, "\nfaults:");
        for f in &r.faults {
            let _ = writeln!(
                out,
                "  {:>7.1}s  {:<7} {} on {} {}",
                f.at_s, f.action, f.fault, f.target, f.detail
            );
        }
    }
    let remedy_events: Vec<&str> = r
        .events
        .iter()
        .filter(|e| e.kind == "remediate")
        .map(|e| e.detail.as_str())
        .collect();
    if !remedy_events.is_empty() || !r.remediations.is_empty() {
        let _ = writeln!(out, "\nremedies:");
        for e in remedy_events {
            let _ = writeln!(out, "  {e}");
        }
        for d in &r.remediations {
            let _ = writeln!(
                out,
                "  decision {} {}: {} {} ({}){}{}",
                d.id,
                d.remedy,
                d.mode.name(),
                d.action,
                d.result.name(),
                if d.verified { ", verified" } else { "" },
                if d.undone { ", undone" } else { "" }
            );
        }
    }
    for p in &r.predictions {
        let _ = writeln!(
            out,
            "\npredictions (from {} run(s), {}):",
            p.verdict.runs.len(),
            p.verdict.model_version
        );
        for s in &p.verdict.services {
            let c = s.model.capacity.rate;
            let headroom = s
                .headroom
                .map(|h| format!(", headroom {h:.2}×"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}: capacity {:.0} ± {:.0} req/s{headroom}",
                s.service,
                c.point,
                c.half_width()
            );
            if let Some(b) = &s.first_breach {
                let _ = writeln!(out, "    BREACH {}", b.sentence);
            }
            if let Some(u) = &s.untested {
                let _ = writeln!(
                    out,
                    "    untested beyond {:.0} req/s: run a test at {:.0} req/s",
                    u.measured_max_rate, u.test_rate
                );
            }
        }
    }
    if !r.expectations.is_empty() {
        let _ = writeln!(out, "\nexpectations:");
        for e in &r.expectations {
            let mark = if e.passed { "ok  " } else { "FAIL" };
            let _ = writeln!(out, "  {mark} {} ({}): {}", e.text, e.scope, e.observed);
        }
    }
    match &r.recorded {
        Some(at) => {
            let _ = writeln!(out, "\nrecorded as {at}");
        }
        None if r.shard.is_some() => {
            let _ = writeln!(
                out,
                "\nnot recorded: a shard's run is recorded once, by `res merge`"
            );
        }
        None => {
            let _ = writeln!(out, "\nnot recorded (--no-record)");
        }
    }
    out
}
