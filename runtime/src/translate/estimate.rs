//! A token estimate for `POST /v1/messages/count_tokens` when the model's
//! upstream is not Anthropic (which alone can count exactly).
//!
//! The heuristic, chosen to err on the high side (a client that compacts
//! its context a little early loses less than one that overflows):
//! - text: one token per 4 ASCII bytes (rounded up) plus one per non-ASCII
//!   character (CJK runs near one token per character);
//! - every message: 3 tokens of framing; the system prompt: 3 more;
//! - images: 1,600 each, Anthropic's documented cost of an image at its
//!   largest unresized size (about 1.15 megapixels, tokens = w * h / 750);
//! - documents: base64 data at 3 decoded bytes per 4, then bytes / 4;
//! - `tool_use` inputs and tool definitions: their JSON as text; any tools:
//!   350 more for the tool-use system prompt Anthropic adds;
//! - thinking blocks of earlier turns: 0 (Anthropic does not count them).
//!
//! The answer is `{"input_tokens": n}` with [`ESTIMATE_HEADER`], so a client
//! or an operator can tell it from an exact count. Not here: exact counting.

use bytes::Bytes;
use serde_json::Value;

use super::TranslateError;

/// The response header that marks a count as this estimate.
pub const ESTIMATE_HEADER: (&str, &str) = ("x-gateway-token-count", "estimate");

const PER_MESSAGE: u64 = 3;
const PER_IMAGE: u64 = 1_600;
const TOOLS_PROMPT: u64 = 350;

/// Estimated input tokens of an Anthropic Messages (or count_tokens) request.
pub fn estimate_input_tokens(messages_request: &[u8]) -> Result<u64, TranslateError> {
    let request: Value = serde_json::from_slice(messages_request)
        .map_err(|e| TranslateError::InvalidJson(e.to_string()))?;
    let Some(request) = request.as_object() else {
        return Err(TranslateError::InvalidJson("not an object".into()));
    };
    let mut total = 0;
    if let Some(system) = request.get("system") {
        total += PER_MESSAGE + content(system);
    }
    match request.get("messages") {
        Some(Value::Array(messages)) => {
            for message in messages {
                total += PER_MESSAGE + message.get("content").map_or(0, content);
            }
        }
        Some(Value::Null) | None => {}
        Some(_) => {
            return Err(TranslateError::invalid(
                "messages",
                "`messages` must be an array",
            ));
        }
    }
    if let Some(Value::Array(tools)) = request.get("tools")
        && !tools.is_empty()
    {
        total += TOOLS_PROMPT + tools.iter().map(json_text).sum::<u64>();
    }
    Ok(total)
}

/// The count_tokens answer body: `{"input_tokens":n}`.
pub fn count_tokens_body(input_tokens: u64) -> Bytes {
    Bytes::from(format!("{{\"input_tokens\":{input_tokens}}}"))
}

/// Tokens of a `content` (string or blocks) or `system` value.
fn content(value: &Value) -> u64 {
    match value {
        Value::String(text) => text_tokens(text),
        Value::Array(blocks) => blocks.iter().map(block).sum(),
        _ => 0,
    }
}

fn block(block: &Value) -> u64 {
    let text = |key: &str| {
        block
            .get(key)
            .and_then(Value::as_str)
            .map_or(0, text_tokens)
    };
    match block.get("type").and_then(Value::as_str) {
        Some("text") => text("text"),
        Some("image") => PER_IMAGE,
        Some("document") => document(block),
        Some("tool_use" | "server_tool_use") => {
            text("name") + block.get("input").map_or(0, json_text)
        }
        Some("tool_result") => block.get("content").map_or(0, content),
        Some("thinking" | "redacted_thinking") => 0,
        _ => json_text(block),
    }
}

fn document(block: &Value) -> u64 {
    let Some(source) = block.get("source") else {
        return 0;
    };
    match source.get("type").and_then(Value::as_str) {
        Some("text") => source
            .get("data")
            .and_then(Value::as_str)
            .map_or(0, text_tokens),
        Some("content") => source.get("content").map_or(0, content),
        _ => {
            let encoded = source
                .get("data")
                .and_then(Value::as_str)
                .map_or(0, str::len) as u64;
            (encoded * 3 / 4).div_ceil(4)
        }
    }
}

fn json_text(value: &Value) -> u64 {
    text_tokens(&value.to_string())
}

fn text_tokens(text: &str) -> u64 {
    let ascii = text.bytes().filter(u8::is_ascii).count() as u64;
    let other = text.chars().filter(|c| !c.is_ascii()).count() as u64;
    ascii.div_ceil(4) + other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_text_images_tools_and_skips_thinking() {
        let body = r#"{"model":"m","system":"abcdefgh","messages":[
            {"role":"user","content":[{"type":"text","text":"abcd"},{"type":"image","source":{"type":"url","url":"u"}}]},
            {"role":"assistant","content":[{"type":"thinking","thinking":"long long long","signature":"s"},{"type":"text","text":"日本"}]}
        ]}"#
        .as_bytes();
        // system 3 + 2; user 3 + 1 + 1600; assistant 3 + 0 + 2.
        assert_eq!(estimate_input_tokens(body).unwrap(), 5 + 1604 + 5);
        let with_tools = br#"{"messages":[],"tools":[{"name":"t","input_schema":{}}]}"#;
        assert!(estimate_input_tokens(with_tools).unwrap() > TOOLS_PROMPT);
        assert!(estimate_input_tokens(b"[]").is_err());
        assert_eq!(&count_tokens_body(7)[..], br#"{"input_tokens":7}"#);
    }
}
