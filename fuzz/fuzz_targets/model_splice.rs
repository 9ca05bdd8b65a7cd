//! Fuzz target: for a body the parser accepts, splicing in another model
//! keeps every byte outside the span and re-parses with the new model; any
//! span at all (taken from the input's first bytes) never panics.
#![no_main]

use gateway_runtime::fuzzing;

/// Replacement names: empty, plain, every escape class, and one from the input.
const NAMES: [&str; 3] = ["", "gpt-4o-mini", "q\"b\\s/\u{0}\n\u{7f}é💥\u{2028}"];

libfuzzer_sys::fuzz_target!(|body: &[u8]| {
    let tail = String::from_utf8_lossy(&body[body.len().saturating_sub(16)..]);
    for name in NAMES.iter().copied().chain([&*tail]) {
        if let Err(broken) = fuzzing::check_splice(body, name) {
            panic!("{broken}");
        }
    }
    let start = usize::from(body.first().copied().unwrap_or(0));
    let end = usize::from(body.get(1).copied().unwrap_or(0));
    if let Err(broken) = fuzzing::check_splice_any_span(body, start..end, b"\"m\"") {
        panic!("{broken}");
    }
});
