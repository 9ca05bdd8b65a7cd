//! The compiled-config contract: the `&'static` tables that generated code
//! fills in and the runtime reads.
//!
//! This module is data only. The codegen crate emits one `static CONFIG: Config`
//! per environment using these types by absolute path
//! (`::gateway_runtime::table::...`); nothing here parses YAML or knows where
//! the values came from. Secrets and run-time addresses are never stored here,
//! only the *names* of the environment variables or files that hold them.

use core::time::Duration;

/// Dense index into [`Config::upstreams`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UpstreamId(pub u16);

/// Dense index into [`Config::models`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelId(pub u16);

/// One compiled environment: everything the runtime needs that is not a secret.
#[derive(Debug)]
pub struct Config {
    /// Environment name (`dev`, `staging`, `prod`, ...).
    pub environment: &'static str,
    /// Hex SHA-256 over the config sources, as printed by `gateway --version`.
    pub config_sha256: &'static str,
    /// Workspace-relative paths of the YAML files this config was compiled from.
    pub sources: &'static [&'static str],
    /// Upstreams, sorted by name; `UpstreamId(i)` is `upstreams[i]`.
    pub upstreams: &'static [Upstream],
    /// Public models, sorted by name; `ModelId(i)` is `models[i]`.
    pub models: &'static [Model],
    /// Public model name -> id; generated `match` (or a sorted-slice lookup for large tables).
    pub resolve_model: fn(&str) -> Option<ModelId>,
    /// Listener and request limits.
    pub server: Server,
    /// Inbound authentication.
    pub auth: Auth,
}

/// An upstream provider endpoint.
#[derive(Debug)]
pub struct Upstream {
    pub id: UpstreamId,
    /// Name as written under `upstreams:` in upstreams.yaml.
    pub name: &'static str,
    pub kind: UpstreamKind,
    /// Secret sent upstream (`Authorization: Bearer ...`, or `x-api-key` for
    /// Anthropic); `None` sends no credential.
    pub api_key: Option<SecretRef>,
    /// When its secrets are missing at startup, disable this upstream instead of refusing to start.
    pub optional: bool,
    pub timeouts: Timeouts,
}

/// How the runtime talks to an upstream.
#[derive(Debug)]
pub enum UpstreamKind {
    /// An OpenAI-compatible HTTP API (OpenAI, vLLM, Ollama, LM Studio, ...).
    OpenAi {
        /// Base URL without trailing slash, e.g. `https://api.openai.com/v1`.
        base_url: &'static str,
        /// When set and present at startup, this variable's value replaces `base_url`.
        base_url_env: Option<&'static str>,
    },
    /// The Anthropic Messages API (`POST <base_url>/messages`); the key goes
    /// in `x-api-key`.
    Anthropic {
        /// Base URL without trailing slash, e.g. `https://api.anthropic.com/v1`.
        base_url: &'static str,
        /// When set and present at startup, this variable's value replaces `base_url`.
        base_url_env: Option<&'static str>,
        /// `anthropic-version` sent when the client sends none (e.g. `2023-06-01`).
        version: &'static str,
    },
    /// The built-in deterministic mock upstream, served in-process.
    Mock(MockBehavior),
}

/// Behaviour of the built-in mock upstream.
#[derive(Debug)]
pub struct MockBehavior {
    /// Delay before the response head is sent.
    pub latency: Duration,
    /// Number of content deltas in a streamed reply (the reply text is split into this many parts).
    pub chunks: u32,
    /// Gap between streamed chunks.
    pub chunk_gap: Duration,
    /// Whether responses carry `usage`.
    pub usage: bool,
    /// The assistant reply text.
    pub reply: &'static str,
}

/// Where a secret comes from at startup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretRef {
    /// Environment variable name.
    Env(&'static str),
    /// Absolute file path; trailing newline is trimmed.
    File(&'static str),
}

/// Per-upstream timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP (+TLS) connect.
    pub connect: Duration,
    /// Whole exchange for a non-streaming request; time to the response head for a stream.
    pub total: Duration,
    /// Longest gap allowed between two chunks of a streamed answer; on expiry
    /// the stream ends with an explicit error event.
    pub stream_idle: Duration,
}

