//! Spec types: what the user wrote, mirroring the four YAML files 1:1.
//!
//! These types derive `Deserialize` + `JsonSchema`; the checked-in
//! `schema/*.schema.json` files are generated from them (doc comments become
//! `description`s). Strings that need parsing (durations, sizes, URLs,
//! addresses, digests) stay strings here and are validated in `check/`.
//! Nothing here is resolved or defaulted beyond serde defaults: that is `lower.rs`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

/// upstreams.yaml: the upstream providers and the public models they serve.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamsFile {
    /// Upstream providers by name.
    pub upstreams: BTreeMap<String, UpstreamSpec>,
    /// Public model name (what clients send as `model`) -> where it is served.
    pub models: BTreeMap<String, ModelSpec>,
}

/// One upstream provider endpoint.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamSpec {
    /// How to talk to the upstream: `openai` (an OpenAI-compatible HTTP API) or `mock` (built in).
    pub kind: UpstreamKindSpec,
    /// Base URL of an `openai` upstream, e.g. `https://api.openai.com/v1` (http or https, no query).
    pub base_url: Option<String>,
    /// Environment variable whose value, when set at startup, replaces `base_url` (`openai` only).
    pub base_url_env: Option<String>,
    /// Where the upstream API key comes from: `{ env: NAME }` or `{ file: /abs/path }`. Never the key itself.
    #[serde(default)]
    pub api_key: SecretSpec,
    /// When true, a missing secret disables this upstream at startup instead of refusing to start.
    #[serde(default)]
    pub optional: bool,
    /// Connect and total timeouts (defaults: connect 5s, total 300s).
    #[serde(default)]
    pub timeout: TimeoutSpec,
    /// Behaviour of a `mock` upstream.
    #[serde(default)]
    pub mock: MockSpec,
}

/// The kind of an upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UpstreamKindSpec {
    // An OpenAI-compatible HTTP API.
    #[serde(rename = "openai")]
    OpenAi,
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeoutSpec {
    /// TCP (+TLS) connect timeout (default `5s`).
    pub connect: Option<String>,
    /// Whole-exchange timeout; time to the response head for a stream (default `300s`).
    pub total: Option<String>,
}

/// Settings of the built-in mock upstream (only for `kind: mock`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MockSpec {
    /// Delay before the response head (default `0ms`).
    pub latency: Option<String>,
    /// Number of streamed content deltas, 1..=10000 (default 8).
    pub chunks: Option<u32>,
    /// Gap between streamed chunks (default `0ms`).
    pub chunk_gap: Option<String>,
    /// Whether responses carry `usage` (default true).
    pub usage: Option<bool>,
    /// The assistant reply text.
    pub reply: Option<String>,
}

/// A public model and the upstream serving it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Name of an entry under `upstreams`.
    pub upstream: String,
    /// Model name sent upstream (defaults to the public name).
    pub model: Option<String>,
}

/// agents.yaml: agent definitions (placeholder until agents ship; checked, not emitted).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentsFile {
    /// Agents by name.
    #[serde(default)]
    pub agents: BTreeMap<String, AgentSpec>,
}

/// One agent.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// What the agent is for.
    pub description: Option<String>,
    /// Public model name (from upstreams.yaml `models`) the agent uses.
    pub model: String,
}

/// tools.yaml: tool definitions (placeholder until tools ship; checked, not emitted).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolsFile {
    /// Tools by name.
    #[serde(default)]
    pub tools: BTreeMap<String, ToolSpec>,
}

/// One tool.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolSpec {
    /// What the tool does.
    pub description: String,
}

/// security.yaml: listener limits and inbound authentication.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityFile {
    /// Listener and request limits.
    #[serde(default)]
    pub server: ServerSpec,
    /// Inbound authentication.
    #[serde(default)]
    pub auth: AuthSpec,
}

/// Listener and request limits.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// Default listen address `ip:port` (default `127.0.0.1:8080`; port 0 picks a free port).
    pub listen: Option<String>,
    /// Largest request body, e.g. `4MiB`, `64KiB`, `10MB` (default `4MiB`, at most `1GiB`).
    pub max_request_body: Option<String>,
    /// How long to wait for a request head (default `10s`).
    pub header_read_timeout: Option<String>,
    /// How long to wait for a whole request body (default `30s`).
    pub body_read_timeout: Option<String>,
    /// After SIGTERM, how long `/ready` reports 503 before draining (default `0s`).
    pub shutdown_delay: Option<String>,
    /// Bound on in-flight requests finishing during shutdown (default `30s`).
    pub drain_timeout: Option<String>,
}

/// Inbound authentication.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// Accepted API keys as SHA-256 digests; empty means the API is open.
    #[serde(default)]
    pub api_keys: Vec<ApiKeySpec>,
    /// SHA-256 of the admin key (accepted on the API; required for `/metrics` when set).
    pub admin_key_sha256: Option<String>,
}

/// One inbound API key, by digest only.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeySpec {
    /// Name for logs (never the key).
    pub name: String,
    /// Hex SHA-256 of the key: `printf %s "$KEY" | sha256sum`.
    pub sha256: String,
}

/// All four files of one environment, deserialized.
#[derive(Clone, Debug)]
pub struct Spec {
    /// upstreams.yaml
    pub upstreams: UpstreamsFile,
    /// agents.yaml
    pub agents: AgentsFile,
    /// tools.yaml
    pub tools: ToolsFile,
    /// security.yaml
    pub security: SecurityFile,
}
