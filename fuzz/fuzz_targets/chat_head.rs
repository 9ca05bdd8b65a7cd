//! Fuzz target: the chat request-head parser on any bytes never panics, and
//! a body it accepts has its model's JSON string at the span it reports.
#![no_main]

use gateway_runtime::fuzzing;

libfuzzer_sys::fuzz_target!(|body: &[u8]| {
    if let Err(broken) = fuzzing::check_chat_head(body) {
        panic!("{broken}");
    }
});
