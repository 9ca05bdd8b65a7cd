//! Upstreams as the request path sees them: how each one is served
//! ([`Target`], built once at startup), the pooled HTTP client, one attempt
//! at an exchange ([`attempt`], returning an outcome for the caller to
//! record once), and what routing across deployments needs: their live
//! state ([`Fleet`]), the balancer, the circuit breaker, the retry planner
//! and one try's bookkeeping ([`Lease`]).
//!
//! Not here: what the request and answer mean (`provider/`), the failover
//! loop that drives these (`api/failover.rs`).

mod attempt;
pub mod balance;
pub mod breaker;
mod client;
pub mod ewma;
pub mod fleet;
mod headers;
pub mod health_check;
pub mod lease;
pub mod maintenance;
pub mod primed;
pub mod retry;
pub mod rng;

pub use attempt::{Answer, Outcome, attempt};
pub use client::{HttpClient, client_with_body, http_client};
pub use fleet::Fleet;
pub use headers::{replayed, request};
pub use lease::Lease;

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use http::{HeaderName, HeaderValue, Uri, header};

use crate::secrets::Credential;
use crate::table::{MockBehavior, SecretRef, Upstream, UpstreamKind};

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
    /// The credential header's name: `Authorization` or `x-api-key`.
    pub credential_name: HeaderName,
    /// Its value (`Bearer ..` or the bare key).
    pub credential: CredentialValue,
    /// Anthropic: the `anthropic-version` sent when the client sent none.
    pub version: Option<HeaderValue>,
}

/// An upstream's credential header value: fixed when it comes from the
/// environment (read once at startup), swappable when it comes from a file
/// (`POST /upstreams/refresh` re-reads it), so only file secrets pay for the
/// lock-free swap on each request.
pub enum CredentialValue {
    Fixed(Option<HeaderValue>),
    FromFile(ArcSwapOption<HeaderValue>),
}

impl Credential {
    /// The header value `wire` sends this key as.
    pub fn for_wire(self, wire: WireFormat) -> HeaderValue {
        match wire {
            WireFormat::OpenAi => self.bearer,
            WireFormat::Anthropic => self.raw,
        }
    }
}

impl HttpTarget {
    /// Puts a re-read secret in place for the next requests; `false` when
    /// the secret comes from the environment, which cannot change under a
    /// running process.
    pub fn swap_credential(&self, credential: Option<Credential>) -> bool {
        match &self.credential {
            CredentialValue::FromFile(slot) => {
                slot.store(credential.map(|key| Arc::new(key.for_wire(self.wire))));
                true
            }
            CredentialValue::Fixed(_) => false,
        }
    }

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
        let credential_name = match wire {
            WireFormat::OpenAi => header::AUTHORIZATION,
            WireFormat::Anthropic => HeaderName::from_static("x-api-key"),
        };
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
            credential: match upstream.api_key {
                Some(SecretRef::File(_)) => CredentialValue::FromFile(ArcSwapOption::from(
                    credential.map(|key| Arc::new(key.for_wire(wire))),
                )),
                _ => CredentialValue::Fixed(credential.map(|key| key.for_wire(wire))),
            },
            credential_name,
            version,
        })
    }
}
