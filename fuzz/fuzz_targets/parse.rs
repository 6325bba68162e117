//! Bytes → decode → parse: never panics, every span lies inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (text, _) = res::syntax::decode(data, 0);
    let parsed = res::syntax::parse(&text, 0);
    for d in &parsed.diagnostics {
        assert!(d.span.start <= d.span.end && d.span.end <= text.len(), "{d:?}");
    }
});
