//! A token estimate for `POST /v1/messages/count_tokens` when the model's
//! upstream is not Anthropic (which alone can count exactly).
//!
//! The heuristic, chosen to err on the high side (a client that compacts
//! its context a little early loses less than one that overflows):
//! - text: one token per 4 ASCII bytes (rounded up) plus one per non-ASCII
//!   character (CJK runs near one token per character), measured on the
//!   text as sent (an escape such as `\n` counts its two bytes);
//! - every message: 3 tokens of framing; the system prompt: 3 more;
//! - images: 1,600 each, Anthropic's documented cost of an image at its
//!   largest unresized size (about 1.15 megapixels, tokens = w * h / 750);
//! - documents: base64 data at 3 decoded bytes per 4, then bytes / 4;
//! - `tool_use` inputs and tool definitions: their JSON as sent; any tools:
//!   350 more for the tool-use system prompt Anthropic adds;
//! - thinking blocks of earlier turns: 0 (Anthropic does not count them).
//!
//! The answer is `{"input_tokens": n}` with [`ESTIMATE_HEADER`], so a client
//! or an operator can tell it from an exact count. Not here: exact counting.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::TranslateError;
use super::json;

/// The response header that marks a count as this estimate.
pub const ESTIMATE_HEADER: (&str, &str) = ("x-gateway-token-count", "estimate");

const PER_MESSAGE: u64 = 3;
const PER_IMAGE: u64 = 1_600;
const TOOLS_PROMPT: u64 = 350;

/// Estimated input tokens of an Anthropic Messages (or count_tokens)
/// request. Text is measured as sent (escaped), without building values:
/// the API calls this for every translated request's `message_start`.
pub fn estimate_input_tokens(messages_request: &[u8]) -> Result<u64, TranslateError> {
    let text = std::str::from_utf8(messages_request)
        .map_err(|e| TranslateError::InvalidJson(e.to_string()))?;
    if !text.trim_start().starts_with('{') {
        return Err(TranslateError::InvalidJson("not an object".into()));
    }
    let request: Request<'_> =
        serde_json::from_str(text).map_err(|e| TranslateError::InvalidJson(e.to_string()))?;
    let mut total = 0;
    if let Some(system) = request.system {
        total += PER_MESSAGE + content(system)?;
    }
    for message in request.messages.unwrap_or_default() {
        total += PER_MESSAGE + message.content.map_or(Ok(0), content)?;
    }
    if let Some(tools) = request.tools.filter(|t| t.get() != "[]") {
        total += TOOLS_PROMPT + measured(tools);
    }
    Ok(total)
}

/// The count_tokens answer body: `{"input_tokens":n}`.
pub fn count_tokens_body(input_tokens: u64) -> Bytes {
    Bytes::from(format!("{{\"input_tokens\":{input_tokens}}}"))
}

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow, default)]
    system: Option<&'a RawValue>,
    #[serde(borrow, default)]
    messages: Option<Vec<Message<'a>>>,
    #[serde(borrow, default)]
    tools: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    source: Option<Source<'a>>,
}

#[derive(Deserialize)]
struct Source<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
}

/// Tokens of a `content` (string or blocks) or `system` value.
fn content(raw: &RawValue) -> Result<u64, TranslateError> {
    if json::is_string(raw) {
        return Ok(text_tokens(json::inner(raw)));
    }
    if !raw.get().starts_with('[') {
        return Ok(0);
    }
    let blocks: Vec<Block<'_>> = json::field(raw, "messages[].content")?;
    blocks.iter().map(block).sum()
}

fn block(block: &Block<'_>) -> Result<u64, TranslateError> {
    let raw = |raw: Option<&RawValue>| raw.map_or(0, measured);
    Ok(match block.kind.as_deref() {
        Some("text") => raw(block.text),
        Some("image") => PER_IMAGE,
        Some("document") => document(block.source.as_ref())?,
        Some("tool_use" | "server_tool_use") => raw(block.name) + raw(block.input),
        Some("tool_result") => block.content.map_or(Ok(0), content)?,
        Some("thinking" | "redacted_thinking") => 0,
        _ => raw(block.text) + raw(block.input) + block.content.map_or(Ok(0), content)?,
    })
}

fn document(source: Option<&Source<'_>>) -> Result<u64, TranslateError> {
    let Some(source) = source else { return Ok(0) };
    Ok(match source.kind.as_deref() {
        Some("text") => source.data.map_or(0, measured),
        Some("content") => source.content.map_or(Ok(0), content)?,
        _ => {
            let encoded = source.data.map_or(0, |d| d.get().len()) as u64;
            (encoded * 3 / 4).div_ceil(4)
        }
    })
}

/// A string's text (without its quotes), or any other value's JSON.
fn measured(raw: &RawValue) -> u64 {
    if json::is_string(raw) {
        text_tokens(json::inner(raw))
    } else {
        text_tokens(raw.get())
    }
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