/// A public model name and where it is served.
#[derive(Debug)]
pub struct Model {
    pub id: ModelId,
    /// Public name clients send as `model`.
    pub name: &'static str,
    pub upstream: UpstreamId,
    /// Name sent upstream in place of `name`.
    pub upstream_model: &'static str,
    /// Output limit (`max_tokens`) sent to an Anthropic upstream when a chat
    /// completions client sets none (Anthropic requires `max_tokens`); unused
    /// on other upstream kinds.
    pub default_max_tokens: u32,
    /// How `POST /v1/chat/completions` reaches this model's upstream.
    pub chat: Serving,
    /// How `POST /v1/messages` (and `/v1/messages/count_tokens`) reaches this
    /// model's upstream.
    pub messages: Serving,
}

/// How one ingress protocol reaches a model's upstream, decided at build time
/// by the upstream's kind: chat completions pass through to `openai` and
/// `mock` upstreams and are translated for `anthropic` ones; Anthropic
/// Messages pass through to `anthropic` upstreams and are translated for the
/// others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serving {
    /// The upstream speaks the client's protocol: the body is forwarded with
    /// only `model` rewritten.
    Passthrough,
    /// The upstream speaks the other protocol: request and answer are
    /// translated both ways.
    Translated,
}

/// Listener and request limits from security.yaml `server`.
#[derive(Debug)]
pub struct Server {
    /// Default listen address (`host:port`), overridable by `--listen` / `GATEWAY_LISTEN`.
    pub listen: &'static str,
    /// Largest accepted request body in bytes (larger gets 413).
    pub max_request_body: u64,
    /// How long to wait for a client's request head.
    pub header_read_timeout: Duration,
    /// How long to wait for a client's whole request body (slower gets 408).
    pub body_read_timeout: Duration,
    /// After SIGTERM: time `/ready` reports 503 while still accepting, so load balancers notice.
    pub shutdown_delay: Duration,
    /// After that: bound on in-flight requests and streams finishing.
    pub drain_timeout: Duration,
    /// Most client connections open at once; more are closed as soon as accepted.
    pub max_connections: u32,
    /// From accept to the first request byte (and the HTTP/2 preface); slower is closed.
    pub first_byte_timeout: Duration,
    /// An HTTP/2 connection with no request for this long is closed (GOAWAY).
    pub idle_timeout: Duration,
    /// HTTP/2 keep-alive: a PING after this much silence from the client ...
    pub h2_keepalive_interval: Duration,
    /// ... and the connection is closed if its answer takes longer than this.
    pub h2_keepalive_timeout: Duration,
    /// Largest request head (request line and headers) in bytes; larger gets 431.
    pub max_header_bytes: u64,
}

/// Inbound authentication from security.yaml `auth`.
#[derive(Debug)]
pub struct Auth {
    /// API keys; empty means the API is open.
    pub api_keys: &'static [ApiKey],
    /// Admin key digest: also accepted on the API, and required for `/metrics` when set.
    pub admin_key_sha256: Option<[u8; 32]>,
}

/// One inbound API key, stored only as the SHA-256 of the key.
#[derive(Debug)]
pub struct ApiKey {
    /// Name for logs (never the key).
    pub name: &'static str,
    pub sha256: [u8; 32],
}

impl Config {
    /// The model record for an id produced by [`Config::resolve_model`].
    pub fn model(&self, id: ModelId) -> Option<&'static Model> {
        self.models.get(usize::from(id.0))
    }

    /// The upstream record for an id.
    pub fn upstream(&self, id: UpstreamId) -> Option<&'static Upstream> {
        self.upstreams.get(usize::from(id.0))
    }
}

/// Lookup for large model tables: `models` must be sorted by name (codegen guarantees it).
pub fn find_model_sorted(models: &'static [Model], name: &str) -> Option<ModelId> {
    models
        .binary_search_by(|model| model.name.cmp(name))
        .ok()
        .and_then(|index| models.get(index))
        .map(|model| model.id)
}
