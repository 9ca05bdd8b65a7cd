//! Anthropic Messages response -> OpenAI chat completion.
//!
//! Text blocks join into `message.content` (raw literals concatenated, no
//! re-escaping); `tool_use` blocks become `tool_calls` (input object ->
//! arguments string); thinking becomes `reasoning_content` plus
//! `thinking_blocks` carrying each signature (and redacted blocks) so a
//! client can send them back; server tool blocks and citations have no chat
//! form and are left out. `stop_reason` -> `finish_reason`; usage with cache
//! reads in `prompt_tokens_details.cached_tokens` (see `common.rs`).
//! The answer is read with borrowed fields (one UTF-8 check for the body)
//! and the completion written byte by byte: literal members spliced
//! between fixed prefixes, as the stream translator writes its chunks.
//! Formats: docs.anthropic.com/en/api/messages,
//! platform.openai.com/docs/api-reference/chat/object.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::TranslateError;
use super::common::{self, AnthropicUsage, Usage};
use super::json;

/// Translates an Anthropic response for an OpenAI client. The completion id
/// is the upstream message id (`id_hint` when it has none); `created` is the
/// Unix time to stamp it with.
pub fn messages_response_to_chat(
    body: &[u8],
    public_model: &str,
    id_hint: &str,
    created: u64,
) -> Result<Bytes, TranslateError> {
    // One UTF-8 check for the body, then no check per string. Invalid UTF-8
    // somewhere: read from the bytes, which checks only the strings kept, so
    // such an answer translates (or fails) exactly as it always did.
    let message: Result<Response<'_>, _> = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    };
    let message = message.map_err(|e| TranslateError::InvalidJson(e.to_string()))?;
    let mut usage = Usage::default();
    if let Some(reported) = &message.usage {
        reported.apply(&mut usage);
    }
    let id = message.id.as_deref().unwrap_or(id_hint);
    let content_size: usize = message
        .content
        .iter()
        .map(|b| {
            [b.text, b.thinking, b.signature, b.data, b.input]
                .iter()
                .flatten()
                .map(|raw| raw.get().len() + 48)
                .sum::<usize>()
        })
        .sum();
    let mut out =
        Vec::with_capacity(360 + id.len() + public_model.len() + content_size + content_size / 8);
    out.extend_from_slice(b"{\"id\":");
    json::push_str(&mut out, id);
    out.extend_from_slice(b",\"object\":\"chat.completion\",\"created\":");
    json::push_u64(&mut out, created);
    out.extend_from_slice(b",\"model\":");
    json::push_str(&mut out, public_model);
    out.extend_from_slice(
        b",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":",
    );
    let blocks = &message.content;
    let of = |kind: &'static str| blocks.iter().filter(move |b| b.kind == kind);
    let texts = of("text").filter_map(|b| json::string(b.text));
    push_concat(&mut out, texts);
    out.extend_from_slice(b",\"refusal\":null");
    let mut reasoning = of("thinking")
        .filter_map(|b| json::string(b.thinking))
        .peekable();
    if reasoning.peek().is_some() {
        out.extend_from_slice(b",\"reasoning_content\":");
        push_concat(&mut out, reasoning);
    }
    let mut first = true;
    for block in blocks {
        let kind = block.kind.as_ref();
        if kind != "thinking" && kind != "redacted_thinking" {
            continue;
        }
        out.extend_from_slice(if first {
            b",\"thinking_blocks\":[".as_slice()
        } else {
            b",".as_slice()
        });
        first = false;
        if kind == "thinking" {
            out.extend_from_slice(b"{\"type\":\"thinking\",\"thinking\":");
            push_raw(&mut out, block.thinking);
            out.extend_from_slice(b",\"signature\":");
            push_raw(&mut out, block.signature);
        } else {
            out.extend_from_slice(b"{\"type\":\"redacted_thinking\",\"data\":");
            push_raw(&mut out, block.data);
        }
        out.push(b'}');
    }
    if !first {
        out.push(b']');
    }
    let mut first = true;
    for block in of("tool_use") {
        out.extend_from_slice(if first {
            b",\"tool_calls\":[{\"id\":".as_slice()
        } else {
            b",{\"id\":".as_slice()
        });
        first = false;
        json::push_str(&mut out, block.id.as_deref().unwrap_or(""));
        out.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
        json::push_str(&mut out, block.name.as_deref().unwrap_or(""));
        out.extend_from_slice(b",\"arguments\":");
        json::push_str(&mut out, block.input.map_or("{}", RawValue::get));
        out.extend_from_slice(b"}}");
    }
    if !first {
        out.push(b']');
    }
    out.extend_from_slice(b"},\"logprobs\":null,\"finish_reason\":\"");
    out.extend_from_slice(
        common::finish_reason(message.stop_reason.as_deref().unwrap_or("")).as_bytes(),
    );
    out.extend_from_slice(b"\"}],\"usage\":");
    usage.write_openai(&mut out);
    out.push(b'}');
    Ok(Bytes::from(out))
}

/// One JSON string literal holding the concatenation of string literals
/// (their escaped forms concatenate into the escaped concatenation), or
/// `null` when there are none.
fn push_concat<'a>(out: &mut Vec<u8>, mut parts: impl Iterator<Item = &'a RawValue>) {
    let Some(first) = parts.next() else {
        out.extend_from_slice(b"null");
        return;
    };
    out.push(b'"');
    out.extend_from_slice(json::inner(first).as_bytes());
    for part in parts {
        out.extend_from_slice(json::inner(part).as_bytes());
    }
    out.push(b'"');
}

/// A raw value as it came, or `null`.
fn push_raw(out: &mut Vec<u8>, raw: Option<&RawValue>) {
    out.extend_from_slice(raw.map_or("null", RawValue::get).as_bytes());
}

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(borrow, default, deserialize_with = "json::opt_str")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Vec<ResponseBlock<'a>>,
    #[serde(borrow, default, deserialize_with = "json::opt_str")]
    stop_reason: Option<Cow<'a, str>>,
    #[serde(default)]
    usage: Option<AnthropicUsage>,
}

#[derive(Deserialize)]
struct ResponseBlock<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "json::opt_str")]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "json::opt_str")]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
    #[serde(borrow, default)]
    thinking: Option<&'a RawValue>,
    #[serde(borrow, default)]
    signature: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}
