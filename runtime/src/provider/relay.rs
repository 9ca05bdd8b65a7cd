//! The relay of an upstream SSE stream to the client, for every wire format:
//! each upstream frame goes through the format's [`Wire`] the moment it
//! arrives (passed on unchanged while observed, or translated into the
//! client's protocol), never buffered. The relay owns what all formats
//! share: the idle timeout between upstream frames (`timeout.stream_idle`),
//! the drain deadline, the end-of-stream verdict, the token metrics and the
//! one `stream.completed` / `stream.failed` log line. A stream that breaks,
//! ends without its format's end marker, falls silent or outlives the drain
//! deadline ends with the client protocol's explicit error event, never a
//! silent clean end.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame};

use crate::drain::DrainWatch;
use crate::observe::metrics::{InFlight, Metrics, StreamFailure, TimeoutKind};
use crate::policy::Ticket;
use crate::provider::openai::Usage;
use crate::table::{ModelId, UpstreamId};
use crate::upstream::Lease;
use crate::upstream::retry::Fault;

/// What bounds a relayed stream.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Longest silence allowed between two upstream frames.
    pub idle: Duration,
    /// When the try's `timeout.total` (or the request's deadline) ends the stream.
    pub total: tokio::time::Instant,
    /// Whose timeouts these are (for the timeout counter).
    pub upstream: UpstreamId,
}

/// One wire format's side of a relayed stream.
pub trait Wire: Send + Unpin + 'static {
    /// One upstream frame in; what to send the client now (`None`: nothing yet).
    fn frame(&mut self, frame: Bytes) -> Option<Bytes>;
    /// The upstream's end-of-stream marker has been seen.
    fn done(&self) -> bool;
    /// Token counts seen so far.
    fn usage(&self) -> Option<Usage>;
    /// The client protocol's explicit error event.
    fn error_event(&mut self, code: &str, message: &str) -> Bytes;
    /// What to send after a clean end (a translator's closing events).
    fn finish(&mut self) -> Option<Bytes> {
        None
    }
    /// A keep-alive event to send after this much upstream silence (Anthropic
    /// clients expect `ping`s; a translated stream must make its own).
    fn ping(&mut self) -> Option<(Duration, Bytes)> {
        None
    }
}

/// An upstream SSE body relayed frame by frame through its [`Wire`].
pub struct RelayStream<B, W: Wire> {
    inner: Option<B>,
    wire: W,
    metrics: &'static Metrics,
    model: ModelId,
    model_name: &'static str,
    request_id: http::HeaderValue,
    started: Instant,
    bytes: u64,
    /// Idle gap and total deadline; one timer serves both, set to whichever comes first.
    bounds: Bounds,
    idle_timer: Pin<Box<tokio::time::Sleep>>,
    /// The try's bookkeeping, settled when the stream ends.
    lease: Option<Lease>,
    /// The request's quota shares, settled with the stream's usage.
    ticket: Option<Ticket>,
    drain: DrainWatch,
    /// Keep-alive events during upstream silence, if the wire wants them.
    ping_timer: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
    _in_flight: InFlight<'static>,
}

