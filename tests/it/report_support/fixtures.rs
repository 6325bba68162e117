//! Hand-made run reports: an hour of 20 services (the size goal) and one whose every name is
//! hostile (markup, quotes, ampersands, pipes, emoji).

use res::report::*;

fn point(t: u64, service: &str, rps: f64, p99: f64, errors: u64) -> SeriesPoint {
    SeriesPoint {
        t,
        service: service.into(),
        rps,
        offered_rps: rps,
        concurrency: 3,
        p50_ms: p99 / 3.0,
        p90_ms: p99 / 1.5,
        p99_ms: p99,
        p999_ms: p99 * 1.2,
        max_ms: p99 * 1.5,
        errors,
        errors_by_kind: Default::default(),
    }
}

fn base(scenario: &str, duration: f64) -> RunReport {
    RunReport {
        duration_s: duration,
        ..RunReport::empty("scenarios/x.res", scenario, 1, "2026-12-07T10:00:00Z")
    }
}

/// An hour of 20 services at 100/s with a fault every ten minutes.
pub fn synthetic_report(seconds: u64, services: usize) -> RunReport {
    let mut r = base("soak", seconds as f64);
    for s in 0..services {
        let name = format!("shop.s{s}");
        for t in 0..seconds {
            let wave = ((t as f64) / 60.0).sin().abs();
            r.series
                .push(point(t, &name, 100.0, 20.0 + 80.0 * wave, t % 7));
        }
        r.services.insert(
            name,
            ServiceSummary {
                requests: 100 * seconds,
                rps: 100.0,
                ..Default::default()
            },
        );
    }
    for k in 0..seconds / 600 {
        let at = (k * 600 + 120) as f64;
        r.faults.push(FaultEvent::new(
            at,
            format!("f{k}"),
            "inject",
            "shop.s1",
            "latency 100ms",
        ));
        r.faults.push(FaultEvent::new(
            at + 60.0,
            format!("f{k}"),
            "revert",
            "shop.s1",
            "",
        ));
    }
    r
}

const HOSTILE: &str = "<b>&\"x\" onload='";

pub fn hostile_report() -> RunReport {
    let mut r = base("<script>alert(1)</script> 🔥 & | co", 10.0);
    r.file = "scenarios/a&b <c> \"d\" 🔥.res".into();
    r.outcome = Outcome::Fail;
    r.reason = Some("p99 > 1s & <i>bad</i>".into());
    let svc = format!("shop.{HOSTILE}");
    for t in 0..10 {
        r.series.push(point(t, &svc, 10.0, 50.0, 1));
    }
    r.services.insert(svc.clone(), ServiceSummary::default());
    r.faults.push(FaultEvent::new(
        2.0,
        "slow <&> 🔥",
        "inject",
        &svc,
        "latency",
    ));
    r.faults
        .push(FaultEvent::new(5.0, "slow <&> 🔥", "revert", &svc, ""));
    r.expectations.push(ExpectationResult {
        text: "p99(shop.<b>) < 1s | \"quoted\" & more".into(),
        scope: "during <main>".into(),
        passed: false,
        observed: "p99 = 2s <script>".into(),
    });
    r.events.push(RunEvent {
        at_s: 1.0,
        kind: "<kind>".into(),
        detail: "& <i>".into(),
    });
    r
}

pub fn hostile_plan() -> Vec<PlanRow> {
    vec![PlanRow {
        step: "step <one> & \"two\" 🔥".into(),
        kind: "load",
        label: "start load <x>".into(),
        start_s: 0.0,
        end_s: 10.0,
    }]
}
