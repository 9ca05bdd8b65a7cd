//! Anthropic Messages stream -> OpenAI chat completion chunks, event by
//! event, never buffered.
//!
//! `message_start` -> a role chunk (and the prompt usage); text deltas ->
//! `content`; a `tool_use` block start -> a `tool_calls` entry with id and
//! name, its `input_json_delta`s -> `function.arguments` fragments (tool
//! index = the call's rank among the message's tool calls); thinking deltas
//! -> `reasoning_content` and, with signature deltas and redacted blocks,
//! indexed `thinking_blocks` entries (replayable once merged); the first
//! `message_delta` with a stop reason -> the finish chunk (every one: the
//! output usage); `message_stop` -> the usage chunk when the client asked
//! (`stream_options.include_usage`), then `data: [DONE]`. An upstream
//! `error` event becomes the gateway's `event: error` (OpenAI error object)
//! and ends the stream. Pings, citations and server tool blocks have no chat
//! form and are skipped. Text travels as the upstream's own JSON string
//! literals, spliced into pre-built chunk prefixes: no JSON value is built.
//! Format: docs.anthropic.com/en/docs/build-with-claude/streaming,
//! platform.openai.com/docs/api-reference/chat-streaming.

use bytes::Bytes;
use serde_json::value::RawValue;

use super::anthropic_event::{BlockStart, Delta, Event, StartMessage};
use super::common::{self, Usage};
use super::errors;
use super::json::{self, push_str, push_u64};
use super::sse::{SseParser, push_data};

/// Translates one Anthropic stream for an OpenAI client.
#[derive(Debug)]
pub struct MessagesSseToChat {
    parser: SseParser,
    state: State,
}

#[derive(Debug)]
struct State {
    /// `{"id":..,"object":"chat.completion.chunk","created":..,"model":..`
    head: Vec<u8>,
    model: String,
    created: u64,
    started: bool,
    include_usage: bool,
    /// (Anthropic block index, what it is) for the message's blocks.
    blocks: Vec<(u64, Kind)>,
    tool_calls: u64,
    thinking_blocks: u64,
    finish_sent: bool,
    usage: Usage,
    end: End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    /// A thinking block and its rank among the message's thinking blocks.
    Thinking(u64),
    Tool(u64),
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Open,
    Finished,
    Failed,
}

impl MessagesSseToChat {
    /// `public_model` is the name the client used; `created` the Unix time
    /// stamped on every chunk.
    pub fn new(public_model: &str, include_usage: bool, created: u64) -> Self {
        Self {
            parser: SseParser::new(),
            state: State {
                head: Vec::new(),
                model: public_model.to_owned(),
                created,
                started: false,
                include_usage,
                blocks: Vec::new(),
                tool_calls: 0,
                thinking_blocks: 0,
                finish_sent: false,
                usage: Usage::default(),
                end: End::Open,
            },
        }
    }

    /// Translates the next upstream bytes: complete chunks, possibly none.
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

    /// The explicit end of a cut stream: `event: error` with an OpenAI error
    /// object (the gateway's own stream error shape).
    pub fn cut(&mut self, code: &str, message: &str) -> Bytes {
        self.state.end = End::Failed;
        let mut out = Vec::with_capacity(message.len() + 96);
        out.extend_from_slice(b"event: error\ndata: ");
        errors::write_openai_error(&mut out, "api_error", Some(code), None, message);
        out.extend_from_slice(b"\n\n");
        Bytes::from(out)
    }

    /// Whether the stream is over: `[DONE]` sent, or an upstream error event
    /// or [`Self::cut`] ended it. Nothing more is sent; no `cut` is needed.
    pub fn finished(&self) -> bool {
        self.state.end != End::Open
    }

    #[cfg(test)]
    /// Whether it ended with an upstream or gateway error.
    pub fn failed(&self) -> bool {
        self.state.end == End::Failed
    }

    /// (prompt incl. cache, completion, cache read, cache write) so far.
    pub fn usage(&self) -> (u64, u64, u64, u64) {
        self.state.usage.tuple()
    }
}

/// A raw value usable as a JSON string in a chunk (and not empty).
fn text(raw: Option<&RawValue>) -> Option<&RawValue> {
    raw.filter(|raw| json::is_string(raw) && raw.get().len() > 2)
}

