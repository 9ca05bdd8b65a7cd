//! JSON-RPC 2.0 for the MCP client: request and notification bodies, the
//! answer to one request picked out of a JSON body or an SSE stream (other
//! messages from the server are ignored), and a `tools/call` result as the
//! tool's result. Names only `tools` (its error type).

use serde_json::{Value, json};

use crate::tools::ToolError;

/// The protocol version the client offers in `initialize`.
pub const PROTOCOL_VERSION: &str = "2025-11-25";

/// A request body.
pub fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// A notification body.
pub fn notification(method: &str) -> Value {
    json!({"jsonrpc": "2.0", "method": method})
}

/// The `initialize` parameters.
pub fn initialize_params() -> Value {
    json!({
        "protocolVersion": PROTOCOL_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "gateway", "version": env!("CARGO_PKG_VERSION")},
    })
}

/// `message` if it answers request `id` (a response, not a request or notification).
pub fn answer_to(message: Value, id: u64) -> Option<Value> {
    let is_response = message.get("method").is_none()
        && (message.get("result").is_some() || message.get("error").is_some());
    (is_response && message.get("id").and_then(Value::as_u64) == Some(id)).then_some(message)
}

/// The `result` of an answer, or its JSON-RPC error as text.
pub fn result(answer: Value) -> Result<Value, String> {
    let mut answer = answer;
    if let Some(error) = answer.get("error") {
        let message = error.get("message").and_then(Value::as_str).unwrap_or("");
        let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
        return Err(format!("the MCP server answered error {code}: {message}"));
    }
    Ok(answer
        .get_mut("result")
        .map(Value::take)
        .unwrap_or(Value::Null))
}

/// A `tools/call` result as the tool's result: `structuredContent` when
/// present, else the content array; `isError: true` fails with its text.
pub fn call_result(mut result: Value) -> Result<Value, ToolError> {
    let content = result.get_mut("content").map(Value::take);
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        let text: Vec<&str> = content
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("text").and_then(Value::as_str))
            .collect();
        let text = if text.is_empty() {
            "the MCP tool reported an error".to_owned()
        } else {
            text.join("\n")
        };
        return Err(ToolError::Failed(text));
    }
    match result.get_mut("structuredContent").map(Value::take) {
        Some(structured) if !structured.is_null() => Ok(structured),
        _ => Ok(content.unwrap_or_else(|| json!([]))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{answer_to, call_result};
    use crate::tools::ToolError;
    use crate::translate::sse::SseParser;

    #[test]
    fn sse_events_split_across_chunks_and_other_messages_skipped() {
        // Answers arrive through the one SSE parser the gateway has.
        let mut sse = SseParser::new();
        let stream = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n: ping\n\nevent: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\r\ndata: \"result\":{\"ok\":true}}\r\n\r\n";
        let (a, b) = stream.as_bytes().split_at(40);
        let mut events = Vec::new();
        for chunk in [a, b] {
            sse.feed(chunk, &mut |_, data| {
                events.push(String::from_utf8_lossy(data).into_owned());
            });
        }
        assert_eq!(events.len(), 2, "{events:?}");
        let messages: Vec<serde_json::Value> = events
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect();
        assert_eq!(answer_to(messages[0].clone(), 7), None);
        assert_eq!(
            answer_to(messages[1].clone(), 7),
            Some(json!({"jsonrpc":"2.0","id":7,"result":{"ok":true}}))
        );
        assert_eq!(answer_to(messages[1].clone(), 8), None);
    }

    #[test]
    fn call_results_map_to_tool_results() {
        let structured = json!({"content":[{"type":"text","text":"3"}],"structuredContent":{"sum":3},"isError":false});
        assert_eq!(call_result(structured), Ok(json!({"sum": 3})));
        let plain = json!({"content":[{"type":"text","text":"3"}]});
        assert_eq!(call_result(plain), Ok(json!([{"type":"text","text":"3"}])));
        let failed = json!({"content":[{"type":"text","text":"boom"}],"isError":true});
        assert_eq!(call_result(failed), Err(ToolError::Failed("boom".into())));
    }
}
