//! JUnit XML: one test suite per run, one test case per expectation, so CI systems show
//! resilience expectations beside unit tests.

use std::fmt::Write;

use super::{Outcome, RunReport};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn to_junit(r: &RunReport) -> String {
    let failures = r.expectations.iter().filter(|e| !e.passed).count();
    let errors = usize::from(matches!(r.outcome, Outcome::Aborted | Outcome::Error));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\" timestamp=\"{}\">",
        escape(&r.scenario),
        r.expectations.len() + errors,
        r.duration_s,
        escape(&r.started_at)
    );
    for e in &r.expectations {
        let name = escape(&format!("{} ({})", e.text, e.scope));
        if e.passed {
            let _ = writeln!(
                out,
                "  <testcase classname=\"{}\" name=\"{name}\"/>",
                escape(&r.scenario)
            );
        } else {
            let _ = writeln!(
                out,
                "  <testcase classname=\"{}\" name=\"{name}\">\n    <failure message=\"{}\"/>\n  </testcase>",
                escape(&r.scenario),
                escape(&e.observed)
            );
        }
    }
    if errors > 0 {
        let reason = r
            .reason
            .clone()
            .unwrap_or_else(|| "the run did not finish".into());
        let _ = writeln!(
            out,
            "  <testcase classname=\"{}\" name=\"run\">\n    <error message=\"{}\"/>\n  </testcase>",
            escape(&r.scenario),
            escape(&reason)
        );
    }
    out.push_str("</testsuite>\n");
    out
}
