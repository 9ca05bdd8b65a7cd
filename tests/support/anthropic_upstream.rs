//! A programmable mock of the Anthropic Messages API on loopback, standing
//! in for the paid provider (wire format of docs.anthropic.com, API version
//! 2023-06-01): `POST /v1/messages` as JSON or, with `"stream": true`, as SSE
//! (`message_start`, `content_block_start`/`_delta`/`_stop`, `ping`,
//! `message_delta` with usage, `message_stop`), `POST
//! /v1/messages/count_tokens`, `GET /v1/models`, and `HEAD /api/hello` (Claude
//! Code's warm-up probe). Errors are Anthropic-shaped (`{"type":"error",
//! "error":{"type","message"},"request_id"}`) with `request-id`,
//! `x-should-retry`, `retry-after` and `anthropic-ratelimit-*` headers.
//! It is not a model: answers are fixed per mode.
//!
//! The last user message (system messages after it are skipped) picks the
//! behaviour: a `tool_result` block in it is answered with text quoting the
//! result (`the tool said: <result>`, system reminders left out);
//! otherwise its last text block that is a mode word: `text`/`json`
//! (default; stops at `max_tokens` when that is smaller than the reply),
//! `stream`/`sse`/`sse-text` (twelve text deltas, pings between), `stream-gated` (waits
//! for [`AnthropicUpstream::release`] after `message_start`), `tool`,
//! `tool:NAME`, `tool:NAME:{JSON}` (a text block then a `tool_use` block for a
//! tool of the request, see `upstream::tools`), `parallel-tool` (two tool
//! uses), `thinking` or `thinking+<mode>` (a thinking block with a signature
//! first; a thinking block sent back with another signature is refused),
//! `status:<code>` (that error), `error-event` (an `error` event mid-stream;
//! 529 without streaming), `stall` (silence mid-stream, or no answer, for 30
//! s), `truncated` (the stream ends without the block's stop, the
//! `message_delta` and `message_stop`; half a JSON body without streaming).
//! `sse-`-prefixed names of the OpenAI mock are accepted too, so one prompt
//! drives either mock. The response is streamed exactly when the request
//! says `"stream": true`.
//!
//! Requests the real API refuses are refused with 400 and listed by
//! [`AnthropicUpstream::rejected`] (see `checks.rs`), so a test can assert a
//! translator sent nothing the provider would refuse. Every request is
//! recorded with method, path and query, headers and exact body bytes; a
//! handler dropped before answering is counted as cancelled.

mod checks;
mod replies;
mod respond;
mod sdk;

pub use checks::check_body as check_anthropic_body;
pub use replies::{
    LONG_REPLY as ANTHROPIC_LONG_REPLY, Mode, Plan, TEXT_REPLY as ANTHROPIC_TEXT_REPLY,
    signature as thinking_signature,
};
pub use sdk::*;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, request::Parts};
use http_body_util::{BodyExt, combinators::BoxBody};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use respond::{error, json_response, plain, rate_limit_headers, sse};

/// How long `stall` stays silent and a gate waits for its release.
const FAULT_BOUND: Duration = Duration::from_secs(30);

