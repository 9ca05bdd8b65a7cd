//! The OpenAI chat completions wire format: the request head the gateway
//! routes on and the model splice (`request.rs`), the `usage` scanner
//! (`usage.rs`), and what the relay needs of its SSE stream (`stream.rs`).

mod request;
mod stream;
mod usage;

pub use request::{ChatHead, parse, rewrite_model};
pub use stream::SseObserver;
pub use usage::{Usage, anthropic_usage_in, usage_in};
