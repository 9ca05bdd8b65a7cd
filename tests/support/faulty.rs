//! A fault-injecting upstream on loopback, standing in for the paid
//! providers behind the routing and resilience tests (`tests/failover.rs`).
//! It speaks one documented wire format, chosen at start ([`Wire`]):
//!
//! - OpenAI chat completions: `POST /v1/chat/completions` answered as JSON
//!   or, when the request says `"stream": true`, as SSE (`data: {chunk}`
//!   events, a usage chunk when `stream_options.include_usage` is set, then
//!   `data: [DONE]`); errors as `{"error":{"message","type","param","code"}}`.
//! - Anthropic Messages: `POST /v1/messages` as JSON or SSE (`message_start`,
//!   `content_block_start`, `ping`, `content_block_delta`s,
//!   `content_block_stop`, `message_delta`, `message_stop`); errors as
//!   `{"type":"error","error":{"type","message"}}`.
//!
//! What it does is scripted, not chosen by the prompt: each model request
//! takes the next [`Behaviour`] of a queue, then the default (normally
//! [`Behaviour::Ok`]). Two servers may share one script, so "the first
//! request to reach either deployment fails" holds whichever one the
//! balancer picks. Answers name the upstream model of the request (`served
//! by pair-a`), so a test sees which deployment served. Every model request
//! is recorded ([`Hit`]: path, upstream model, stream or not, arrival time,
//! behaviour); `GET .../models` is the health endpoint (200 or 503 by
//! [`FaultyUpstream::set_healthy`]), counted apart. It is not a model and
//! validates nothing: the other mocks check request shapes. The bodies and
//! events it writes are in `faulty/wire.rs`.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Response};
use http_body_util::{BodyExt, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc};

mod wire;

use wire::{Reply, health};

/// Upper bound of `Hang` and of a `Gated` stream's wait: longer than any test.
const FAULT_BOUND: Duration = Duration::from_secs(30);

/// The pause before a scripted cut, so the events before it leave the socket first.
const FLUSH_PAUSE: Duration = Duration::from_millis(100);

/// The wire format a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    OpenAi,
    Anthropic,
}

/// What the server does with one model request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behaviour {
    /// A normal answer naming the upstream model, streamed when asked.
    Ok,
    /// This status with the wire's error body (a client-error body for 4xx).
    Status(u16),
    /// 429 with `retry-after: <value>` and the wire's rate-limit body.
    Status429 { retry_after: &'static str },
    /// Close the connection without answering.
    Reset,
    /// Never answer (bounded by [`FAULT_BOUND`]).
    Hang,
    /// A normal answer after this delay.
    SlowHead(Duration),
    /// A 200 SSE answer: the first `events` events of the normal stream,
    /// then the connection is dropped (no end marker, no terminating chunk).
    StreamThenCut { events: usize },
    /// A 200 `text/event-stream` answer whose body ends with no event.
    EmptyStream,
    /// The normal stream, waiting after its first event until
    /// [`FaultyUpstream::release`] (bounded by [`FAULT_BOUND`]).
    Gated,
    /// 400 saying the prompt does not fit the context window, in the wire's words.
    ContextTooLong,
}

/// One model request the server received.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    /// The body's `model`: the deployment's upstream model.
    pub model: String,
    pub stream: bool,
    pub at: Instant,
    pub behaviour: Behaviour,
}

/// The queue of scripted behaviours and the default after it.
#[derive(Debug)]
struct Script {
    queue: std::collections::VecDeque<Behaviour>,
    default: Behaviour,
}

struct State {
    wire: Wire,
    script: Arc<Mutex<Script>>,
    healthy: AtomicBool,
    probes: AtomicUsize,
    hits: Mutex<Vec<Hit>>,
    gate: Semaphore,
    serial: AtomicUsize,
}

pub struct FaultyUpstream {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl FaultyUpstream {
    /// Serves `wire` on 127.0.0.1:0 with its own script (empty, default `Ok`), healthy.
    pub async fn start(wire: Wire) -> Self {
        let script = Script {
            queue: Default::default(),
            default: Behaviour::Ok,
        };
        Self::serve(wire, Arc::new(Mutex::new(script))).await
    }

    /// Serves `wire` on 127.0.0.1:0, taking behaviours from `other`'s script.
    pub async fn sharing_script_with(wire: Wire, other: &FaultyUpstream) -> Self {
        Self::serve(wire, other.state.script.clone()).await
    }

