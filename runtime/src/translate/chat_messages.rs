//! An OpenAI chat conversation as Anthropic `system` blocks and `messages`.
//!
//! system/developer messages become `system` text blocks wherever they stand
//! (Anthropic has no mid-conversation system turn); user parts become text,
//! image (base64 from a `data:` URL, or url) and document (PDF) blocks;
//! assistant messages become their `thinking_blocks` (signatures byte for
//! byte; members such as a stream `index` left out), text
//! and `tool_use` blocks (arguments string -> input object); tool messages
//! become `tool_result` blocks in a user turn. Consecutive turns of one role
//! merge, so parallel tool results share one user turn. Empty text is left
//! out (Anthropic refuses whitespace-only text blocks). Text travels as raw
//! JSON string literals: never unescaped, never re-escaped.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::TranslateError;
use super::chat_media::{self, FilePart, ImageUrl, Source};
use super::common::Notes;
use super::json;

#[derive(Deserialize)]
pub struct ChatMessage<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCall<'a>>>,
    #[serde(borrow, default, deserialize_with = "json::opt_str")]
    tool_call_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking_blocks: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    name: Option<IgnoredAny>,
    #[serde(default)]
    reasoning_content: Option<IgnoredAny>,
    #[serde(borrow, default)]
    refusal: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ToolCall<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    function: FunctionCall<'a>,
}

#[derive(Deserialize)]
struct FunctionCall<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow, default, deserialize_with = "json::opt_str")]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Part<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    refusal: Option<&'a RawValue>,
    #[serde(borrow, default)]
    image_url: Option<ImageUrl<'a>>,
    #[serde(borrow, default)]
    file: Option<FilePart<'a>>,
    #[serde(borrow, default)]
    cache_control: Option<&'a RawValue>,
}

/// A thinking block sent back by a client (possibly merged from stream
/// deltas, with their `index`): only its own members are carried.
#[derive(Deserialize)]
struct ThinkingBlock<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    thinking: Option<&'a RawValue>,
    #[serde(borrow, default)]
    signature: Option<&'a RawValue>,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
}

/// One Anthropic message.
#[derive(Serialize)]
pub struct Message<'a> {
    role: &'static str,
    content: Vec<Block<'a>>,
}

/// One Anthropic content block.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Block<'a> {
    Text {
        #[serde(rename = "type")]
        kind: &'static str,
        text: &'a RawValue,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a RawValue>,
    },
    Media {
        #[serde(rename = "type")]
        kind: &'static str,
        source: Source<'a>,
    },
    ToolUse {
        #[serde(rename = "type")]
        kind: &'static str,
        id: Cow<'a, str>,
        name: Cow<'a, str>,
        input: Box<RawValue>,
    },
    ToolResult {
        #[serde(rename = "type")]
        kind: &'static str,
        tool_use_id: Cow<'a, str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        content: Vec<Block<'a>>,
    },
    /// A thinking block: text and signature as the client sent them.
    Thinking {
        #[serde(rename = "type")]
        kind: &'static str,
        thinking: &'a RawValue,
        signature: &'a RawValue,
    },
    RedactedThinking {
        #[serde(rename = "type")]
        kind: &'static str,
        data: &'a RawValue,
    },
}

