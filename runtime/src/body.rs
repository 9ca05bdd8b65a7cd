//! The one response body type the gateway sends: a whole buffer, an observed
//! upstream stream, or the built-in mock's paced stream.
//!
//! An enum instead of a boxed trait object keeps the hot path free of a
//! per-response allocation.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;

use crate::mock::MockStream;
use crate::sse::ObservedStream;

/// A response body.
pub enum ResponseBody {
    Full(Full<Bytes>),
    Upstream(Box<ObservedStream>),
    Mock(Box<MockStream>),
}

impl ResponseBody {
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        Self::Full(Full::new(bytes.into()))
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Self::Full(full) => Pin::new(full).poll_frame(cx),
            Self::Upstream(stream) => Pin::new(stream.as_mut()).poll_frame(cx),
            Self::Mock(stream) => Pin::new(stream.as_mut()).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Full(full) => full.is_end_stream(),
            Self::Upstream(stream) => stream.is_end_stream(),
            Self::Mock(stream) => stream.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(full) => full.size_hint(),
            _ => SizeHint::default(),
        }
    }
}
