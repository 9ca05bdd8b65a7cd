//! OpenAI chat completion chunks -> Anthropic Messages stream, chunk by
//! chunk, never buffered.
//!
//! The first chunk opens the message (`message_start`, usage with the input
//! estimate the caller gave, else 0). Each run of one kind of delta is one
//! content block, started before its first delta and stopped before the
//! next block starts, so no delta ever arrives for a block that is not open:
//! `reasoning_content`/`reasoning` -> a thinking block, `content`/`refusal`
//! -> a text block, each `tool_calls[]` index -> a `tool_use` block (id and
//! name from its first fragment) whose argument fragments are
//! `input_json_delta`s. `finish_reason` closes the open block and is held
//! only until the usage chunk (we always ask for one) or `[DONE]`; then
//! `message_delta` (stop reason, real usage) and `message_stop`. Without a
//! usage chunk, output tokens are estimated from the bytes sent (4 per
//! token). An upstream error chunk, or a tool call resuming after another
//! started (which Anthropic's block order cannot express), ends the stream
//! with Anthropic's `event: error`. Formats:
//! platform.openai.com/docs/api-reference/chat-streaming,
//! docs.anthropic.com/en/docs/build-with-claude/streaming.

use bytes::Bytes;
use serde_json::value::RawValue;

use super::common::{self, Usage};
use super::errors;
use super::json::{self, push_str, push_u64};
use super::openai_chunk::{Chunk, Delta};
use super::sse::{SseParser, push_event};

const PING: &[u8] = b"event: ping\ndata: {\"type\":\"ping\"}\n\n";

/// Translates one OpenAI chat stream for an Anthropic client.
#[derive(Debug)]
pub struct ChatSseToMessages {
    parser: SseParser,
    state: State,
}

#[derive(Debug)]
struct State {
    model: String,
    input_estimate: u64,
    started: bool,
    open: Option<Open>,
    next_index: u64,
    /// OpenAI tool-call indexes whose blocks were started.
    tools: Vec<u64>,
    stop_reason: Option<&'static str>,
    usage: Option<Usage>,
    /// Bytes of text and arguments sent, for an output estimate.
    sent: u64,
    end: End,
    scratch: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text(u64),
    Thinking(u64),
    /// (Anthropic block index, OpenAI tool-call index)
    Tool(u64, u64),
}

