//! A streamed agent run, client side and model side.
//!
//! [`Sink`] writes the client's stream: progress comments, chunks in the
//! chat completions shape (translated to Anthropic Messages events for
//! `/v1/messages`), and the closing chunks or the error event.
//! [`model_step`] reads one model step that was asked with `stream: true`:
//! its text goes on to the client as it arrives, and the step is put back
//! together (text, tool calls, finish reason, usage) as the `chat.completion`
//! the loop expects. So the final answer streams token by token; text a
//! model writes before it asks for a tool reaches the client too.

use bytes::Bytes;
use http::Response;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::unix_now;
use crate::body::ResponseBody;
use crate::table::Agent;
use crate::translate::ChatSseToMessages;
use crate::translate::sse::SseParser;

/// Most tool calls one streamed step may ask for (an index past it is refused).
const MAX_TOOL_CALLS: usize = 128;

/// The client's side of a streamed run.
pub struct Sink {
    tx: mpsc::Sender<Bytes>,
    /// Anthropic clients: the chat chunks become Messages events.
    translator: Option<ChatSseToMessages>,
    id: String,
    model: &'static str,
    /// The first chunk carries the role.
    role_sent: bool,
    /// The current step's text has reached the client.
    pub step_text_sent: bool,
}

impl Sink {
    pub fn new(tx: mpsc::Sender<Bytes>, agent: &Agent, id: &str, anthropic: bool) -> Self {
        Self {
            tx,
            translator: anthropic.then(|| ChatSseToMessages::new(agent.model_id)),
            id: format!("chatcmpl-{id}"),
            model: agent.model_id,
            role_sent: false,
            step_text_sent: false,
        }
    }

    /// A progress comment; a full channel only loses a keep-alive line.
    pub fn comment(&self, line: String) {
        let _ = self.tx.try_send(Bytes::from(line));
    }

    /// Sends one chat frame (translated for Anthropic clients); `false`
    /// when the client has left.
    pub async fn send(&mut self, frame: Bytes) -> bool {
        let frame = match &mut self.translator {
            None => frame,
            Some(events) => match frame.strip_prefix(b"event: error\ndata: ") {
                Some(payload) => {
                    let error: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
                    let code = error.pointer("/error/code").and_then(Value::as_str);
                    let message = error.pointer("/error/message").and_then(Value::as_str);
                    events.cut(
                        code.unwrap_or("agent_error"),
                        message.unwrap_or("the agent run failed"),
                    )
                }
                None => events.feed(&frame),
            },
        };
        frame.is_empty() || self.tx.send(frame).await.is_ok()
    }

    /// One `chat.completion.chunk` frame.
    fn chunk(&self, choices: Value, usage: Value) -> Bytes {
        let body = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": unix_now(),
            "model": self.model,
            "choices": choices,
            "usage": usage,
        });
        Bytes::from(format!("data: {body}\n\n"))
    }

    /// A chunk of answer text (the first one also says the role).
    fn text(&mut self, text: &str) -> Bytes {
        let delta = if std::mem::replace(&mut self.role_sent, true) {
            json!({ "content": text })
        } else {
            json!({ "role": "assistant", "content": text })
        };
        self.chunk(
            json!([{ "index": 0, "delta": delta, "finish_reason": null }]),
            Value::Null,
        )
    }

    /// The end of a run that answered: the answer's text unless it already
    /// streamed, the finish chunk, usage when asked, `[DONE]`.
    pub fn closing(&mut self, text: &str, usage: Option<Value>) -> Vec<Bytes> {
        let mut frames = Vec::with_capacity(4);
        if !self.step_text_sent {
            frames.push(self.text(text));
        }
        frames.push(self.chunk(
            json!([{ "index": 0, "delta": {}, "finish_reason": "stop" }]),
            Value::Null,
        ));
        if let Some(usage) = usage {
            frames.push(self.chunk(json!([]), usage));
        }
        frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
        frames
    }
}

/// What one streamed step said so far.
#[derive(Default)]
struct Step {
    text: String,
    calls: Vec<Call>,
    finish: Option<String>,
    usage: Value,
}

/// One tool call, put together from its deltas.
#[derive(Default)]
struct Call {
    id: String,
    name: String,
    arguments: String,
}

