//! Anthropic Messages request -> OpenAI chat completions request: the
//! top-level fields, walked through [`policy::MESSAGES_REQUEST`]. The
//! conversation is converted in `messages_chat.rs`. What the upstream can do
//! beyond plain chat is the caller's declaration ([`ChatUpstream`]); the
//! default suits OpenAI, Ollama, vLLM and the built-in mock.
//! Formats: docs.anthropic.com/en/api/messages,
//! platform.openai.com/docs/api-reference/chat/create.

use std::borrow::Cow;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::common::Notes;
use super::json::{self, is_null};
use super::messages_chat::{self, ChatMessage};
use super::messages_tools::{self, ChatTool, ChatToolChoice};
use super::policy::{self, Policy};
use super::{TranslateError, Translated};

/// Which field carries the output limit upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MaxTokensField {
    /// `max_completion_tokens`: OpenAI's current name, the only one its
    /// reasoning models accept.
    #[default]
    MaxCompletionTokens,
    /// `max_tokens`: for servers that know only the older name.
    MaxTokens,
}

/// What the OpenAI-compatible upstream accepts beyond plain chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChatUpstream {
    pub max_tokens_field: MaxTokensField,
    /// The upstream model takes `reasoning_effort` (OpenAI's o-series and
    /// gpt-5; others refuse it with a 400), so `thinking` maps to it.
    pub reasoning_effort: bool,
}

/// [`messages_request_to_chat_for`] with the default [`ChatUpstream`].
pub fn messages_request_to_chat(
    body: &[u8],
    upstream_model: &str,
) -> Result<Translated, TranslateError> {
    messages_request_to_chat_for(body, upstream_model, ChatUpstream::default())
}

/// Translates an Anthropic request for an OpenAI-compatible upstream
/// serving `upstream_model`.
pub fn messages_request_to_chat_for(
    body: &[u8],
    upstream_model: &str,
    upstream: ChatUpstream,
) -> Result<Translated, TranslateError> {
    let fields = json::object(body)?;
    let mut input = Input::default();
    let mut notes = Notes::default();
    for (key, raw) in &fields.0 {
        if is_null(raw) {
            continue;
        }
        match policy::lookup(policy::MESSAGES_REQUEST, key) {
            Some(rule) => match rule.policy {
                Policy::Mapped => input.set(rule.field, raw)?,
                Policy::Dropped => notes.drop(rule.field),
                Policy::Rejected => {
                    return Err(TranslateError::unsupported(
                        rule.field,
                        format!(
                            "`{}` is not supported for this model: {}",
                            rule.field, rule.note
                        ),
                    ));
                }
            },
            None => notes.unknown.push(key.clone().into_owned()),
        }
    }
    let messages = input
        .messages
        .ok_or_else(|| TranslateError::invalid("messages", "`messages` is required"))?;
    let max_tokens: u64 = json::field(
        input
            .max_tokens
            .ok_or_else(|| TranslateError::invalid("max_tokens", "`max_tokens` is required"))?,
        "max_tokens",
    )?;
    let messages: Vec<messages_chat::AnthropicMessage<'_>> = json::field(messages, "messages")?;
    let mut chat = messages_chat::system(input.system, &mut notes)?;
    messages_chat::convert(&messages, &mut chat, &mut notes)?;
    let (tools, tool_choice, parallel_tool_calls) =
        messages_tools::tools(input.tools, input.tool_choice, &mut notes)?;
    let stream = input
        .stream
        .map(|raw| json::field::<bool>(raw, "stream"))
        .transpose()?
        .unwrap_or(false);
    let out = Output {
        model: upstream_model,
        messages: chat,
        max_completion_tokens: (upstream.max_tokens_field == MaxTokensField::MaxCompletionTokens)
            .then_some(max_tokens),
        max_tokens: (upstream.max_tokens_field == MaxTokensField::MaxTokens).then_some(max_tokens),
        stop: input.stop()?,
        temperature: input
            .temperature
            .map(|raw| json::field(raw, "temperature"))
            .transpose()?,
        top_p: input
            .top_p
            .map(|raw| json::field(raw, "top_p"))
            .transpose()?,
        tools,
        tool_choice,
        parallel_tool_calls,
        reasoning_effort: input.reasoning(upstream.reasoning_effort, &mut notes)?,
        response_format: input.response_format()?,
        user: input.user()?,
        stream,
        stream_options: stream.then_some(StreamOptions {
            include_usage: true,
        }),
    };
    let body =
        serde_json::to_vec(&out).map_err(|e| TranslateError::invalid("messages", e.to_string()))?;
    Ok(Translated {
        body: Bytes::from(body),
        dropped: notes.dropped,
        unknown: notes.unknown,
        stream,
        include_usage: false,
    })
}

#[derive(Default)]
struct Input<'a> {
    messages: Option<&'a RawValue>,
    max_tokens: Option<&'a RawValue>,
    system: Option<&'a RawValue>,
    stop_sequences: Option<&'a RawValue>,
    stream: Option<&'a RawValue>,
    temperature: Option<&'a RawValue>,
    top_p: Option<&'a RawValue>,
    tools: Option<&'a RawValue>,
    tool_choice: Option<&'a RawValue>,
    metadata: Option<&'a RawValue>,
    thinking: Option<&'a RawValue>,
    output_config: Option<&'a RawValue>,
    output_format: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(borrow, default)]
    user_id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Thinking<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default)]
    budget_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct OutputConfig<'a> {
    #[serde(borrow, default)]
    effort: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    format: Option<OutputFormat<'a>>,
}

