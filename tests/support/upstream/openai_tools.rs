//! The OpenAI mock's SDK-faithful modes (chat completions wire format):
//! `sse-text` (a text stream whose chunks carry every field the SDK types
//! require, unlike `sse`); tool calling:
//! `tool`, `tool:NAME`, `tool:NAME:{JSON}` (one `tool_calls` entry for a tool
//! of the request's `tools`), `parallel-tool` (two calls), each streamed when
//! the request says `"stream": true`; `sse-tool...` streams whatever the
//! request says, the arguments split over several deltas. When the last
//! message has role `tool`, the answer is text quoting that tool result
//! (`the tool said: <result>`), streamed when the request asks. Every chunk
//! and body carries the fields the `openai` SDK types require; streams end
//! with a usage chunk when `stream_options.include_usage` is set, then
//! `[DONE]`.

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::tools::{self, ToolCall};
use super::{Body, ChannelBody, full_owned};

/// The text of `sse-text`, one word per chunk.
pub const STREAMED_TEXT: &str = "Hello from the OpenAI mock, streamed.";

/// The answer for a tool mode or a tool turn; `None` for every other request.
pub fn reply(mode: &str, request: &Value) -> Option<Response<Body>> {
    // The last turn, skipping system messages a client may add after it.
    let last = request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] != "system"))?;
    let stream = request["stream"] == true;
    if last["role"] == "tool" {
        let text = tools::answer_from_tool_result(&tools::content_text(&last["content"]), false);
        return Some(if stream {
            text_stream(&text, request)
        } else {
            text_body(&text, request)
        });
    }
    if mode == "sse-text" {
        return Some(text_stream(STREAMED_TEXT, request));
    }
    let (forced, rest) = match mode.strip_prefix("sse-") {
        Some(rest) => (true, rest),
        None => (false, mode),
    };
    let (parallel, rest) = match rest.strip_prefix("parallel-") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let (name, input) = tools::parse_tool_mode(rest)?;
    let declared: Vec<(String, Value)> = request["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some((
                t["function"]["name"].as_str()?.to_string(),
                t["function"]["parameters"].clone(),
            ))
        })
        .collect();
    let calls = tools::choose_calls(
        &declared,
        name.as_deref(),
        input.as_ref(),
        if parallel { 2 } else { 1 },
    );
    Some(if stream || forced {
        calls_stream(&calls, request)
    } else {
        calls_body(&calls, request)
    })
}

fn call_id(index: usize) -> String {
    format!("call_mock_{index}")
}

fn usage(request: &Value, completion: usize) -> Value {
    let prompt = request["messages"].to_string().len() / 4 + 1;
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

fn completion(message: Value, finish: &str, request: &Value, tokens: usize) -> Response<Body> {
    let body = json!({
        "id": "chatcmpl-mock-tool",
        "object": "chat.completion",
        "created": 1,
        "model": request["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": null}],
        "usage": usage(request, tokens),
    });
    full_owned(StatusCode::OK, "application/json", body.to_string())
}

fn calls_body(calls: &[ToolCall], request: &Value) -> Response<Body> {
    let tool_calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, call)| {
            json!({"id": call_id(i), "type": "function", "function": {"name": call.name, "arguments": call.input.to_string()}})
        })
        .collect();
    let message =
        json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": tool_calls});
    completion(message, "tool_calls", request, 9 * calls.len())
}

fn text_body(text: &str, request: &Value) -> Response<Body> {
    let message = json!({"role": "assistant", "content": text, "refusal": null});
    completion(message, "stop", request, text.split_whitespace().count())
}

fn chunk(request: &Value, delta: Value, finish: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-mock-tool",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": request["model"],
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null}],
    })
}

fn calls_stream(calls: &[ToolCall], request: &Value) -> Response<Body> {
    let mut chunks = vec![chunk(
        request,
        json!({"role": "assistant", "content": null}),
        None,
    )];
    for (index, call) in calls.iter().enumerate() {
        let opening = json!({"index": index, "id": call_id(index), "type": "function", "function": {"name": call.name, "arguments": ""}});
        chunks.push(chunk(request, json!({"tool_calls": [opening]}), None));
        for piece in tools::split_text(&call.input.to_string(), 3) {
            let delta = json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]});
            chunks.push(chunk(request, delta, None));
        }
    }
    chunks.push(chunk(request, json!({}), Some("tool_calls")));
    events(chunks, request, 9 * calls.len())
}

fn text_stream(text: &str, request: &Value) -> Response<Body> {
    let mut chunks = vec![chunk(
        request,
        json!({"role": "assistant", "content": ""}),
        None,
    )];
    for word in text.split_inclusive(' ') {
        chunks.push(chunk(request, json!({"content": word}), None));
    }
    chunks.push(chunk(request, json!({}), Some("stop")));
    events(chunks, request, text.split_whitespace().count())
}

/// Writes each chunk as its own frame, a usage chunk when asked, then `[DONE]`.
fn events(mut chunks: Vec<Value>, request: &Value, tokens: usize) -> Response<Body> {
    if request["stream_options"]["include_usage"] == true {
        let mut last = chunk(request, json!({}), None);
        last["choices"] = json!([]);
        last["usage"] = usage(request, tokens);
        chunks.push(last);
    }
    let mut frames: Vec<Bytes> = chunks
        .iter()
        .map(|c| Bytes::from(format!("data: {c}\n\n")))
        .collect();
    frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    tokio::spawn(async move {
        for frame in frames {
            if tx.send(frame).await.is_err() {
                return;
            }
        }
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(ChannelBody(rx).boxed())
        .expect("response")
}
