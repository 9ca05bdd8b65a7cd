//! What the Anthropic mock answers, as data: the mode a request asks for,
//! the content blocks of the answer, the `Message` body and the stream's
//! event sequence (Anthropic Messages API wire format). No I/O here: the
//! server in `anthropic_upstream.rs` writes these values out.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::upstream::tools::{self, ToolCall};

/// The text of the `text` mode.
pub const TEXT_REPLY: &str = "Hello from the Anthropic mock.";
/// The text of the `stream` mode, one word per delta.
pub const LONG_REPLY: &str = "one two three four five six seven eight nine ten eleven twelve";

/// What the last user message asks for (see the module docs of `anthropic_upstream`).
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    Text,
    Long {
        gated: bool,
    },
    Tool {
        name: Option<String>,
        input: Option<Value>,
        parallel: bool,
    },
    FromToolResult {
        text: String,
        is_error: bool,
    },
    Status(u16),
    ErrorEvent,
    Stall,
    Truncated,
}

/// A mode plus whether a thinking block comes first.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub mode: Mode,
    pub thinking: bool,
}

impl Plan {
    /// The plan for a request body: a `tool_result` in the last user message
    /// is answered from; otherwise the last text block that is a mode word
    /// decides, `text` when none is.
    pub fn of(request: &Value) -> Self {
        let last = request["messages"]
            .as_array()
            .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"));
        let content = last.map(|m| &m["content"]).unwrap_or(&Value::Null);
        if let Some(result) = content
            .as_array()
            .and_then(|blocks| blocks.iter().rev().find(|b| b["type"] == "tool_result"))
        {
            let mode = Mode::FromToolResult {
                text: tools::content_text(&result["content"]),
                is_error: result["is_error"] == true,
            };
            return Self {
                mode,
                thinking: false,
            };
        }
        let texts: Vec<&str> = match content {
            Value::String(text) => vec![text.as_str()],
            Value::Array(blocks) => blocks.iter().filter_map(|b| b["text"].as_str()).collect(),
            _ => vec![],
        };
        texts
            .iter()
            .rev()
            .find_map(|text| Self::parse(text.trim()))
            .unwrap_or(Self {
                mode: Mode::Text,
                thinking: false,
            })
    }

    /// Parses one mode word; `None` when `word` is not one.
    pub fn parse(word: &str) -> Option<Self> {
        if word == "thinking" {
            return Some(Self {
                mode: Mode::Text,
                thinking: true,
            });
        }
        if let Some(rest) = word.strip_prefix("thinking+") {
            return Self::parse(rest).map(|plan| Self {
                thinking: true,
                ..plan
            });
        }
        let mode = match word {
            "text" | "json" => Mode::Text,
            "stream" | "sse" | "sse-text" => Mode::Long { gated: false },
            "stream-gated" | "sse-gated" => Mode::Long { gated: true },
            "error-event" => Mode::ErrorEvent,
            "stall" | "sse-stall" => Mode::Stall,
            "truncated" | "sse-truncated" => Mode::Truncated,
            w if w.starts_with("status:") => Mode::Status(w["status:".len()..].parse().ok()?),
            w => {
                let w = w.strip_prefix("sse-").unwrap_or(w);
                let (w, parallel) = match w.strip_prefix("parallel-") {
                    Some(rest) => (rest, true),
                    None => (w, false),
                };
                let (name, input) = tools::parse_tool_mode(w)?;
                Mode::Tool {
                    name,
                    input,
                    parallel,
                }
            }
        };
        Some(Self {
            mode,
            thinking: false,
        })
    }
}

/// One content block of an answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Thinking(String),
    Text(String),
    ToolUse { id: String, call: ToolCall },
}

/// The blocks of an answer, its stop reason and its output token count.
pub struct Answer {
    pub blocks: Vec<Block>,
    pub stop_reason: &'static str,
    pub output_tokens: u64,
}