impl Open {
    fn index(self) -> u64 {
        match self {
            Self::Text(i) | Self::Thinking(i) | Self::Tool(i, _) => i,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Open,
    Finished,
    Failed,
}

impl ChatSseToMessages {
    /// `public_model` is the name the client used.
    pub fn new(public_model: &str) -> Self {
        Self {
            parser: SseParser::new(),
            state: State {
                model: public_model.to_owned(),
                input_estimate: 0,
                started: false,
                open: None,
                next_index: 0,
                tools: Vec::new(),
                stop_reason: None,
                usage: None,
                sent: 0,
                end: End::Open,
                scratch: Vec::with_capacity(256),
            },
        }
    }

    /// Input tokens to announce in `message_start` (the real count follows
    /// in `message_delta`), e.g. from [`super::estimate_input_tokens`].
    pub fn with_input_tokens(mut self, estimate: u64) -> Self {
        self.state.input_estimate = estimate;
        self
    }

    /// Translates the next upstream bytes: complete events, possibly none.
    pub fn feed(&mut self, chunk: &[u8]) -> Bytes {
        let mut out = Vec::new();
        self.feed_into(chunk, &mut out);
        Bytes::from(out)
    }

    /// [`Self::feed`] appending to a caller's buffer.
    pub fn feed_into(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let state = &mut self.state;
        self.parser
            .feed(chunk, &mut |name, data| state.event(name, data, out));
    }

    /// A `ping` event, to send during upstream silence (Claude Code gives
    /// up after five minutes without bytes).
    pub fn ping() -> Bytes {
        Bytes::from_static(PING)
    }

    /// The explicit end of a cut stream: Anthropic's `event: error`
    /// (`api_error`, the message naming `code`).
    pub fn cut(&mut self, code: &str, message: &str) -> Bytes {
        self.state.end = End::Failed;
        let mut out = Vec::with_capacity(message.len() + 96);
        error_event(&mut out, "api_error", &format!("{message} ({code})"));
        Bytes::from(out)
    }

    /// Whether the stream is over: `message_stop` sent, or an upstream error
    /// or [`Self::cut`] ended it. Nothing more is sent; no `cut` is needed.
    pub fn finished(&self) -> bool {
        self.state.end != End::Open
    }

    #[cfg(test)]
    /// Whether it ended with an upstream or gateway error.
    pub fn failed(&self) -> bool {
        self.state.end == End::Failed
    }

    /// (prompt incl. cache, completion, cache read, cache write): the
    /// upstream's numbers once reported, else the estimates.
    pub fn usage(&self) -> (u64, u64, u64, u64) {
        self.state.final_usage().tuple()
    }
}

fn error_event(out: &mut Vec<u8>, kind: &str, message: &str) {
    let mut json = Vec::with_capacity(message.len() + 64);
    errors::write_anthropic_error(&mut json, kind, message);
    push_event(out, "error", &json);
}

/// A non-empty JSON string.
fn text(raw: Option<&RawValue>) -> Option<&RawValue> {
    raw.filter(|raw| json::is_string(raw) && raw.get().len() > 2)
}

impl State {
    fn event(&mut self, name: &[u8], data: &[u8], out: &mut Vec<u8>) {
        if self.end != End::Open {
            return;
        }
        if data == b"[DONE]" {
            return self.finish(out);
        }
        let parsed = std::str::from_utf8(data).map(serde_json::from_str::<Chunk<'_>>);
        let chunk = match parsed {
            Ok(Ok(chunk)) if chunk.error.is_none() && name != b"error" => chunk,
            _ => return self.upstream_error(data, out),
        };
        self.start(chunk.id, out);
        if let Some(choice) = chunk.choices.and_then(|c| c.0) {
            if let Some(delta) = choice.delta
                && let Err(message) = self.delta(delta, out)
            {
                error_event(out, "api_error", message);
                self.end = End::Failed;
                return;
            }
            if let Some(reason) = choice.finish_reason {
                self.close(out);
                self.stop_reason = Some(common::stop_reason(&reason));
            }
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(usage.to_usage());
        }
        if self.stop_reason.is_some() && self.usage.is_some() {
            self.finish(out);
        }
    }

    fn start(&mut self, id: Option<&RawValue>, out: &mut Vec<u8>) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        let json = &mut self.scratch;
        json.clear();
        json.extend_from_slice(b"{\"type\":\"message_start\",\"message\":{\"id\":");
        match id.filter(|id| json::is_string(id)) {
            Some(id) => json.extend_from_slice(id.get().as_bytes()),
            None => json.extend_from_slice(b"\"msg_gateway\""),
        }
        json.extend_from_slice(b",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
        push_str(json, &self.model);
        json.extend_from_slice(
            b",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":",
        );
        let announced = Usage {
            input: self.input_estimate,
            ..Usage::default()
        };
        announced.write_anthropic(json);
        json.extend_from_slice(b"}}");
        push_event(out, "message_start", json);
    }

    fn delta(&mut self, delta: Delta<'_>, out: &mut Vec<u8>) -> Result<(), &'static str> {
        if let Some(thinking) = text(delta.reasoning_content).or(text(delta.reasoning)) {
            let index = self.open_block(
                out,
                |open| matches!(open, Open::Thinking(_)),
                Open::Thinking,
                b"{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}",
            );
            self.block_delta(out, index, b"thinking_delta\",\"thinking\":", thinking);
        }
        for content in [text(delta.content), text(delta.refusal)]
            .into_iter()
            .flatten()
        {
            let index = self.open_block(
                out,
                |open| matches!(open, Open::Text(_)),
                Open::Text,
                b"{\"type\":\"text\",\"text\":\"\"}",
            );
            self.block_delta(out, index, b"text_delta\",\"text\":", content);
        }
        for (position, call) in delta.tool_calls.into_iter().flatten().enumerate() {
            let call_index = call.index.unwrap_or(position as u64);
            let function = call.function;
            let index = match self.open {
                Some(Open::Tool(index, open)) if open == call_index => index,
                _ if self.tools.contains(&call_index) => {
                    return Err(
                        "The upstream resumed a tool call after starting another; the response cannot be translated.",
                    );
                }
                _ => self.start_tool(
                    out,
                    call_index,
                    call.id,
                    function.as_ref().and_then(|f| f.name),
                ),
            };
            if let Some(arguments) = text(function.and_then(|f| f.arguments)) {
                self.block_delta(
                    out,
                    index,
                    b"input_json_delta\",\"partial_json\":",
                    arguments,
                );
            }
        }
        Ok(())
    }

    /// The open block when `is_kind` accepts it, else a new block of `kind`.
    fn open_block(
        &mut self,
        out: &mut Vec<u8>,
        is_kind: impl Fn(Open) -> bool,
        kind: impl FnOnce(u64) -> Open,
        start: &[u8],
    ) -> u64 {
        if let Some(open) = self.open.filter(|open| is_kind(*open)) {
            return open.index();
        }
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some(kind(index));
        let json = &mut self.scratch;
        json.clear();
        json.extend_from_slice(b"{\"type\":\"content_block_start\",\"index\":");
        push_u64(json, index);
        json.extend_from_slice(b",\"content_block\":");
        json.extend_from_slice(start);
        json.push(b'}');
        push_event(out, "content_block_start", json);
        index
    }

    fn start_tool(
        &mut self,
        out: &mut Vec<u8>,
        call_index: u64,
        id: Option<&RawValue>,
        name: Option<&RawValue>,
    ) -> u64 {
        self.tools.push(call_index);
        let mut start = Vec::with_capacity(96);
        start.extend_from_slice(b"{\"type\":\"tool_use\",\"id\":");
        match id.filter(|id| json::is_string(id)) {
            Some(id) => start.extend_from_slice(id.get().as_bytes()),
            None => {
                start.extend_from_slice(b"\"toolu_gateway_");
                push_u64(&mut start, call_index);
                start.push(b'"');
            }
        }
        start.extend_from_slice(b",\"name\":");
        start.extend_from_slice(
            name.filter(|n| json::is_string(n))
                .map_or("\"\"", RawValue::get)
                .as_bytes(),
        );
        start.extend_from_slice(b",\"input\":{}}");
        self.open_block(
            out,
            |_| false,
            |index| Open::Tool(index, call_index),
            &start,
        )
    }

    /// `content_block_delta` with `"delta":{"type":"<kind_and_key><raw>}`.
    fn block_delta(&mut self, out: &mut Vec<u8>, index: u64, kind_and_key: &[u8], raw: &RawValue) {
        self.sent += raw.get().len() as u64 - 2;
        let json = &mut self.scratch;
        json.clear();
        json.extend_from_slice(b"{\"type\":\"content_block_delta\",\"index\":");
        push_u64(json, index);
        json.extend_from_slice(b",\"delta\":{\"type\":\"");
        json.extend_from_slice(kind_and_key);
        json.extend_from_slice(raw.get().as_bytes());
        json.extend_from_slice(b"}}");
        push_event(out, "content_block_delta", json);
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        let Some(open) = self.open.take() else { return };
        let json = &mut self.scratch;
        json.clear();
        json.extend_from_slice(b"{\"type\":\"content_block_stop\",\"index\":");
        push_u64(json, open.index());
        json.push(b'}');
        push_event(out, "content_block_stop", json);
    }

    fn final_usage(&self) -> Usage {
        self.usage.unwrap_or(Usage {
            input: self.input_estimate,
            output: self.sent.div_ceil(4),
            ..Usage::default()
        })
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        self.start(None, out);
        self.close(out);
        let reason = self.stop_reason.unwrap_or("end_turn");
        let usage = self.final_usage();
        let json = &mut self.scratch;
        json.clear();
        json.extend_from_slice(b"{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"");
        json.extend_from_slice(reason.as_bytes());
        json.extend_from_slice(b"\",\"stop_sequence\":null},\"usage\":");
        usage.write_anthropic(json);
        json.push(b'}');
        push_event(out, "message_delta", json);
        push_event(out, "message_stop", b"{\"type\":\"message_stop\"}");
        self.end = End::Finished;
    }

    fn upstream_error(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let (kind, message) = errors::openai_error(data).unwrap_or_else(|| {
            (String::new(), "The upstream sent a stream chunk that is not valid JSON; the response is incomplete.".to_owned())
        });
        error_event(out, errors::anthropic_type_for_openai(&kind), &message);
        self.end = End::Failed;
    }
}
