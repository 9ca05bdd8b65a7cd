//! Error bodies across protocols: an upstream's error answer rewritten in
//! the ingress protocol's shape and status, and the error objects both
//! protocols' streams end with.
//!
//! Shapes: OpenAI `{"error":{"message","type","param","code"}}` (also read:
//! `{"error":"text"}` and vLLM's top-level `{"message","type","code"}`);
//! Anthropic `{"type":"error","error":{"type","message"}}`. Status mapping
//! (docs.anthropic.com/en/api/errors, platform.openai.com/docs/guides/error-codes):
//! 400 invalid_request_error, 401 authentication_error, 402 billing_error,
//! 403 permission_error, 404 not_found_error, 413 request_too_large,
//! 429 rate_limit_error, 500 api_error, 504 timeout_error, and Anthropic's
//! 529 overloaded_error <-> OpenAI 503. Other 4xx keep their status as
//! invalid_request_error, other 5xx as api_error. Not here: errors the
//! gateway makes itself (`error.rs`).

use bytes::Bytes;
use serde_json::Value;

use super::json::push_str;

/// An OpenAI-compatible upstream's error, as an Anthropic client expects it.
pub fn error_to_anthropic(status: u16, openai_body: &[u8]) -> (u16, Bytes) {
    let status = match status {
        503 => 529,
        other => other,
    };
    let message =
        openai_message(openai_body).unwrap_or_else(|| unreadable("an OpenAI", status, openai_body));
    let mut out = Vec::with_capacity(message.len() + 64);
    write_anthropic_error(&mut out, anthropic_type(status), &message);
    (status, Bytes::from(out))
}

/// An Anthropic upstream's error, as an OpenAI client expects it: `code` is
/// Anthropic's error type.
pub fn error_to_openai(status: u16, anthropic_body: &[u8]) -> (u16, Bytes) {
    let parsed = anthropic_error(anthropic_body);
    let status = match status {
        529 => 503,
        other => other,
    };
    let (kind, message) = parsed.unwrap_or_else(|| {
        (
            anthropic_type(status).to_owned(),
            unreadable("an Anthropic", status, anthropic_body),
        )
    });
    let mut out = Vec::with_capacity(message.len() + 96);
    write_openai_error(&mut out, openai_type(status), Some(&kind), None, &message);
    (status, Bytes::from(out))
}

/// Anthropic's error type for an HTTP status.
pub fn anthropic_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        503 | 529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

/// OpenAI's error type for an HTTP status.
pub fn openai_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

/// Anthropic stream-error type for an OpenAI in-stream error's type/code.
pub fn anthropic_type_for_openai(kind: &str) -> &'static str {
    match kind {
        "rate_limit_error" | "rate_limit_exceeded" => "rate_limit_error",
        "overloaded_error" | "server_overloaded" | "overloaded" => "overloaded_error",
        "invalid_request_error" => "invalid_request_error",
        "timeout" | "timeout_error" => "timeout_error",
        _ => "api_error",
    }
}

/// Appends `{"type":"error","error":{"type":kind,"message":message}}`.
pub fn write_anthropic_error(out: &mut Vec<u8>, kind: &str, message: &str) {
    out.extend_from_slice(b"{\"type\":\"error\",\"error\":{\"type\":");
    push_str(out, kind);
    out.extend_from_slice(b",\"message\":");
    push_str(out, message);
    out.extend_from_slice(b"}}");
}

/// Appends `{"error":{"message","type","param","code"}}`.
pub fn write_openai_error(
    out: &mut Vec<u8>,
    kind: &str,
    code: Option<&str>,
    param: Option<&str>,
    message: &str,
) {
    out.extend_from_slice(b"{\"error\":{\"message\":");
    push_str(out, message);
    out.extend_from_slice(b",\"type\":");
    push_str(out, kind);
    out.extend_from_slice(b",\"param\":");
    match param {
        Some(param) => push_str(out, param),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"code\":");
    match code {
        Some(code) => push_str(out, code),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"}}");
}

/// (type, message) of an Anthropic error body or stream error event.
pub fn anthropic_error(body: &[u8]) -> Option<(String, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?;
    let message = error.get("message")?.as_str()?.to_owned();
    let kind = error
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("api_error")
        .to_owned();
    Some((kind, message))
}

/// The message of an OpenAI-shaped error body (or `None`).
pub fn openai_message(body: &[u8]) -> Option<String> {
    openai_error(body).map(|(_, message)| message)
}

/// (type or code, message) of an OpenAI-shaped error body or stream chunk.
pub fn openai_error(body: &[u8]) -> Option<(String, String)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let error = match value.get("error") {
        Some(Value::String(text)) => return Some((String::new(), text.clone())),
        Some(error) => error,
        None => &value,
    };
    let message = error.get("message")?.as_str()?.to_owned();
    let kind = [error.get("type"), error.get("code")]
        .into_iter()
        .flatten()
        .find_map(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Some((kind, message))
}

/// A message for a body that is not the expected error shape: the status
/// and the start of the body, so nothing the upstream said is lost.
fn unreadable(protocol: &str, status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(256)]);
    let text = text.trim();
    if text.is_empty() {
        format!("the upstream answered {status} without {protocol} error body")
    } else {
        format!("the upstream answered {status} without {protocol} error body: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn overloaded_maps_to_503_and_back_to_529() {
        let (status, body) = error_to_openai(
            529,
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert_eq!(status, 503);
        assert_eq!(json(&body)["error"]["code"], "overloaded_error");
        let (status, body) = error_to_anthropic(503, &body);
        assert_eq!(status, 529);
        assert_eq!(json(&body)["error"]["type"], "overloaded_error");
        assert_eq!(json(&body)["error"]["message"], "Overloaded");
    }

    #[test]
    fn other_shapes_and_garbage_keep_the_status_and_the_text() {
        let (status, body) = error_to_anthropic(404, br#"{"error":"model 'x' not found"}"#);
        assert_eq!(status, 404);
        assert_eq!(json(&body)["error"]["message"], "model 'x' not found");
        assert_eq!(json(&body)["error"]["type"], "not_found_error");
        let (_, body) =
            error_to_anthropic(400, br#"{"object":"error","message":"bad","code":400}"#);
        assert_eq!(json(&body)["error"]["message"], "bad");
        let (status, body) = error_to_openai(502, b"<html>bad gateway</html>");
        assert_eq!(status, 502);
        let body = json(&body);
        assert_eq!(body["error"]["type"], "api_error");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("bad gateway")
        );
    }
}