/// The signature the mock gives a thinking block (and checks when it comes back).
pub fn signature(thinking: &str) -> String {
    let digest = Sha256::digest(thinking.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("mocksig-{hex}")
}

/// Builds the answer for `plan`; `serial` makes tool-use ids unique.
pub fn answer(plan: &Plan, request: &Value, serial: usize) -> Answer {
    let mut blocks = Vec::new();
    if plan.thinking {
        blocks.push(Block::Thinking(format!(
            "The user asked for {:?}; I will answer.",
            plan.mode
        )));
    }
    let mut stop_reason = "end_turn";
    match &plan.mode {
        Mode::Tool {
            name,
            input,
            parallel,
        } => {
            let declared: Vec<(String, Value)> = request["tools"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| Some((t["name"].as_str()?.to_string(), t["input_schema"].clone())))
                .collect();
            let calls = tools::choose_calls(
                &declared,
                name.as_deref(),
                input.as_ref(),
                if *parallel { 2 } else { 1 },
            );
            if let Some(first) = calls.first() {
                blocks.push(Block::Text(format!("Calling {}.", first.name)));
                stop_reason = "tool_use";
            } else {
                blocks.push(Block::Text("No tool I can call was declared.".into()));
            }
            for (index, call) in calls.into_iter().enumerate() {
                blocks.push(Block::ToolUse {
                    id: format!("toolu_mock_{serial}_{index}"),
                    call,
                });
            }
        }
        Mode::FromToolResult { text, is_error } => {
            blocks.push(Block::Text(tools::answer_from_tool_result(text, *is_error)));
        }
        Mode::Text => {
            let limit = request["max_tokens"].as_u64().unwrap_or(u64::MAX);
            let words: Vec<&str> = TEXT_REPLY.split_inclusive(' ').collect();
            if (words.len() as u64) > limit {
                blocks.push(Block::Text(words[..limit as usize].concat()));
                stop_reason = "max_tokens";
            } else {
                blocks.push(Block::Text(TEXT_REPLY.into()));
            }
        }
        _ => blocks.push(Block::Text(LONG_REPLY.into())),
    }
    let output_tokens = blocks.iter().map(block_tokens).sum::<u64>().max(1);
    Answer {
        blocks,
        stop_reason,
        output_tokens,
    }
}

fn block_tokens(block: &Block) -> u64 {
    match block {
        Block::Thinking(text) | Block::Text(text) => text.split_whitespace().count() as u64,
        Block::ToolUse { call, .. } => call.input.to_string().len() as u64 / 4 + 1,
    }
}

/// The input token count the mock reports for a request (and answers to
/// `count_tokens` with): a quarter of the bytes of its system, messages and
/// tools, so a test can compare the two endpoints.
pub fn input_tokens(request: &Value) -> u64 {
    let size = |v: &Value| {
        if v.is_null() {
            0
        } else {
            v.to_string().len() as u64
        }
    };
    (size(&request["system"]) + size(&request["messages"]) + size(&request["tools"])) / 4 + 1
}

/// The usage object of a `Message` (also of `message_start`, with output 1).
pub fn usage(input: u64, output: u64) -> Value {
    json!({
        "input_tokens": input,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": output,
        "service_tier": "standard",
    })
}

/// A block in its final (non-streaming) form.
pub fn block_json(block: &Block) -> Value {
    match block {
        Block::Thinking(text) => {
            json!({"type": "thinking", "thinking": text, "signature": signature(text)})
        }
        Block::Text(text) => json!({"type": "text", "text": text}),
        Block::ToolUse { id, call } => {
            json!({"type": "tool_use", "id": id, "name": call.name, "input": call.input})
        }
    }
}

/// The whole `Message` body of a non-streaming answer.
pub fn message(id: &str, request: &Value, answer: &Answer) -> Value {
    json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": request["model"],
        "content": answer.blocks.iter().map(block_json).collect::<Vec<_>>(),
        "stop_reason": answer.stop_reason,
        "stop_sequence": null,
        "usage": usage(input_tokens(request), answer.output_tokens),
    })
}

