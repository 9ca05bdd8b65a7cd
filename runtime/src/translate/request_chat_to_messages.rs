//! OpenAI chat completions request -> Anthropic Messages request: the
//! top-level fields, walked through [`policy::CHAT_REQUEST`] and turned into
//! Anthropic's parameters. The conversation itself is converted in
//! `chat_messages.rs`. Formats: platform.openai.com/docs/api-reference/chat/create,
//! docs.anthropic.com/en/api/messages.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use super::chat_messages::{self, Block, ChatMessage, Message, last_tool_turn_lacks_thinking};
use super::chat_tools::{self, Tool, ToolChoice};
use super::common::Notes;
use super::json::{self, Str, is_null};
use super::policy::{self, Policy};
use super::{TranslateError, Translated};

/// Translates an OpenAI chat request for an Anthropic upstream serving
/// `upstream_model`; `default_max_tokens` applies when the client sets no
/// limit (Anthropic requires one).
pub fn chat_request_to_messages(
    body: &[u8],
    upstream_model: &str,
    default_max_tokens: u32,
) -> Result<Translated, TranslateError> {
    let (input, mut notes, messages) = match Walk::typed(body) {
        Some(walk) => walk.finish()?,
        None => Walk::plain(body)?,
    };
    let (system, messages) = chat_messages::convert(&messages, &mut notes)?;
    let max_tokens = input.max_tokens(default_max_tokens)?;
    let (tools, tool_choice) = chat_tools::tools(
        input.tools,
        input.tool_choice,
        input.parallel_tool_calls,
        &mut notes,
    )?;
    let mut out = Output {
        model: upstream_model,
        max_tokens,
        system,
        stop_sequences: input.stop()?,
        temperature: input.number("temperature", input.temperature)?,
        top_p: input.number("top_p", input.top_p)?,
        metadata: input.user()?.map(|user_id| Metadata { user_id }),
        thinking: None,
        stream: input.flag("stream", input.stream)?,
        messages,
        tools,
        tool_choice,
    };
    input.check_single_answer()?;
    if let Some(temperature) = out.temperature.as_mut()
        && *temperature > 1.0
    {
        *temperature = 1.0;
    }
    if out.temperature.is_some() && out.top_p.take().is_some() {
        notes.drop("top_p");
    }
    if let Some(effort) = input.reasoning_effort {
        let effort: Cow<'_, str> = json::field(effort, "reasoning_effort")?;
        out.thinking = thinking(&effort, &out, &mut notes)?;
    }
    if out.thinking.is_some() {
        if out.temperature.take().is_some() {
            notes.drop("temperature");
        }
        if out.top_p.is_some_and(|p| p < 0.95) {
            out.top_p = None;
            notes.drop("top_p");
        }
    }
    let include_usage = match input.stream_options {
        Some(raw) => json::field::<StreamOptions>(raw, "stream_options")?.include_usage,
        None => false,
    };
    let body = out.write(body.len())?;
    Ok(Translated {
        body: Bytes::from(body),
        dropped: notes.dropped,
        unknown: notes.unknown,
        stream: out.stream,
        include_usage,
    })
}

/// The top-level members, walked through [`policy::CHAT_REQUEST`].
#[derive(Default)]
struct Walk<'a> {
    input: Input<'a>,
    notes: Notes,
    /// `messages`, parsed in the same pass as the members (typed walk).
    messages: Option<Vec<ChatMessage<'a>>>,
    /// The first member refused; later members are parsed, not handled.
    error: Option<TranslateError>,
}

impl<'a> Walk<'a> {
    /// One pass over the body that also parses `messages`; `None` when
    /// anything in it fails to parse: [`Walk::plain`] then reports the error
    /// (as `InvalidJson`, or naming `messages` when only that is wrong).
    fn typed(body: &'a [u8]) -> Option<Self> {
        let text = std::str::from_utf8(body).ok()?;
        let mut walk = Self::default();
        let mut deserializer = serde_json::Deserializer::from_str(text);
        serde::Deserializer::deserialize_map(&mut deserializer, &mut walk).ok()?;
        deserializer.end().ok()?;
        Some(walk)
    }

    fn finish(self) -> Result<(Input<'a>, Notes, Vec<ChatMessage<'a>>), TranslateError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let messages = self.messages.ok_or_else(messages_required)?;
        Ok((self.input, self.notes, messages))
    }

    /// The members collected first, `messages` parsed after: the errors
    /// name what they should.
    fn plain(body: &'a [u8]) -> Result<(Input<'a>, Notes, Vec<ChatMessage<'a>>), TranslateError> {
        let fields = json::object(body)?;
        let mut walk = Self::default();
        for (key, raw) in fields.0 {
            walk.member(&key, raw)?;
        }
        let messages = walk.input.messages.ok_or_else(messages_required)?;
        let messages = json::field(messages, "messages")?;
        Ok((walk.input, walk.notes, messages))
    }

    fn member(&mut self, key: &str, raw: &'a RawValue) -> Result<(), TranslateError> {
        if is_null(raw) {
            return Ok(());
        }
        match policy::lookup(policy::CHAT_REQUEST, key) {
            Some(rule) => match rule.policy {
                Policy::Mapped => self.input.set(rule.field, raw)?,
                Policy::Dropped => self.notes.drop(rule.field),
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
            None => self.notes.unknown.push(key.to_owned()),
        }
        Ok(())
    }
}