/// (system blocks, messages) for a chat conversation.
pub fn convert<'a>(
    messages: &'a [ChatMessage<'a>],
    notes: &mut Notes,
) -> Result<(Vec<Block<'a>>, Vec<Message<'a>>), TranslateError> {
    let mut system = Vec::new();
    let mut out: Vec<Message<'a>> = Vec::with_capacity(messages.len());
    for message in messages {
        if message.name.is_some() {
            notes.drop("messages[].name");
        }
        let (role, blocks) = match message.role.as_ref() {
            "system" | "developer" => {
                content(message.content, false, notes, &mut system)?;
                continue;
            }
            "user" => {
                let mut blocks = Vec::new();
                content(message.content, true, notes, &mut blocks)?;
                ("user", blocks)
            }
            "assistant" => ("assistant", assistant(message, notes)?),
            "tool" => ("user", vec![tool_result(message, notes)?]),
            "function" => {
                return Err(TranslateError::unsupported(
                    "messages[].role=function",
                    "function messages are deprecated: send tool messages",
                ));
            }
            other => {
                return Err(TranslateError::invalid(
                    "messages",
                    format!("unknown message role `{other}`"),
                ));
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => out.push(Message {
                role,
                content: blocks,
            }),
        }
    }
    if out.is_empty() {
        return Err(TranslateError::invalid(
            "messages",
            "at least one user or assistant message with content is required",
        ));
    }
    Ok((system, out))
}

/// Whether the last assistant turn calls a tool without a thinking block
/// first: Anthropic refuses thinking for such a conversation.
pub fn last_tool_turn_lacks_thinking(messages: &[Message<'_>]) -> bool {
    let Some(last) = messages.iter().rev().find(|m| m.role == "assistant") else {
        return false;
    };
    let calls_tool = last
        .content
        .iter()
        .any(|b| matches!(b, Block::ToolUse { .. }));
    calls_tool
        && !matches!(
            last.content.first(),
            Some(Block::Thinking { .. } | Block::RedactedThinking { .. })
        )
}

/// Appends the blocks of a `content` value (string, parts or null) to
/// `blocks`. `media`: whether images and files are allowed (not in system,
/// not in tool results).
fn content<'a>(
    raw: Option<&'a RawValue>,
    media: bool,
    notes: &mut Notes,
    blocks: &mut Vec<Block<'a>>,
) -> Result<(), TranslateError> {
    let Some(raw) = raw.filter(|raw| !json::is_null(raw)) else {
        return Ok(());
    };
    if json::is_string(raw) {
        blocks.extend(text(raw, None));
        return Ok(());
    }
    let parts: Vec<Part<'a>> = json::field(raw, "messages[].content")?;
    blocks.reserve(parts.len());
    for part in parts {
        match (part.kind.as_ref(), media) {
            ("text", _) => {
                let text_raw = part.text.ok_or_else(|| {
                    TranslateError::invalid("messages[].content", "a text part needs `text`")
                })?;
                blocks.extend(text(text_raw, part.cache_control));
            }
            ("refusal", _) => blocks.extend(part.refusal.and_then(|r| text(r, None))),
            ("image_url", true) => blocks.push(chat_media::image(part.image_url, notes)?),
            ("file", true) => blocks.push(chat_media::document(part.file)?),
            ("input_audio", _) => {
                return Err(TranslateError::unsupported(
                    "messages[].content[].input_audio",
                    "audio input is not supported for this model",
                ));
            }
            (kind, _) => {
                return Err(TranslateError::unsupported(
                    "messages[].content",
                    format!("content parts of type `{kind}` are not supported here"),
                ));
            }
        }
    }
    Ok(())
}

fn text<'a>(raw: &'a RawValue, cache_control: Option<&'a RawValue>) -> Option<Block<'a>> {
    if !json::is_string(raw) || json::is_blank(raw) {
        return None;
    }
    Some(Block::Text {
        kind: "text",
        text: raw,
        cache_control,
    })
}

fn assistant<'a>(
    message: &'a ChatMessage<'a>,
    notes: &mut Notes,
) -> Result<Vec<Block<'a>>, TranslateError> {
    let mut blocks = Vec::new();
    for block in message.thinking_blocks.iter().flatten() {
        blocks.push(thinking_block(block)?);
    }
    if message.reasoning_content.is_some() {
        notes.drop("messages[].reasoning_content");
    }
    content(message.content, false, notes, &mut blocks)?;
    blocks.extend(message.refusal.and_then(|r| text(r, None)));
    for call in message.tool_calls.iter().flatten() {
        blocks.push(Block::ToolUse {
            kind: "tool_use",
            id: call.id.clone(),
            name: call.function.name.clone(),
            input: arguments(call.function.arguments.as_deref())?,
        });
    }
    Ok(blocks)
}

/// A `thinking_blocks` entry as an Anthropic block; the signature (or the
/// redacted data) is carried byte for byte, other members are not.
fn thinking_block(raw: &RawValue) -> Result<Block<'_>, TranslateError> {
    const PARAM: &str = "messages[].thinking_blocks";
    let block: ThinkingBlock<'_> = json::field(raw, PARAM)?;
    match (
        block.kind.as_ref(),
        json::string(block.thinking),
        json::string(block.signature),
        json::string(block.data),
    ) {
        ("thinking", Some(thinking), Some(signature), _) => Ok(Block::Thinking {
            kind: "thinking",
            thinking,
            signature,
        }),
        ("redacted_thinking", _, _, Some(data)) => Ok(Block::RedactedThinking {
            kind: "redacted_thinking",
            data,
        }),
        (kind, ..) => Err(TranslateError::invalid(
            PARAM,
            format!(
                "a thinking block of type `{kind}` needs `thinking` and `signature` (or redacted `data`)"
            ),
        )),
    }
}

