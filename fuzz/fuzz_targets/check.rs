//! Text → check → plan: never panics, every span lies inside its file, rendering works.
#![no_main]

use libfuzzer_sys::fuzz_target;
use res::diagnostic::{render_all, Diagnostic, RenderOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let checked = res::check::check_source("fuzz.res", text, &res::check::Options::default());
    let mut diags = checked.diagnostics.clone();
    if !diags.iter().any(Diagnostic::is_error) {
        if let Err(more) = res::plan::plan_checked(&checked, None) {
            diags.extend(more);
        }
    }
    for d in &diags {
        let len = checked.sources.get(d.file).text.len();
        assert!(d.span.start <= d.span.end && d.span.end <= len, "{d:?}");
    }
    let _ = render_all(&diags, &checked.sources, RenderOptions { color: false, width: 100 });
});
