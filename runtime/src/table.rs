//! The compiled-config contract: the `&'static` tables that generated code
//! fills in and the runtime reads.
//!
//! This module is data only. The codegen crate emits one `static CONFIG: Config`
//! per environment using these types by absolute path
//! (`::gateway_runtime::table::...`); nothing here parses YAML or knows where
//! the values came from. Secrets and run-time addresses are never stored here,
//! only the *names* of the environment variables or files that hold them.

use core::time::Duration;

mod agents;
mod quotas;
mod tools;
pub use agents::{Action, Agent, AgentBounds, AgentId, Program, SdkAgent};
pub use quotas::{
    Applies, Budget, Limit, Per, Period, Price, Quotas, Rate, RedisStore, Store, bit,
};
pub use tools::{
    Builtin, HttpMethod, HttpTool, McpServer, McpTool, McpTransport, OnDrift, Property,
    STDIO_BASE_ENV, Schema, Tool, ToolId, ToolKind, UrlPiece,
};

/// Dense index into [`Config::upstreams`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UpstreamId(pub u16);

/// Dense index into [`Config::models`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModelId(pub u16);

/// Dense index of a deployment over all models: models in id order, each
/// model's deployments in the order of [`Model::deployments`]; so
/// `DeploymentId` `i` is the `i`-th deployment met walking the models. The
/// runtime's per-deployment state and metric slots are arrays indexed by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeploymentId(pub u16);

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
    /// Total deployments over all models (`DeploymentId`s are `0..deployment_count`).
    pub deployment_count: u16,
    /// Public model name -> id; generated `match` (or a sorted-slice lookup for large tables).
    pub resolve_model: fn(&str) -> Option<ModelId>,
    /// Listener and request limits.
    pub server: Server,
    /// Inbound authentication.
    pub auth: Auth,
    /// Rate limits and budgets.
    pub quotas: Quotas,
    /// Tools (tools.yaml), sorted by name; `ToolId(i)` is `tools[i]`.
    pub tools: &'static [Tool],
    /// MCP servers (tools.yaml `mcp_servers`), sorted by name; `index` is the position.
    pub mcp_servers: &'static [McpServer],
    /// Agents (agents.yaml), sorted by name; `AgentId(i)` is `agents[i]`.
    pub agents: &'static [Agent],
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
    /// The circuit breaker every deployment on this upstream gets (one state per deployment).
    pub breaker: Breaker,
    /// Active health checking, if configured.
    pub health_check: Option<HealthCheck>,
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

/// Per-upstream timeouts, each bounding one try at one deployment (the
/// model's [`Model::deadline`] bounds the whole request across tries).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// TCP (+TLS) connect.
    pub connect: Duration,
    /// A streamed request: from sending it to the answer's head and first
    /// event (time to first token). Until then a failed try can fail over.
    /// Not applied to a non-streamed request, whose head comes only when
    /// the whole answer is ready (`total` bounds it).
    pub first_byte: Duration,
    /// Whole exchange, a stream included to its last event; on expiry
    /// mid-stream the stream ends with an explicit error event.
    pub total: Duration,
    /// Longest gap allowed between two chunks of a streamed answer; on expiry
    /// the stream ends with an explicit error event.
    pub stream_idle: Duration,
}

/// Circuit breaker settings (state is per deployment). Trips to open on
/// `consecutive_failures` upstream faults in a row, or on an error ratio of
/// at least `error_ratio_permille`/1000 over the last `window` once
/// `min_requests` were seen there; stays open for `open_for`, then admits
/// `half_open_probes` requests: all succeed -> closed, any fails -> open.
/// Only upstream faults count (connect errors, timeouts, 429, 5xx, cut
/// streams), never client errors.
#[derive(Debug, Clone, Copy)]
pub struct Breaker {
    /// `false`: never trips.
    pub enabled: bool,
    /// Upstream faults in a row that open it; 0 disables this trigger.
    pub consecutive_failures: u32,
    /// Fault ratio (per mille) over `window` that opens it; 0 disables this trigger.
    pub error_ratio_permille: u16,
    /// Sliding window for the ratio.
    pub window: Duration,
    /// Requests in the window before the ratio is considered.
    pub min_requests: u32,
    /// Time open before half-open probes are admitted.
    pub open_for: Duration,
    /// Requests admitted while half-open (at least 1).
    pub half_open_probes: u32,
}

