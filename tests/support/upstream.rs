//! A programmable mock OpenAI upstream on loopback, standing in for a paid
//! provider. It models `POST /v1/chat/completions` of the OpenAI API.
//!
//! The last message's `content` picks the behaviour, so each test drives a
//! fault without shared state: `json` (default), `sse`, `sse-gated` (waits
//! for [`MockUpstream::release`] after the first event), `sse-truncated`
//! (ends without `[DONE]`), `delayed` (the JSON answer after 300 ms), `sse-stall` (two events, then silence within
//! any test's bound), `status:<code>` (an OpenAI-style error body),
//! `connection-private` (a JSON answer whose `Connection` header names a
//! private header, RFC 9110 §7.6.1), `hang` (never answers within any
//! test's bound); `sse-text` (a stream whose chunks carry every field the
//! SDK's types require, and usage when asked) and tool calling
//! (`upstream/openai_tools.rs`): `tool`,
//! `tool:NAME`, `tool:NAME:{JSON}`, `parallel-tool` (a completion with
//! `tool_calls` for the request's `tools`, streamed when the request says
//! `stream: true`), the same prefixed `sse-` (always streamed, arguments
//! split over deltas), and a last message with role `tool` is answered with
//! text quoting it. Every request is recorded with its headers and exact body
//! bytes; a request whose handler was dropped before answering (the gateway
//! closed the connection: the call was cancelled) is counted.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::sync::{Semaphore, mpsc};

mod openai_tools;
pub mod tools;

/// A recorded upstream request.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub const JSON_REPLY: &str = r#"{"id":"chatcmpl-up","object":"chat.completion","created":1,"model":"upstream-echo-model","system_fingerprint":"fp_x","choices":[{"index":0,"message":{"role":"assistant","content":"from upstream"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":22,"total_tokens":33}}"#;

/// The SSE events the mock sends for `sse` and `sse-gated`, one write each.
pub const SSE_EVENTS: [&str; 5] = [
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}],\"usage\":null}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}],\"usage\":null}\n\n",
    ": a comment line the gateway must pass through\n\ndata: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2,\"total_tokens\":6}}\n\n",
    "data: [DONE]\n\n",
];

pub struct MockUpstream {
    pub addr: SocketAddr,
    pub recorded: Arc<Mutex<Vec<Recorded>>>,
    gate: Arc<Semaphore>,
    cancelled: Arc<AtomicUsize>,
}

/// Counts a handler dropped before it answered.
struct CancelWatch(Arc<AtomicUsize>, bool);

impl CancelWatch {
    fn answered(&mut self) {
        self.1 = true;
    }
}

impl Drop for CancelWatch {
    fn drop(&mut self) {
        if !self.1 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl MockUpstream {
    /// Starts serving on 127.0.0.1:0 in the current tokio runtime.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind mock upstream");
        let addr = listener.local_addr().expect("addr");
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(Semaphore::new(0));
        let cancelled = Arc::new(AtomicUsize::new(0));
        let (state_recorded, state_gate, state_cancelled) =
            (recorded.clone(), gate.clone(), cancelled.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let (recorded, gate, cancelled) = (
                    state_recorded.clone(),
                    state_gate.clone(),
                    state_cancelled.clone(),
                );
                let service = hyper::service::service_fn(move |request| {
                    let (recorded, gate) = (recorded.clone(), gate.clone());
                    let mut watch = CancelWatch(cancelled.clone(), false);
                    async move {
                        let answer = serve(request, recorded, gate).await;
                        watch.answered();
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
        Self {
            addr,
            recorded,
            gate,
            cancelled,
        }
    }

    /// How many requests were dropped (cancelled by the gateway) before they were answered.
    pub fn cancelled(&self) -> usize {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// The base URL to give the gateway (`.../v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Lets a gated stream continue.
    pub fn release(&self) {
        self.gate.add_permits(1);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().unwrap().clone()
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn full(status: StatusCode, content_type: &str, body: &'static str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-upstream-marker", "yes")
        .header("openai-processing-ms", "7")
        .body(Full::new(Bytes::from_static(body.as_bytes())).boxed())
        .expect("response")
}

fn full_owned(status: StatusCode, content_type: &str, body: String) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .header("x-upstream-marker", "yes")
        .body(Full::new(Bytes::from(body)).boxed())
        .expect("response")
}

async fn serve(
    request: Request<Incoming>,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    gate: Arc<Semaphore>,
) -> Result<Response<Body>, Infallible> {
    let headers = request.headers().clone();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    recorded.lock().unwrap().push(Recorded {
        headers,
        body: body.clone(),
    });
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let mode = mode_of(&json);
    if let Some(response) = openai_tools::reply(&mode, &json) {
        return Ok(response);
    }
    let response = match mode.as_str() {
        "sse" => stream(SSE_EVENTS.to_vec(), None),
        "sse-gated" => stream(SSE_EVENTS.to_vec(), Some(gate)),
        "sse-truncated" => stream(SSE_EVENTS[..2].to_vec(), None),
        "sse-stall" => stalled_stream(),
        "delayed" => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            full(StatusCode::OK, "application/json", JSON_REPLY)
        }
        "connection-private" => {
            let mut response = full(StatusCode::OK, "application/json", JSON_REPLY);
            let headers = response.headers_mut();
            headers.insert(
                "connection",
                "keep-alive, X-Upstream-Private".parse().expect("header"),
            );
            headers.insert("x-upstream-private", "internal".parse().expect("header"));
            response
        }
        "hang" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            full(StatusCode::OK, "application/json", JSON_REPLY)
        }
        m if m.starts_with("status:") => {
            let status = m["status:".len()..]
                .parse()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::IM_A_TEAPOT);
            let mut response = full(
                status,
                "application/json",
                r#"{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#,
            );
            response
                .headers_mut()
                .insert("retry-after", "3".parse().expect("header"));
            response
        }
        _ => full(StatusCode::OK, "application/json", JSON_REPLY),
    };
    Ok(response)
}

/// An SSE response writing each event as its own frame; with a gate, waits after the first.
fn stream(events: Vec<&'static str>, gate: Option<Arc<Semaphore>>) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    tokio::spawn(async move {
        for (index, event) in events.into_iter().enumerate() {
            if index == 1
                && let Some(gate) = &gate
            {
                // Bounded: a gateway that buffers never lets the test release us.
                if let Ok(Ok(permit)) =
                    tokio::time::timeout(Duration::from_secs(15), gate.acquire()).await
                {
                    permit.forget();
                }
            }
            if tx.send(Bytes::from_static(event.as_bytes())).await.is_err() {
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

/// The mode word: the last message's text (a string, or its last text part,
/// as translated clients such as Claude Code send it), skipping system
/// messages a client may put after it.
fn mode_of(request: &serde_json::Value) -> String {
    let last = request["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] != "system"));
    let content = last.map(|m| &m["content"]);
    let text = match content {
        Some(serde_json::Value::String(text)) => Some(text.as_str()),
        Some(serde_json::Value::Array(parts)) => {
            parts.iter().rev().find_map(|p| p["text"].as_str())
        }
        _ => None,
    };
    text.unwrap_or("json").to_string()
}

/// Two SSE events, then silence (the sender stays alive, bounded at 30 s).
fn stalled_stream() -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(2);
    tokio::spawn(async move {
        for event in &SSE_EVENTS[..2] {
            if tx.send(Bytes::from_static(event.as_bytes())).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(tx);
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(ChannelBody(rx).boxed())
        .expect("response")
}

/// A body fed frame by frame from a channel.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|next| next.map(|bytes| Ok(Frame::data(bytes))))
    }
}
