//! What one client connection shares between its socket wrapper, its
//! requests and its idle watcher: the auth memo, how many answers are in
//! progress, whether the current HTTP/1 answer has started, and the status of
//! a malformed head the HTTP library answered.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU16, AtomicU32, Ordering::Relaxed};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::Notify;

use crate::auth::ConnectionAuth;
use crate::body::ResponseBody;

/// `awaiting_head` values.
const NO_ANSWER_PENDING: u8 = 0;
const AWAITING_HTTP10: u8 = 1;
const AWAITING_HTTP11: u8 = 2;

/// Whether a `100 Continue` probe may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// An HTTP/1.1 request was read whole and nothing of its answer was written.
    Allowed,
    /// Its body is still being read.
    NotYet,
    /// Its answer has started, or it is HTTP/1.0 (no 1xx allowed).
    Never,
}

#[derive(Default)]
pub struct ConnState {
    pub auth: ConnectionAuth,
    /// Requests whose answer is not completely written yet.
    answering: AtomicU32,
    /// Whether the current HTTP/1 request's answer has not started yet, and its version.
    awaiting_head: AtomicU8,
    /// The current request's body has not been read whole yet.
    body_pending: AtomicBool,
    /// The client ended its input while a request was pending.
    eof: AtomicBool,
    eof_notify: Notify,
    /// Status of a malformed head the HTTP library answered (0: none).
    rejected: AtomicU16,
    /// Woken when `answering` changes, for the HTTP/2 idle watcher.
    activity: Notify,
}

impl ConnState {
    /// A request arrived; the guard ends it when its answer is written or dropped.
    pub fn begin(self: &Arc<Self>, http11: bool, notify: bool) -> Answering {
        self.answering.fetch_add(1, Relaxed);
        let awaiting = if http11 {
            AWAITING_HTTP11
        } else {
            AWAITING_HTTP10
        };
        self.awaiting_head.store(awaiting, Relaxed);
        self.body_pending.store(true, Relaxed);
        if notify {
            self.activity.notify_one();
        }
        Answering {
            state: Arc::clone(self),
            notify,
        }
    }

    pub fn is_answering(&self) -> bool {
        self.answering.load(Relaxed) > 0
    }

    /// The request's body has been read whole (or it had none).
    pub fn body_read(&self) {
        self.body_pending.store(false, Relaxed);
    }

    /// The client's end of input was held back (see `eof.rs`); wakes [`ConnState::client_eof`].
    pub fn eof_held(&self) {
        self.eof.store(true, Relaxed);
        self.eof_notify.notify_waiters();
    }

    /// Resolves once the client has ended its input while a request is pending:
    /// a request body still incomplete then will never be completed.
    pub async fn client_eof(&self) {
        loop {
            let notified = self.eof_notify.notified();
            if self.eof.load(Relaxed) {
                return;
            }
            notified.await;
        }
    }

    /// The socket is being written to: an answer has started.
    pub fn response_writing(&self) {
        if self.awaiting_head.load(Relaxed) != NO_ANSWER_PENDING {
            self.awaiting_head.store(NO_ANSWER_PENDING, Relaxed);
        }
    }

    /// Whether the client may be sent a `100 Continue` probe now (see `eof.rs`).
    pub fn probe(&self) -> Probe {
        match self.awaiting_head.load(Relaxed) {
            AWAITING_HTTP11 if self.body_pending.load(Relaxed) => Probe::NotYet,
            AWAITING_HTTP11 => Probe::Allowed,
            _ => Probe::Never,
        }
    }

    pub fn set_rejected(&self, status: u16) {
        self.rejected.store(status, Relaxed);
    }

    pub fn rejected(&self) -> Option<u16> {
        Some(self.rejected.load(Relaxed)).filter(|&s| s != 0)
    }

    /// Resolves once no answer has been in progress for `idle`.
    pub async fn idle_for(&self, idle: std::time::Duration) {
        loop {
            let changed = self.activity.notified();
            if self.is_answering() {
                changed.await;
                continue;
            }
            if tokio::time::timeout(idle, changed).await.is_err() && !self.is_answering() {
                return;
            }
        }
    }
}

/// Ends one request's "answering" when dropped.
pub struct Answering {
    state: Arc<ConnState>,
    notify: bool,
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.state.answering.fetch_sub(1, Relaxed);
        if self.notify {
            self.state.activity.notify_one();
        }
    }
}

/// A response body that ends its request's [`Answering`] when done or dropped.
pub struct Tracked {
    body: ResponseBody,
    answering: Option<Answering>,
}

impl Tracked {
    pub fn new(body: ResponseBody, answering: Answering) -> Self {
        Self {
            body,
            answering: Some(answering),
        }
    }
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let next = Pin::new(&mut this.body).poll_frame(cx);
        if matches!(next, Poll::Ready(None)) {
            this.answering = None;
        }
        next
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn idle_waits_for_answers_to_end_then_for_the_timeout() {
        let state = Arc::new(ConnState::default());
        let answering = state.begin(true, true);
        let watcher = {
            let state = Arc::clone(&state);
            tokio::spawn(async move { state.idle_for(Duration::from_secs(10)).await })
        };
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(!watcher.is_finished(), "an answer in progress is not idle");
        drop(answering);
        let started = tokio::time::Instant::now();
        watcher.await.unwrap();
        assert_eq!(started.elapsed(), Duration::from_secs(10));
    }

    #[test]
    fn awaiting_head_clears_on_first_write() {
        let state = Arc::new(ConnState::default());
        let _answering = state.begin(true, false);
        assert_eq!(
            state.probe(),
            Probe::NotYet,
            "no probe while the body is unread"
        );
        state.body_read();
        assert_eq!(state.probe(), Probe::Allowed);
        state.response_writing();
        assert_eq!(state.probe(), Probe::Never);
        let _second = state.begin(false, false);
        state.body_read();
        assert_eq!(state.probe(), Probe::Never, "HTTP/1.0 gets no probe");
    }
}