/// Active health checking of an upstream.
#[derive(Debug, Clone, Copy)]
pub struct HealthCheck {
    /// Time between checks.
    pub interval: Duration,
    /// Bound on one check.
    pub timeout: Duration,
    /// What a check sends.
    pub probe: HealthProbe,
    /// Consecutive passes that mark an unhealthy upstream healthy.
    pub healthy_threshold: u32,
    /// Consecutive failures that mark a healthy upstream unhealthy.
    pub unhealthy_threshold: u32,
}

/// What a health check sends.
#[derive(Debug, Clone, Copy)]
pub enum HealthProbe {
    /// `GET <base_url><path>` (e.g. `/models`); any 2xx passes.
    Get(&'static str),
    /// A minimal generation (one token, `max_tokens: 1`) for this upstream
    /// model in the upstream's own wire format; a 2xx passes.
    Minimal(&'static str),
}

/// A public model name and how requests for it are served: its deployments,
/// how to choose among them, when to retry, where to fall back, and the one
/// deadline bounding all of it.
#[derive(Debug)]
pub struct Model {
    pub id: ModelId,
    /// Public name clients send as `model`.
    pub name: &'static str,
    /// At least one; sorted by priority (0 first), then as written. Lower
    /// priorities are used only when every deployment above is unavailable.
    pub deployments: &'static [Deployment],
    /// Output limit (`max_tokens`) sent to an Anthropic upstream when a chat
    /// completions client sets none (Anthropic requires `max_tokens`); unused
    /// on other upstream kinds.
    pub default_max_tokens: u32,
    /// Which ingress endpoints serve this model.
    pub endpoints: Endpoints,
    /// How a deployment is chosen within a priority.
    pub balance: Balance,
    /// Tries at this model before its fallbacks.
    pub retry: Retry,
    /// Models tried in order once this one's tries are spent (no cycles: checked at build).
    pub fallbacks: &'static [ModelId],
    /// Models tried in order when an upstream says the prompt is too long
    /// for the context window (a 400 such as OpenAI's `context_length_exceeded`).
    pub context_window_fallbacks: &'static [ModelId],
    /// Bounds the whole request: every try, backoff and fallback, and a
    /// stream to its end.
    pub deadline: Duration,
    /// What a token costs, when priced (budgets need it).
    pub price: Option<Price>,
    /// Most `messages` one request may send.
    pub max_messages: Option<u32>,
    /// Largest `max_tokens` one request may ask for.
    pub max_tokens: Option<u32>,
}

/// One place a public model is served: an upstream, the model name it
/// knows, and its share of traffic.
#[derive(Debug)]
pub struct Deployment {
    pub id: DeploymentId,
    pub upstream: UpstreamId,
    /// Name sent upstream in place of the public name.
    pub upstream_model: &'static str,
    /// Relative share within its priority (at least one deployment per priority has weight > 0).
    pub weight: u32,
    /// 0 is tried first.
    pub priority: u8,
    /// How `POST /v1/chat/completions` reaches this deployment's upstream.
    pub chat: Serving,
    /// How `POST /v1/messages` (and `/v1/messages/count_tokens`) reaches it.
    pub messages: Serving,
}

/// Which ingress endpoints serve a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    /// `POST /v1/chat/completions`.
    pub chat: bool,
    /// `POST /v1/messages` and `/v1/messages/count_tokens`.
    pub messages: bool,
}

/// How a deployment is chosen among the available ones of one priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    /// Random, proportional to weight.
    Weighted,
    /// Power of two choices: two distinct candidates drawn by weight, the
    /// one with fewer requests in flight wins (ties: lower latency EWMA).
    P2c,
    /// Power of two choices on cost = latency EWMA x (in flight + 1).
    P2cEwma,
}

