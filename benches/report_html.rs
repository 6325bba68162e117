//! Benchmark: writing the HTML report of a 1-hour run with 20 services (72,000 per-second
//! points, a fault every ten minutes).
//!
//! Goal (issue 17): under 200 ms, and a page under 2 MB (the size is also asserted by
//! tests/it/report.rs; the time only here). Prints the page's size beside criterion's output.
//!
//! `cargo bench --bench report_html` — on a quiet machine.

use criterion::{criterion_group, criterion_main, Criterion};
use res::report::{FaultEvent, RunReport, SeriesPoint, ServiceSummary};

fn hour_of_twenty() -> RunReport {
    let mut r = RunReport {
        duration_s: 3600.0,
        ..RunReport::empty("scenarios/soak.res", "soak", 1, "2026-12-07T10:00:00Z")
    };
    for s in 0..20 {
        let service = format!("shop.service{s}");
        for t in 0..3600u64 {
            let p99 = 20.0 + 80.0 * ((t as f64) / 60.0 + s as f64).sin().abs();
            r.series.push(SeriesPoint {
                t,
                service: service.clone(),
                rps: 100.0 + (t % 13) as f64,
                offered_rps: 100.0,
                concurrency: 4,
                p50_ms: p99 / 3.0,
                p90_ms: p99 / 1.5,
                p99_ms: p99,
                p999_ms: p99 * 1.2,
                max_ms: p99 * 1.5,
                errors: t % 5,
                errors_by_kind: Default::default(),
            });
        }
        r.services.insert(
            service,
            ServiceSummary {
                requests: 360_000,
                rps: 100.0,
                ..Default::default()
            },
        );
    }
    for k in 0..6u64 {
        let at = (k * 600 + 120) as f64;
        r.faults.push(FaultEvent::new(
            at,
            format!("f{k}"),
            "inject",
            "shop.service1",
            "latency",
        ));
        r.faults.push(FaultEvent::new(
            at + 60.0,
            format!("f{k}"),
            "revert",
            "shop.service1",
            "",
        ));
    }
    r
}

fn bench(c: &mut Criterion) {
    let r = hour_of_twenty();
    let size = res::report::to_html(&r, &[]).map(|h| h.len()).unwrap_or(0);
    println!("HTML report of 1 h × 20 services: {size} bytes");
    c.bench_function("html report, 1 h × 20 services", |b| {
        b.iter(|| res::report::to_html(&r, &[]))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
