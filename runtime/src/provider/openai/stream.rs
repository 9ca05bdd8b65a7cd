//! Pass-through of an upstream SSE stream, observed on the way.
//!
//! Each upstream frame is forwarded the moment it arrives, unchanged. While
//! it passes, complete `data:` lines are scanned (memchr, no copy in the
//! common case where events arrive whole) for `[DONE]` and for a `usage`
//! object, which is parsed for the token metrics. If the upstream connection
//! breaks, ends without `[DONE]`, falls silent for longer than the upstream's
//! `timeout.stream_idle`, or the drain deadline passes, the client gets a
//! final SSE `error` event instead of a silent end, and the log says why. Not here: the decision to stream
//! (`proxy.rs`) and the mock's own stream (`mock.rs`).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame};
use hyper::body::Incoming;

use crate::drain::DrainWatch;
use crate::gateway::Gateway;
use crate::table::ModelId;

/// Token counts as OpenAI reports them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// The `usage` object of a completion or stream chunk, if it has one.
pub fn usage_in(json: &[u8]) -> Option<Usage> {
    // The last `"usage":` key (providers put it at the end); only its object
    // is parsed, not the whole answer, which cost 7,500 instructions per
    // request under callgrind. Inside a JSON string the closing quote of
    // `usage"` would be escaped, so a match followed by `:` is a key.
    let at = memchr::memrchr_iter(b'"', json).find(|&at| json[at..].starts_with(b"\"usage\""))?;
    let after = json.get(at + 7..)?;
    let colon = after.iter().position(|b| !b.is_ascii_whitespace())?;
    if after.get(colon) != Some(&b':') {
        return None;
    }
    let value = after.get(colon + 1..)?;
    let start = value.iter().position(|b| !b.is_ascii_whitespace())?;
    if value.get(start) != Some(&b'{') {
        return None;
    }
    usage_object(value.get(start..)?)
}

/// Reads `prompt_tokens` and `completion_tokens` from the JSON object that
/// `object` starts with, skipping every other member (nested objects, strings
/// with escapes, arrays). A hand scanner: serde's derive spent 2,000
/// instructions per request on this three-number object. `None` when the
/// object is malformed or ends early.
fn usage_object(object: &[u8]) -> Option<Usage> {
    let mut usage = Usage::default();
    let mut at = 1; // past `{`
    loop {
        at = skip_whitespace(object, at);
        match object.get(at)? {
            b'}' => return Some(usage),
            b',' => at = skip_whitespace(object, at + 1),
            _ => {}
        }
        let key_end = string_end(object, at)?;
        let key = object.get(at + 1..key_end - 1)?;
        at = skip_whitespace(object, key_end);
        if object.get(at) != Some(&b':') {
            return None;
        }
        at = skip_whitespace(object, at + 1);
        let value_end = value_end(object, at)?;
        let slot = match key {
            b"prompt_tokens" => Some(&mut usage.prompt_tokens),
            b"completion_tokens" => Some(&mut usage.completion_tokens),
            _ => None,
        };
        if let Some(slot) = slot {
            *slot = std::str::from_utf8(object.get(at..value_end)?)
                .ok()?
                .parse()
                .ok()?;
        }
        at = value_end;
    }
}

fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// One past the closing quote of the string starting at `at`.
fn string_end(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'"') {
        return None;
    }
    let mut i = at + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// One past the end of the JSON value starting at `at`.
fn value_end(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at)? {
        b'"' => string_end(bytes, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = string_end(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let len = bytes[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())?;
            Some(at + len)
        }
    }
}

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
    gateway: &'static Gateway,
    model: ModelId,
    request_id: http::HeaderValue,
    started: Instant,
    bytes: u64,
    /// Longest silence allowed between two upstream frames, and its timer.
    idle: Duration,
    idle_timer: Pin<Box<tokio::time::Sleep>>,
    drain: DrainWatch,
    _in_flight: crate::metrics::InFlight<'static>,
}

impl ObservedStream {
    pub fn new(
        inner: Incoming,
        gateway: &'static Gateway,
        model: ModelId,
        request_id: http::HeaderValue,
        idle: Duration,
    ) -> Self {
        Self {
            inner: Some(inner),
            observer: SseObserver::default(),
            gateway,
            model,
            request_id,
            started: Instant::now(),
            bytes: 0,
            idle,
            idle_timer: Box::pin(tokio::time::sleep(idle)),
            drain: gateway.drain.watch(),
            _in_flight: gateway.metrics.stream_in_flight(),
        }
    }

    fn finish(&mut self, end: StreamEnd) -> Option<Bytes> {
        self.inner = None;
        let usage = self.observer.usage.unwrap_or_default();
        if self.observer.usage.is_some() {
            let metrics = &self.gateway.metrics;
            metrics.record_tokens(self.model, usage.prompt_tokens, usage.completion_tokens);
        }
        let request_id = self.request_id.to_str().unwrap_or_default();
        let model = self.gateway.config.model(self.model).map_or("", |m| m.name);
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
    fn usage_in_ignores_null_and_reads_objects() {
        assert_eq!(usage_in(br#"{"usage":null}"#), None);
        assert_eq!(
            usage_in(br#"{"id":"x","usage":{"prompt_tokens":1,"completion_tokens":2}}"#),
            Some(Usage {
                prompt_tokens: 1,
                completion_tokens: 2
            })
        );
        assert_eq!(usage_in(br#"{"id":"x"}"#), None);
        // `usage` inside a string is not the key.
        assert_eq!(
            usage_in(br#"{"content":"the \"usage\": {\"prompt_tokens\": 9}"}"#),
            None
        );
        assert_eq!(
            usage_in(
                br#"{"usage":{"prompt_tokens":3,"d":{"a":[1,{"b":"}\""}]},"completion_tokens":4,"total_tokens":7}}"#
            ),
            Some(Usage {
                prompt_tokens: 3,
                completion_tokens: 4
            })
        );
        assert_eq!(usage_in(br#"{"usage":{"prompt_tokens":3"#), None);
        assert_eq!(usage_in(br#"{"usage":{"prompt_tokens":-1}}"#), None);
        assert_eq!(
            usage_in(br#"{"c":"usage","usage" : {"completion_tokens":5,"x":[1]} ,"z":1}"#),
            Some(Usage {
                prompt_tokens: 0,
                completion_tokens: 5
            })
        );
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