fn messages_required() -> TranslateError {
    TranslateError::invalid("messages", "`messages` is required")
}

impl<'de> Visitor<'de> for &mut Walk<'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
            if key == "messages" {
                // `null` is skipped, as for every member.
                if let Some(messages) = map.next_value::<Option<Vec<ChatMessage<'de>>>>()? {
                    self.messages = Some(messages);
                }
                continue;
            }
            let raw = map.next_value::<&'de RawValue>()?;
            if self.error.is_none()
                && let Err(error) = self.member(&key, raw)
            {
                self.error = Some(error);
            }
        }
        Ok(())
    }
}

/// The mapped top-level fields, unparsed.
#[derive(Default)]
struct Input<'a> {
    messages: Option<&'a RawValue>,
    max_completion_tokens: Option<&'a RawValue>,
    max_tokens: Option<&'a RawValue>,
    stream: Option<&'a RawValue>,
    stream_options: Option<&'a RawValue>,
    temperature: Option<&'a RawValue>,
    top_p: Option<&'a RawValue>,
    stop: Option<&'a RawValue>,
    tools: Option<&'a RawValue>,
    tool_choice: Option<&'a RawValue>,
    parallel_tool_calls: Option<&'a RawValue>,
    user: Option<&'a RawValue>,
    safety_identifier: Option<&'a RawValue>,
    reasoning_effort: Option<&'a RawValue>,
    n: Option<&'a RawValue>,
    response_format: Option<&'a RawValue>,
    logprobs: Option<&'a RawValue>,
    modalities: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

#[derive(Deserialize)]
struct Typed<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
}

impl<'a> Input<'a> {
    fn set(&mut self, field: &'static str, raw: &'a RawValue) -> Result<(), TranslateError> {
        let slot = match field {
            "model" => return Ok(()),
            "messages" => &mut self.messages,
            "max_completion_tokens" => &mut self.max_completion_tokens,
            "max_tokens" => &mut self.max_tokens,
            "stream" => &mut self.stream,
            "stream_options" => &mut self.stream_options,
            "temperature" => &mut self.temperature,
            "top_p" => &mut self.top_p,
            "stop" => &mut self.stop,
            "tools" => &mut self.tools,
            "tool_choice" => &mut self.tool_choice,
            "parallel_tool_calls" => &mut self.parallel_tool_calls,
            "user" => &mut self.user,
            "safety_identifier" => &mut self.safety_identifier,
            "reasoning_effort" => &mut self.reasoning_effort,
            "n" => &mut self.n,
            "response_format" => &mut self.response_format,
            "logprobs" => &mut self.logprobs,
            "modalities" => &mut self.modalities,
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

    fn max_tokens(&self, default: u32) -> Result<u64, TranslateError> {
        if let Some(raw) = self.max_completion_tokens {
            return json::field(raw, "max_completion_tokens");
        }
        match self.max_tokens {
            Some(raw) => json::field(raw, "max_tokens"),
            None => Ok(u64::from(default)),
        }
    }

    fn number(
        &self,
        param: &'static str,
        raw: Option<&RawValue>,
    ) -> Result<Option<f64>, TranslateError> {
        raw.map(|raw| json::field(raw, param)).transpose()
    }

    fn flag(&self, param: &'static str, raw: Option<&RawValue>) -> Result<bool, TranslateError> {
        Ok(raw
            .map(|raw| json::field(raw, param))
            .transpose()?
            .unwrap_or(false))
    }

    fn stop(&self) -> Result<Option<Vec<Cow<'a, str>>>, TranslateError> {
        let Some(raw) = self.stop else {
            return Ok(None);
        };
        let stops: Vec<Cow<'a, str>> = if json::is_string(raw) {
            vec![json::field(raw, "stop")?]
        } else {
            json::field(raw, "stop")?
        };
        Ok((!stops.is_empty()).then_some(stops))
    }

    fn user(&self) -> Result<Option<Cow<'a, str>>, TranslateError> {
        match (self.user, self.safety_identifier) {
            (Some(raw), _) => json::field(raw, "user").map(Some),
            (None, Some(raw)) => json::field(raw, "safety_identifier").map(Some),
            (None, None) => Ok(None),
        }
    }

    /// `n`, `response_format`, `logprobs`, `modalities`: accepted only with
    /// values that need nothing from the upstream.
    fn check_single_answer(&self) -> Result<(), TranslateError> {
        let refuse = |param: &'static str, why: &str| {
            Err(TranslateError::unsupported(
                param,
                format!("`{param}` {why} is not supported for this model"),
            ))
        };
        if let Some(raw) = self.n
            && json::field::<u64>(raw, "n")? > 1
        {
            return refuse("n", "greater than 1");
        }
        if let Some(raw) = self.response_format
            && json::field::<Typed<'_>>(raw, "response_format")?.kind != "text"
        {
            return refuse("response_format", "other than `text`");
        }
        if let Some(raw) = self.logprobs
            && json::field::<bool>(raw, "logprobs")?
        {
            return refuse("logprobs", "set to true");
        }
        if let Some(raw) = self.modalities
            && json::field::<Vec<Cow<'_, str>>>(raw, "modalities")?
                .iter()
                .any(|m| m != "text")
        {
            return refuse("modalities", "other than [\"text\"]");
        }
        Ok(())
    }
}