/// A tool call's arguments string as the `input` object.
fn arguments(arguments: Option<&str>) -> Result<Box<RawValue>, TranslateError> {
    const PARAM: &str = "messages[].tool_calls[].function.arguments";
    let text = arguments
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("{}");
    if !text.starts_with('{') {
        return Err(TranslateError::invalid(
            PARAM,
            "tool call arguments must be a JSON object",
        ));
    }
    serde_json::from_str::<Box<RawValue>>(text).map_err(|e| {
        TranslateError::invalid(PARAM, format!("tool call arguments are not JSON: {e}"))
    })
}

fn tool_result<'a>(
    message: &'a ChatMessage<'a>,
    notes: &mut Notes,
) -> Result<Block<'a>, TranslateError> {
    let id = message.tool_call_id.clone().ok_or_else(|| {
        TranslateError::invalid(
            "messages[].tool_call_id",
            "a tool message needs `tool_call_id`",
        )
    })?;
    let mut blocks = Vec::new();
    content(message.content, false, notes, &mut blocks)?;
    Ok(Block::ToolResult {
        kind: "tool_result",
        tool_use_id: id,
        content: blocks,
    })
}

/// Appends `messages` as a JSON array, written by hand (the shape the
/// derived `Serialize` gives, without its per-field calls).
pub fn write_messages(out: &mut Vec<u8>, messages: &[Message<'_>]) -> Result<(), TranslateError> {
    out.push(b'[');
    for (i, message) in messages.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"role\":\"");
        out.extend_from_slice(message.role.as_bytes());
        out.extend_from_slice(b"\",\"content\":");
        write_blocks(out, &message.content)?;
        out.push(b'}');
    }
    out.push(b']');
    Ok(())
}

/// Appends `blocks` as a JSON array, written by hand.
pub fn write_blocks(out: &mut Vec<u8>, blocks: &[Block<'_>]) -> Result<(), TranslateError> {
    out.push(b'[');
    for (i, block) in blocks.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_block(out, block)?;
    }
    out.push(b']');
    Ok(())
}

fn write_block(out: &mut Vec<u8>, block: &Block<'_>) -> Result<(), TranslateError> {
    let kind = |out: &mut Vec<u8>, kind: &str| {
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(kind.as_bytes());
        out.push(b'"');
    };
    match block {
        Block::Text {
            kind: k,
            text,
            cache_control,
        } => {
            kind(out, k);
            out.extend_from_slice(b",\"text\":");
            out.extend_from_slice(text.get().as_bytes());
            if let Some(cache_control) = cache_control {
                out.extend_from_slice(b",\"cache_control\":");
                out.extend_from_slice(cache_control.get().as_bytes());
            }
        }
        Block::Media { kind: k, source } => {
            kind(out, k);
            out.extend_from_slice(b",\"source\":");
            serde_json::to_writer(&mut *out, source)
                .map_err(|e| TranslateError::invalid("messages", e.to_string()))?;
        }
        Block::ToolUse {
            kind: k,
            id,
            name,
            input,
        } => {
            kind(out, k);
            out.extend_from_slice(b",\"id\":");
            json::push_str(out, id);
            out.extend_from_slice(b",\"name\":");
            json::push_str(out, name);
            out.extend_from_slice(b",\"input\":");
            out.extend_from_slice(input.get().as_bytes());
        }
        Block::ToolResult {
            kind: k,
            tool_use_id,
            content,
        } => {
            kind(out, k);
            out.extend_from_slice(b",\"tool_use_id\":");
            json::push_str(out, tool_use_id);
            if !content.is_empty() {
                out.extend_from_slice(b",\"content\":");
                write_blocks(out, content)?;
            }
        }
        Block::Thinking {
            kind: k,
            thinking,
            signature,
        } => {
            kind(out, k);
            out.extend_from_slice(b",\"thinking\":");
            out.extend_from_slice(thinking.get().as_bytes());
            out.extend_from_slice(b",\"signature\":");
            out.extend_from_slice(signature.get().as_bytes());
        }
        Block::RedactedThinking { kind: k, data } => {
            kind(out, k);
            out.extend_from_slice(b",\"data\":");
            out.extend_from_slice(data.get().as_bytes());
        }
    }
    out.push(b'}');
    Ok(())
}
