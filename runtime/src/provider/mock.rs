//! The built-in `mock` upstream kind: a deterministic OpenAI chat completion
//! server that runs in-process, with no network and no key.
//!
//! What it models: an OpenAI-compatible `/v1/chat/completions`. It parses
//! the (already model-rewritten) request, waits `latency`, then answers with
//! the configured `reply`: as one `chat.completion` object, or with
//! `stream: true` as SSE (a role chunk, `chunks` content deltas `chunk_gap`
//! apart, a finish chunk, a usage chunk when the client asked with
//! `stream_options.include_usage`, then `data: [DONE]`). Token counts are
//! deterministic: prompt = ceil(bytes of `messages` / 4), completion = words
//! in the reply. It is what `config/dev` serves `demo` from, and what smoke
//! tests and the benchmark use; it is not a language model.
//!
//! Tool calls, so agent loops can be driven deterministically
//! (`mock_tools.rs`): when the request carries `tools` and the LAST message
//! is a `user` message containing `call <name> <json-object>` where `<name>`
//! is one of the request's function tools, the answer is one assistant
//! message with `tool_calls: [{id: "call_<n>", type: "function", function:
//! {name, arguments: <the object as a JSON string>}}]` (n = 1 + assistant
//! turns so far), `content: null`, `finish_reason: "tool_calls"`. When the
//! last message is a `tool` message the answer is the text `The tool
//! returned: <its content>` with `finish_reason: "stop"`, except when the
//! latest user message also contains the word `repeatedly`: then the same
//! call is asked for again (to test agent step bounds). Streamed, a call is
//! sent as OpenAI streams one: a first chunk with the role, id, type, name
//! and empty arguments, `chunks` argument deltas (fewer if the arguments
//! have fewer characters), then the finish chunk.
//! Completion tokens are the words of the text or of the arguments. Without
//! `tools`, or with no directive, the answer is the configured reply and
//! `messages` is never parsed (the benchmark's path costs what it did).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body::{Body, Frame};
use serde::Deserialize;
use serde_json::{json, value::RawValue};
use tokio::time::Sleep;

use super::mock_tools::{ToolTurn, tool_turn};
use crate::body::ResponseBody;
use crate::table::MockBehavior;

#[derive(Deserialize)]
struct MockRequest<'a> {
    #[serde(borrow)]
    model: &'a str,
    #[serde(borrow)]
    messages: &'a RawValue,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
    /// Kept raw: only read (by `mock_tools`) when present.
    #[serde(default, borrow)]
    tools: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

