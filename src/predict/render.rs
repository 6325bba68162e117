//! The text form of a verdict, and the number and time formats its sentences use.

use std::fmt::Write;

use super::service::CapacityMethod;
use super::verdict::Verdict;
use crate::units::{civil_from_days, Timestamp};

/// A number rounded to an integer with thousands separators: `1,840`.
pub fn thousands(x: f64) -> String {
    let x = if x.is_finite() { x.round() } else { 0.0 };
    let digits = format!("{}", x.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

/// `Tue 2026-12-08 14:00 UTC`.
pub fn human_time(t: Timestamp) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let days = t.0.div_euclid(86_400);
    let secs = t.0.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{} {y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        DAYS[days.rem_euclid(7) as usize],
        secs / 3600,
        secs % 3600 / 60
    )
}

fn method(m: CapacityMethod) -> &'static str {
    match m {
        CapacityMethod::MeasuredPlateau => "measured plateau",
        CapacityMethod::Usl => "scalability law",
        CapacityMethod::KneeOnly => "knee only",
        CapacityMethod::LowerBound => "at least, no limit seen",
    }
}

/// The verdict as the terminal shows it.
pub fn text(v: &Verdict) -> String {
    let mut out = String::new();
    let runs: Vec<String> = v.runs.iter().map(|r| r.to_string()).collect();
    let _ = writeln!(
        out,
        "prediction from {} run(s) ({}), models {}",
        v.runs.len(),
        runs.join(", "),
        v.model_version
    );
    for s in &v.services {
        let m = &s.model;
        let c = m.capacity.rate;
        let _ = writeln!(
            out,
            "\n{}: capacity {} req/s (90 %: {}–{}, {}), measured {}–{} req/s over {} load levels",
            s.service,
            thousands(c.point),
            thousands(c.lo),
            thousands(c.hi),
            method(m.capacity.method),
            thousands(m.measured_min_rate),
            thousands(m.measured_max_rate),
            m.distinct_load_levels
        );
        if let (Some(u), Some(d)) = (&m.usl, &m.diagnostics) {
            let peak = u
                .peak_concurrency()
                .map(|n| format!("{n:.1}"))
                .unwrap_or_else(|| "none".into());
            let _ = writeln!(
                out,
                "  scalability: α {:.4}, β {:.3e}, γ {:.2}, N* {peak}; R² {:.3}, residual sd {:.1}, {} levels",
                u.alpha, u.beta, u.gamma, d.r_squared, d.residual_sd, d.distinct_levels
            );
        }
        if let Some(note) = &m.note {
            let _ = writeln!(out, "  {note}");
        }
        if let Some(r) = m.since_run {
            let _ = writeln!(
                out,
                "  the system changed: older runs measured it as it no longer is, so this model uses run #{r} and newer"
            );
        }
        if let Some(k) = m.knee_rate {
            let _ = writeln!(out, "  latency knee at {} req/s", thousands(k));
        }
        if let (Some(p), Some(a)) = (&s.peak, &s.at_peak) {
            let when =
                p.at.map(|t| format!(" ({})", human_time(t)))
                    .unwrap_or_default();
            let _ = writeln!(
                out,
                "  at {} req/s{when}: p99 {} ms (90 %: {}–{}), errors {:.2} %, saturation {:.0} %{}",
                thousands(p.rate),
                thousands(a.p99_ms.value.point),
                thousands(a.p99_ms.value.lo),
                thousands(a.p99_ms.value.hi),
                a.error_rate.value.point * 100.0,
                a.saturation.value.point * 100.0,
                if a.p99_ms.extrapolated { " — extrapolated" } else { "" }
            );
        }
        if let Some(h) = s.headroom {
            let _ = writeln!(out, "  headroom {h:.2}×");
        }
        match &s.first_breach {
            Some(b) => {
                let _ = writeln!(out, "  BREACH {}", b.sentence);
            }
            None => {
                let _ = writeln!(out, "  no SLO breach predicted");
            }
        }
        if let Some(u) = &s.untested {
            let _ = writeln!(
                out,
                "  untested: the load ({} req/s) lies beyond anything measured (up to {} req/s): run a test at {} req/s",
                thousands(u.forecast_rate),
                thousands(u.measured_max_rate),
                thousands(u.test_rate)
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(1840.4), "1,840");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1234567.0), "1,234,567");
        assert_eq!(thousands(f64::NAN), "0");
        let t = Timestamp::parse("2026-12-08T14:00Z").unwrap();
        assert_eq!(human_time(t), "Tue 2026-12-08 14:00 UTC");
    }
}
