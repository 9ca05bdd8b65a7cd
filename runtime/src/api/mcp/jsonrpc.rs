//! The JSON-RPC 2.0 framing of `/mcp`: reading one message from a POST body,
//! the error codes, and the bodies of answers. Names only `error` (to cap
//! what it echoes); what the methods do is `mcp.rs`.

use serde_json::{Value, json};

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
/// The 2026-07-28 revision's "unsupported protocol version" code.
pub const UNSUPPORTED_VERSION: i64 = -32022;

/// A message refused before any method ran: HTTP 400/403 and a JSON-RPC
/// error with no id.
pub struct Rejection {
    pub status: http::StatusCode,
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl Rejection {
    pub fn new(status: http::StatusCode, code: i64, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            data: None,
        }
    }

    fn invalid(message: &str) -> Self {
        Self::new(http::StatusCode::BAD_REQUEST, INVALID_REQUEST, message)
    }

    pub fn body(&self) -> String {
        error_body(&Value::Null, self.code, &self.message, self.data.clone())
    }
}

/// One JSON-RPC message, borrowed from the parsed body.
pub enum Message<'a> {
    Request {
        id: &'a Value,
        method: &'a str,
        params: &'a Value,
    },
    Notification {
        method: &'a str,
    },
    /// A response to a server request (none are sent: nothing waits for it).
    Response,
}

/// The body as JSON: -32700 if it is not.
pub fn parse(body: &[u8]) -> Result<Value, Rejection> {
    serde_json::from_slice(body).map_err(|error| {
        let message = format!("Parse error: the body is not JSON ({error})");
        Rejection::new(http::StatusCode::BAD_REQUEST, PARSE_ERROR, message)
    })
}

/// What kind of message `value` is: -32600 for anything but one JSON-RPC
/// 2.0 object (batches included: MCP removed them in 2025-06-18).
pub fn classify(value: &Value) -> Result<Message<'_>, Rejection> {
    let fields = match value {
        Value::Object(fields) => fields,
        Value::Array(_) => {
            return Err(Rejection::invalid(
                "Invalid Request: JSON-RPC batches are not supported (MCP removed batching in 2025-06-18); send one message per POST",
            ));
        }
        _ => {
            return Err(Rejection::invalid(
                "Invalid Request: the body must be one JSON-RPC 2.0 object",
            ));
        }
    };
    if fields.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(Rejection::invalid(
            "Invalid Request: \"jsonrpc\" must be \"2.0\"",
        ));
    }
    let id = fields.get("id");
    let valid_id = id.filter(|id| id.is_string() || id.is_number());
    let method = fields.get("method").and_then(Value::as_str);
    let answer = fields.contains_key("result") || fields.contains_key("error");
    match (method, id, valid_id) {
        (Some(method), None, _) => Ok(Message::Notification { method }),
        (Some(method), Some(_), Some(id)) => Ok(Message::Request {
            id,
            method,
            params: fields.get("params").unwrap_or(&Value::Null),
        }),
        (None, Some(_), Some(_)) if answer => Ok(Message::Response),
        _ => Err(Rejection::invalid(
            "Invalid Request: a request needs a string \"method\" and a string or number \"id\"",
        )),
    }
}

pub fn result_body(id: &Value, result: &Value) -> String {
    json!({ "jsonrpc": "2.0", "id": id, "result": result }).to_string()
}

pub fn error_body(id: &Value, code: i64, message: &str, data: Option<Value>) -> String {
    let mut error = json!({ "code": code, "message": message });
    if let Some(data) = data {
        error["data"] = data;
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": error }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(body: &str) -> Result<&'static str, i64> {
        let value = parse(body.as_bytes()).map_err(|r| r.code)?;
        classify(&value)
            .map(|m| match m {
                Message::Request { .. } => "request",
                Message::Notification { .. } => "notification",
                Message::Response => "response",
            })
            .map_err(|r| r.code)
    }

    #[test]
    fn messages_are_classified() {
        for (body, expect) in [
            (r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, Ok("request")),
            (
                r#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#,
                Ok("request"),
            ),
            (
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                Ok("notification"),
            ),
            (r#"{"jsonrpc":"2.0","id":1,"result":{}}"#, Ok("response")),
            (
                r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
                Err(INVALID_REQUEST),
            ),
            (
                r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#,
                Err(INVALID_REQUEST),
            ),
            (r#"{"id":1,"method":"ping"}"#, Err(INVALID_REQUEST)),
            (
                r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#,
                Err(INVALID_REQUEST),
            ),
            ("42", Err(INVALID_REQUEST)),
            ("{", Err(PARSE_ERROR)),
        ] {
            assert_eq!(kind(body), expect, "{body}");
        }
    }
}
