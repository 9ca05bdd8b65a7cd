//! Upstreams as the request path sees them: how each one is served
//! ([`Target`], built once at startup), the pooled HTTP client, and one
//! attempt at an exchange ([`attempt`]), which returns an outcome for the
//! caller to record once.
//!
//! Not here: what the request and answer mean (`provider/`), accounting
//! (`api/`, into `observe/`).

mod attempt;
mod client;
mod headers;

pub use attempt::{Answer, Outcome, attempt};
pub use client::{HttpClient, http_client};
pub use headers::request;

use http::{HeaderName, HeaderValue, Uri, header};

use crate::secrets::Credential;
use crate::table::{MockBehavior, Upstream, UpstreamKind};

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

/// The wire format an HTTP upstream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFormat {
    /// OpenAI chat completions (`POST <base>/chat/completions`).
    OpenAi,
    /// Anthropic Messages (`POST <base>/messages`).
    Anthropic,
}

/// An upstream reached over HTTP(S), everything per request precomputed.
pub struct HttpTarget {
    pub client: HttpClient,
    pub wire: WireFormat,
    /// The endpoint the wire format answers on, parsed once.
    pub url: Uri,
    /// Anthropic's `<base>/messages/count_tokens`.
    pub count_tokens_url: Option<Uri>,
    /// `Host` for `url`, built once: the client would otherwise format it per request.
    pub host: HeaderValue,
    /// The credential header: `Authorization: Bearer ..` or `x-api-key: ..`.
    pub credential: Option<(HeaderName, HeaderValue)>,
    /// Anthropic: the `anthropic-version` sent when the client sent none.
    pub version: Option<HeaderValue>,
}

impl HttpTarget {
    /// Builds the target for `upstream`; the error names the upstream and the fix.
    pub fn new(
        upstream: &Upstream,
        credential: Option<Credential>,
        lookup_env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let (wire, base_url, base_url_env, version) = match &upstream.kind {
            UpstreamKind::OpenAi {
                base_url,
                base_url_env,
            } => (WireFormat::OpenAi, *base_url, *base_url_env, None),
            UpstreamKind::Anthropic {
                base_url,
                base_url_env,
                version,
            } => (
                WireFormat::Anthropic,
                *base_url,
                *base_url_env,
                Some(*version),
            ),
            UpstreamKind::Mock(_) => {
                return Err(format!("upstream `{}` is served in-process", upstream.name));
            }
        };
        let base = base_url_env
            .and_then(lookup_env)
            .unwrap_or_else(|| base_url.to_string());
        let base = base.trim_end_matches('/');
        let parse = |path: &str| -> Result<Uri, String> {
            format!("{base}{path}").parse().map_err(|e| {
                format!(
                    "upstream `{}`: base URL `{base}` is not a valid URL: {e}",
                    upstream.name
                )
            })
        };
        let (url, count_tokens_url) = match wire {
            WireFormat::OpenAi => (parse("/chat/completions")?, None),
            WireFormat::Anthropic => (parse("/messages")?, Some(parse("/messages/count_tokens")?)),
        };
        let host = url
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
            .ok_or_else(|| {
                format!(
                    "upstream `{}`: base URL `{base}` has no host; use e.g. `http://127.0.0.1:8000/v1`",
                    upstream.name
                )
            })?;
        let credential = credential.map(|key| match wire {
            WireFormat::OpenAi => (header::AUTHORIZATION, key.bearer),
            WireFormat::Anthropic => (HeaderName::from_static("x-api-key"), key.raw),
        });
        let version = version
            .map(|v| {
                HeaderValue::from_str(v)
                    .map_err(|e| format!("upstream `{}`: anthropic_version: {e}", upstream.name))
            })
            .transpose()?;
        Ok(Self {
            client: http_client(upstream.timeouts.connect)?,
            wire,
            url,
            count_tokens_url,
            host,
            credential,
            version,
        })
    }
}