impl<B, W: Wire> RelayStream<B, W> {
    /// `model` is the public model (`model_name` its name, for the log).
    #[allow(
        clippy::too_many_arguments,
        reason = "one constructor, each part distinct"
    )]
    pub fn new(
        inner: B,
        mut wire: W,
        metrics: &'static Metrics,
        (model, model_name): (ModelId, &'static str),
        request_id: http::HeaderValue,
        bounds: Bounds,
        drain: DrainWatch,
        (lease, ticket): (Option<Lease>, Option<Ticket>),
    ) -> Self {
        let ping_timer = wire
            .ping()
            .map(|(every, _)| (every, Box::pin(tokio::time::sleep(every))));
        Self {
            inner: Some(inner),
            wire,
            metrics,
            model,
            model_name,
            request_id,
            started: Instant::now(),
            bytes: 0,
            bounds,
            idle_timer: Box::pin(tokio::time::sleep_until(next_timer(&bounds))),
            lease,
            ticket,
            drain,
            ping_timer,
            _in_flight: metrics.stream_in_flight(),
        }
    }

    fn finish(&mut self, end: StreamEnd) -> Option<Bytes> {
        self.inner = None;
        self.account(end);
        let usage = self.wire.usage().unwrap_or_default();
        if self.wire.usage().is_some() {
            self.metrics
                .record_tokens(self.model, usage.prompt_tokens, usage.completion_tokens);
            // A stream that reported its usage settles its quota shares with
            // it; one that did not keeps the estimates taken up front.
            if let Some(ticket) = self.ticket.take() {
                let cached = usage.cached_prompt_tokens;
                ticket.settle(usage.prompt_tokens, usage.completion_tokens, cached);
            }
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
        match end.failure() {
            Some((code, Some(message))) => Some(self.wire.error_event(code, message)),
            Some((_, None)) => None,
            None => self.wire.finish(),
        }
    }
}

impl<B, W: Wire> RelayStream<B, W> {
    /// Settles the try's lease and counts a failed end.
    fn account(&mut self, end: StreamEnd) {
        let result = match end {
            StreamEnd::Completed => Ok(()),
            StreamEnd::IdleTimeout | StreamEnd::TotalTimeout => Err(Fault::Timeout),
            StreamEnd::Truncated | StreamEnd::UpstreamError => Err(Fault::StreamCut),
            // Nothing is known about the upstream: the lease drops unsettled (neutral).
            StreamEnd::DrainTimeout | StreamEnd::ClientGone => {
                self.lease = None;
                Ok(())
            }
        };
        if let Some(lease) = self.lease.take() {
            lease.settle(result);
        }
        let failure = match end {
            StreamEnd::Completed => return,
            StreamEnd::Truncated => StreamFailure::Truncated,
            StreamEnd::UpstreamError => StreamFailure::UpstreamError,
            StreamEnd::IdleTimeout => StreamFailure::IdleTimeout,
            StreamEnd::TotalTimeout => StreamFailure::TotalTimeout,
            StreamEnd::DrainTimeout => StreamFailure::DrainTimeout,
            StreamEnd::ClientGone => StreamFailure::ClientGone,
        };
        self.metrics.record_stream_failure(self.model, failure);
        let kind = match end {
            StreamEnd::IdleTimeout => TimeoutKind::StreamIdle,
            StreamEnd::TotalTimeout => TimeoutKind::Total,
            _ => return,
        };
        self.metrics.record_timeout(self.bounds.upstream, kind);
    }
}

/// When the one timer should fire: the idle gap from now, or the total
/// deadline if that is sooner.
fn next_timer(bounds: &Bounds) -> tokio::time::Instant {
    (tokio::time::Instant::now() + bounds.idle).min(bounds.total)
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
    /// The try's `timeout.total` (or the request's deadline) passed mid-stream.
    TotalTimeout,
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
                Some(
                    "The upstream ended the stream without its end marker; the response is incomplete.",
                ),
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
            Self::TotalTimeout => Some((
                "upstream_stream_total_timeout",
                Some(
                    "The stream outlived its upstream's total timeout or the request's deadline; the response is incomplete.",
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

impl<B, W> Body for RelayStream<B, W>
where
    B: Body<Data = Bytes> + Unpin,
    W: Wire,
{
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
                if let Some((every, timer)) = this.ping_timer.as_mut()
                    && timer.as_mut().poll(cx).is_ready()
                {
                    let deadline = tokio::time::Instant::now() + *every;
                    timer.as_mut().reset(deadline);
                    if let Some((_, ping)) = this.wire.ping() {
                        return Poll::Ready(Some(Ok(Frame::data(ping))));
                    }
                }
                ready!(this.idle_timer.as_mut().poll(cx));
                let end = if tokio::time::Instant::now() >= this.bounds.total {
                    StreamEnd::TotalTimeout
                } else {
                    StreamEnd::IdleTimeout
                };
                let tail = this.finish(end);
                return Poll::Ready(tail.map(|event| Ok(Frame::data(event))));
            };
            let tail = match next {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        this.bytes += data.len() as u64;
                        let now = tokio::time::Instant::now();
                        this.idle_timer.as_mut().reset(next_timer(&this.bounds));
                        if let Some((every, timer)) = this.ping_timer.as_mut() {
                            timer.as_mut().reset(now + *every);
                        }
                        match this.wire.frame(data) {
                            Some(out) => return Poll::Ready(Some(Ok(Frame::data(out)))),
                            None => continue,
                        }
                    }
                    Err(_trailers) => continue,
                },
                Some(Err(_)) => this.finish(StreamEnd::UpstreamError),
                None if this.wire.done() => this.finish(StreamEnd::Completed),
                None => this.finish(StreamEnd::Truncated),
            };
            return Poll::Ready(tail.map(|event| Ok(Frame::data(event))));
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_none()
    }
}

impl<B, W: Wire> Drop for RelayStream<B, W> {
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
    use crate::drain::DrainSignal;
    use crate::provider::{mock, openai};
    use crate::table::{ModelId, UpstreamKind};
    use crate::testing::{CONFIG, UPSTREAMS};
    use http_body_util::BodyExt;

    #[tokio::test(start_paused = true)]
    async fn drain_expiry_ends_a_relayed_stream_with_an_error_event() {
        let UpstreamKind::Mock(behavior) = &UPSTREAMS[1].kind else {
            panic!("the second unit upstream is the mock")
        };
        let signal: &'static DrainSignal = Box::leak(Box::default());
        let metrics: &'static Metrics = Box::leak(Box::new(Metrics::new(&CONFIG)));
        let body = br#"{"model":"m","messages":[],"stream":true}"#;
        let response = mock::respond(behavior, body, "4").await;
        let crate::body::ResponseBody::Stream(inner) = response.into_body() else {
            panic!("a stream")
        };
        let mut stream = RelayStream::new(
            inner,
            openai::SseObserver::default(),
            metrics,
            (ModelId(1), "beta"),
            http::HeaderValue::from_static("req-4"),
            Bounds {
                idle: Duration::from_secs(60),
                total: tokio::time::Instant::now() + Duration::from_secs(600),
                upstream: crate::table::UpstreamId(1),
            },
            signal.watch(),
            (None, None),
        );
        let first = stream.frame().await.unwrap().unwrap().into_data().unwrap();
        assert!(first.starts_with(b"data: {"));
        signal.expire();
        let last = stream.frame().await.unwrap().unwrap().into_data().unwrap();
        let text = std::str::from_utf8(&last).unwrap();
        assert!(
            text.starts_with("event: error\n") && text.contains("drain_timeout"),
            "{text}"
        );
        assert!(stream.frame().await.is_none());
    }
}
