//! Writing the Anthropic mock's answers: JSON bodies, Anthropic-shaped
//! errors with the retry and rate-limit headers the real API sends, and SSE
//! streams written one event per frame (gates and stalls bounded).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Frame;
use serde_json::Value;
use tokio::sync::mpsc;

use super::replies::{Step, error_body, error_type};
use super::{Body, FAULT_BOUND, State};

pub fn plain(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(body).boxed())
        .expect("response")
}

pub fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    plain(status, "application/json", Bytes::from(body.to_string()))
}

/// An Anthropic-shaped error with the retry headers the real API sends.
pub fn error(status: StatusCode, message: &str, request_id: &str) -> Response<Body> {
    let code = status.as_u16();
    let mut response = json_response(
        status,
        &error_body(error_type(code), message, Some(request_id)),
    );
    let retry = matches!(code, 408 | 409 | 429 | 500..=599);
    let headers = response.headers_mut();
    headers.insert(
        "x-should-retry",
        HeaderValue::from_static(if retry { "true" } else { "false" }),
    );
    if code == 429 || code == 529 {
        headers.insert("retry-after", HeaderValue::from_static("7"));
    }
    response
}

/// The documented `anthropic-ratelimit-*` headers; remaining requests count
/// down per request (0 on a 429).
pub fn rate_limit_headers(headers: &mut HeaderMap, serial: usize) {
    let limited = headers.get("retry-after").is_some();
    let remaining = if limited {
        0
    } else {
        1000usize.saturating_sub(serial)
    };
    let tokens_remaining = if limited { 0 } else { 399_000 };
    for (kind, limit, left) in [
        ("requests", 1000, remaining),
        ("tokens", 400_000, tokens_remaining),
        ("input-tokens", 400_000, tokens_remaining),
        ("output-tokens", 400_000, tokens_remaining),
    ] {
        for (what, value) in [
            ("limit", limit.to_string()),
            ("remaining", left.to_string()),
            ("reset", "2026-01-01T00:00:07Z".to_string()),
        ] {
            let name =
                HeaderName::from_bytes(format!("anthropic-ratelimit-{kind}-{what}").as_bytes())
                    .expect("name");
            headers.insert(name, HeaderValue::from_str(&value).expect("value"));
        }
    }
}

/// An SSE response writing each event as its own frame.
pub fn sse(steps: Vec<Step>, state: &Arc<State>) -> Response<Body> {
    let (tx, rx) = mpsc::channel::<Bytes>(1);
    let state = state.clone();
    tokio::spawn(async move {
        for step in steps {
            match step {
                Step::Event(name, data) => {
                    if tx
                        .send(Bytes::from(format!("event: {name}\ndata: {data}\n\n")))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Step::Gate => {
                    if let Ok(Ok(permit)) =
                        tokio::time::timeout(FAULT_BOUND, state.gate.acquire()).await
                    {
                        permit.forget();
                    }
                }
                Step::Stall => tokio::time::sleep(FAULT_BOUND).await,
            }
        }
    });
    Response::builder()
        .header("content-type", "text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache")
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