/// When and how a model's request is tried again.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Tries at this model, the first included (1 = no retry).
    pub attempts: u8,
    /// Retry when the upstream cannot be reached (connect error, reset before an answer).
    pub on_connect_error: bool,
    /// Retry when a try times out before its first byte.
    pub on_timeout: bool,
    /// Upstream statuses retried, sorted (only 408, 429 and 5xx are allowed).
    pub statuses: &'static [u16],
    /// Backoff before retry n (1-based) is uniform in [0, min(max, base x 2^(n-1))] (full jitter).
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// An upstream `Retry-After` is honoured up to this; longer moves on at once.
    pub retry_after_max: Duration,
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
    /// File listing upstreams in maintenance, one name per line: read at
    /// startup and by `POST /upstreams/refresh`, rewritten by the
    /// maintenance endpoints, so the state survives a restart.
    pub maintenance_file: Option<&'static str>,
}

/// Inbound authentication from security.yaml `auth`.
#[derive(Debug)]
pub struct Auth {
    /// API keys; empty means the API is open.
    pub api_keys: &'static [ApiKey],
    /// Admin key digest: also accepted on the API, and required for `/metrics` when set.
    pub admin_key_sha256: Option<[u8; 32]>,
    /// Teams (tenants) by name, sorted; for `gateway access` and logs.
    pub teams: &'static [Team],
    /// Files of more API keys (digests), read at startup and again on
    /// SIGHUP and `POST /security/refresh`, so keys rotate without a
    /// build. A file key gets its team's model access (no team: every
    /// model). Any file configured means the API is not open.
    pub key_files: &'static [KeyFile],
    /// Bearer tokens (JWTs) from an identity provider, if configured.
    pub jwt: Option<Jwt>,
}

/// Accepting JWTs (`Authorization: Bearer <jwt>`) signed by an identity
/// provider's keys (security.yaml `auth.jwt`).
#[derive(Debug)]
pub struct Jwt {
    /// The `iss` a token must carry, exactly.
    pub issuer: &'static str,
    /// A token's `aud` (string or list) must hold one of these.
    pub audiences: &'static [&'static str],
    /// Where the signing keys (a JWKS document) come from.
    pub jwks: JwksSource,
    /// Accepted `alg` values (never `none`, never an HMAC algorithm).
    pub algorithms: &'static [JwtAlgorithm],
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// The claim naming the principal (logs, quotas), e.g. `sub`.
    pub principal_claim: &'static str,
    /// The claim naming the caller's team; its value must be a compiled team.
    pub team_claim: Option<&'static str>,
    /// The claim holding scopes: a space-separated string or a list.
    pub scope_claim: &'static str,
    /// Scopes by name, sorted, each with its models; empty: no scope needed.
    pub scopes: &'static [Scope],
}

/// Where a JWKS document is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwksSource {
    /// An absolute path, read at startup and on SIGHUP and `POST /security/refresh`.
    File(&'static str),
    /// An `https` URL, fetched at startup and every `refresh`.
    Url {
        url: &'static str,
        refresh: Duration,
        /// Bound on one fetch, and on a request waiting for the first one.
        timeout: Duration,
        /// A PEM bundle of the CAs to trust instead of the web PKI roots.
        ca_file: Option<&'static str>,
    },
}

/// A JWS signature algorithm the gateway verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    Rs256,
    Rs384,
    Rs512,
    Ps256,
    Ps384,
    Ps512,
    Es256,
    Es384,
    EdDsa,
}

impl JwtAlgorithm {
    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Ps256 => "PS256",
            Self::Ps384 => "PS384",
            Self::Ps512 => "PS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::EdDsa => "EdDSA",
        }
    }
}

/// A token scope and the models it grants.
#[derive(Debug)]
pub struct Scope {
    pub name: &'static str,
    pub models: ModelAccess,
}

/// A file of API key digests, one `<name> <sha256-hex> [team=<team>]` per
/// line (`runtime/src/auth/key_file.rs` reads it; no YAML at run time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFile {
    /// Absolute path.
    pub path: &'static str,
    /// `true`: a missing file holds no keys (at startup an unusable one
    /// is left out and logged); `false`: a missing or unusable file at
    /// startup stops the gateway.
    pub optional: bool,
}

