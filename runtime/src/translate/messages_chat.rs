//! An Anthropic conversation (system, messages, tools) as OpenAI chat
//! messages and tools.
//!
//! `system` becomes one leading system message (and a `system` turn, which
//! Claude Code may send mid-conversation, a system message in place); a user turn's
//! `tool_result` blocks become `tool` messages ahead of the rest of the turn
//! (OpenAI wants them right after the assistant's tool calls); text, image
//! (base64 -> `data:` URL) and PDF document blocks become parts; an
//! assistant turn's text joins into `content` and its `tool_use` blocks
//! become `tool_calls` (input object -> arguments string). Thinking blocks,
//! cache markers, citations and server tool blocks have no chat form: they
//! are dropped and reported. Custom tools become function tools; server
//! tools are dropped.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::TranslateError;
use super::common::Notes;
use super::json;

#[derive(Deserialize)]
pub struct AnthropicMessage<'a> {
    #[serde(borrow)]
    role: Cow<'a, str>,
    #[serde(borrow)]
    content: &'a RawValue,
}

#[derive(Deserialize)]
struct Block<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    source: Option<Source<'a>>,
    #[serde(borrow, default)]
    title: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    input: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tool_use_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(default)]
    is_error: Option<bool>,
    #[serde(default)]
    cache_control: Option<IgnoredAny>,
    #[serde(default)]
    citations: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Source<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    media_type: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    data: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    url: Option<Cow<'a, str>>,
}

/// One OpenAI chat message.
#[derive(Serialize)]
pub struct ChatMessage<'a> {
    role: &'static str,
    content: Option<Content<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Content<'a> {
    Text(Cow<'a, RawValue>),
    Parts(Vec<Part<'a>>),
}

#[derive(Serialize)]
#[serde(untagged)]
enum Part<'a> {
    Text {
        #[serde(rename = "type")]
        kind: &'static str,
        text: Cow<'a, RawValue>,
    },
    Image {
        #[serde(rename = "type")]
        kind: &'static str,
        image_url: ImageUrl<'a>,
    },
    File {
        #[serde(rename = "type")]
        kind: &'static str,
        file: File<'a>,
    },
}

#[derive(Serialize)]
struct ImageUrl<'a> {
    url: Cow<'a, str>,
}

#[derive(Serialize)]
struct File<'a> {
    filename: Cow<'a, str>,
    file_data: String,
}

#[derive(Serialize)]
struct ToolCall<'a> {
    id: Cow<'a, str>,
    #[serde(rename = "type")]
    kind: &'static str,
    function: Function<'a>,
}

#[derive(Serialize)]
struct Function<'a> {
    name: Cow<'a, str>,
    /// The input object's JSON text, serialised as a string.
    arguments: &'a str,
}

/// The leading system message, if `system` has text.
pub fn system<'a>(
    raw: Option<&'a RawValue>,
    notes: &mut Notes,
) -> Result<Vec<ChatMessage<'a>>, TranslateError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let text = if json::is_string(raw) {
        Cow::Borrowed(raw)
    } else {
        let blocks: Vec<Block<'a>> = json::field(raw, "system")?;
        let mut texts = Vec::with_capacity(blocks.len());
        for block in &blocks {
            if block.cache_control.is_some() {
                notes.drop("system[].cache_control");
            }
            match (block.kind.as_ref(), block.text) {
                ("text", Some(text)) if json::is_string(text) => texts.push(text),
                (kind, _) => {
                    return Err(TranslateError::invalid(
                        "system",
                        format!("a system block of type `{kind}`"),
                    ));
                }
            }
        }
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        Cow::Owned(json::join(&texts, "\\n\\n")?)
    };
    Ok(vec![ChatMessage {
        role: "system",
        content: Some(Content::Text(text)),
        tool_calls: Vec::new(),
        tool_call_id: None,
    }])
}