/// The thinking budget for an effort, or `None` (with a note) when Anthropic
/// would refuse thinking for this request.
fn thinking(
    effort: &str,
    out: &Output<'_>,
    notes: &mut Notes,
) -> Result<Option<Thinking>, TranslateError> {
    let budget: u64 = match effort {
        "none" | "minimal" => return Ok(None),
        "low" => 1024,
        "medium" => 4096,
        "high" => 16384,
        "xhigh" => 32768,
        other => {
            return Err(TranslateError::invalid(
                "reasoning_effort",
                format!("unknown reasoning_effort `{other}`"),
            ));
        }
    };
    let budget = budget.min(out.max_tokens / 2);
    let forced = out
        .tool_choice
        .as_ref()
        .is_some_and(|c| matches!(c.kind, "any" | "tool"));
    if budget < 1024 || forced || last_tool_turn_lacks_thinking(&out.messages) {
        notes.drop("reasoning_effort");
        return Ok(None);
    }
    Ok(Some(Thinking {
        kind: "enabled",
        budget_tokens: budget,
    }))
}

/// The Messages body's members, in the order [`Output::write`] writes them.
struct Output<'a> {
    model: &'a str,
    max_tokens: u64,
    system: Vec<Block<'a>>,
    messages: Vec<Message<'a>>,
    stop_sequences: Option<Vec<Cow<'a, str>>>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    tools: Option<Vec<Tool<'a>>>,
    tool_choice: Option<ToolChoice<'a>>,
    thinking: Option<Thinking>,
    metadata: Option<Metadata<'a>>,
    stream: bool,
}

impl Output<'_> {
    /// The Messages body, written by hand in the field order (and with the
    /// omissions) of the derived `Serialize`; tools and the tool choice,
    /// rare and nested, go through serde. `hint`: the client body's size.
    fn write(&self, hint: usize) -> Result<Vec<u8>, TranslateError> {
        let serde = |e: serde_json::Error| TranslateError::invalid("messages", e.to_string());
        let mut out = Vec::with_capacity(hint + 128);
        out.extend_from_slice(b"{\"model\":");
        json::push_str(&mut out, self.model);
        out.extend_from_slice(b",\"max_tokens\":");
        json::push_u64(&mut out, self.max_tokens);
        if !self.system.is_empty() {
            out.extend_from_slice(b",\"system\":");
            chat_messages::write_blocks(&mut out, &self.system)?;
        }
        out.extend_from_slice(b",\"messages\":");
        chat_messages::write_messages(&mut out, &self.messages)?;
        if let Some(stops) = &self.stop_sequences {
            out.extend_from_slice(b",\"stop_sequences\":[");
            for (i, stop) in stops.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json::push_str(&mut out, stop);
            }
            out.push(b']');
        }
        for (name, value) in [
            (b",\"temperature\":".as_slice(), self.temperature),
            (b",\"top_p\":".as_slice(), self.top_p),
        ] {
            if let Some(value) = value {
                out.extend_from_slice(name);
                serde_json::to_writer(&mut out, &value).map_err(serde)?;
            }
        }
        if let Some(tools) = &self.tools {
            out.extend_from_slice(b",\"tools\":");
            serde_json::to_writer(&mut out, tools).map_err(serde)?;
        }
        if let Some(choice) = &self.tool_choice {
            out.extend_from_slice(b",\"tool_choice\":");
            serde_json::to_writer(&mut out, choice).map_err(serde)?;
        }
        if let Some(thinking) = &self.thinking {
            out.extend_from_slice(b",\"thinking\":{\"type\":");
            json::push_str(&mut out, thinking.kind);
            out.extend_from_slice(b",\"budget_tokens\":");
            json::push_u64(&mut out, thinking.budget_tokens);
            out.push(b'}');
        }
        if let Some(metadata) = &self.metadata {
            out.extend_from_slice(b",\"metadata\":{\"user_id\":");
            json::push_str(&mut out, &metadata.user_id);
            out.push(b'}');
        }
        if self.stream {
            out.extend_from_slice(b",\"stream\":true");
        }
        out.push(b'}');
        Ok(out)
    }
}

struct Thinking {
    kind: &'static str,
    budget_tokens: u64,
}

struct Metadata<'a> {
    user_id: Cow<'a, str>,
}
