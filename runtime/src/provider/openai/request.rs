//! The few fields of a chat completion request that routing needs, and the
//! `model` rewrite.
//!
//! The body is validated as JSON in one pass, but only `model`, `messages`
//! (presence and shape) and `stream` (type only) are looked at; every other field,
//! unknown ones included, is forwarded byte for byte. The rewrite splices the
//! upstream model name into the original bytes at the `model` value's span,
//! so the body is never re-serialised. Not here: forwarding (`api/chat.rs`).

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::GatewayError;

/// What routing needs from a chat completion body.
#[derive(Debug)]
pub struct ChatHead<'a> {
    /// Public model name as sent.
    pub model: Cow<'a, str>,
    /// Byte range of the `model` value (including quotes) in the body.
    pub model_span: std::ops::Range<usize>,
    /// `"stream": true` (the same field in both protocols).
    pub stream: bool,
    /// The `messages` array as sent (counted only when a model limits it).
    pub messages: &'a RawValue,
    /// The raw `max_tokens` (both protocols) or `max_completion_tokens`
    /// (OpenAI) value, parsed only when a quota or a model limit needs it.
    max_tokens: Option<&'a RawValue>,
}

impl ChatHead<'_> {
    /// `max_tokens` (or `max_completion_tokens`) when a non-negative
    /// integer; anything else is left to the upstream to judge.
    pub fn max_tokens(&self) -> Option<u64> {
        self.max_tokens.and_then(|raw| raw.get().parse().ok())
    }

    /// How many messages the request sends (parses the array's elements).
    pub fn message_count(&self) -> usize {
        serde_json::from_str::<Vec<serde::de::IgnoredAny>>(self.messages.get())
            .map_or(0, |m| m.len())
    }
}

#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(borrow)]
    model: Option<&'a RawValue>,
    #[serde(borrow)]
    messages: Option<&'a RawValue>,
    /// Also parsed so a non-boolean `stream` is a 400 here, not an upstream error.
    stream: Option<bool>,
    #[serde(borrow)]
    max_tokens: Option<&'a RawValue>,
    #[serde(borrow)]
    max_completion_tokens: Option<&'a RawValue>,
}

/// Parses and validates the head of a chat completion body.
pub fn parse(body: &[u8]) -> Result<ChatHead<'_>, GatewayError> {
    let text = std::str::from_utf8(body).map_err(|error| {
        GatewayError::InvalidJson(format!(
            "the body is not valid UTF-8 (byte {})",
            error.valid_up_to()
        ))
    })?;
    if !text.trim_start().starts_with('{') {
        return Err(GatewayError::InvalidJson(
            "the body must be a JSON object".into(),
        ));
    }
    let fields: Fields<'_> =
        serde_json::from_str(text).map_err(|error| GatewayError::InvalidJson(error.to_string()))?;
    let raw_model = fields
        .model
        .filter(|raw| raw.get() != "null")
        .ok_or(GatewayError::MissingField("model"))?;
    let model: Cow<'_, str> =
        serde_json::from_str(raw_model.get()).map_err(|_| GatewayError::InvalidField {
            param: "model",
            message: "'model' must be a string naming one of the models from GET /v1/models."
                .into(),
        })?;
    let messages = fields
        .messages
        .filter(|raw| raw.get() != "null")
        .ok_or(GatewayError::MissingField("messages"))?;
    if !messages.get().starts_with('[') {
        return Err(GatewayError::InvalidField {
            param: "messages",
            message: "'messages' must be an array.".into(),
        });
    }
    let start = raw_model.get().as_ptr() as usize - text.as_ptr() as usize;
    Ok(ChatHead {
        model,
        model_span: start..start + raw_model.get().len(),
        stream: fields.stream.unwrap_or(false),
        messages,
        max_tokens: fields.max_tokens.or(fields.max_completion_tokens),
    })
}

/// The body with the `model` value replaced by `upstream_model_json` (an
/// already JSON-encoded string). Returns the original bytes untouched when
/// the value is already byte-identical.
pub fn rewrite_model(
    body: Bytes,
    span: std::ops::Range<usize>,
    upstream_model_json: &[u8],
) -> Bytes {
    if body.get(span.clone()) == Some(upstream_model_json) {
        return body;
    }
    // A span outside the body, or reversed, leaves it untouched.
    let (Some(_), Some(before), Some(after)) = (
        body.get(span.clone()),
        body.get(..span.start),
        body.get(span.end..),
    ) else {
        return body;
    };
    let mut out = BytesMut::with_capacity(before.len() + upstream_model_json.len() + after.len());
    out.extend_from_slice(before);
    out.extend_from_slice(upstream_model_json);
    out.extend_from_slice(after);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(body: &str) -> GatewayError {
        parse(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn extracts_model_stream_and_span() {
        let body = br#"{"messages":[{"role":"user","content":"hi"}], "model" : "gpt", "stream":true, "x":{"y":1}}"#;
        let head = parse(body).unwrap();
        assert_eq!(head.model, "gpt");
        assert_eq!(&body[head.model_span.clone()], br#""gpt""#);
    }

    #[test]
    fn rewrite_preserves_every_other_byte() {
        let body = Bytes::from_static(
            br#"{ "model":"pub\u0041", "unknown_field": [1, 2.50, "s"], "messages":[] }"#,
        );
        let head = parse(&body).unwrap();
        assert_eq!(head.model, "pubA");
        let span = head.model_span.clone();
        let out = rewrite_model(body.clone(), span, br#""upstream-x""#);
        assert_eq!(
            &out[..],
            br#"{ "model":"upstream-x", "unknown_field": [1, 2.50, "s"], "messages":[] }"#
        );
    }

    #[test]
    fn rewrite_to_same_name_is_zero_copy() {
        let body = Bytes::from_static(br#"{"model":"same","messages":[]}"#);
        let span = parse(&body).unwrap().model_span;
        let out = rewrite_model(body.clone(), span, br#""same""#);
        assert_eq!(out.as_ptr(), body.as_ptr());
    }

    #[test]
    fn rejects_bad_bodies_with_specific_errors() {
        assert!(matches!(
            parse_err("not json"),
            GatewayError::InvalidJson(_)
        ));
        assert!(matches!(parse_err("[1,2]"), GatewayError::InvalidJson(_)));
        assert!(matches!(
            parse_err(r#"{"model":"m","messages":[]"#),
            GatewayError::InvalidJson(_)
        ));
        assert!(matches!(
            parse_err(r#"{"model":"a","model":"b","messages":[]}"#),
            GatewayError::InvalidJson(_)
        ));
        assert_eq!(
            parse_err(r#"{"messages":[]}"#),
            GatewayError::MissingField("model")
        );
        assert_eq!(
            parse_err(r#"{"model":null,"messages":[]}"#),
            GatewayError::MissingField("model")
        );
        assert_eq!(
            parse_err(r#"{"model":"m"}"#),
            GatewayError::MissingField("messages")
        );
        assert!(matches!(
            parse_err(r#"{"model":3,"messages":[]}"#),
            GatewayError::InvalidField { param: "model", .. }
        ));
        assert!(matches!(
            parse_err(r#"{"model":"m","messages":"hi"}"#),
            GatewayError::InvalidField {
                param: "messages",
                ..
            }
        ));
        assert!(matches!(
            parse_err(r#"{"model":"m","messages":[],"stream":"yes"}"#),
            GatewayError::InvalidJson(_)
        ));
        assert!(
            matches!(parse(b"{\"model\":\"\xff\",\"messages\":[]}").unwrap_err(), GatewayError::InvalidJson(m) if m.contains("UTF-8"))
        );
    }
}
