//! Pass-through of an upstream SSE stream, observed on the way.
//!
//! Each upstream frame is forwarded the moment it arrives, unchanged. While
//! it passes, complete `data:` lines are scanned (memchr, no copy in the
//! common case where events arrive whole) for `[DONE]` and for a `usage`
//! object, which is parsed for the token metrics. If the upstream connection
//! breaks, ends without `[DONE]`, falls silent for longer than the upstream's
//! `timeout.stream_idle`, or the drain deadline passes, the client gets a
//! final SSE `error` event instead of a silent end, and the log says why.
//! Not here: the decision to stream (`api/chat.rs`), the usage scanner
//! (`usage.rs`) and the mock's own stream (`provider/mock.rs`).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame};
use hyper::body::Incoming;

use super::usage::{Usage, usage_in};
use crate::drain::DrainWatch;
use crate::observe::metrics::{InFlight, Metrics};
use crate::table::ModelId;

/// Line scanner state: finds `[DONE]` and usage in `data:` lines.
#[derive(Default)]
pub struct SseObserver {
    /// Bytes of an incomplete last line carried to the next frame.
    partial: Vec<u8>,
    /// The incomplete last line outgrew [`MAX_PARTIAL`]: skip it when it ends.
    overlong: bool,
    pub done: bool,
    pub usage: Option<Usage>,
}

/// Longest line inspected; a longer one is skipped (still forwarded) whether
/// it arrives in one frame or in many, so frame boundaries never change the verdict.
const MAX_PARTIAL: usize = 1 << 20;

impl SseObserver {
    pub fn observe(&mut self, frame: &[u8]) {
        let mut rest = frame;
        while let Some(newline) = memchr::memchr(b'\n', rest) {
            let (line, tail) = rest.split_at(newline);
            rest = tail.get(1..).unwrap_or_default();
            if std::mem::take(&mut self.overlong) {
                self.partial.clear();
            } else if self.partial.is_empty() {
                self.line(line);
            } else {
                let mut joined = std::mem::take(&mut self.partial);
                joined.extend_from_slice(line);
                self.line(&joined);
            }
        }
        if self.overlong || self.partial.len() + rest.len() > MAX_PARTIAL {
            self.partial.clear();
            self.overlong = true;
        } else {
            self.partial.extend_from_slice(rest);
        }
    }

    fn line(&mut self, line: &[u8]) {
        if line.len() > MAX_PARTIAL {
            return;
        }
        let Some(data) = line.strip_prefix(b"data:") else {
            return;
        };
        let data = data.trim_ascii();
        if data == b"[DONE]" {
            self.done = true;
        } else if let Some(usage) = usage_in(data) {
            self.usage = Some(usage);
        }
    }
}

/// The final SSE event sent when a stream breaks; OpenAI-shaped error payload.
pub fn error_event(code: &str, message: &str) -> Bytes {
    let payload = serde_json::json!({
        "error": { "message": message, "type": "api_error", "param": null, "code": code }
    });
    Bytes::from(format!("event: error\ndata: {payload}\n\n"))
}

/// An upstream SSE body forwarded frame by frame while being observed.
pub struct ObservedStream {
    inner: Option<Incoming>,
    observer: SseObserver,
    metrics: &'static Metrics,
    model: ModelId,
    model_name: &'static str,
    request_id: http::HeaderValue,
    started: Instant,
    bytes: u64,
    /// Longest silence allowed between two upstream frames, and its timer.
    idle: Duration,
    idle_timer: Pin<Box<tokio::time::Sleep>>,
    drain: DrainWatch,
    _in_flight: InFlight<'static>,
}

