//! JUnit XML: one test suite per run, one test case per expectation and one per fault
//! window (did the fault's revert happen?), so CI systems show resilience expectations
//! beside unit tests. The structure validates against the Jenkins xUnit plugin's published
//! JUnit schema (tests/it/support/junit-10.xsd, checked by tests/it/report.rs).

use std::fmt::Write;

use super::{Outcome, RunReport};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn to_junit(r: &RunReport) -> String {
    let windows = super::html::fault_windows(r);
    let failures = r.expectations.iter().filter(|e| !e.passed).count()
        + windows.iter().filter(|w| !w.reverted).count();
    let errors = usize::from(matches!(r.outcome, Outcome::Aborted | Outcome::Error));
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\" timestamp=\"{}\">",
        escape(&r.scenario),
        r.expectations.len() + windows.len() + errors,
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
    for w in &windows {
        let name = escape(&format!(
            "fault {} on {} reverted ({:.1}s–{:.1}s)",
            w.fault, w.target, w.start, w.end
        ));
        if w.reverted {
            let _ = writeln!(
                out,
                "  <testcase classname=\"{}.faults\" name=\"{name}\"/>",
                escape(&r.scenario)
            );
        } else {
            let _ = writeln!(
                out,
                "  <testcase classname=\"{}.faults\" name=\"{name}\">\n    <failure message=\"the fault was still in place when the run ended, or its revert failed: `res recover` reverts it\"/>\n  </testcase>",
                escape(&r.scenario)
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