/// Appends the chat form of `messages` to `out`.
pub fn convert<'a>(
    messages: &'a [AnthropicMessage<'a>],
    out: &mut Vec<ChatMessage<'a>>,
    notes: &mut Notes,
) -> Result<(), TranslateError> {
    for message in messages {
        let role = match message.role.as_ref() {
            "user" => "user",
            "assistant" => "assistant",
            // Claude Code sends one mid-conversation for models it does not
            // know; chat completions takes system messages anywhere.
            "system" => {
                out.extend(system(Some(message.content), notes)?);
                continue;
            }
            other => {
                return Err(TranslateError::invalid(
                    "messages",
                    format!("unknown message role `{other}`"),
                ));
            }
        };
        if json::is_string(message.content) {
            out.push(ChatMessage {
                role,
                content: Some(Content::Text(Cow::Borrowed(message.content))),
                tool_calls: Vec::new(),
                tool_call_id: None,
            });
            continue;
        }
        let blocks: Vec<Block<'a>> = json::field(message.content, "messages[].content")?;
        if role == "user" {
            user(blocks, out, notes)?;
        } else {
            assistant(blocks, out, notes)?;
        }
    }
    Ok(())
}

fn user<'a>(
    blocks: Vec<Block<'a>>,
    out: &mut Vec<ChatMessage<'a>>,
    notes: &mut Notes,
) -> Result<(), TranslateError> {
    let mut parts = Vec::with_capacity(blocks.len());
    for block in blocks {
        note_common(&block, notes);
        match block.kind.as_ref() {
            "tool_result" => out.push(tool_result(block, notes)?),
            "thinking" | "redacted_thinking" => notes.drop("messages[].content[].thinking"),
            kind if is_server_tool(kind) => notes.drop("messages[].content[].server_tool"),
            _ => parts.extend(part(block)?),
        }
    }
    if !parts.is_empty() {
        out.push(ChatMessage {
            role: "user",
            content: Some(content(parts)),
            tool_calls: Vec::new(),
            tool_call_id: None,
        });
    }
    Ok(())
}

fn assistant<'a>(
    blocks: Vec<Block<'a>>,
    out: &mut Vec<ChatMessage<'a>>,
    notes: &mut Notes,
) -> Result<(), TranslateError> {
    let mut texts = Vec::new();
    let mut tool_calls = Vec::new();
    for block in blocks {
        note_common(&block, notes);
        match block.kind.as_ref() {
            "text" => texts.extend(block.text.filter(|t| json::is_string(t))),
            "tool_use" => tool_calls.push(ToolCall {
                id: block.id.unwrap_or_default(),
                kind: "function",
                function: Function {
                    name: block.name.unwrap_or_default(),
                    arguments: block.input.map_or("{}", RawValue::get),
                },
            }),
            "thinking" | "redacted_thinking" => notes.drop("messages[].content[].thinking"),
            kind if is_server_tool(kind) => notes.drop("messages[].content[].server_tool"),
            kind => {
                return Err(TranslateError::unsupported(
                    "messages[].content",
                    format!("assistant content of type `{kind}` is not supported for this model"),
                ));
            }
        }
    }
    let content = match texts.as_slice() {
        [] => None,
        [one] => Some(Content::Text(Cow::Borrowed(*one))),
        many => Some(Content::Text(Cow::Owned(json::concat(many)?))),
    };
    if content.is_some() || !tool_calls.is_empty() {
        out.push(ChatMessage {
            role: "assistant",
            content,
            tool_calls,
            tool_call_id: None,
        });
    }
    Ok(())
}

fn note_common(block: &Block<'_>, notes: &mut Notes) {
    if block.cache_control.is_some() {
        notes.drop("messages[].content[].cache_control");
    }
    if block.citations.is_some() {
        notes.drop("messages[].content[].citations");
    }
}

fn is_server_tool(kind: &str) -> bool {
    matches!(kind, "server_tool_use" | "mcp_tool_use" | "search_result")
        || kind.ends_with("_tool_result")
}

