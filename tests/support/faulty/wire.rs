//! The wire formats of the fault-injecting upstream: normal answers naming
//! the upstream model (JSON, or the SSE events of a stream), error bodies,
//! the context-window refusal, and the health endpoint's answers, for
//! OpenAI chat completions and Anthropic Messages as their providers
//! document them.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};

use super::{Body, End, Wire, sse};

pub(super) fn health(healthy: bool) -> Response<Body> {
    if healthy {
        let model =
            json!({"id": "faulty-model", "object": "model", "created": 0, "owned_by": "faulty"});
        json_response(StatusCode::OK, &json!({"object": "list", "data": [model]}))
    } else {
        let error = json!({"error": {"message": "The server is temporarily unavailable.", "type": "server_error", "param": null, "code": null}});
        json_response(StatusCode::SERVICE_UNAVAILABLE, &error)
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(
            Full::new(Bytes::from(body.to_string()))
                .map_err(|never| match never {})
                .boxed(),
        )
        .expect("response")
}

/// What an answer to one request says.
pub(super) struct Reply {
    wire: Wire,
    pub(super) model: String,
    pub(super) stream: bool,
    usage: bool,
    serial: usize,
}

impl Reply {
    /// The answer to `request` (its body as JSON), the `serial`-th of its server.
    pub(super) fn of(wire: Wire, request: &Value, serial: usize) -> Self {
        Self {
            wire,
            model: request["model"].as_str().unwrap_or_default().to_string(),
            stream: request["stream"] == true,
            usage: request["stream_options"]["include_usage"] == true,
            serial,
        }
    }

    pub(super) fn text(&self) -> String {
        format!("served by {}", self.model)
    }

    pub(super) fn ok(&self) -> Response<Body> {
        if self.stream {
            return sse(self.events(), End::Clean, None);
        }
        let body = match self.wire {
            Wire::OpenAi => json!({
                "id": format!("chatcmpl-faulty-{}", self.serial), "object": "chat.completion",
                "created": 1, "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": self.text(), "refusal": null},
                             "logprobs": null, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            }),
            Wire::Anthropic => {
                let mut message = self.message();
                message["content"] = json!([{"type": "text", "text": self.text()}]);
                message["stop_reason"] = json!("end_turn");
                message["usage"] = json!({"input_tokens": 5, "output_tokens": 3});
                message
            }
        };
        json_response(StatusCode::OK, &body)
    }

    /// The Anthropic message object as `message_start` carries it.
    fn message(&self) -> Value {
        json!({
            "id": format!("msg_faulty_{}", self.serial), "type": "message", "role": "assistant",
            "model": self.model, "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 5, "output_tokens": 1},
        })
    }

    /// The whole normal stream, one string per event.
    pub(super) fn events(&self) -> Vec<String> {
        match self.wire {
            Wire::OpenAi => {
                let chunk = |delta: Value, finish: Value| {
                    let chunk = json!({
                        "id": format!("chatcmpl-faulty-{}", self.serial), "object": "chat.completion.chunk",
                        "created": 1, "model": self.model,
                        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
                    });
                    format!("data: {chunk}\n\n")
                };
                let mut events = vec![
                    chunk(json!({"role": "assistant", "content": ""}), Value::Null),
                    chunk(json!({"content": "served by "}), Value::Null),
                    chunk(json!({"content": self.model}), Value::Null),
                    chunk(json!({}), json!("stop")),
                ];
                if self.usage {
                    let usage = json!({
                        "id": format!("chatcmpl-faulty-{}", self.serial), "object": "chat.completion.chunk",
                        "created": 1, "model": self.model, "choices": [],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
                    });
                    events.push(format!("data: {usage}\n\n"));
                }
                events.push("data: [DONE]\n\n".to_string());
                events
            }
            Wire::Anthropic => {
                let delta = |text: &str| json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}});
                [
                    ("message_start", json!({"type": "message_start", "message": self.message()})),
                    ("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})),
                    ("ping", json!({"type": "ping"})),
                    ("content_block_delta", delta("served by ")),
                    ("content_block_delta", delta(&self.model)),
                    ("content_block_stop", json!({"type": "content_block_stop", "index": 0})),
                    ("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 3}})),
                    ("message_stop", json!({"type": "message_stop"})),
                ]
                .into_iter()
                .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
                .collect()
            }
        }
    }

    /// This status with the wire's error body.
    pub(super) fn error(&self, code: u16) -> Response<Body> {
        let status = StatusCode::from_u16(code).expect("status code");
        let (message, openai_type, param, openai_code) = match code {
            400 => (
                "Invalid value for 'temperature': must be between 0 and 2.",
                "invalid_request_error",
                json!("temperature"),
                json!("invalid_value"),
            ),
            429 => (
                "Rate limit reached for requests",
                "requests",
                Value::Null,
                json!("rate_limit_exceeded"),
            ),
            500..=599 => (
                "The server had an error while processing your request.",
                "server_error",
                Value::Null,
                Value::Null,
            ),
            _ => (
                "The request was refused.",
                "invalid_request_error",
                Value::Null,
                Value::Null,
            ),
        };
        let body = match self.wire {
            Wire::OpenAi => {
                json!({"error": {"message": message, "type": openai_type, "param": param, "code": openai_code}})
            }
            Wire::Anthropic => anthropic_error(anthropic_type(code), message),
        };
        json_response(status, &body)
    }

    pub(super) fn context_too_long(&self) -> Response<Body> {
        let body = match self.wire {
            Wire::OpenAi => json!({"error": {
                "message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages.",
                "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}),
            Wire::Anthropic => anthropic_error(
                "invalid_request_error",
                "prompt is too long: 210000 tokens > 200000 maximum",
            ),
        };
        json_response(StatusCode::BAD_REQUEST, &body)
    }
}

fn anthropic_error(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// Anthropic's documented error type for a status.
fn anthropic_type(code: u16) -> &'static str {
    match code {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}