/// A request the mock received.
#[derive(Clone, Debug)]
pub struct AnthropicRecorded {
    pub method: Method,
    /// Path and query as sent (`/v1/messages?beta=true`).
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl AnthropicRecorded {
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or_default()
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub struct AnthropicUpstream {
    pub addr: SocketAddr,
    state: Arc<State>,
}

struct State {
    api_key: Option<String>,
    recorded: Mutex<Vec<AnthropicRecorded>>,
    rejected: Mutex<Vec<String>>,
    gate: Semaphore,
    serial: AtomicUsize,
    cancelled: AtomicUsize,
}

impl AnthropicUpstream {
    /// Serves on 127.0.0.1:0 and accepts any key (or none).
    pub async fn start() -> Self {
        Self::serve(None).await
    }

    /// Serves on 127.0.0.1:0 and answers 401 unless `x-api-key` (or
    /// `Authorization: Bearer`) carries `key`.
    pub async fn start_with_key(key: &str) -> Self {
        Self::serve(Some(key.to_string())).await
    }

    async fn serve(api_key: Option<String>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind anthropic mock");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(State {
            api_key,
            recorded: Mutex::default(),
            rejected: Mutex::default(),
            gate: Semaphore::new(0),
            serial: AtomicUsize::new(1),
            cancelled: AtomicUsize::new(0),
        });
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let state = shared.clone();
                let service = hyper::service::service_fn(move |request| {
                    let state = state.clone();
                    async move {
                        let mut watch = Watch(state.clone(), false);
                        let answer = answer(request, state).await;
                        watch.1 = true;
                        answer
                    }
                });
                tokio::spawn(async move {
                    let builder =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { addr, state }
    }

    /// The base URL a client is given: `http://127.0.0.1:PORT`, without `/v1`
    /// (the SDK and Claude Code append `/v1/messages`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request, in arrival order.
    pub fn requests(&self) -> Vec<AnthropicRecorded> {
        self.state.recorded.lock().unwrap().clone()
    }

    /// The `POST /v1/messages` requests (any query string), in order.
    pub fn messages(&self) -> Vec<AnthropicRecorded> {
        let all = self.requests();
        all.into_iter()
            .filter(|r| r.method == Method::POST && r.path() == "/v1/messages")
            .collect()
    }

    /// Why each refused request was refused (`"<status> <message>"`):
    /// validation and key failures, not the `status:` modes.
    pub fn rejected(&self) -> Vec<String> {
        self.state.rejected.lock().unwrap().clone()
    }

    /// Lets a `stream-gated` stream continue.
    pub fn release(&self) {
        self.state.gate.add_permits(1);
    }

    /// How many requests were dropped by the client before they were answered.
    pub fn cancelled(&self) -> usize {
        self.state.cancelled.load(Ordering::SeqCst)
    }
}

/// Counts a handler dropped before it answered.
struct Watch(Arc<State>, bool);

impl Drop for Watch {
    fn drop(&mut self) {
        if !self.1 {
            self.0.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

type Body = BoxBody<Bytes, Infallible>;

async fn answer(
    request: hyper::Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let serial = state.serial.fetch_add(1, Ordering::SeqCst);
    let uri = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    state.recorded.lock().unwrap().push(AnthropicRecorded {
        method: parts.method.clone(),
        uri,
        headers: parts.headers.clone(),
        body: body.clone(),
    });
    let request_id = format!("req_mock_{serial:06}");
    let mut response = route(&parts, &body, &state, serial, &request_id).await;
    let headers = response.headers_mut();
    headers.insert(
        "request-id",
        HeaderValue::from_str(&request_id).expect("id"),
    );
    headers.insert(
        "x-upstream-marker",
        HeaderValue::from_static("anthropic-mock"),
    );
    Ok(response)
}

async fn route(
    parts: &Parts,
    body: &Bytes,
    state: &Arc<State>,
    serial: usize,
    request_id: &str,
) -> Response<Body> {
    let path = parts.uri.path();
    match (&parts.method, path) {
        (&Method::HEAD | &Method::GET, "/api/hello") => {
            plain(StatusCode::OK, "application/json", Bytes::new())
        }
        (&Method::GET, "/v1/models") => json_response(StatusCode::OK, &models()),
        (&Method::POST, "/v1/messages" | "/v1/messages/count_tokens") => {
            let count = path.ends_with("count_tokens");
            let mut response = match admit(parts, body, state, count) {
                Err((status, message)) => {
                    state
                        .rejected
                        .lock()
                        .unwrap()
                        .push(format!("{} {message}", status.as_u16()));
                    error(status, &message, request_id)
                }
                Ok(request) if count => json_response(
                    StatusCode::OK,
                    &json!({"input_tokens": replies::input_tokens(&request)}),
                ),
                Ok(request) => messages(&request, state, serial, request_id).await,
            };
            rate_limit_headers(response.headers_mut(), serial);
            response
        }
        (_, "/v1/messages" | "/v1/messages/count_tokens" | "/v1/models") => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method not allowed",
            request_id,
        ),
        _ => error(StatusCode::NOT_FOUND, "Not found", request_id),
    }
}

/// Key, version header and body checks; the parsed body when they pass.
fn admit(
    parts: &Parts,
    body: &Bytes,
    state: &State,
    count: bool,
) -> Result<Value, (StatusCode, String)> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(key) = &state.api_key {
        let bearer = header("authorization").and_then(|a| a.strip_prefix("Bearer "));
        match (header("x-api-key"), bearer) {
            (Some(given), _) | (None, Some(given)) if given == key => {}
            (None, None) => {
                return Err((
                    StatusCode::UNAUTHORIZED,
                    "x-api-key header is required".into(),
                ));
            }
            _ => return Err((StatusCode::UNAUTHORIZED, "invalid x-api-key".into())),
        }
    }
    if header("anthropic-version").is_none() {
        return Err((
            StatusCode::BAD_REQUEST,
            "anthropic-version: header is required".into(),
        ));
    }
    let request: Value = serde_json::from_slice(body).map_err(|e| {
        (
            StatusCode::BAD_REQUEST,
            format!("There was an issue with your request body: {e}"),
        )
    })?;
    check_anthropic_body(&request, count).map_err(|message| (StatusCode::BAD_REQUEST, message))?;
    Ok(request)
}

async fn messages(
    request: &Value,
    state: &Arc<State>,
    serial: usize,
    request_id: &str,
) -> Response<Body> {
    let plan = Plan::of(request);
    let id = format!("msg_mock_{serial:06}");
    let answer = replies::answer(&plan, request, serial);
    let streaming = request["stream"] == true;
    match plan.mode {
        Mode::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT);
            error(status, &format!("mock error for status {code}"), request_id)
        }
        _ if streaming => sse(replies::stream_steps(&id, &plan, request, &answer), state),
        Mode::ErrorEvent => error(
            StatusCode::from_u16(529).expect("529"),
            "Overloaded",
            request_id,
        ),
        Mode::Stall => {
            tokio::time::sleep(FAULT_BOUND).await;
            json_response(StatusCode::OK, &replies::message(&id, request, &answer))
        }
        Mode::Truncated => {
            let whole = replies::message(&id, request, &answer).to_string();
            plain(
                StatusCode::OK,
                "application/json",
                Bytes::from(whole[..whole.len() / 2].to_string()),
            )
        }
        _ => json_response(StatusCode::OK, &replies::message(&id, request, &answer)),
    }
}

fn models() -> Value {
    let model = json!({"type": "model", "id": "claude-mock-1", "display_name": "Claude Mock 1", "created_at": "2026-01-01T00:00:00Z", "lifecycle": "active"});
    json!({"data": [model], "has_more": false, "first_id": "claude-mock-1", "last_id": "claude-mock-1"})
}