/// One step of a stream: an SSE event (name, data), or a fault.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Event(&'static str, Value),
    /// Wait for the test's release (bounded).
    Gate,
    /// Stay silent with the connection open (bounded), then close.
    Stall,
}

/// The events of a streaming answer, faults included, per the mode.
pub fn stream_steps(id: &str, plan: &Plan, request: &Value, answer: &Answer) -> Vec<Step> {
    let input = input_tokens(request);
    let mut start = message(id, request, answer);
    start["content"] = json!([]);
    start["stop_reason"] = Value::Null;
    start["usage"] = usage(input, 1);
    let mut steps = vec![Step::Event(
        "message_start",
        json!({"type": "message_start", "message": start}),
    )];
    if plan.mode == (Mode::Long { gated: true }) {
        steps.push(Step::Gate);
    }
    for (index, block) in answer.blocks.iter().enumerate() {
        block_steps(&mut steps, index, block);
    }
    let mut delta_usage = usage(input, answer.output_tokens);
    if let Some(fields) = delta_usage.as_object_mut() {
        fields.retain(|name, _| name.ends_with("tokens"));
    }
    steps.push(Step::Event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": answer.stop_reason, "stop_sequence": null}, "usage": delta_usage}),
    ));
    steps.push(Step::Event("message_stop", json!({"type": "message_stop"})));
    // Faults cut the stream inside the first block: message_start,
    // content_block_start, ping and one delta are kept.
    let cut = 4;
    match plan.mode {
        Mode::Stall => {
            steps.truncate(cut);
            steps.push(Step::Stall);
        }
        Mode::Truncated => steps.truncate(cut + 1),
        Mode::ErrorEvent => {
            steps.truncate(cut + 1);
            steps.push(Step::Event(
                "error",
                error_body("overloaded_error", "Overloaded", None),
            ));
        }
        _ => {}
    }
    steps
}

fn block_steps(steps: &mut Vec<Step>, index: usize, block: &Block) {
    let event = |name: &'static str, data: Value| Step::Event(name, data);
    let delta = |delta: Value| {
        event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index, "delta": delta}),
        )
    };
    let opening = match block {
        Block::Thinking(_) => json!({"type": "thinking", "thinking": "", "signature": ""}),
        Block::Text(_) => json!({"type": "text", "text": ""}),
        Block::ToolUse { id, call } => {
            json!({"type": "tool_use", "id": id, "name": call.name, "input": {}})
        }
    };
    steps.push(event(
        "content_block_start",
        json!({"type": "content_block_start", "index": index, "content_block": opening}),
    ));
    if index == 0 {
        steps.push(event("ping", json!({"type": "ping"})));
    }
    match block {
        Block::Thinking(text) => {
            for piece in tools::split_text(text, 2) {
                steps.push(delta(json!({"type": "thinking_delta", "thinking": piece})));
            }
            steps.push(delta(
                json!({"type": "signature_delta", "signature": signature(text)}),
            ));
        }
        Block::Text(text) => {
            for (n, word) in text.split_inclusive(' ').enumerate() {
                if n > 0 && n % 4 == 0 {
                    steps.push(event("ping", json!({"type": "ping"})));
                }
                steps.push(delta(json!({"type": "text_delta", "text": word})));
            }
        }
        Block::ToolUse { call, .. } => {
            steps.push(delta(
                json!({"type": "input_json_delta", "partial_json": ""}),
            ));
            for piece in tools::split_text(&call.input.to_string(), 3) {
                steps.push(delta(
                    json!({"type": "input_json_delta", "partial_json": piece}),
                ));
            }
        }
    }
    steps.push(event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    ));
}

/// An error body in Anthropic's shape.
pub fn error_body(kind: &str, message: &str, request_id: Option<&str>) -> Value {
    let mut body = json!({"type": "error", "error": {"type": kind, "message": message}});
    if let Some(id) = request_id {
        body["request_id"] = json!(id);
    }
    body
}

/// The documented error type of a status code.
pub fn error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        _ if status < 500 => "invalid_request_error",
        _ => "api_error",
    }
}
