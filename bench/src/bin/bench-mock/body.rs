//! The mock's response body: either one precomputed buffer, or an SSE
//! stream that yields exactly one body frame per event, paced against
//! deadlines fixed at the stream's start.
//!
//! Pacing: frame k is due at `start + slot(k) × gap` (see [`slot`]; for the
//! OpenAI stream it is `openai::pace_slot`), so a late wake-up shortens the
//! next wait instead of pushing every later event back; sleeping *after* each
//! write would drift.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
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
    /// Frames before the first content delta (1 for OpenAI's role chunk,
    /// 3 for Anthropic's `message_start`, `content_block_start`, `ping`).
    lead: usize,
    chunks: u32,
    gap: Duration,
    start: Instant,
    /// Created on the first wait only, so gap 0 allocates no timer.
    sleep: Option<Pin<Box<Sleep>>>,
}

impl EventStream {
    /// A stream whose clock starts now: `lead` frames, then `chunks` content
    /// deltas, then the closing frames.
    pub fn new(frames: &'static [Bytes], lead: usize, chunks: u32, gap: Duration) -> Self {
        EventStream {
            frames,
            next: 0,
            lead,
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
        let due = slot(self.next, self.lead, self.chunks);
        if due > 0 && !self.gap.is_zero() {
            let deadline = self.start + self.gap * due;
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

/// Which pacing slot frame `k` belongs to: the `lead` frames and the first
/// delta go at once (slot 0), delta `i` at slot `i`, and the closing frames
/// right after the last delta.
pub fn slot(k: usize, lead: usize, chunks: u32) -> u32 {
    let delta = u32::try_from(k.saturating_sub(lead)).unwrap_or(u32::MAX);
    delta.min(chunks.saturating_sub(1))
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
        let mut body = MockBody::Stream(EventStream::new(frames, 1, 3, Duration::from_millis(10)));
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

    #[test]
    fn slots_match_openai_pacing_and_lead_frames_go_at_once() {
        for k in 0..30 {
            for chunks in [0, 1, 3, 20] {
                assert_eq!(
                    slot(k, 1, chunks),
                    gateway_bench::openai::pace_slot(k, chunks)
                );
            }
        }
        // message_start, content_block_start, ping, d0, d1, d2, block_stop, message_delta, message_stop
        let slots: Vec<u32> = (0..9).map(|k| slot(k, 3, 3)).collect();
        assert_eq!(slots, [0, 0, 0, 0, 1, 2, 2, 2, 2]);
    }
}
