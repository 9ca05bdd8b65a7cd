//! OpenAI chat completion -> Anthropic Messages response.
//!
//! The first choice becomes the message: `reasoning_content` (or
//! `reasoning`, as OpenAI-compatible servers spell it) a thinking block with
//! an empty signature; `content` and `refusal` text blocks; `tool_calls`
//! `tool_use` blocks (arguments string parsed to the input object; an empty
//! string is `{}`). `finish_reason` -> `stop_reason`; usage split back into
//! uncached input and cache reads (see `common.rs`). An upstream answer that
//! does not parse, or tool arguments that are not a JSON object, is an
//! error for the caller's 502. Formats:
//! platform.openai.com/docs/api-reference/chat/object,
//! docs.anthropic.com/en/api/messages.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::TranslateError;
use super::common::{self, OpenAiUsage};
use super::json::{self, First};

/// Translates an OpenAI chat completion for an Anthropic client.
pub fn chat_response_to_messages(body: &[u8], public_model: &str) -> Result<Bytes, TranslateError> {
    let completion: Completion<'_> =
        serde_json::from_slice(body).map_err(|e| TranslateError::InvalidJson(e.to_string()))?;
    let choice = completion.choices.0.unwrap_or_default();
    let message = choice.message.unwrap_or_default();
    let mut content = Vec::new();
    let reasoning = [message.reasoning_content, message.reasoning]
        .into_iter()
        .flatten()
        .find(|r| json::is_string(r) && r.get().len() > 2);
    if let Some(thinking) = reasoning {
        content.push(Block::Thinking {
            kind: "thinking",
            thinking,
            signature: "",
        });
    }
    for text in [message.content, message.refusal].into_iter().flatten() {
        if json::is_string(text) && text.get().len() > 2 {
            content.push(Block::Text { kind: "text", text });
        }
    }
    for call in message.tool_calls.unwrap_or_default() {
        content.push(Block::ToolUse {
            kind: "tool_use",
            id: call.id.unwrap_or_default(),
            name: call.function.name.unwrap_or_default(),
            input: input(call.function.arguments.as_deref())?,
        });
    }
    let usage = completion.usage.map(|u| u.to_usage()).unwrap_or_default();
    let mut usage_json = Vec::with_capacity(128);
    usage.write_anthropic(&mut usage_json);
    let response = Response {
        id: completion.id.unwrap_or(Cow::Borrowed("msg_gateway")),
        kind: "message",
        role: "assistant",
        model: public_model,
        content,
        stop_reason: common::stop_reason(choice.finish_reason.as_deref().unwrap_or("stop")),
        stop_sequence: None,
        usage: RawValue::from_string(String::from_utf8_lossy(&usage_json).into_owned())
            .map_err(|e| TranslateError::invalid("usage", e.to_string()))?,
    };
    serde_json::to_vec(&response)
        .map(Bytes::from)
        .map_err(|e| TranslateError::invalid("content", e.to_string()))
}

/// A tool call's arguments string as an input object.
pub(crate) fn input(arguments: Option<&str>) -> Result<Box<RawValue>, TranslateError> {
    const PARAM: &str = "choices[0].message.tool_calls[].function.arguments";
    let text = arguments
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("{}");
    if !text.starts_with('{') {
        return Err(TranslateError::invalid(
            PARAM,
            "tool call arguments are not a JSON object",
        ));
    }
    serde_json::from_str(text).map_err(|e| {
        TranslateError::invalid(PARAM, format!("tool call arguments are not JSON: {e}"))
    })
}

#[derive(Deserialize)]
struct Completion<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    choices: First<Choice<'a>>,
    #[serde(default)]
    usage: Option<OpenAiUsage>,
}

#[derive(Deserialize, Default)]
struct Choice<'a> {
    #[serde(borrow, default)]
    message: Option<Message<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
struct Message<'a> {
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    refusal: Option<&'a RawValue>,
    #[serde(borrow, default)]
    reasoning_content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    reasoning: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCall<'a>>>,
}

#[derive(Deserialize)]
struct ToolCall<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    function: Function<'a>,
}

#[derive(Deserialize)]
struct Function<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
struct Response<'a> {
    id: Cow<'a, str>,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<Block<'a>>,
    stop_reason: &'static str,
    stop_sequence: Option<()>,
    usage: Box<RawValue>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Block<'a> {
    Thinking {
        #[serde(rename = "type")]
        kind: &'static str,
        thinking: &'a RawValue,
        signature: &'static str,
    },
    Text {
        #[serde(rename = "type")]
        kind: &'static str,
        text: &'a RawValue,
    },
    ToolUse {
        #[serde(rename = "type")]
        kind: &'static str,
        id: Cow<'a, str>,
        name: Cow<'a, str>,
        input: Box<RawValue>,
    },
}
