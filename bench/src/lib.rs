//! Shared pieces of the benchmark tools in `src/bin/`: flag parsing, the
//! error-and-exit convention, the mock's fixed OpenAI payloads, an SSE
//! parser, an HTTP/1.1 client connection, percentiles and process plumbing.
//!
//! This is not a benchmark framework: each binary is a small program that
//! does one measurement job; the orchestration (which arms, rounds, reports)
//! lives in `bench/run`.

pub mod args;
pub mod client;
pub mod error;
pub mod openai;
pub mod process;
pub mod sse;
pub mod stats;

pub use error::Failure;