impl State {
    fn event(&mut self, name: &[u8], data: &[u8], out: &mut Vec<u8>) {
        if self.end != End::Open {
            return;
        }
        if name == b"error" {
            return self.upstream_error(data, out);
        }
        // One UTF-8 check for the event, not one per string (callgrind: -15%).
        let Ok(Ok(event)) = std::str::from_utf8(data).map(serde_json::from_str::<Event<'_>>) else {
            return self.fail(
                out,
                "upstream_stream_invalid",
                "The upstream sent a stream event that is not valid JSON; the response is incomplete.",
            );
        };
        match event.kind.as_ref() {
            "message_start" => self.start(event.message.as_ref(), out),
            "content_block_start" => self.block_start(event.index, event.content_block, out),
            "content_block_delta" => self.delta(event.index, event.delta, out),
            "message_delta" => {
                if let Some(usage) = &event.usage {
                    usage.apply(&mut self.usage);
                }
                if let Some(reason) = event.delta.and_then(|d| d.stop_reason) {
                    self.finish(out, common::finish_reason(&reason));
                }
            }
            "message_stop" => self.stop(out),
            "error" => self.upstream_error(data, out),
            // ping, content_block_stop, and event types added later.
            _ => {}
        }
    }

    fn start(&mut self, message: Option<&StartMessage<'_>>, out: &mut Vec<u8>) {
        if let Some(usage) = message.and_then(|m| m.usage.as_ref()) {
            usage.apply(&mut self.usage);
        }
        self.begin(message.and_then(|m| m.id));
        self.chunk(out, |out| {
            out.extend_from_slice(b"{\"role\":\"assistant\",\"content\":\"\"}")
        });
    }

    /// Builds the chunk head once the id is known.
    fn begin(&mut self, id: Option<&RawValue>) {
        if self.started {
            return;
        }
        self.started = true;
        self.head.extend_from_slice(b"{\"id\":");
        match id.filter(|id| json::is_string(id)) {
            Some(id) => self.head.extend_from_slice(id.get().as_bytes()),
            None => self.head.extend_from_slice(b"\"chatcmpl-gateway\""),
        }
        self.head
            .extend_from_slice(b",\"object\":\"chat.completion.chunk\",\"created\":");
        push_u64(&mut self.head, self.created);
        self.head.extend_from_slice(b",\"model\":");
        push_str(&mut self.head, &self.model);
    }

    /// One chunk whose delta `delta` writes.
    fn chunk(&mut self, out: &mut Vec<u8>, delta: impl FnOnce(&mut Vec<u8>)) {
        self.chunk_head(out);
        delta(out);
        out.extend_from_slice(b",\"finish_reason\":null}]}\n\n");
    }

