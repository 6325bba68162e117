//! The end-of-run summary of `res load`: throughput, latency percentiles (from the intended
//! send time and from the actual send), errors by kind and send lag.

use std::fmt::Write;

use super::result::{LoadResult, Percentiles, ServiceTotals};

/// The summary as text, one table; `target` and `setup` head it.
pub fn render(result: &LoadResult, target: &str, setup: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "target     {target}");
    let _ = writeln!(out, "load       {setup}");
    let _ = writeln!(
        out,
        "requests   {} in {:.2}s: {:.1} req/s{}",
        result.requests,
        result.duration_s,
        result.achieved_rps,
        if result.model == "closed" {
            String::new()
        } else {
            format!(" (intended {}, unsent {})", result.intended, result.unsent)
        }
    );
    let _ = writeln!(out, "{}", errors_line(&result.total));
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "latency (ms)", "p50", "p90", "p99", "p99.9", "max", "mean"
    );
    let row = |out: &mut String, name: &str, p: &Percentiles| {
        let _ = writeln!(
            out,
            "{name:<22} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            p.p50, p.p90, p.p99, p.p999, p.max, p.mean
        );
    };
    if result.model == "closed" {
        row(&mut out, "response time", &result.total.latency_ms);
    } else {
        row(&mut out, "from intended send", &result.total.latency_ms);
        row(&mut out, "service time", &result.total.service_time_ms);
    }
    if result.services.len() > 1 {
        for s in &result.services {
            row(&mut out, &format!("  {}", s.service), &s.latency_ms);
        }
    }
    if result.model != "closed" {
        let l = &result.send_lag_ms;
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "send lag   p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms",
            l.p50_ms, l.p99_ms, l.max_ms
        );
    }
    out
}

/// The status codes received, then the errors by kind: `status     200 ×950, 503 ×50` and
/// `errors     50 (5.00%): unexpected status 50`.
fn errors_line(t: &ServiceTotals) -> String {
    let codes: Vec<String> = t
        .statuses
        .iter()
        .map(|(code, n)| format!("{code} ×{n}"))
        .collect();
    let statuses = if codes.is_empty() {
        "status     no responses".to_string()
    } else {
        format!("status     {}", codes.join(", "))
    };
    if t.errors == 0 {
        return format!("{statuses}\nerrors     0");
    }
    let kinds: Vec<String> = t
        .errors_by_kind
        .nonzero()
        .map(|(k, n)| match k {
            super::ErrorKind::Status => format!("unexpected status {n}"),
            k => format!("{} {n}", k.name()),
        })
        .collect();
    format!(
        "{statuses}\nerrors     {} ({:.2}%): {}",
        t.errors,
        100.0 * t.errors as f64 / t.requests.max(1) as f64,
        kinds.join(", ")
    )
}
