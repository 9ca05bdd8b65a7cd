//! Upstream providers of upstreams.yaml: kind, base URL, secret reference,
//! timeouts, the Anthropic API version and the built-in mock's behaviour;
//! the breaker and health check types are `resilience.rs`.
//!
//! Kind-specific keys (`base_url`, `base_url_env`: `openai` and `anthropic`;
//! `anthropic_version`: `anthropic`; `mock`: `mock`) are plain optional
//! fields here; `check/upstreams.rs` rejects them on another kind.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::spec::resilience::{BreakerSpec, HealthCheckSpec};
use crate::spec::values::{ApiVersionSpec, DurationSpec, UrlSpec};

/// Defaults applied by `lower/` when a key is absent (the docs below repeat them).
pub mod defaults {
    /// `timeout.connect`.
    pub const CONNECT: &str = "5s";
    /// `timeout.first_byte`.
    pub const FIRST_BYTE: &str = "60s";
    /// `timeout.total`.
    pub const TOTAL: &str = "300s";
    /// `timeout.stream_idle`.
    pub const STREAM_IDLE: &str = "60s";
    /// `anthropic_version`.
    pub const ANTHROPIC_VERSION: &str = "2023-06-01";
    /// `mock.latency`.
    pub const MOCK_LATENCY: &str = "0ms";
    /// `mock.chunks`.
    pub const MOCK_CHUNKS: u32 = 8;
    /// `mock.chunk_gap`.
    pub const MOCK_CHUNK_GAP: &str = "0ms";
    /// `mock.usage`.
    pub const MOCK_USAGE: bool = true;
    /// `mock.reply`.
    pub const MOCK_REPLY: &str =
        "This is a deterministic reply from the gateway's built-in mock upstream.";
}

/// One upstream provider endpoint.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSpec {
    /// How to talk to the upstream: `openai` (an OpenAI-compatible HTTP API), `anthropic` (the Anthropic Messages API) or `mock` (built in).
    pub kind: UpstreamKindSpec,
    /// Base URL of an `openai` or `anthropic` upstream up to and including its version segment, e.g. `https://api.openai.com/v1` or `https://api.anthropic.com/v1` (http or https, no query; the gateway appends the endpoint path such as `/chat/completions` or `/messages`).
    pub base_url: Option<UrlSpec>,
    /// Environment variable whose value, when set at startup, replaces `base_url` (`openai` and `anthropic` only).
    pub base_url_env: Option<String>,
    /// Where the upstream API key comes from: `{ env: NAME }` or `{ file: /abs/path }`, never the key itself. Sent as `Authorization: Bearer` (`openai`) or `x-api-key` (`anthropic`).
    #[serde(default)]
    pub api_key: SecretSpec,
    /// When true, a missing secret disables this upstream at startup instead of refusing to start (default false).
    #[serde(default)]
    pub optional: bool,
    /// Per-try timeouts: connect, first byte, total and stream idle (defaults: connect 5s, first_byte 60s, total 300s, stream_idle 60s). A model's `deadline` bounds the whole request across tries.
    #[serde(default)]
    pub timeout: TimeoutSpec,
    /// Circuit breaker settings (every key optional; defaults: enabled, 5 faults in a row or an error ratio of 0.5 over 60s after 20 requests open it for 30s, then 1 probe).
    #[serde(default)]
    pub breaker: BreakerSpec,
    /// Active health checking (absent: none; the breaker and maintenance still apply).
    pub health_check: Option<HealthCheckSpec>,
    /// The `anthropic-version` header sent to an `anthropic` upstream, a date such as `2023-06-01` (default `2023-06-01`; `anthropic` only).
    #[schemars(extend("default" = defaults::ANTHROPIC_VERSION))]
    pub anthropic_version: Option<ApiVersionSpec>,
    /// Behaviour of a `mock` upstream (`mock` only).
    #[serde(default)]
    pub mock: MockSpec,
}

/// The kind of an upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamKindSpec {
    // An OpenAI-compatible HTTP API. (Plain comments: doc comments on variants
    // would turn the schema's `enum` into a `oneOf`, which reports worse.)
    #[serde(rename = "openai")]
    OpenAi,
    // The Anthropic Messages API (`x-api-key`, `anthropic-version`).
    Anthropic,
    // The built-in deterministic mock.
    Mock,
}

/// A reference to a secret: exactly one of `env` or `file`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("minProperties" = 1, "maxProperties" = 1))]
pub struct SecretSpec {
    /// Name of the environment variable holding the secret (`[A-Z_][A-Z0-9_]*`).
    pub env: Option<String>,
    /// Absolute path of a file holding the secret (trailing newline trimmed).
    pub file: Option<String>,
}

/// Upstream timeouts as durations like `500ms`, `2s`, `1m`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeoutSpec {
    /// TCP (+TLS) connect timeout (default `5s`).
    #[schemars(extend("default" = defaults::CONNECT))]
    pub connect: Option<DurationSpec>,
    /// A streamed request: from sending it to the answer's head and first event, the time to first token; until then a failed try can still go to another deployment (default `60s`, or `total` when that is shorter; when written, at most `total`). A non-streamed answer's head comes only when the whole answer is ready, so `total` bounds it instead.
    #[schemars(extend("default" = defaults::FIRST_BYTE))]
    pub first_byte: Option<DurationSpec>,
    /// One try's whole exchange, a streamed answer included to its last event; when it passes mid-stream, the stream ends with an error event (default `300s`).
    #[schemars(extend("default" = defaults::TOTAL))]
    pub total: Option<DurationSpec>,
    /// Longest gap allowed between two chunks of a streamed answer; when it passes, the stream ends with an error event (default `60s`).
    #[schemars(extend("default" = defaults::STREAM_IDLE))]
    pub stream_idle: Option<DurationSpec>,
}

/// Settings of the built-in mock upstream (only for `kind: mock`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MockSpec {
    /// Delay before the response head (default `0ms`).
    #[schemars(extend("default" = defaults::MOCK_LATENCY))]
    pub latency: Option<DurationSpec>,
    /// Number of streamed content deltas, 1..=10000 (default 8).
    #[schemars(extend("default" = defaults::MOCK_CHUNKS))]
    pub chunks: Option<u32>,
    /// Gap between streamed chunks (default `0ms`).
    #[schemars(extend("default" = defaults::MOCK_CHUNK_GAP))]
    pub chunk_gap: Option<DurationSpec>,
    /// Whether responses carry `usage` (default true).
    #[schemars(extend("default" = defaults::MOCK_USAGE))]
    pub usage: Option<bool>,
    /// The assistant reply text (default: one fixed sentence saying it comes from the mock).
    #[schemars(extend("default" = defaults::MOCK_REPLY))]
    pub reply: Option<String>,
}
