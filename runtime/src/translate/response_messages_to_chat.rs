//! Anthropic Messages response -> OpenAI chat completion.
//!
//! Text blocks join into `message.content` (raw literals concatenated, no
//! re-escaping); `tool_use` blocks become `tool_calls` (input object ->
//! arguments string); thinking becomes `reasoning_content` plus
//! `thinking_blocks` carrying each signature (and redacted blocks) so a
//! client can send them back; server tool blocks and citations have no chat
//! form and are left out. `stop_reason` -> `finish_reason`; usage with cache
//! reads in `prompt_tokens_details.cached_tokens` (see `common.rs`).
//! Formats: docs.anthropic.com/en/api/messages,
//! platform.openai.com/docs/api-reference/chat/object.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
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
    let message: Response<'_> =
        serde_json::from_slice(body).map_err(|e| TranslateError::InvalidJson(e.to_string()))?;
    let mut texts = Vec::new();
    let mut reasoning = Vec::new();
    let mut thinking_blocks = Vec::new();
    let mut tool_calls = Vec::new();
    for block in &message.content {
        match block.kind.as_ref() {
            "text" => texts.extend(block.text.filter(|t| json::is_string(t))),
            "thinking" => {
                reasoning.extend(block.thinking.filter(|t| json::is_string(t)));
                thinking_blocks.push(ThinkingBlock::Thinking {
                    kind: "thinking",
                    thinking: block.thinking,
                    signature: block.signature,
                });
            }
            "redacted_thinking" => thinking_blocks.push(ThinkingBlock::Redacted {
                kind: "redacted_thinking",
                data: block.data,
            }),
            "tool_use" => tool_calls.push(ToolCall {
                id: block.id.clone().unwrap_or_default(),
                kind: "function",
                function: Function {
                    name: block.name.clone().unwrap_or_default(),
                    arguments: block.input.map_or("{}", RawValue::get),
                },
            }),
            _ => {}
        }
    }
    let mut usage = Usage::default();
    if let Some(reported) = &message.usage {
        reported.apply(&mut usage);
    }
    let mut usage_json = Vec::with_capacity(160);
    usage.write_openai(&mut usage_json);
    let completion = Completion {
        id: message.id.unwrap_or(Cow::Borrowed(id_hint)),
        object: "chat.completion",
        created,
        model: public_model,
        choices: [Choice {
            index: 0,
            message: ChatMessage {
                role: "assistant",
                content: (!texts.is_empty())
                    .then(|| json::concat(&texts))
                    .transpose()?,
                refusal: None,
                reasoning_content: (!reasoning.is_empty())
                    .then(|| json::concat(&reasoning))
                    .transpose()?,
                thinking_blocks,
                tool_calls,
            },
            logprobs: None,
            finish_reason: common::finish_reason(message.stop_reason.as_deref().unwrap_or("")),
        }],
        usage: RawValue::from_string(String::from_utf8_lossy(&usage_json).into_owned())
            .map_err(|e| TranslateError::invalid("usage", e.to_string()))?,
    };
    serde_json::to_vec(&completion)
        .map(Bytes::from)
        .map_err(|e| TranslateError::invalid("content", e.to_string()))
}

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    content: Vec<ResponseBlock<'a>>,
    #[serde(borrow, default)]
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
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
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

#[derive(Serialize)]
struct Completion<'a> {
    id: Cow<'a, str>,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [Choice<'a>; 1],
    usage: Box<RawValue>,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: ChatMessage<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
}

#[derive(Serialize)]
struct ChatMessage<'a> {
    role: &'static str,
    content: Option<Box<RawValue>>,
    refusal: Option<()>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    thinking_blocks: Vec<ThinkingBlock<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ThinkingBlock<'a> {
    Thinking {
        #[serde(rename = "type")]
        kind: &'static str,
        thinking: Option<&'a RawValue>,
        signature: Option<&'a RawValue>,
    },
    Redacted {
        #[serde(rename = "type")]
        kind: &'static str,
        data: Option<&'a RawValue>,
    },
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