/// A single text part as a plain string, anything else as parts.
fn content(mut parts: Vec<Part<'_>>) -> Content<'_> {
    if parts.len() == 1
        && matches!(parts[0], Part::Text { .. })
        && let Some(Part::Text { text, .. }) = parts.pop()
    {
        return Content::Text(text);
    }
    Content::Parts(parts)
}

fn part<'a>(block: Block<'a>) -> Result<Option<Part<'a>>, TranslateError> {
    let source = block.source;
    match (block.kind.as_ref(), source) {
        ("text", _) => Ok(block
            .text
            .filter(|t| json::is_string(t))
            .map(|text| Part::Text {
                kind: "text",
                text: Cow::Borrowed(text),
            })),
        ("image", Some(source)) => image(source).map(Some),
        ("document", Some(source)) => document(source, block.title).map(Some),
        (kind, _) => Err(TranslateError::unsupported(
            "messages[].content",
            format!("content of type `{kind}` is not supported for this model"),
        )),
    }
}

fn image(source: Source<'_>) -> Result<Part<'_>, TranslateError> {
    const PARAM: &str = "messages[].content[].image";
    let url = match (
        source.kind.as_ref(),
        source.media_type,
        source.data,
        source.url,
    ) {
        ("base64", Some(media), Some(data), _) => Cow::Owned(format!("data:{media};base64,{data}")),
        ("url", _, _, Some(url)) => url,
        (kind, ..) => {
            return Err(TranslateError::unsupported(
                PARAM,
                format!("image sources of type `{kind}` are not supported for this model"),
            ));
        }
    };
    Ok(Part::Image {
        kind: "image_url",
        image_url: ImageUrl { url },
    })
}

fn document<'a>(
    source: Source<'a>,
    title: Option<Cow<'a, str>>,
) -> Result<Part<'a>, TranslateError> {
    const PARAM: &str = "messages[].content[].document";
    match (source.kind.as_ref(), source.media_type, source.data) {
        ("base64", Some(media), Some(data)) if media == "application/pdf" => Ok(Part::File {
            kind: "file",
            file: File {
                filename: title.unwrap_or(Cow::Borrowed("document.pdf")),
                file_data: format!("data:{media};base64,{data}"),
            },
        }),
        ("text", _, Some(data)) => Ok(Part::Text {
            kind: "text",
            text: Cow::Owned(json::string_literal(&data)?),
        }),
        (kind, ..) => Err(TranslateError::unsupported(
            PARAM,
            format!("document sources of type `{kind}` are not supported for this model"),
        )),
    }
}

fn tool_result<'a>(block: Block<'a>, notes: &mut Notes) -> Result<ChatMessage<'a>, TranslateError> {
    let id = block.tool_use_id.ok_or_else(|| {
        TranslateError::invalid(
            "messages[].content",
            "a tool_result block needs `tool_use_id`",
        )
    })?;
    if block.is_error.is_some() {
        notes.drop("messages[].content[].tool_result.is_error");
    }
    let text = match block.content {
        None => Cow::Owned(json::string_literal("")?),
        Some(raw) if json::is_string(raw) => Cow::Borrowed(raw),
        Some(raw) => {
            let inner: Vec<Block<'a>> = json::field(raw, "messages[].content[].content")?;
            let mut texts = Vec::with_capacity(inner.len());
            for block in &inner {
                match (block.kind.as_ref(), block.text) {
                    ("text", Some(text)) if json::is_string(text) => texts.push(text),
                    _ => notes.drop("messages[].content[].tool_result.image"),
                }
            }
            Cow::Owned(json::concat(&texts)?)
        }
    };
    Ok(ChatMessage {
        role: "tool",
        content: Some(Content::Text(text)),
        tool_calls: Vec::new(),
        tool_call_id: Some(id),
    })
}
