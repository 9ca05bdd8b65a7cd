//! `model: "agent/<name>"` on `POST /v1/chat/completions`: the agent's tool
//! loop (`agents/`) run for the caller, each model call through the
//! gateway's own chat path (`failover::serve`, so quotas, budgets, failover
//! and usage apply to every step) and each tool call through
//! `tools::call_as` (access, validation, `tool.invoke`). The answer is a
//! `chat.completion` (or, with `stream: true`, SSE: each step asked streamed
//! and its text relayed as it comes, `: agent step ...` comments between
//! steps; `stream.rs`) naming `agent/<name>`, with usage summed over the run.
//!
//! An agent the caller may not use answers exactly like an unknown model.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

mod list;
mod stream;

pub use list::{list, refresh};

use super::failover::{self, Endpoint};
use super::ops::json_response;
use super::tools::{Via, call_as};
use super::unix_now;
use crate::agents::{self, Answer, Steps};
use crate::auth::Caller;
use crate::body::ResponseBody;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::table::{Agent, ModelId, Tool};
use crate::translate;
use stream::Sink;

/// The prefix of an agent's model id.
pub const PREFIX: &str = "agent/";

/// Whether a chat body may name an agent (a vectorised substring scan
/// before any parse, so a gateway with agents pays little on ordinary
/// requests; no agents compiled: never).
pub fn may_name_agent(gateway: &Gateway, body: &[u8]) -> bool {
    !gateway.config.agents.is_empty() && memchr::memmem::find(body, b"\"agent/").is_some()
}

/// The agent `model` names, if the caller may use it.
pub fn visible(gateway: &Gateway, caller: &Caller, model: &str) -> Option<&'static Agent> {
    let agent = gateway.config.agent(model.strip_prefix(PREFIX)?)?;
    may_use(gateway, caller, agent).then_some(agent)
}

/// Whether `caller` may use `agent`: its `agents` lists allow it, and it
/// may use the agent's model (every step calls that model as the caller).
pub fn may_use(gateway: &Gateway, caller: &Caller, agent: &Agent) -> bool {
    caller.may_use_agent(&gateway.config.auth, agent.id) && caller.may_use(agent.model)
}

/// A chat completions request; `None` when its model is not an agent's
/// (the body goes the usual way).
pub async fn chat(
    gateway: &'static Gateway,
    caller: &Caller,
    (headers, body, request_id): (&HeaderMap, &Bytes, &HeaderValue),
    resolved: &mut Option<ModelId>,
) -> Option<Result<Response<ResponseBody>, GatewayError>> {
    let (agent, request) = match requested(gateway, caller, body)? {
        Ok(found) => found,
        Err(error) => return Some(Err(error)),
    };
    *resolved = Some(agent.model);
    Some(
        serve(
            gateway,
            caller,
            agent,
            request,
            (headers, request_id),
            false,
        )
        .await,
    )
}

/// An Anthropic Messages request; `None` when its model is not an agent's.
/// The request is translated to chat completions (`translate/`), the agent
/// runs, and the answer (or stream) is translated back.
pub async fn messages(
    gateway: &'static Gateway,
    caller: &Caller,
    (headers, body, request_id): (&HeaderMap, &Bytes, &HeaderValue),
    resolved: &mut Option<ModelId>,
) -> Option<Result<Response<ResponseBody>, GatewayError>> {
    let agent = match requested(gateway, caller, body)? {
        Ok((agent, _)) => agent,
        Err(error) => return Some(Err(error)),
    };
    *resolved = Some(agent.model);
    let chat = match translate::messages_request_to_chat(body, agent.model_id) {
        Ok(chat) => chat,
        Err(error) => return Some(Err(super::request_error(error))),
    };
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(&chat.body) else {
        return Some(Err(GatewayError::InvalidJson(
            "the translated request is not an object".to_owned(),
        )));
    };
    Some(serve(gateway, caller, agent, request, (headers, request_id), true).await)
}