/// Reads a step's event stream: its text goes to `sink` as it arrives; the
/// step comes back as a `chat.completion`. `Err` says why there is none (a
/// cut stream, an error event, a client that left).
pub async fn model_step(
    response: Response<ResponseBody>,
    sink: &mut Sink,
) -> Result<Value, String> {
    sink.step_text_sent = false;
    let mut body = response.into_body();
    let mut parser = SseParser::new();
    let mut step = Step::default();
    while let Some(frame) = body.frame().await {
        // The gateway's own body never fails: a broken upstream stream
        // ends with an `error` event, read below.
        let Ok(frame) = frame;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        let mut events = Vec::new();
        parser.feed(data, &mut |name, data| {
            events.push((name == b"error", data.to_vec()));
        });
        for (error, data) in events {
            if error {
                let error: Value = serde_json::from_slice(&data).unwrap_or(Value::Null);
                let message = error.pointer("/error/message").and_then(Value::as_str);
                return Err(message
                    .unwrap_or("the model's stream ended with an error")
                    .to_owned());
            }
            if let Some(text) = step.read(&data)? {
                sink.step_text_sent = true;
                let frame = sink.text(&text);
                if !sink.send(frame).await {
                    return Err("the client left".to_owned());
                }
            }
        }
    }
    step.completion()
}

impl Step {
    /// Takes in one `data:` payload; the text it adds, if any.
    fn read(&mut self, data: &[u8]) -> Result<Option<String>, String> {
        if data == b"[DONE]" {
            return Ok(None);
        }
        let chunk: Value = serde_json::from_slice(data)
            .map_err(|e| format!("the model's stream sent a chunk that is not JSON ({e})"))?;
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = usage.clone();
        }
        let Some(choice) = chunk.pointer("/choices/0") else {
            return Ok(None);
        };
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish = Some(reason.to_owned());
        }
        let delta = &choice["delta"];
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            self.call_delta(call)?;
        }
        let text = delta["content"].as_str().filter(|t| !t.is_empty());
        Ok(text.map(|text| {
            self.text.push_str(text);
            text.to_owned()
        }))
    }

    /// One tool-call delta: the id, type and name come once, the arguments in pieces.
    fn call_delta(&mut self, delta: &Value) -> Result<(), String> {
        let index = delta["index"].as_u64().unwrap_or(0);
        let index = usize::try_from(index)
            .ok()
            .filter(|i| *i < MAX_TOOL_CALLS)
            .ok_or_else(|| format!("the model asked for more than {MAX_TOOL_CALLS} tool calls"))?;
        if self.calls.len() <= index {
            self.calls.resize_with(index + 1, Call::default);
        }
        let call = &mut self.calls[index];
        if let Some(id) = delta["id"].as_str() {
            call.id = id.to_owned();
        }
        let function = &delta["function"];
        if let Some(name) = function["name"].as_str() {
            call.name.push_str(name);
        }
        if let Some(arguments) = function["arguments"].as_str() {
            call.arguments.push_str(arguments);
        }
        Ok(())
    }

    /// The step as the `chat.completion` a non-streamed call would have answered.
    fn completion(self) -> Result<Value, String> {
        let Some(finish) = self.finish else {
            return Err("the model's stream ended before its finish_reason".to_owned());
        };
        let mut message = json!({
            "role": "assistant",
            "content": if self.text.is_empty() { Value::Null } else { Value::String(self.text) },
        });
        if !self.calls.is_empty() {
            let calls: Vec<Value> = self
                .calls
                .into_iter()
                .map(|c| json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
                .collect();
            message["tool_calls"] = Value::Array(calls);
        }
        Ok(json!({
            "object": "chat.completion",
            "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
            "usage": self.usage,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::Step;

    #[test]
    fn a_streamed_step_comes_back_whole() {
        let mut step = Step::default();
        let frames = [
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Let me "}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"add."}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"calculator","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#,
            "[DONE]",
        ];
        let texts: Vec<Option<String>> = frames
            .iter()
            .map(|f| step.read(f.as_bytes()).unwrap())
            .collect();
        assert_eq!(texts[0].as_deref(), Some("Let me "));
        assert_eq!(texts[1].as_deref(), Some("add."));
        assert!(texts[2..].iter().all(Option::is_none));
        let whole = step.completion().unwrap();
        let message = &whole["choices"][0]["message"];
        assert_eq!(message["content"], "Let me add.");
        assert_eq!(message["tool_calls"][0]["id"], "call_1");
        assert_eq!(message["tool_calls"][0]["function"]["name"], "calculator");
        assert_eq!(
            message["tool_calls"][0]["function"]["arguments"],
            r#"{"a":1}"#
        );
        assert_eq!(whole["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(whole["usage"]["total_tokens"], 10);
    }

    #[test]
    fn a_cut_or_hostile_stream_is_an_error() {
        let mut step = Step::default();
        step.read(br#"{"choices":[{"index":0,"delta":{"content":"hi"}}]}"#)
            .unwrap();
        assert!(step.completion().unwrap_err().contains("finish_reason"));
        let mut step = Step::default();
        assert!(step.read(b"{not json").is_err());
        let far = br#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":100000,"function":{"name":"x"}}]}}]}"#;
        assert!(step.read(far).unwrap_err().contains("tool calls"));
    }
}
