//! The mock's response body: either one precomputed buffer, or an SSE
//! stream that yields exactly one body frame per event, paced against
//! deadlines fixed at the stream's start.
//!
//! Pacing: frame k is due at `start + pace_slot(k) × gap` (see
//! `openai::pace_slot`), so a late wake-up shortens the next wait instead of
//! pushing every later event back; sleeping *after* each write would drift.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use gateway_bench::openai::pace_slot;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// A mock response body.
pub enum MockBody {
    /// A whole body (sent with `Content-Length`); `None` once sent.
    Full(Option<Bytes>),
    /// An SSE stream (sent chunked).
    Stream(EventStream),
}

impl MockBody {
    pub fn full(bytes: Bytes) -> Self {
        MockBody::Full(Some(bytes))
    }
}

/// Precomputed SSE frames released on their deadlines.
pub struct EventStream {
    frames: &'static [Bytes],
    next: usize,
    chunks: u32,
    gap: Duration,
    start: Instant,
    /// Created on the first wait only, so gap 0 allocates no timer.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl EventStream {
    /// A stream whose clock starts now.
    pub fn new(frames: &'static [Bytes], chunks: u32, gap: Duration) -> Self {
        EventStream {
            frames,
            next: 0,
            chunks,
            gap,
            start: Instant::now(),
            sleep: None,
        }
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let Some(frame) = self.frames.get(self.next) else {
            return Poll::Ready(None);
        };
        let slot = pace_slot(self.next, self.chunks);
        if slot > 0 && !self.gap.is_zero() {
            let deadline = self.start + self.gap * slot;
            if Instant::now() < deadline {
                let sleep = self
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                if sleep.deadline() != deadline {
                    sleep.as_mut().reset(deadline);
                }
                ready!(sleep.as_mut().poll(cx));
            }
        }
        self.next += 1;
        Poll::Ready(Some(frame.clone()))
    }
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let next = match this {
            MockBody::Full(bytes) => Poll::Ready(bytes.take()),
            MockBody::Stream(stream) => stream.poll_next(cx),
        };
        next.map(|bytes| bytes.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        match self {
            MockBody::Full(bytes) => bytes.is_none(),
            MockBody::Stream(stream) => stream.next >= stream.frames.len(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            MockBody::Stream(_) => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test(start_paused = true)]
    async fn frames_arrive_on_deadlines_one_per_event() {
        let frames: &'static [Bytes] = Box::leak(
            ["role", "d0", "d1", "d2", "finish", "done"]
                .map(|s| Bytes::from_static(s.as_bytes()))
                .to_vec()
                .into_boxed_slice(),
        );
        let start = Instant::now();
        let mut body = MockBody::Stream(EventStream::new(frames, 3, Duration::from_millis(10)));
        let mut seen = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            seen.push((data, start.elapsed().as_millis()));
        }
        let expect: Vec<(Bytes, u128)> = [
            ("role", 0),
            ("d0", 0),
            ("d1", 10),
            ("d2", 20),
            ("finish", 20),
            ("done", 20),
        ]
        .map(|(f, t)| (Bytes::from_static(f.as_bytes()), t))
        .to_vec();
        assert_eq!(seen, expect);
        assert!(body.is_end_stream());
    }
}