    /// `data: {..,"choices":[{"index":0,"delta":`
    fn chunk_head(&mut self, out: &mut Vec<u8>) {
        self.begin(None);
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b",\"choices\":[{\"index\":0,\"delta\":");
    }

    fn block_start(
        &mut self,
        index: Option<u64>,
        block: Option<BlockStart<'_>>,
        out: &mut Vec<u8>,
    ) {
        let (Some(index), Some(block)) = (index, block) else {
            return;
        };
        let kind = match block.kind.as_ref() {
            "text" => Kind::Text,
            "thinking" => {
                self.thinking_blocks += 1;
                Kind::Thinking(self.thinking_blocks - 1)
            }
            "tool_use" => {
                self.tool_calls += 1;
                Kind::Tool(self.tool_calls - 1)
            }
            "redacted_thinking" => {
                self.thinking_blocks += 1;
                let rank = self.thinking_blocks - 1;
                self.thinking(
                    out,
                    rank,
                    b"redacted_thinking\",\"data\":",
                    text(block.data),
                    false,
                );
                Kind::Other
            }
            _ => Kind::Other,
        };
        self.blocks.push((index, kind));
        match kind {
            Kind::Text => self.content(b"content", text(block.text), out),
            Kind::Thinking(rank) => self.thinking(
                out,
                rank,
                b"thinking\",\"thinking\":",
                text(block.thinking),
                true,
            ),
            Kind::Tool(call) => {
                let id = block
                    .id
                    .filter(|r| json::is_string(r))
                    .map_or("\"\"", RawValue::get);
                let name = block
                    .name
                    .filter(|r| json::is_string(r))
                    .map_or("\"\"", RawValue::get);
                self.chunk(out, |out| {
                    out.extend_from_slice(b"{\"tool_calls\":[{\"index\":");
                    push_u64(out, call);
                    out.extend_from_slice(b",\"id\":");
                    out.extend_from_slice(id.as_bytes());
                    out.extend_from_slice(b",\"type\":\"function\",\"function\":{\"name\":");
                    out.extend_from_slice(name.as_bytes());
                    out.extend_from_slice(b",\"arguments\":\"\"}}]}");
                });
            }
            Kind::Other => {}
        }
    }

    fn delta(&mut self, index: Option<u64>, delta: Option<Delta<'_>>, out: &mut Vec<u8>) {
        let (Some(index), Some(delta)) = (index, delta) else {
            return;
        };
        let Some(&(_, kind)) = self.blocks.iter().rev().find(|(i, _)| *i == index) else {
            return;
        };
        match (kind, delta.kind.as_deref()) {
            (Kind::Text, Some("text_delta")) => self.content(b"content", text(delta.text), out),
            (Kind::Thinking(rank), Some("thinking_delta")) => self.thinking(
                out,
                rank,
                b"thinking\",\"thinking\":",
                text(delta.thinking),
                true,
            ),
            (Kind::Thinking(rank), Some("signature_delta")) => self.thinking(
                out,
                rank,
                b"thinking\",\"signature\":",
                text(delta.signature),
                false,
            ),
            (Kind::Tool(call), Some("input_json_delta")) => {
                if let Some(partial) = text(delta.partial_json) {
                    self.chunk(out, |out| {
                        out.extend_from_slice(b"{\"tool_calls\":[{\"index\":");
                        push_u64(out, call);
                        out.extend_from_slice(b",\"function\":{\"arguments\":");
                        out.extend_from_slice(partial.get().as_bytes());
                        out.extend_from_slice(b"}}]}");
                    });
                }
            }
            _ => {}
        }
    }

    /// A `thinking_blocks` entry for the thinking block of `rank` (indexed,
    /// so the OpenAI SDK's stream helper merges the fragments into one block
    /// that can be sent back with its signature): `type_and_key` is
    /// `<type>","<member>":`. `reasoning`: thinking text, also sent as
    /// `reasoning_content` for clients that read only that.
    fn thinking(
        &mut self,
        out: &mut Vec<u8>,
        rank: u64,
        type_and_key: &[u8],
        raw: Option<&RawValue>,
        reasoning: bool,
    ) {
        let Some(raw) = raw else { return };
        self.chunk(out, |out| {
            out.push(b'{');
            if reasoning {
                out.extend_from_slice(b"\"reasoning_content\":");
                out.extend_from_slice(raw.get().as_bytes());
                out.push(b',');
            }
            out.extend_from_slice(b"\"thinking_blocks\":[{\"index\":");
            push_u64(out, rank);
            out.extend_from_slice(b",\"type\":\"");
            out.extend_from_slice(type_and_key);
            out.extend_from_slice(raw.get().as_bytes());
            out.extend_from_slice(b"}]}");
        });
    }

    /// A `{"<key>":<text>}` delta when there is text.
    fn content(&mut self, key: &[u8], text: Option<&RawValue>, out: &mut Vec<u8>) {
        let Some(text) = text else { return };
        self.chunk(out, |out| {
            out.extend_from_slice(b"{\"");
            out.extend_from_slice(key);
            out.extend_from_slice(b"\":");
            out.extend_from_slice(text.get().as_bytes());
            out.push(b'}');
        });
    }

    /// The finish chunk, once (Anthropic may send several `message_delta`s).
    fn finish(&mut self, out: &mut Vec<u8>, reason: &str) {
        if std::mem::replace(&mut self.finish_sent, true) {
            return;
        }
        self.chunk_head(out);
        out.extend_from_slice(b"{},\"finish_reason\":\"");
        out.extend_from_slice(reason.as_bytes());
        out.extend_from_slice(b"\"}]}\n\n");
    }

    fn stop(&mut self, out: &mut Vec<u8>) {
        self.finish(out, "stop");
        if self.include_usage {
            self.begin(None);
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(&self.head);
            out.extend_from_slice(b",\"choices\":[],\"usage\":");
            self.usage.write_openai(out);
            out.extend_from_slice(b"}\n\n");
        }
        out.extend_from_slice(b"data: [DONE]\n\n");
        self.end = End::Finished;
    }

    fn upstream_error(&mut self, data: &[u8], out: &mut Vec<u8>) {
        let (kind, message) = errors::anthropic_error(data).unwrap_or_else(|| {
            (
                "api_error".to_owned(),
                "The upstream stream failed.".to_owned(),
            )
        });
        let mut json = Vec::with_capacity(message.len() + 96);
        errors::write_openai_error(&mut json, "api_error", Some(&kind), None, &message);
        out.extend_from_slice(b"event: error\n");
        push_data(out, &json);
        self.end = End::Failed;
    }

    fn fail(&mut self, out: &mut Vec<u8>, code: &str, message: &str) {
        let mut json = Vec::with_capacity(message.len() + 96);
        errors::write_openai_error(&mut json, "api_error", Some(code), None, message);
        out.extend_from_slice(b"event: error\n");
        push_data(out, &json);
        self.end = End::Failed;
    }
}
