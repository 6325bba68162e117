//! The human summary `res learn` prints: what was read, what was learned.

use std::fmt::Write;

use super::forecast::history::supports;
use super::forecast::human_span;
use super::histogram::Quantiles;
use super::profile::TrafficProfile;
use crate::units::{trim, Duration};

/// Three significant digits, no trailing zeros: 26.9, 0.0123, 1500.
fn sig3(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    let digits = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn rate(per_s: f64) -> String {
    if per_s >= 1.0 || per_s == 0.0 {
        format!("{}/s", trim((per_s * 100.0).round() / 100.0))
    } else if per_s * 60.0 >= 1.0 {
        format!("{}/m", trim((per_s * 6000.0).round() / 100.0))
    } else {
        format!("{}/h", trim((per_s * 360_000.0).round() / 100.0))
    }
}

fn size(q: &Quantiles) -> String {
    let f = |b: f64| crate::units::Bytes(b.round()).to_string();
    format!("p50 {} p99 {}", f(q.p50), f(q.p99))
}

/// The summary printed by `res learn`.
pub fn summary(p: &TrafficProfile) -> String {
    let mut o = String::new();
    let s = &p.source;
    let _ = writeln!(o, "learned from {} ({})", s.files.join(", "), s.format);
    let _ = write!(o, "  lines      {} read, {} used", s.lines, p.requests);
    if s.bad_lines > 0 {
        let _ = write!(o, ", {} unusable", s.bad_lines);
        if s.clock_jumps > 0 {
            let _ = write!(o, " ({} clock jumps)", s.clock_jumps);
        }
    }
    let _ = writeln!(o);
    for b in &s.bad_examples {
        let _ = writeln!(o, "    {b}");
    }
    if (s.bad_examples.len() as u64) < s.bad_lines {
        let _ = writeln!(
            o,
            "    … and {} more",
            s.bad_lines - s.bad_examples.len() as u64
        );
    }
    let _ = write!(
        o,
        "  span       {} .. {} ({})",
        s.first,
        s.last,
        Duration::from_secs(s.span_s.round())
    );
    if s.gap_count > 0 {
        let _ = write!(o, ", covered {}", human_span(s.covered_s));
    }
    let _ = writeln!(o);
    if s.gap_count > 0 {
        let longest = s
            .gaps
            .iter()
            .max_by(|a, b| a.duration_s.total_cmp(&b.duration_s));
        let _ = write!(o, "  gaps       {}", s.gap_count);
        if let Some(g) = longest {
            let _ = write!(
                o,
                " (the longest {}, {} .. {})",
                human_span(g.duration_s),
                g.from,
                g.to
            );
        }
        let _ = writeln!(
            o,
            ": the log stopped, so this is missing data, not zero traffic"
        );
    }
    let r = &p.rate;
    let thin = if r.peak_hour_coverage < 0.999 {
        format!(
            " (over the {} of it the log covers)",
            human_span(r.peak_hour_coverage * 3600.0)
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "  rate       mean {}, busiest hour {} at {}{thin}, trend {:+.1}%/week ({} basis)",
        rate(r.mean_per_s),
        rate(r.peak_hour_per_s),
        r.peak_hour_at,
        r.trend_per_week * 100.0,
        r.trend_basis
    );
    let _ = writeln!(o, "  forecast   {}", supports(s.covered_s / 3600.0));
    let a = &p.arrival;
    let params = match a.law.as_str() {
        "gamma" => format!(
            ", gaps Gamma(shape {}, rate {})",
            a.shape.unwrap_or(0.0),
            a.rate.unwrap_or(0.0)
        ),
        "lognormal" => format!(
            ", gaps LogNormal(mu {}, sigma {})",
            a.mu.unwrap_or(0.0),
            a.sigma.unwrap_or(0.0)
        ),
        _ => String::new(),
    };
    let _ = writeln!(
        o,
        "  arrivals   {} (dispersion {}{params}, fitted on {})",
        a.law,
        sig3(a.dispersion),
        a.fitted_on
    );
    let _ = writeln!(o, "  endpoints  {}", p.endpoints.len());
    let width = p
        .endpoints
        .iter()
        .map(|e| e.method.len() + e.template.len() + 1)
        .max()
        .unwrap_or(0)
        .min(60);
    for e in p.endpoints.iter().take(20) {
        let name = format!("{} {}", e.method, e.template);
        let mut line = format!("    {:>6}  {name:<width$}", pct(e.share));
        let ok: f64 = e
            .status
            .iter()
            .filter(|(k, _)| k.starts_with('2') || k.starts_with('3'))
            .map(|(_, v)| v)
            .sum();
        let _ = write!(line, "  ok {}", pct(ok));
        if let Some(q) = &e.response_bytes {
            let _ = write!(line, "  resp {}", size(q));
        }
        if let Some(q) = &e.service_time_ms {
            let _ = write!(line, "  time p50 {}ms p99 {}ms", sig3(q.p50), sig3(q.p99));
        }
        let _ = writeln!(o, "{}", line.trim_end());
    }
    if p.endpoints.len() > 20 {
        let _ = writeln!(o, "    … and {} more", p.endpoints.len() - 20);
    }
    let ss = &p.sessions;
    let _ = write!(
        o,
        "  sessions   {} (idle cut-off {})",
        ss.count,
        Duration::from_secs(ss.idle_cutoff_s)
    );
    if let Some(q) = &ss.requests_per_session {
        let _ = write!(o, ", median {} requests per session", sig3(q.p50));
    }
    let _ = writeln!(o);
    for st in ss.chain.iter().take(8) {
        let next: Vec<String> = st
            .next
            .iter()
            .take(4)
            .map(|t| format!("{} {}", t.to, pct(t.p)))
            .collect();
        let think = st
            .think_s
            .as_ref()
            .map(|q| format!("  (think p50 {}s)", sig3(q.p50)))
            .unwrap_or_default();
        let _ = writeln!(o, "    {} → {}{think}", st.from, next.join(", "));
    }
    o
}
