//! Wire formats, one module per format: what a request and an answer look
//! like on that wire, how to read the little the gateway needs from them
//! (model, usage, end of stream) and how to pass a stream through while
//! observing it. The built-in `mock` answers in the OpenAI format in-process.
//!
//! Providers receive what they need (metrics, a drain watch, ids), never the
//! whole gateway state.

pub mod anthropic;
pub mod lines;
pub mod mock;
mod mock_tools;
pub mod openai;
pub mod relay;
pub mod translated;