    async fn serve(wire: Wire, script: Arc<Mutex<Script>>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind faulty upstream");
        let addr = listener.local_addr().expect("addr");
        let state = Arc::new(State {
            wire,
            script,
            healthy: AtomicBool::new(true),
            probes: AtomicUsize::new(0),
            hits: Mutex::default(),
            gate: Semaphore::new(0),
            serial: AtomicUsize::new(1),
        });
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let state = shared.clone();
                let service =
                    hyper::service::service_fn(move |request| answer(request, state.clone()));
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

    /// The base URL to give the gateway (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Appends behaviours to the (possibly shared) queue.
    pub fn script(&self, behaviours: impl IntoIterator<Item = Behaviour>) {
        self.state.script.lock().unwrap().queue.extend(behaviours);
    }

    /// What requests get once the queue is empty.
    pub fn set_default(&self, behaviour: Behaviour) {
        self.state.script.lock().unwrap().default = behaviour;
    }

    /// Whether `GET .../models` answers 200 (else 503).
    pub fn set_healthy(&self, healthy: bool) {
        self.state.healthy.store(healthy, Ordering::SeqCst);
    }

    /// Lets one `Gated` stream continue.
    pub fn release(&self) {
        self.state.gate.add_permits(1);
    }

    /// Every model request, in arrival order.
    pub fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    /// The upstream models of every model request, in arrival order.
    pub fn models(&self) -> Vec<String> {
        self.hits().into_iter().map(|h| h.model).collect()
    }

    pub fn count(&self) -> usize {
        self.state.hits.lock().unwrap().len()
    }

    /// How many health probes (`GET .../models`) arrived.
    pub fn probes(&self) -> usize {
        self.state.probes.load(Ordering::SeqCst)
    }
}

type Body = BoxBody<Bytes, io::Error>;

async fn answer(
    request: hyper::Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Body>, io::Error> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    if parts.method == Method::GET && parts.uri.path().ends_with("/models") {
        state.probes.fetch_add(1, Ordering::SeqCst);
        return Ok(health(state.healthy.load(Ordering::SeqCst)));
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let serial = state.serial.fetch_add(1, Ordering::SeqCst);
    let reply = Reply::of(state.wire, &request, serial);
    let behaviour = state.next(parts.uri.path(), &reply);
    respond(behaviour, reply, state).await
}

impl State {
    /// The next scripted behaviour, recorded with the request it answers.
    fn next(&self, path: &str, reply: &Reply) -> Behaviour {
        let behaviour = {
            let mut script = self.script.lock().unwrap();
            let default = script.default.clone();
            script.queue.pop_front().unwrap_or(default)
        };
        self.hits.lock().unwrap().push(Hit {
            path: path.to_string(),
            model: reply.model.clone(),
            stream: reply.stream,
            at: Instant::now(),
            behaviour: behaviour.clone(),
        });
        behaviour
    }
}

async fn respond(
    behaviour: Behaviour,
    reply: Reply,
    state: Arc<State>,
) -> Result<Response<Body>, io::Error> {
    let events = reply.events();
    Ok(match behaviour {
        Behaviour::Ok => reply.ok(),
        Behaviour::Status(code) => reply.error(code),
        Behaviour::Status429 { retry_after } => {
            let mut response = reply.error(429);
            let value = retry_after.parse().expect("retry-after value");
            response.headers_mut().insert("retry-after", value);
            response
        }
        // A service error makes hyper close the connection without an answer.
        Behaviour::Reset => return Err(io::Error::other("scripted reset")),
        Behaviour::Hang => {
            tokio::time::sleep(FAULT_BOUND).await;
            return Err(io::Error::other("hang bound reached"));
        }
        Behaviour::SlowHead(delay) => {
            tokio::time::sleep(delay).await;
            reply.ok()
        }
        Behaviour::StreamThenCut { events: kept } => {
            sse(events.into_iter().take(kept).collect(), End::Cut, None)
        }
        Behaviour::EmptyStream => sse(Vec::new(), End::Clean, None),
        Behaviour::Gated => sse(events, End::Clean, Some(state)),
        Behaviour::ContextTooLong => reply.context_too_long(),
    })
}

/// How a scripted stream ends after its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The body ends normally (the terminating chunk is sent).
    Clean,
    /// The connection is dropped mid-body.
    Cut,
}

/// An SSE answer writing one event per frame; `gate`: wait after the first.
fn sse(events: Vec<String>, end: End, gate: Option<Arc<State>>) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, io::Error>>(1);
    tokio::spawn(async move {
        for (index, event) in events.into_iter().enumerate() {
            if index == 1
                && let Some(state) = &gate
                && let Ok(Ok(permit)) =
                    tokio::time::timeout(FAULT_BOUND, state.gate.acquire()).await
            {
                permit.forget();
            }
            if tx.send(Ok(Frame::data(Bytes::from(event)))).await.is_err() {
                return;
            }
        }
        if end == End::Cut {
            tokio::time::sleep(FLUSH_PAUSE).await;
            let _ = tx.send(Err(io::Error::other("scripted cut"))).await;
        }
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(ChannelBody(rx).boxed())
        .expect("response")
}

/// A body fed frame by frame from a channel; an `Err` aborts the connection.
struct ChannelBody(mpsc::Receiver<Result<Frame<Bytes>, io::Error>>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.0.poll_recv(cx)
    }
}
