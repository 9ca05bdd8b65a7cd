//! bench-mock: a mock OpenAI upstream modelling a paid provider's
//! `POST /v1/chat/completions` (plus `GET /v1/models`, `GET /health`), for
//! measuring what a gateway adds in front of it; on the same port, an
//! Anthropic Messages upstream (`POST /v1/messages`) carrying the same text,
//! for measuring a gateway that translates between the two (`anthropic.rs`).
//!
//! It parses every request body as JSON (never byte-matches), then answers
//! with fixed bytes built at startup (`gateway_bench::openai`): the same
//! response whoever asks, so direct and proxied content compare byte for
//! byte. Streams send one body frame per SSE event on deadline-paced gaps.
//! Knobs model a slow or failing provider: delay before headers, chunk count
//! and gap, a deterministic error rate. It is not a language model and keeps
//! no state beyond a request counter.

mod anthropic;
mod body;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use gateway_bench::args::Args;
use gateway_bench::error::or_exit;
use gateway_bench::openai::{Payloads, error_body};
use gateway_bench::{Failure, process};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use serde::Deserialize;

use crate::body::{EventStream, MockBody};

const TOOL: &str = "bench-mock";
const USAGE: &str = "\
usage: bench-mock [--listen ADDR] [--threads N] [--delay-ms N] [--chunks N]
                  [--chunk-gap-ms N] [--error-rate F] [--error-status N]

A mock OpenAI upstream (POST /v1/chat/completions) and Anthropic upstream
(POST /v1/messages, same text). Prints `listening on ADDR` first; runs until SIGTERM/SIGINT.
  --listen ADDR        address to bind (default 127.0.0.1:0 = any free port)
  --threads N          tokio worker threads; 1 = current_thread runtime (default 1)
  --delay-ms N         wait before sending response headers (default 0)
  --chunks N           content deltas per stream (default 20)
  --chunk-gap-ms N     gap between content deltas, paced from the stream start (default 10)
  --error-rate F       0..1; every round(1/F)-th chat request fails, deterministically (default 0)
  --error-status N     status of those failures, 400..599 (default 500)";

/// Largest request body read; the XL bench body is ~100 KB.
const MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// Everything a request needs, built once and leaked for `'static` handlers.
struct Mock {
    payloads: Payloads,
    anthropic: anthropic::Payloads,
    delay: Duration,
    chunks: u32,
    gap: Duration,
    /// Fail every `error_every`-th chat request; 0 = never.
    error_every: u64,
    error_status: StatusCode,
    error_body: Bytes,
    /// The same failure in Anthropic's shape, for `/v1/messages`.
    anthropic_error_body: Bytes,
    /// Chat and Messages requests counted together (for `--error-rate`).
    chat_requests: AtomicU64,
}

/// The only request fields the mock reads; everything else is skipped
/// (but still parsed, so malformed JSON gets a 400 like a real provider).
#[derive(Deserialize)]
struct ChatRequest {
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
}

/// What the Messages mode reads: `stream`; `model`, `max_tokens` and
/// `messages` must be present (Anthropic answers 400 without them), their
/// values are not looked at.
#[derive(Deserialize)]
struct MessagesRequest {
    #[serde(default)]
    stream: Option<bool>,
    #[serde(rename = "model")]
    _model: serde::de::IgnoredAny,
    #[serde(rename = "max_tokens")]
    _max_tokens: serde::de::IgnoredAny,
    #[serde(rename = "messages")]
    _messages: serde::de::IgnoredAny,
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: Option<bool>,
}

fn main() {
    let mut args = Args::from_env(TOOL, USAGE);
    let (listen, threads, mock) = or_exit(parse_flags(&mut args));
    or_exit(args.finish());
    let runtime = or_exit(process::runtime(TOOL, threads));
    or_exit(runtime.block_on(serve(listen, Box::leak(Box::new(mock)))));
}

fn parse_flags(args: &mut Args) -> Result<(SocketAddr, usize, Mock), Failure> {
    let listen: SocketAddr = args.or("--listen", SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let threads: usize = args.at_most("--threads", 1, 1024)?;
    let delay = Duration::from_millis(args.at_most("--delay-ms", 0, 3_600_000)?);
    let chunks: u32 = args.at_most("--chunks", 20, 100_000)?;
    let gap = Duration::from_millis(args.at_most("--chunk-gap-ms", 10, 60_000)?);
    let rate: f64 = args.or("--error-rate", 0.0)?;
    let status: u16 = args.or("--error-status", 500)?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(Failure::new(
            format!("{TOOL}: --error-rate {rate} is outside 0..1"),
            "pass a fraction, e.g. `--error-rate 0.01` for every 100th request",
        ));
    }
    let error_status = StatusCode::from_u16(status)
        .ok()
        .filter(|s| s.is_client_error() || s.is_server_error())
        .ok_or_else(|| {
            Failure::new(
                format!("{TOOL}: --error-status {status} is not an error status"),
                "pass a status in 400..599, e.g. `--error-status 503`",
            )
        })?;
    let kind = match status {
        429 => "rate_limit_error",
        500.. => "server_error",
        _ => "invalid_request_error",
    };
    let payloads = Payloads::new(chunks);
    let anthropic = anthropic::Payloads::new(&payloads, chunks).map_err(|e| {
        Failure::new(
            format!("{TOOL}: cannot build the Anthropic payloads ({e})"),
            "this is a bug in bench-mock; report it with the flags used",
        )
    })?;
    let mock = Mock {
        payloads,
        anthropic,
        delay,
        chunks,
        gap,
        error_every: if rate > 0.0 {
            (1.0 / rate).round() as u64
        } else {
            0
        },
        error_status,
        error_body: error_body("bench-mock: injected failure (--error-rate)", kind),
        anthropic_error_body: anthropic::error_body(
            "bench-mock: injected failure (--error-rate)",
            anthropic::error_kind(status),
        ),
        chat_requests: AtomicU64::new(0),
    };
    Ok((listen, threads.max(1), mock))
}