/// An agent a request names, and the request as a JSON object.
type Requested = (&'static Agent, Map<String, Value>);

/// The agent a request body's `model` names and the body as an object;
/// `None` when the model is not an agent's (or the body not an object: the
/// usual path answers that), an error when the caller may not use it
/// (answered like an unknown model).
fn requested(
    gateway: &Gateway,
    caller: &Caller,
    body: &[u8],
) -> Option<Result<Requested, GatewayError>> {
    let Ok(Value::Object(request)) = serde_json::from_slice::<Value>(body) else {
        return None;
    };
    let model = request.get("model").and_then(Value::as_str)?;
    if !model.starts_with(PREFIX) {
        return None;
    }
    Some(match visible(gateway, caller, model) {
        Some(agent) => Ok((agent, request)),
        None => Err(GatewayError::ModelNotFound(model.to_owned())),
    })
}

/// Runs `agent` for one request and answers in the chat completions shape.
async fn serve(
    gateway: &'static Gateway,
    caller: &Caller,
    agent: &'static Agent,
    request: Map<String, Value>,
    (headers, request_id): (&HeaderMap, &HeaderValue),
    anthropic: bool,
) -> Result<Response<ResponseBody>, GatewayError> {
    let config = gateway.config;
    let stream = request.get("stream").and_then(Value::as_bool) == Some(true);
    // Anthropic's stream always reports usage (in `message_delta`).
    let include_usage = anthropic
        || request
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            == Some(true);
    let model = config
        .model(agent.model)
        .ok_or_else(|| GatewayError::AgentUnavailable {
            agent: agent.name,
            detail: "its model is not compiled".to_owned(),
        })?;
    list::readiness(gateway, agent).map_err(|detail| GatewayError::AgentUnavailable {
        agent: agent.name,
        detail,
    })?;
    let prepared = agents::prepare(agent, config.tools, model.name, request)?;
    let id = request_id.to_str().unwrap_or_default().to_owned();
    let mut steps = GatewaySteps {
        gateway,
        caller: caller.clone(),
        headers: headers.clone(),
        request_id: request_id.clone(),
        agent,
        sink: None,
    };
    if !stream {
        let metrics = &gateway.metrics;
        let answer = agents::run((agent, config.tools), prepared, &mut steps, metrics, &id).await?;
        let body = completion(agent, &answer, &id).to_string();
        if !anthropic {
            return Ok(json_response(StatusCode::OK, body));
        }
        let body =
            translate::chat_response_to_messages(body.as_bytes(), agent.model_id).map_err(|e| {
                GatewayError::AgentModelFailed {
                    agent: agent.name,
                    step: answer.steps,
                    detail: e.to_string(),
                }
            })?;
        return Ok(json_response(StatusCode::OK, body));
    }
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    steps.sink = Some(Sink::new(tx.clone(), agent, &id, anthropic));
    tokio::spawn(async move {
        let metrics = &gateway.metrics;
        let run = agents::run((agent, config.tools), prepared, &mut steps, metrics, &id);
        // A client that left stops the run: its steps would spend the
        // caller's quotas for an answer nobody reads.
        let answer = tokio::select! {
            answer = run => answer,
            () = tx.closed() => {
                tracing::info!(event = "agent.run", request_id = %id, agent = agent.name, outcome = "client_closed");
                return;
            }
        };
        let Some(mut sink) = steps.sink.take() else {
            return;
        };
        let frames = match answer {
            Ok(answer) => {
                let usage = include_usage.then(|| answer.usage());
                sink.closing(&answer.content, usage)
            }
            Err(error) => vec![error_event(&error)],
        };
        for frame in frames {
            if !sink.send(frame).await {
                break;
            }
        }
    });
    let mut response = Response::new(ResponseBody::stream(Channel(rx)));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// The steps of a run as the gateway makes them, for one caller.
struct GatewaySteps {
    gateway: &'static Gateway,
    caller: Caller,
    headers: HeaderMap,
    request_id: HeaderValue,
    agent: &'static Agent,
    /// A streamed run's client side: progress comments and the model's text go there.
    sink: Option<Sink>,
}

impl Steps for GatewaySteps {
    async fn model(&mut self, body: Vec<u8>) -> Result<Value, GatewayError> {
        // A declarative agent's streamed run asks each step streamed, so its
        // text reaches the client as it comes; an SDK agent answers with its
        // own text, so its model steps are asked whole.
        let streamed = self.sink.is_some() && self.agent.sdk.is_none();
        let body = if streamed { streamed_body(body) } else { body };
        let mut resolved = None;
        let endpoint = (Endpoint::ChatCompletions, self.caller.clone());
        let request = (self.headers.clone(), Bytes::from(body), &self.request_id);
        let response = failover::serve(self.gateway, endpoint, request, &mut resolved).await?;
        let status = response.status();
        let event_stream = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
        if let Some(sink) = self
            .sink
            .as_mut()
            .filter(|_| status.is_success() && event_stream)
        {
            return stream::model_step(response, sink).await.map_err(|detail| {
                GatewayError::AgentModelFailed {
                    agent: self.agent.name,
                    step: 0,
                    detail,
                }
            });
        }
        let bytes = response
            .into_body()
            .collect()
            .await
            .map(|c| c.to_bytes())
            .unwrap_or_default();
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        match json {
            Some(json) if status.is_success() => Ok(json),
            json => {
                let message = json
                    .as_ref()
                    .and_then(|j| j.pointer("/error/message"))
                    .and_then(Value::as_str)
                    .unwrap_or("the answer is not a chat completion");
                Err(GatewayError::AgentModelFailed {
                    agent: self.agent.name,
                    step: 0,
                    detail: format!("{status}: {message}"),
                })
            }
        }
    }

    async fn tool(&mut self, tool: &'static Tool, arguments: &Value) -> Result<Value, String> {
        let id = self.request_id.to_str().unwrap_or_default();
        let result = call_as(self.gateway, &self.caller, id, tool, arguments, Via::Agent).await;
        result.map_err(|(_, error)| error.message())
    }

    fn note(&mut self, step: u32, tool: Option<&str>) {
        if let Some(sink) = &self.sink {
            sink.comment(match tool {
                Some(tool) => format!(
                    ": agent step {step} tool {}\n\n",
                    crate::error::capped(tool)
                ),
                None => format!(": agent step {step} model\n\n"),
            });
        }
    }
}

/// The whole answer: a `chat.completion`.
fn completion(agent: &Agent, answer: &Answer, id: &str) -> Value {
    json!({
        "id": format!("chatcmpl-{id}"),
        "object": "chat.completion",
        "created": unix_now(),
        "model": agent.model_id,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": answer.content },
            "finish_reason": "stop",
        }],
        "usage": answer.usage(),
    })
}

/// A step's request asked streamed, with usage in its last chunk.
fn streamed_body(body: Vec<u8>) -> Vec<u8> {
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut request)) => {
            request.insert("stream".to_owned(), Value::Bool(true));
            request.insert(
                "stream_options".to_owned(),
                json!({ "include_usage": true }),
            );
            serde_json::to_vec(&request).unwrap_or(body)
        }
        _ => body,
    }
}

/// The event that ends a stream whose run failed (never a clean end).
fn error_event(error: &GatewayError) -> Bytes {
    let payload = json!({
        "error": {
            "message": error.message(),
            "type": "api_error",
            "param": null,
            "code": error.code(),
        }
    });
    Bytes::from(format!("event: error\ndata: {payload}\n\n"))
}

/// A body fed by a channel: each message one data frame.
struct Channel(mpsc::Receiver<Bytes>);

impl Body for Channel {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .0
            .poll_recv(cx)
            .map(|frame| frame.map(|bytes| Ok(Frame::data(bytes))))
    }
}
