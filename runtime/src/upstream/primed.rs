//! A streamed answer whose first event has already arrived. Reading it
//! before the client sees a byte is what lets a stream that dies at its
//! start (an empty 200, a reset, a silent upstream) fail over like any
//! other failed try; after it, the stream is committed and a failure can
//! only end it with an explicit error event (`provider/relay.rs`).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;

/// The upstream body with its first data frame held back for the relay.
pub struct Primed {
    first: Option<Bytes>,
    inner: Incoming,
}

/// Why a stream gave no first event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrimeFailure {
    /// It ended cleanly with nothing in it.
    Ended,
    /// The connection broke.
    Broken,
}

impl PrimeFailure {
    /// How the failure reads in an error message, after the upstream's name.
    pub fn detail(self) -> &'static str {
        match self {
            Self::Ended => "ended its stream",
            Self::Broken => "broke the connection of its stream",
        }
    }
}

/// Waits for the first non-empty data frame of `body`. The caller's
/// deadline bounds the wait (`attempt` runs this inside its own timeout).
pub async fn prime(mut body: Incoming) -> Result<Primed, PrimeFailure> {
    loop {
        match body.frame().await {
            None => return Err(PrimeFailure::Ended),
            Some(Err(_)) => return Err(PrimeFailure::Broken),
            Some(Ok(frame)) => {
                // Trailers and empty frames are not an event; keep waiting.
                if let Ok(data) = frame.into_data()
                    && !data.is_empty()
                {
                    return Ok(Primed {
                        first: Some(data),
                        inner: body,
                    });
                }
            }
        }
    }
}

impl Body for Primed {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.first.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
