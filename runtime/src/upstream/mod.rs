//! Upstreams as the request path sees them: how each one is served
//! ([`Target`], built once at startup), the pooled HTTP client, and one
//! attempt at an exchange ([`attempt`]), which returns an outcome for the
//! caller to record once.
//!
//! Not here: what the request and answer mean (`provider/`), accounting
//! (`api/`, into `observe/`).

mod attempt;
mod client;

pub use attempt::{Answer, Outcome, attempt};
pub use client::{HttpClient, http_client};

use http::{HeaderValue, Uri};

use crate::table::MockBehavior;

/// How requests for one upstream are served.
#[allow(
    clippy::large_enum_variant,
    reason = "one per upstream, built once at startup"
)]
pub enum Target {
    Http(HttpTarget),
    Mock(&'static MockBehavior),
    /// Disabled at startup; the reason is for `/ready` and logs.
    Disabled(String),
}

/// An upstream reached over HTTP(S).
pub struct HttpTarget {
    pub client: HttpClient,
    /// `<base_url>/chat/completions`, parsed once.
    pub chat_url: Uri,
    /// `Host` for `chat_url`, built once: the client would otherwise format it per request.
    pub host: HeaderValue,
    pub authorization: Option<HeaderValue>,
}