/// Serves one request; `id` becomes the completion id suffix. A stream is
/// relayed by the caller like any upstream's (`relay.rs`: idle and drain
/// deadlines, tokens, the log line).
pub async fn respond(
    behavior: &'static MockBehavior,
    body: &[u8],
    id: &str,
) -> http::Response<ResponseBody> {
    let request: MockRequest<'_> = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(error) => return bad_request(&error.to_string()),
    };
    if !behavior.latency.is_zero() {
        tokio::time::sleep(behavior.latency).await;
    }
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let completion_id = format!("chatcmpl-mock-{id}");
    let turn = request
        .tools
        .and_then(|tools| tool_turn(request.messages, tools));
    let (reply, call) = match &turn {
        None => (behavior.reply, None),
        Some(ToolTurn::Text(text)) => (text.as_str(), None),
        Some(ToolTurn::Call {
            id,
            name,
            arguments,
        }) => (arguments.as_str(), Some((id.as_str(), name.as_str()))),
    };
    let prompt_tokens = request.messages.get().len().div_ceil(4) as u64;
    let completion_tokens = reply.split_whitespace().count() as u64;
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens
    });
    let finish_reason = if call.is_some() { "tool_calls" } else { "stop" };
    if !request.stream {
        let message = match call {
            None => json!({ "role": "assistant", "content": reply }),
            Some((call_id, name)) => json!({ "role": "assistant", "content": null, "tool_calls": [
                { "id": call_id, "type": "function", "function": { "name": name, "arguments": reply } }] }),
        };
        let mut body = json!({
            "id": completion_id, "object": "chat.completion", "created": created, "model": request.model,
            "choices": [{ "index": 0, "message": message, "logprobs": null, "finish_reason": finish_reason }],
        });
        if behavior.usage {
            body["usage"] = usage;
        }
        return response("application/json", ResponseBody::full(body.to_string()));
    }
    let include_usage = behavior.usage && request.stream_options.unwrap_or_default().include_usage;
    let chunk = |delta: serde_json::Value, finish: Option<&str>| {
        json!({ "id": completion_id, "object": "chat.completion.chunk", "created": created, "model": request.model,
                "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }] })
    };
    let mut events = match call {
        None => vec![chunk(json!({ "role": "assistant", "content": "" }), None)],
        Some((call_id, name)) => vec![chunk(
            json!({ "role": "assistant", "content": null, "tool_calls": [
                { "index": 0, "id": call_id, "type": "function", "function": { "name": name, "arguments": "" } }] }),
            None,
        )],
    };
    // Arguments are short: no more deltas than characters (no empty ones).
    let parts = match call {
        None => behavior.chunks,
        Some(_) => behavior
            .chunks
            .min(u32::try_from(reply.chars().count()).unwrap_or(u32::MAX))
            .max(1),
    };
    events.extend(split_reply(reply, parts).into_iter().map(|part| {
        let delta = match call {
            None => json!({ "content": part }),
            Some(_) => json!({ "tool_calls": [{ "index": 0, "function": { "arguments": part } }] }),
        };
        chunk(delta, None)
    }));
    events.push(chunk(json!({}), Some(finish_reason)));
    if include_usage {
        events.push(
            json!({ "id": completion_id, "object": "chat.completion.chunk", "created": created,
                            "model": request.model, "choices": [], "usage": usage }),
        );
    }
    let mut frames: Vec<Bytes> = events
        .iter()
        .map(|e| Bytes::from(format!("data: {e}\n\n")))
        .collect();
    frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    response(
        "text/event-stream",
        ResponseBody::stream(MockStream::new(frames, behavior.chunk_gap)),
    )
}

/// Splits `reply` into `parts` pieces on char boundaries; concatenated they are the reply.
pub fn split_reply(reply: &str, parts: u32) -> Vec<&str> {
    let parts = usize::try_from(parts.max(1)).unwrap_or(1);
    let boundaries: Vec<usize> = reply
        .char_indices()
        .map(|(i, _)| i)
        .chain([reply.len()])
        .collect();
    let chars = boundaries.len() - 1;
    (0..parts)
        .map(|k| {
            let start = boundaries
                .get(chars * k / parts)
                .copied()
                .unwrap_or(reply.len());
            let end = boundaries
                .get(chars * (k + 1) / parts)
                .copied()
                .unwrap_or(reply.len());
            reply.get(start..end).unwrap_or_default()
        })
        .collect()
}

fn response(content_type: &'static str, body: ResponseBody) -> http::Response<ResponseBody> {
    let mut response = http::Response::new(body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if content_type == "text/event-stream" {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    response
}

fn bad_request(detail: &str) -> http::Response<ResponseBody> {
    let body = json!({ "error": { "message": format!("mock upstream: {detail}"), "type": "invalid_request_error", "param": null, "code": null } });
    let mut response = response("application/json", ResponseBody::full(body.to_string()));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

/// Pre-rendered SSE events released one per `gap` (the first at once).
pub struct MockStream {
    frames: std::vec::IntoIter<Bytes>,
    gap: Duration,
    timer: Option<Pin<Box<Sleep>>>,
}

impl MockStream {
    fn new(frames: Vec<Bytes>, gap: Duration) -> Self {
        Self {
            frames: frames.into_iter(),
            gap,
            timer: None,
        }
    }
}

impl Body for MockStream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(timer) = this.timer.as_mut() {
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.timer = None;
        }
        let Some(frame) = this.frames.next() else {
            return Poll::Ready(None);
        };
        if !this.gap.is_zero() && this.frames.len() > 0 {
            this.timer = Some(Box::pin(tokio::time::sleep(this.gap)));
        }
        Poll::Ready(Some(Ok(Frame::data(frame))))
    }

    fn is_end_stream(&self) -> bool {
        self.frames.len() == 0 && self.timer.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    static BEHAVIOR: MockBehavior = MockBehavior {
        latency: Duration::from_millis(50),
        chunks: 3,
        chunk_gap: Duration::from_millis(100),
        usage: true,
        reply: "héllo wörld again",
    };

    #[test]
    fn split_reply_covers_the_text_on_char_boundaries() {
        for parts in 1..20 {
            let pieces = split_reply(BEHAVIOR.reply, parts);
            assert_eq!(pieces.len(), parts as usize);
            assert_eq!(pieces.concat(), BEHAVIOR.reply);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn non_streaming_reply_with_usage() {
        let start = tokio::time::Instant::now();
        let response = respond(
            &BEHAVIOR,
            br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
            "1",
        )
        .await;
        assert_eq!(start.elapsed(), Duration::from_millis(50));
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["choices"][0]["message"]["content"], BEHAVIOR.reply);
        assert_eq!(json["model"], "m");
        assert_eq!(json["usage"]["completion_tokens"], 3);
    }

    #[tokio::test(start_paused = true)]
    async fn stream_is_paced_and_ends_with_done() {
        let body =
            br#"{"model":"m","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#;
        let mut stream = respond(&BEHAVIOR, body, "2").await.into_body();
        let start = tokio::time::Instant::now();
        let mut frames = Vec::new();
        while let Some(frame) = stream.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            frames.push((start.elapsed(), String::from_utf8(data.to_vec()).unwrap()));
        }
        // role + 3 deltas + finish + usage + [DONE]
        assert_eq!(frames.len(), 7);
        assert_eq!(frames[0].0, Duration::ZERO);
        assert_eq!(frames[6].0, Duration::from_millis(600));
        assert_eq!(frames[6].1, "data: [DONE]\n\n");
        assert!(frames[5].1.contains("\"usage\""));
        let text: String = frames[1..4]
            .iter()
            .map(|(_, f)| {
                let json: serde_json::Value =
                    serde_json::from_str(f.trim_start_matches("data: ").trim()).unwrap();
                json["choices"][0]["delta"]["content"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(text, BEHAVIOR.reply);
    }

    const CALL_REQUEST: &str = r#""messages":[{"role":"user","content":"call calculator {\"a\":2,\"b\":3}"}],
        "tools":[{"type":"function","function":{"name":"calculator","parameters":{"type":"object"}}}]"#;

    #[tokio::test(start_paused = true)]
    async fn tool_call_directive_answers_one_call() {
        let body = format!(r#"{{"model":"m",{CALL_REQUEST}}}"#);
        let response = respond(&BEHAVIOR, body.as_bytes(), "4").await;
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let choice = &json["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["message"]["content"], serde_json::Value::Null);
        assert_eq!(
            choice["message"]["tool_calls"],
            serde_json::json!([{ "id": "call_1", "type": "function",
                "function": { "name": "calculator", "arguments": "{\"a\":2,\"b\":3}" } }])
        );
    }

    #[tokio::test(start_paused = true)]
    async fn tool_call_streams_like_openai() {
        let body = format!(
            r#"{{"model":"m","stream":true,"stream_options":{{"include_usage":true}},{CALL_REQUEST}}}"#
        );
        let mut stream = respond(&BEHAVIOR, body.as_bytes(), "5").await.into_body();
        let mut events = Vec::new();
        while let Some(frame) = stream.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            events.push(String::from_utf8(data.to_vec()).unwrap());
        }
        // first (id, name) + 3 argument deltas + finish + usage + [DONE]
        assert_eq!(events.len(), 7);
        let json: Vec<serde_json::Value> = events[..6]
            .iter()
            .map(|e| serde_json::from_str(e.trim_start_matches("data: ").trim()).unwrap())
            .collect();
        let first = &json[0]["choices"][0]["delta"]["tool_calls"][0];
        assert_eq!(first["id"], "call_1");
        assert_eq!(first["function"]["name"], "calculator");
        assert_eq!(first["function"]["arguments"], "");
        let arguments: String = json[1..4]
            .iter()
            .map(|j| {
                j["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(arguments, r#"{"a":2,"b":3}"#);
        assert_eq!(json[4]["choices"][0]["finish_reason"], "tool_calls");
        assert!(json[5]["usage"].is_object());
    }

    #[tokio::test(start_paused = true)]
    async fn tool_result_is_answered_as_text() {
        let body = br#"{"model":"m","tools":[{"type":"function","function":{"name":"t"}}],"messages":[
            {"role":"user","content":"call t {}"},
            {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"t","arguments":"{}"}}]},
            {"role":"tool","tool_call_id":"call_1","content":"42"}]}"#;
        let response = respond(&BEHAVIOR, body, "6").await;
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json["choices"][0]["message"]["content"],
            "The tool returned: 42"
        );
        assert_eq!(json["choices"][0]["finish_reason"], "stop");
    }

    #[tokio::test(start_paused = true)]
    async fn bad_json_is_a_400() {
        let response = respond(&BEHAVIOR, b"{", "3").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    }
}
