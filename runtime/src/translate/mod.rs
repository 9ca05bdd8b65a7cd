//! Translation between the OpenAI chat completions protocol and the
//! Anthropic Messages protocol, both ways: requests, responses, streams,
//! errors, and a token estimate for `count_tokens`.
//!
//! A leaf: pure functions and small state machines over bytes, `serde_json`
//! and `bytes`. No I/O, no clock, no tokio, nothing from the rest of the
//! crate. The caller (the messages and chat APIs) picks the direction, sends
//! the bytes, logs and counts what [`Translated::dropped`] names, answers a
//! [`TranslateError`] on a request with a 400 naming the field in the
//! ingress protocol's shape (through the gateway's one error type) and one on
//! an upstream answer with 502. Items used only by this module's tests (the
//! error bodies, the `ChatUpstream` knobs, the POLICY.md renderer) are
//! compiled for tests only until a caller needs them.
//!
//! # Surface
//!
//! OpenAI chat client -> Anthropic upstream:
//! - [`chat_request_to_messages`]: the request; `max_tokens` defaults to the
//!   model's configured default (Anthropic requires it).
//! - [`messages_response_to_chat`]: a plain answer (`created` is passed in:
//!   this module reads no clock).
//! - [`MessagesSseToChat`]: a stream, event by event (`feed` -> the complete
//!   `data: {..}` chunks the bytes finished, as one `Bytes`, possibly empty;
//!   `feed_into` appends to a reused buffer instead; `data: [DONE]` after
//!   `message_stop`; `cut` -> the gateway's explicit `event: error`;
//!   `finished`, `failed`, `usage`).
//!
//! Anthropic client -> OpenAI-compatible upstream (or the built-in mock):
//! - [`messages_request_to_chat`] / [`messages_request_to_chat_for`]: the
//!   request (`stream_options.include_usage` is always asked for, so the
//!   final `message_delta` carries real usage).
//! - [`chat_response_to_messages`]: a plain answer.
//! - [`ChatSseToMessages`]: a stream, the same shape (`message_start` ..
//!   `message_stop` in valid order; `with_input_tokens` for the estimate
//!   `message_start` announces; `ping()` for upstream silence; `cut` ->
//!   Anthropic's `event: error`).
//!
//! Both: [`error_to_anthropic`], [`error_to_openai`] (error bodies with
//! status mapping, e.g. Anthropic 529 `overloaded_error` <-> OpenAI 503), and
//! [`estimate_input_tokens`] + [`count_tokens_body`] for `count_tokens` on a
//! non-Anthropic upstream (answer with [`ESTIMATE_HEADER`]).
//!
//! # Per-field policy
//!
//! Every field is handled on purpose: mapped, dropped (named in
//! [`Translated::dropped`] for a log line and a counter), or rejected with a
//! 400 naming it. The tables are data ([`policy::CHAT_REQUEST`],
//! [`policy::MESSAGES_REQUEST`]); the top-level walk dispatches through them,
//! and `POLICY.md` beside this file is rendered from them (a test keeps it
//! fresh). Unknown top-level fields are never forwarded: they are listed in
//! [`Translated::unknown`]. Unknown nested fields are not carried either:
//! the output is built from typed structs, never by copying objects.
//!
//! Not here: HTTP, routing, metrics, logging, which upstream is which.

mod anthropic_event;
mod chat_media;
mod chat_messages;
mod chat_tools;
mod common;
mod errors;
mod estimate;
mod json;
mod messages_chat;
mod messages_tools;
mod openai_chunk;
pub mod policy;
mod request_chat_to_messages;
mod request_messages_to_chat;
mod response_chat_to_messages;
mod response_messages_to_chat;
pub mod sse;
mod stream_chat_to_messages;
mod stream_messages_to_chat;

#[cfg(test)]
mod tests;

use bytes::Bytes;

pub use errors::{error_to_anthropic, error_to_openai};
pub use estimate::{ESTIMATE_HEADER, count_tokens_body, estimate_input_tokens};
pub use request_chat_to_messages::chat_request_to_messages;
pub use request_messages_to_chat::messages_request_to_chat;
#[cfg(test)]
pub use request_messages_to_chat::{ChatUpstream, MaxTokensField, messages_request_to_chat_for};
pub use response_chat_to_messages::chat_response_to_messages;
pub use response_messages_to_chat::messages_response_to_chat;
pub use stream_chat_to_messages::ChatSseToMessages;
pub use stream_messages_to_chat::MessagesSseToChat;

/// A translated request.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    /// The request body in the upstream's protocol.
    pub body: Bytes,
    /// Fields dropped on purpose (entries of the policy tables, e.g.
    /// `presence_penalty`, `tools[].strict`): one log line and one counter
    /// increment per entry. Each name appears once.
    pub dropped: Vec<&'static str>,
    /// Top-level fields no table knows: not forwarded; for the log line only
    /// (client-chosen names: count them under one label, `unknown`).
    pub unknown: Vec<String>,
    /// The client asked for a stream.
    pub stream: bool,
    /// An OpenAI client asked for the final usage chunk
    /// (`stream_options.include_usage`); pass it to [`MessagesSseToChat::new`].
    pub include_usage: bool,
}

/// Why a body could not be translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TranslateError {
    /// Not JSON, or not a JSON object.
    InvalidJson(String),
    /// A field (or value) the target protocol cannot carry, refused rather
    /// than dropped because the answer would silently differ: 400 naming it.
    Unsupported {
        param: &'static str,
        message: String,
    },
    /// A field with the wrong type or value: 400 naming it.
    Invalid {
        param: &'static str,
        message: String,
    },
}

impl TranslateError {
    pub(crate) fn unsupported(param: &'static str, message: impl Into<String>) -> Self {
        Self::Unsupported {
            param,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(param: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            param,
            message: message.into(),
        }
    }

    #[cfg(test)]
    /// The field at fault, if one is.
    pub fn param(&self) -> Option<&'static str> {
        match self {
            Self::InvalidJson(_) => None,
            Self::Unsupported { param, .. } | Self::Invalid { param, .. } => Some(param),
        }
    }

    #[cfg(test)]
    /// The HTTP status for a request that failed translation (400). An
    /// upstream answer that fails translation is the caller's 502.
    pub fn status(&self) -> u16 {
        400
    }

    #[cfg(test)]
    /// The error as an OpenAI error body (`{"error":{"message","type","param","code"}}`).
    pub fn openai_body(&self) -> Bytes {
        let code = match self {
            Self::InvalidJson(_) => "invalid_json",
            Self::Unsupported { .. } => "unsupported_parameter",
            Self::Invalid { .. } => "invalid_parameter",
        };
        let mut out = Vec::with_capacity(160);
        errors::write_openai_error(
            &mut out,
            "invalid_request_error",
            Some(code),
            self.param(),
            &self.to_string(),
        );
        Bytes::from(out)
    }

    #[cfg(test)]
    /// The error as an Anthropic error body (`{"type":"error","error":{"type","message"}}`).
    pub fn anthropic_body(&self) -> Bytes {
        let mut out = Vec::with_capacity(160);
        errors::write_anthropic_error(&mut out, "invalid_request_error", &self.to_string());
        Bytes::from(out)
    }
}

impl std::fmt::Display for TranslateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidJson(detail) => write!(f, "the body is not a JSON object: {detail}"),
            Self::Unsupported { message, .. } | Self::Invalid { message, .. } => {
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for TranslateError {}