async fn serve(listen: SocketAddr, mock: &'static Mock) -> Result<(), Failure> {
    let listener = process::listen(TOOL, listen).await?;
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let shutdown = process::shutdown_signal(TOOL);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Usually EMFILE: say so, back off instead of spinning.
                        eprintln!("{TOOL}: accept failed ({error}); raise `ulimit -n` if it is EMFILE");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = service_fn(move |request| handle(mock, request));
                let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut shutdown => return Ok(()),
        }
    }
}

async fn handle(
    mock: &'static Mock,
    request: Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    let response = match (request.method(), request.uri().path()) {
        (&Method::POST, "/v1/chat/completions") => chat(mock, request).await,
        (&Method::POST, "/v1/messages") => messages(mock, request).await,
        (&Method::GET, "/v1/models") => json(StatusCode::OK, mock.payloads.models.clone()),
        (&Method::GET, "/health") => {
            json(StatusCode::OK, Bytes::from_static(b"{\"status\":\"ok\"}"))
        }
        (method, path) => json(
            StatusCode::NOT_FOUND,
            error_body(
                &format!(
                    "bench-mock: no route {method} {path}; it serves POST /v1/chat/completions, POST /v1/messages, GET /v1/models, GET /health"
                ),
                "invalid_request_error",
            ),
        ),
    };
    Ok(response)
}

async fn chat(mock: &'static Mock, request: Request<Incoming>) -> Response<MockBody> {
    let body = match Limited::new(request.into_body(), MAX_REQUEST_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return invalid(&format!("cannot read the request body ({error})")),
    };
    let parsed: ChatRequest = match serde_json::from_slice(&body) {
        Ok(parsed) => parsed,
        Err(error) => return invalid(&format!("request body is not valid JSON ({error})")),
    };
    let n = mock.chat_requests.fetch_add(1, Ordering::Relaxed) + 1;
    if !mock.delay.is_zero() {
        tokio::time::sleep(mock.delay).await;
    }
    if mock.error_every != 0 && n.is_multiple_of(mock.error_every) {
        return json(mock.error_status, mock.error_body.clone());
    }
    if !parsed.stream.unwrap_or(false) {
        return json(StatusCode::OK, mock.payloads.completion.clone());
    }
    let include_usage = parsed
        .stream_options
        .and_then(|o| o.include_usage)
        .unwrap_or(false);
    let frames = if include_usage {
        &mock.payloads.stream_with_usage
    } else {
        &mock.payloads.stream
    };
    event_stream(EventStream::new(frames, 1, mock.chunks, mock.gap))
}

/// `POST /v1/messages`: the Anthropic message, or its event stream.
async fn messages(mock: &'static Mock, request: Request<Incoming>) -> Response<MockBody> {
    let invalid = |detail: &str| {
        json(
            StatusCode::BAD_REQUEST,
            anthropic::error_body(&format!("bench-mock: {detail}"), "invalid_request_error"),
        )
    };
    let body = match Limited::new(request.into_body(), MAX_REQUEST_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return invalid(&format!("cannot read the request body ({error})")),
    };
    let parsed: MessagesRequest = match serde_json::from_slice(&body) {
        Ok(parsed) => parsed,
        Err(error) => return invalid(&format!("not a Messages request ({error})")),
    };
    let n = mock.chat_requests.fetch_add(1, Ordering::Relaxed) + 1;
    if !mock.delay.is_zero() {
        tokio::time::sleep(mock.delay).await;
    }
    if mock.error_every != 0 && n.is_multiple_of(mock.error_every) {
        return json(mock.error_status, mock.anthropic_error_body.clone());
    }
    if !parsed.stream.unwrap_or(false) {
        return json(StatusCode::OK, mock.anthropic.message.clone());
    }
    event_stream(EventStream::new(
        &mock.anthropic.stream,
        anthropic::LEAD_FRAMES,
        mock.chunks,
        mock.gap,
    ))
}

fn event_stream(stream: EventStream) -> Response<MockBody> {
    let mut response = Response::new(MockBody::Stream(stream));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

fn json(status: StatusCode, body: Bytes) -> Response<MockBody> {
    let mut response = Response::new(MockBody::full(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn invalid(detail: &str) -> Response<MockBody> {
    json(
        StatusCode::BAD_REQUEST,
        error_body(&format!("bench-mock: {detail}"), "invalid_request_error"),
    )
}
