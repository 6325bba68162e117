//! Benchmark: check + plan of a generated 10,000-line scenario file.
//!
//! Goal (issue 2): under 100 ms on a 2-core machine, memory under 50 MB. Criterion measures
//! the time; a counting allocator measures the peak heap of one check + plan, printed
//! beside criterion's output. Figures are recorded in docs/benchmarks.md.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// A valid scenario of about `lines` lines that uses every kind of declaration.
pub fn generate(lines: usize) -> String {
    let mut s = String::with_capacity(lines * 40);
    let services = (lines / 16).max(4);
    let faults = (lines / 12).max(2);
    let steps = (lines / 8).max(2);
    s.push_str(
        "param margin = 1.2x\n\nsystem shop {\n  base \"http://127.0.0.1:8080\"\n  timeout 5s\n",
    );
    for i in 0..services {
        s.push_str(&format!("  service s{i} {{\n    route GET \"/s{i}/items\" expect status 2xx\n    timeout 2s\n  }}\n"));
    }
    s.push_str("}\n\ntraffic base_load {\n  rate 100/s * margin\n  arrival poisson\n  ramp 0/s -> rate over 10s\n  hold 20s\n  mix {\n");
    for i in 0..services {
        let share = if i == 0 {
            100.0 - (services - 1) as f64 * (100.0 / services as f64)
        } else {
            100.0 / services as f64
        };
        s.push_str(&format!("    shop.s{i}: {share}%,\n"));
    }
    s.push_str("  }\n}\n\n");
    for i in 0..faults {
        s.push_str(&format!(
            "fault f{i} {{\n  on shop.s{}\n  latency {}ms jitter 5ms\n  errors 503 at 5%\n  toxicity 50%\n}}\n",
            i % services,
            10 + i % 100
        ));
    }
    s.push_str("\nslo ok {\n");
    for i in 0..services {
        s.push_str(&format!("  p99(shop.s{i}) < 400ms\n"));
    }
    s.push_str("  error_rate(shop) < 1%\n}\n\nwindow nightly { every day 00:00..23:59 UTC }\n\nscenario big {\n  in nightly\n");
    s.push_str("  step load0 = load base_load for 30s\n");
    for i in 1..steps {
        if i % 2 == 0 {
            s.push_str(&format!(
                "  step load{i} = load base_load after load{} for 1s\n",
                i - 2
            ));
        } else {
            s.push_str(&format!(
                "  step chaos{i} = inject f{} with load{} for 1s\n",
                i % faults,
                i - 1
            ));
        }
    }
    s.push_str("  expect ok during load0\n  abort when error_rate(shop) > 50% for 10s\n  record profile\n}\n");
    s
}

fn check_and_plan(text: &str) -> usize {
    let checked = res::check::check_source("bench.res", text, &res::check::Options::default());
    let model = checked.model.as_ref().expect("the generated file is valid");
    let plan = res::plan::plan(model, checked.root, None).expect("the generated file plans");
    plan.graph.node_count()
}

fn bench(c: &mut Criterion) {
    let text = generate(10_000);
    let lines = text.lines().count();
    let checked = res::check::check_source("bench.res", &text, &res::check::Options::default());
    if checked.has_errors() {
        let r =
            res::diagnostic::render_all(&checked.diagnostics, &checked.sources, Default::default());
        panic!("generated file has errors:\n{r}");
    }
    drop(checked);
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t0 = std::time::Instant::now();
    let nodes = check_and_plan(&text);
    let once = t0.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    println!(
        "check+plan: {lines} lines, {} KiB, {nodes} plan nodes: one run {:.1} ms, peak heap {:.1} MB (goals: < 100 ms, < 50 MB)",
        text.len() / 1024,
        once.as_secs_f64() * 1000.0,
        peak as f64 / 1_048_576.0
    );
    let mut group = c.benchmark_group("check_plan");
    group.sample_size(20);
    group.bench_function("10k_lines", |b| b.iter(|| check_and_plan(&text)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
