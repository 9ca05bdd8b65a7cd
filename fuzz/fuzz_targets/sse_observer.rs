//! Fuzz target: the SSE observer on any stream never panics, and gives the
//! same `[DONE]` and usage whether the stream arrives in one frame, byte by
//! byte, cut around every newline, or cut at a stride the input chooses.
#![no_main]

use gateway_runtime::fuzzing;

libfuzzer_sys::fuzz_target!(|stream: &[u8]| {
    let _ = fuzzing::usage(stream);
    let newlines: Vec<usize> = (0..stream.len())
        .filter(|&at| stream[at] == b'\n')
        .flat_map(|at| [at, at + 1])
        .collect();
    let stride = usize::from(stream.first().copied().unwrap_or(0) % 31) + 1;
    let strided: Vec<usize> = (0..stream.len()).step_by(stride).collect();
    for cuts in [newlines, strided, vec![stream.len() / 2]] {
        if let Err(broken) = fuzzing::check_sse_chunking(stream, &cuts) {
            panic!("{broken}");
        }
    }
});