#[derive(Deserialize)]
struct OutputFormat<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow, default)]
    schema: Option<&'a RawValue>,
}

impl<'a> Input<'a> {
    fn set(&mut self, field: &'static str, raw: &'a RawValue) -> Result<(), TranslateError> {
        let slot = match field {
            "model" => return Ok(()),
            "messages" => &mut self.messages,
            "max_tokens" => &mut self.max_tokens,
            "system" => &mut self.system,
            "stop_sequences" => &mut self.stop_sequences,
            "stream" => &mut self.stream,
            "temperature" => &mut self.temperature,
            "top_p" => &mut self.top_p,
            "tools" => &mut self.tools,
            "tool_choice" => &mut self.tool_choice,
            "metadata" => &mut self.metadata,
            "thinking" => &mut self.thinking,
            "output_config" => &mut self.output_config,
            "output_format" => &mut self.output_format,
            other => {
                return Err(TranslateError::invalid(
                    field,
                    format!("`{other}` has no translation"),
                ));
            }
        };
        *slot = Some(raw);
        Ok(())
    }

    fn stop(&self) -> Result<Option<Vec<Cow<'a, str>>>, TranslateError> {
        let Some(raw) = self.stop_sequences else {
            return Ok(None);
        };
        let stops: Vec<Cow<'a, str>> = json::field(raw, "stop_sequences")?;
        if stops.len() > 4 {
            return Err(TranslateError::unsupported(
                "stop_sequences",
                "more than 4 `stop_sequences` are not supported for this model",
            ));
        }
        Ok((!stops.is_empty()).then_some(stops))
    }

    /// `metadata.user_id` as OpenAI's `user`; an id over 64 bytes (Claude
    /// Code sends a JSON document) becomes a stable SHA-256 prefix.
    fn user(&self) -> Result<Option<Cow<'a, str>>, TranslateError> {
        let Some(raw) = self.metadata else {
            return Ok(None);
        };
        let metadata: Metadata<'a> = json::field(raw, "metadata")?;
        Ok(metadata.user_id.map(|id| {
            if id.len() <= 64 {
                return id;
            }
            let digest = Sha256::digest(id.as_bytes());
            let mut hex = String::with_capacity(40);
            for byte in &digest[..16] {
                hex.push_str(&format!("{byte:02x}"));
            }
            Cow::Owned(format!("sha256:{hex}"))
        }))
    }

    fn reasoning(
        &self,
        upstream_reasons: bool,
        notes: &mut Notes,
    ) -> Result<Option<&'static str>, TranslateError> {
        let mut from_thinking = None;
        if let Some(raw) = self.thinking {
            let thinking: Thinking<'_> = json::field(raw, "thinking")?;
            from_thinking = match (thinking.kind.as_ref(), thinking.budget_tokens) {
                ("enabled", Some(budget)) if budget <= 2048 => Some("low"),
                ("enabled", Some(budget)) if budget <= 8192 => Some("medium"),
                ("enabled", _) => Some("high"),
                ("adaptive", _) => Some("medium"),
                _ => None,
            };
        }
        let mut from_config = None;
        if let Some(raw) = self.output_config {
            let config: OutputConfig<'_> = json::field(raw, "output_config")?;
            from_config = config.effort.map(|level| match level.as_ref() {
                "low" => "low",
                "medium" => "medium",
                _ => "high",
            });
        }
        if !upstream_reasons {
            if from_thinking.is_some() {
                notes.drop("thinking");
            }
            if from_config.is_some() {
                notes.drop("output_config");
            }
            return Ok(None);
        }
        Ok(from_config.or(from_thinking))
    }

    fn response_format(&self) -> Result<Option<ResponseFormat<'a>>, TranslateError> {
        let mut format = None;
        if let Some(raw) = self.output_format {
            format = Some(json::field::<OutputFormat<'a>>(raw, "output_format")?);
        }
        if let Some(raw) = self.output_config {
            let config: OutputConfig<'a> = json::field(raw, "output_config")?;
            format = config.format.or(format);
        }
        let Some(format) = format else {
            return Ok(None);
        };
        match (format.kind.as_ref(), format.schema) {
            ("json_schema", Some(schema)) => Ok(Some(ResponseFormat {
                kind: "json_schema",
                json_schema: JsonSchema {
                    name: "output",
                    schema,
                },
            })),
            (kind, _) => Err(TranslateError::unsupported(
                "output_config",
                format!("an output format of type `{kind}` is not supported for this model"),
            )),
        }
    }
}

#[derive(Serialize)]
struct Output<'a> {
    model: &'a str,
    messages: Vec<ChatMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<Vec<Cow<'a, str>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<Vec<ChatTool<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ChatToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<ResponseFormat<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct ResponseFormat<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    json_schema: JsonSchema<'a>,
}

#[derive(Serialize)]
struct JsonSchema<'a> {
    name: &'static str,
    schema: &'a RawValue,
}