/// One inbound API key, stored only as the SHA-256 of the key.
#[derive(Debug)]
pub struct ApiKey {
    /// Name for logs (never the key).
    pub name: &'static str,
    pub sha256: [u8; 32],
    /// The key's team (tenant), if any.
    pub team: Option<&'static str>,
    /// The same team as an index into [`Auth::teams`].
    pub team_index: Option<u16>,
    /// The public models this key may use: its own `models` patterns
    /// intersected with its team's, resolved at build time.
    pub models: ModelAccess,
    /// The tools this key may use (bits are `ToolId`s): its own `tools`
    /// patterns intersected with its team's.
    pub tools: ModelAccess,
    /// The agents this principal may use (bits are `AgentId`s).
    pub agents: ModelAccess,
    /// The key's labels as `name=value` pairs joined by `,` (empty: none),
    /// logged with each of its requests.
    pub metadata: &'static str,
}

/// A team (tenant) of API keys.
#[derive(Debug)]
pub struct Team {
    pub name: &'static str,
    /// The public models the team's keys may use at most.
    pub models: ModelAccess,
    /// The tools the team's keys (and tokens) may use at most (bits are `ToolId`s).
    pub tools: ModelAccess,
    /// The agents this principal may use (bits are `AgentId`s).
    pub agents: ModelAccess,
}

/// Which public models a principal may use, decided at build time: no
/// pattern is matched at request time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelAccess {
    /// Every model (no `models` restriction configured).
    All,
    /// A bit set over `ModelId`s: bit `i % 64` of word `i / 64` is `ModelId(i)`.
    Only(&'static [u64]),
}

impl ModelAccess {
    /// Whether the model may be used.
    pub fn allows(self, model: ModelId) -> bool {
        self.allows_index(model.0)
    }

    /// Whether the tool may be used (the same bit set, over tool ids).
    pub fn allows_tool(self, tool: ToolId) -> bool {
        self.allows_index(tool.0)
    }

    /// Whether the agent may be used (the same bit set, over agent ids).
    pub fn allows_agent(self, agent: AgentId) -> bool {
        self.allows_index(agent.0)
    }

    fn allows_index(self, index: u16) -> bool {
        match self {
            Self::All => true,
            Self::Only(words) => {
                let index = usize::from(index);
                words
                    .get(index / 64)
                    .is_some_and(|word| word >> (index % 64) & 1 == 1)
            }
        }
    }
}

impl Config {
    /// The agent named `name` (binary search: agents are sorted by name).
    pub fn agent(&self, name: &str) -> Option<&'static Agent> {
        let agents: &'static [Agent] = self.agents;
        let at = agents.binary_search_by(|a| a.name.cmp(name)).ok()?;
        agents.get(at)
    }

    /// The tool named `name` (binary search: tools are sorted by name).
    pub fn tool(&self, name: &str) -> Option<&'static Tool> {
        let tools: &'static [Tool] = self.tools;
        let at = tools.binary_search_by(|t| t.name.cmp(name)).ok()?;
        tools.get(at)
    }

    /// The model record for an id produced by [`Config::resolve_model`].
    pub fn model(&self, id: ModelId) -> Option<&'static Model> {
        self.models.get(usize::from(id.0))
    }

    /// The upstream record for an id.
    pub fn upstream(&self, id: UpstreamId) -> Option<&'static Upstream> {
        self.upstreams.get(usize::from(id.0))
    }

    /// Every deployment with its model, in `DeploymentId` order.
    pub fn deployments(&self) -> impl Iterator<Item = (&'static Model, &'static Deployment)> {
        let models: &'static [Model] = self.models;
        models
            .iter()
            .flat_map(|m| m.deployments.iter().map(move |d| (m, d)))
    }
}

impl Model {
    /// The upstream of the first deployment (for `owned_by` and the like).
    pub fn primary_upstream(&self) -> Option<UpstreamId> {
        self.deployments.first().map(|d| d.upstream)
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