impl ObservedStream {
    /// `model` is the public model (`model_name` its name, for the log).
    pub fn new(
        inner: Incoming,
        metrics: &'static Metrics,
        (model, model_name): (ModelId, &'static str),
        request_id: http::HeaderValue,
        idle: Duration,
        drain: DrainWatch,
    ) -> Self {
        Self {
            inner: Some(inner),
            observer: SseObserver::default(),
            metrics,
            model,
            model_name,
            request_id,
            started: Instant::now(),
            bytes: 0,
            idle,
            idle_timer: Box::pin(tokio::time::sleep(idle)),
            drain,
            _in_flight: metrics.stream_in_flight(),
        }
    }

    fn finish(&mut self, end: StreamEnd) -> Option<Bytes> {
        self.inner = None;
        let usage = self.observer.usage.unwrap_or_default();
        if self.observer.usage.is_some() {
            self.metrics
                .record_tokens(self.model, usage.prompt_tokens, usage.completion_tokens);
        }
        let request_id = self.request_id.to_str().unwrap_or_default();
        let model = self.model_name;
        let elapsed_ms = self.started.elapsed().as_secs_f64() * 1e3;
        let bytes = self.bytes;
        match end.failure() {
            None => tracing::info!(
                event = "stream.completed",
                request_id,
                model,
                elapsed_ms,
                bytes,
                prompt_tokens = usage.prompt_tokens,
                completion_tokens = usage.completion_tokens
            ),
            Some((reason, _)) => {
                tracing::warn!(
                    event = "stream.failed",
                    request_id,
                    model,
                    elapsed_ms,
                    bytes,
                    reason
                )
            }
        }
        end.failure()
            .and_then(|(code, message)| message.map(|m| error_event(code, m)))
    }
}

/// How an observed stream ended.
#[derive(Debug, Clone, Copy)]
enum StreamEnd {
    /// Clean end after `data: [DONE]`.
    Completed,
    /// Clean end without `[DONE]`: the answer is incomplete.
    Truncated,
    /// The upstream connection broke mid-stream.
    UpstreamError,
    /// The upstream sent nothing for longer than `timeout.stream_idle`.
    IdleTimeout,
    /// The server's drain deadline passed with the stream still open.
    DrainTimeout,
    /// The client went away; nobody is left to tell.
    ClientGone,
}

impl StreamEnd {
    /// For a failure: its code, and the message of the final SSE error event (if one is sent).
    fn failure(self) -> Option<(&'static str, Option<&'static str>)> {
        match self {
            Self::Completed => None,
            Self::Truncated => Some((
                "upstream_stream_truncated",
                Some("The upstream ended the stream without [DONE]; the response is incomplete."),
            )),
            Self::UpstreamError => Some((
                "upstream_stream_error",
                Some(
                    "The upstream connection broke during the stream; the response is incomplete.",
                ),
            )),
            Self::IdleTimeout => Some((
                "upstream_stream_idle_timeout",
                Some(
                    "The upstream sent nothing for longer than its stream idle timeout; the response is incomplete.",
                ),
            )),
            Self::DrainTimeout => Some((
                "drain_timeout",
                Some(
                    "The gateway is shutting down and its drain timeout passed; the response is incomplete.",
                ),
            )),
            Self::ClientGone => Some(("client_disconnected", None)),
        }
    }
}

impl Body for ObservedStream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        loop {
            if this.drain.poll_expired(cx).is_ready() {
                let tail = this.finish(StreamEnd::DrainTimeout);
                return Poll::Ready(tail.map(|event| Ok(Frame::data(event))));
            }
            let Poll::Ready(next) = Pin::new(&mut *inner).poll_frame(cx) else {
                ready!(this.idle_timer.as_mut().poll(cx));
                let tail = this.finish(StreamEnd::IdleTimeout);
                return Poll::Ready(tail.map(|event| Ok(Frame::data(event))));
            };
            let tail = match next {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        this.observer.observe(&data);
                        this.bytes += data.len() as u64;
                        let deadline = tokio::time::Instant::now() + this.idle;
                        this.idle_timer.as_mut().reset(deadline);
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    Err(_trailers) => continue,
                },
                Some(Err(_)) => this.finish(StreamEnd::UpstreamError),
                None if this.observer.done => this.finish(StreamEnd::Completed),
                None => this.finish(StreamEnd::Truncated),
            };
            return Poll::Ready(tail.map(|event| Ok(Frame::data(event))));
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_none()
    }
}

impl Drop for ObservedStream {
    fn drop(&mut self) {
        if self.inner.is_some() {
            // The client went away mid-stream: record what was seen.
            let _ = self.finish(StreamEnd::ClientGone);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_done_and_usage_across_split_frames() {
        let stream = "data: {\"choices\":[],\"usage\":null}\n\ndata: {\"choices\":[],\"usage\": {\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}\n\ndata: [DONE]\n\n";
        for split in 0..stream.len() {
            let mut observer = SseObserver::default();
            let (a, b) = stream.as_bytes().split_at(split);
            observer.observe(a);
            observer.observe(b);
            assert!(observer.done, "split at {split}");
            assert_eq!(
                observer.usage,
                Some(Usage {
                    prompt_tokens: 5,
                    completion_tokens: 7
                }),
                "split at {split}"
            );
        }
    }

    #[test]
    fn no_done_without_the_marker() {
        let mut observer = SseObserver::default();
        observer.observe(b"data: {\"content\":\"[DONE] is text here\"}\n\n");
        assert!(!observer.done);
        assert_eq!(observer.usage, None);
    }

    #[test]
    fn error_event_is_sse_with_openai_error() {
        let event = error_event("c", "m");
        let text = std::str::from_utf8(&event).unwrap();
        assert!(text.starts_with("event: error\ndata: {"));
        assert!(text.ends_with("\n\n"));
        let json: serde_json::Value =
            serde_json::from_str(text.trim_start_matches("event: error\ndata: ").trim()).unwrap();
        assert_eq!(json["error"]["code"], "c");
    }
}
