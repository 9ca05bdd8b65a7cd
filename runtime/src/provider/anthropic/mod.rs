//! The Anthropic Messages wire format as the gateway passes it through: the
//! stream's events observed for usage and the end (`stream.rs`), usage in a
//! whole answer, and Anthropic's explicit stream error event. The request head is the same
//! shape as a chat completion's (`model`, `messages`, `stream`) and is read
//! by `provider::openai::parse`.

mod stream;

pub use stream::{AnthropicObserver, usage_in_message};
