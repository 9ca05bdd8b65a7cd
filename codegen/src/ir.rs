//! The IR: a resolved, normalised, sorted view of one environment, ready to emit.
//!
//! Dense ids, defaults applied, cross-references as ids, durations in
//! milliseconds, sizes in bytes, digests as bytes. Built by `lower/` from a
//! checked [`crate::spec::Spec`]; it holds no spans and knows nothing of YAML.

/// Dense index of an upstream (position in [`Ir::upstreams`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct UpstreamId(pub u16);

/// Dense index of a model (position in [`Ir::models`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModelId(pub u16);

/// Dense index of a deployment over all models: models in id order, each
/// model's deployments in [`Model::deployments`] order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeploymentId(pub u16);

/// One compiled environment.
#[derive(Clone, Debug)]
pub struct Ir {
    /// Environment name.
    pub environment: String,
    /// Display paths of the four sources, in fixed order.
    pub sources: Vec<String>,
    /// Hex SHA-256 over the sources (see [`crate::config_sha256`]).
    pub config_sha256: String,
    /// Sorted by name; index = id.
    pub upstreams: Vec<Upstream>,
    /// Sorted by name; index = id.
    pub models: Vec<Model>,
    /// Deployments over all models (`DeploymentId`s are `0..deployment_count`).
    pub deployment_count: u16,
    /// Listener and limits.
    pub server: Server,
    /// Inbound authentication.
    pub auth: Auth,
    /// Rate limits and budgets.
    pub quotas: Quotas,
    /// Agents, sorted by name; `AgentId(i)` is `agents[i]`.
    pub agents: Vec<Agent>,
    /// Tools, sorted by name; `ToolId(i)` is `tools[i]`.
    pub tools: Vec<Tool>,
    /// MCP servers, sorted by name.
    pub mcp_servers: Vec<McpServer>,
}

/// A resolved upstream.
#[derive(Clone, Debug)]
pub struct Upstream {
    /// Dense id.
    pub id: UpstreamId,
    /// Name from upstreams.yaml.
    pub name: String,
    /// Kind with its settings.
    pub kind: UpstreamKind,
    /// Secret source, if any.
    pub api_key: Option<SecretRef>,
    /// Disable instead of failing when secrets are missing.
    pub optional: bool,
    /// Connect timeout in ms.
    pub connect_ms: u64,
    /// Streamed requests: ms to the answer's head and first event.
    pub first_byte_ms: u64,
    /// One try's whole exchange in ms, a stream to its last event.
    pub total_ms: u64,
    /// Longest gap between two streamed chunks, in ms.
    pub stream_idle_ms: u64,
    /// Circuit breaker settings (state is per deployment).
    pub breaker: Breaker,
    /// Active health checking, if configured.
    pub health_check: Option<HealthCheck>,
}

/// Circuit breaker settings with defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breaker {
    /// `false`: never trips.
    pub enabled: bool,
    /// Faults in a row that open it; 0: trigger off.
    pub consecutive_failures: u32,
    /// Fault ratio over the window, per mille; 0: trigger off.
    pub error_ratio_permille: u16,
    /// ms of the ratio's sliding window.
    pub window_ms: u64,
    /// Requests in the window before the ratio counts.
    pub min_requests: u32,
    /// ms open before probes.
    pub open_for_ms: u64,
    /// Requests admitted while half-open.
    pub half_open_probes: u32,
}

/// Active health checking with defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    /// ms between checks.
    pub interval_ms: u64,
    /// ms bound on one check.
    pub timeout_ms: u64,
    /// What a check sends.
    pub probe: HealthProbe,
    /// Passes in a row that mark an upstream healthy.
    pub healthy_threshold: u32,
    /// Failures in a row that mark an upstream unhealthy.
    pub unhealthy_threshold: u32,
}

/// What a health check sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HealthProbe {
    /// `GET <base_url><path>`.
    Get(String),
    /// A one-token generation for this upstream model.
    Minimal(String),
}

/// Upstream kind with kind-specific settings.
#[derive(Clone, Debug)]
pub enum UpstreamKind {
    /// OpenAI-compatible HTTP API.
    OpenAi {
        /// Without trailing slash.
        base_url: String,
        /// Override variable.
        base_url_env: Option<String>,
    },
    /// Anthropic Messages API.
    Anthropic {
        /// Without trailing slash.
        base_url: String,
        /// Override variable.
        base_url_env: Option<String>,
        /// `anthropic-version` header value.
        version: String,
    },
    /// Built-in mock.
    Mock(Mock),
}

/// Mock behaviour with defaults applied.
#[derive(Clone, Debug)]
pub struct Mock {
    /// ms before the head.
    pub latency_ms: u64,
    /// Streamed deltas.
    pub chunks: u32,
    /// ms between chunks.
    pub chunk_gap_ms: u64,
    /// Whether `usage` is reported.
    pub usage: bool,
    /// Reply text.
    pub reply: String,
}

/// Where a secret comes from.
#[derive(Clone, Debug)]
pub enum SecretRef {
    /// Environment variable.
    Env(String),
    /// Absolute file path.
    File(String),
}

/// A resolved public model.
#[derive(Clone, Debug)]
pub struct Model {
    /// Dense id.
    pub id: ModelId,
    /// Public name.
    pub name: String,
    /// At least one, sorted by priority then as written.
    pub deployments: Vec<Deployment>,
    /// `max_tokens` sent to an Anthropic upstream when a chat client sets none.
    pub default_max_tokens: u32,
    /// Which ingress endpoints serve it.
    pub endpoints: Endpoints,
    /// How a deployment is chosen within a priority.
    pub balance: Balance,
    /// Tries at this model.
    pub retry: Retry,
    /// Models tried in order once the tries are spent.
    pub fallbacks: Vec<ModelId>,
    /// Models tried in order when the prompt exceeds the context window.
    pub context_window_fallbacks: Vec<ModelId>,
    /// ms bounding the whole request (explicit or derived).
    pub deadline_ms: u64,
    /// Dollars per token, when priced.
    pub price: Option<Price>,
    /// Most messages per request.
    pub max_messages: Option<u32>,
    /// Largest `max_tokens` a request may ask for.
    pub max_tokens: Option<u32>,
}

/// One place a model is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// Dense id over all models.
    pub id: DeploymentId,
    /// Serving upstream.
    pub upstream: UpstreamId,
    /// Name sent upstream.
    pub upstream_model: String,
    /// Share within its priority.
    pub weight: u32,
    /// 0 first.
    pub priority: u8,
    /// How chat completions reach the upstream (from its kind).
    pub chat: Serving,
    /// How Anthropic Messages reach the upstream (from its kind).
    pub messages: Serving,
}

/// Which ingress endpoints serve a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// `POST /v1/chat/completions`.
    pub chat: bool,
    /// `POST /v1/messages` and `/v1/messages/count_tokens`.
    pub messages: bool,
}

/// How a deployment is chosen within a priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balance {
    /// Random by weight.
    Weighted,
    /// Power of two choices by requests in flight.
    P2c,
    /// Power of two choices by latency EWMA x (in flight + 1).
    P2cEwma,
}

/// Retry settings with defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Tries, the first included (1..=10).
    pub attempts: u8,
    /// Retry connect errors.
    pub on_connect_error: bool,
    /// Retry timeouts before the first byte.
    pub on_timeout: bool,
    /// Retried statuses, sorted and unique.
    pub statuses: Vec<u16>,
    /// ms, base of the full-jitter backoff.
    pub backoff_base_ms: u64,
    /// ms, cap of one backoff.
    pub backoff_max_ms: u64,
    /// ms, longest `Retry-After` honoured.
    pub retry_after_max_ms: u64,
}

/// How one ingress protocol reaches a model's upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serving {
    /// The upstream speaks the protocol: forwarded with only `model` rewritten.
    Passthrough,
    /// The upstream speaks the other protocol: translated both ways.
    Translated,
}

/// Listener and limits with defaults applied.
#[derive(Clone, Debug)]
pub struct Server {
    /// `ip:port`.
    pub listen: String,
    /// Bytes.
    pub max_request_body: u64,
    /// ms.
    pub header_read_timeout_ms: u64,
    /// ms.
    pub body_read_timeout_ms: u64,
    /// ms.
    pub shutdown_delay_ms: u64,
    /// ms.
    pub drain_timeout_ms: u64,
    /// Client connections open at once.
    pub max_connections: u32,
    /// ms from accept to the first request byte.
    pub first_byte_timeout_ms: u64,
    /// ms an HTTP/2 connection may stay without a request.
    pub idle_timeout_ms: u64,
    /// ms of client silence before an HTTP/2 `PING`.
    pub h2_keepalive_interval_ms: u64,
    /// ms a `PING` may stay unanswered.
    pub h2_keepalive_timeout_ms: u64,
    /// Bytes of request line and headers.
    pub max_header_bytes: u64,
    /// Absolute path of the maintenance file, if any.
    pub maintenance_file: Option<String>,
}

/// Inbound authentication.
#[derive(Clone, Debug)]
pub struct Auth {
    /// Sorted by digest.
    pub api_keys: Vec<ApiKey>,
    /// Admin key digest.
    pub admin_key_sha256: Option<[u8; 32]>,
    /// Sorted by name.
    pub teams: Vec<Team>,
    /// Files of more key digests, as listed.
    pub key_files: Vec<KeyFile>,
    /// Bearer tokens from an identity provider.
    pub jwt: Option<Jwt>,
}

/// Accepting JWTs.
#[derive(Clone, Debug)]
pub struct Jwt {
    /// Exact `iss`.
    pub issuer: String,
    /// Accepted `aud` values.
    pub audiences: Vec<String>,
    /// Where the keys come from.
    pub jwks: JwksSource,
    /// Accepted `alg` names, as written (checked).
    pub algorithms: Vec<String>,
    /// ms of clock skew allowed.
    pub leeway_ms: u64,
    /// Claim naming the principal.
    pub principal_claim: String,
    /// Claim naming the team.
    pub team_claim: Option<String>,
    /// Claim holding scopes.
    pub scope_claim: String,
    /// Sorted by name.
    pub scopes: Vec<Scope>,
}

/// A JWKS source.
#[derive(Clone, Debug)]
pub enum JwksSource {
    /// Absolute path.
    File(String),
    /// An https URL fetched every `refresh_ms`.
    Url {
        /// The URL.
        url: String,
        /// ms between fetches.
        refresh_ms: u64,
        /// ms bound on one fetch.
        timeout_ms: u64,
        /// PEM bundle of trusted CAs.
        ca_file: Option<String>,
    },
}

/// A token scope and its models.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Name as in tokens.
    pub name: String,
    /// Models it grants.
    pub models: ModelAccess,
}

/// A file of key digests read at run time.
#[derive(Clone, Debug)]
pub struct KeyFile {
    /// Absolute path.
    pub path: String,
    /// Missing: no keys (and unusable at startup: left out) instead of a startup error.
    pub optional: bool,
}

/// One inbound key.
#[derive(Clone, Debug)]
pub struct ApiKey {
    /// Name for logs.
    pub name: String,
    /// SHA-256 of the key.
    pub sha256: [u8; 32],
    /// The key's team, if any.
    pub team: Option<String>,
    /// The same team as an index into [`Auth::teams`] (sorted by name).
    pub team_index: Option<u16>,
    /// The models the key may use (its own patterns and its team's).
    pub models: ModelAccess,
    /// The tools the key may use (its own patterns and its team's; bits are tool ids).
    pub tools: ModelAccess,
    /// The agents the key may use (its own patterns and its team's; bits are agent ids).
    pub agents: ModelAccess,
    /// `name=value` pairs joined by `,`, sorted by name (empty: none).
    pub metadata: String,
}

/// A team of keys.
#[derive(Clone, Debug)]
pub struct Team {
    /// Name from security.yaml.
    pub name: String,
    /// The models the team's keys may use at most.
    pub models: ModelAccess,
    /// The tools the team's keys, file keys and tokens may use at most.
    pub tools: ModelAccess,
    /// The agents the team's keys, file keys and tokens may use at most.
    pub agents: ModelAccess,
}

/// Which models a principal may use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelAccess {
    /// Every model.
    All,
    /// Bit `i % 64` of word `i / 64` is `ModelId(i)`; `ceil(models / 64)` words.
    Only(Vec<u64>),
}

/// Quotas: rate limits and budgets with the store each uses.
#[derive(Clone, Debug, Default)]
pub struct Quotas {
    /// Gateway processes serving this config.
    pub replicas: u16,
    /// The shared store, if configured.
    pub redis: Option<RedisStore>,
    /// Sorted by name.
    pub limits: Vec<Limit>,
    /// Sorted by name.
    pub budgets: Vec<Budget>,
}

/// The shared Redis store.
#[derive(Clone, Debug)]
pub struct RedisStore {
    /// Variable holding the URL.
    pub url_env: String,
    /// ms bound on one call.
    pub timeout_ms: u64,
}

/// What a limit or budget counts separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Per {
    /// Each caller.
    Key,
    /// Each team.
    Team,
    /// Each model.
    Model,
    /// All together.
    Global,
}

/// Where a count lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// In process.
    Local,
    /// In Redis; `fail_open` admits while it is unreachable.
    Redis {
        /// Admit uncounted when Redis cannot be reached.
        fail_open: bool,
    },
}

/// Which requests count: models, and callers by team and by compiled key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applies {
    /// Models counted.
    pub models: ModelAccess,
    /// Bit set over team indexes (`auth.teams` order); `None`: any caller.
    pub teams: Option<Vec<u64>>,
    /// Bit set over compiled key indexes (`auth.api_keys` order); `None`: any caller.
    pub keys: Option<Vec<u64>>,
}

/// A token bucket: `capacity` units, one unit back every `emission_ns`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Burst.
    pub capacity: u64,
    /// ns per unit refilled.
    pub emission_ns: u64,
}

/// A rate limit.
#[derive(Clone, Debug)]
pub struct Limit {
    /// Name from security.yaml.
    pub name: String,
    /// What is counted separately.
    pub per: Per,
    /// Which requests count.
    pub applies: Applies,
    /// Requests bucket.
    pub requests: Option<Rate>,
    /// Tokens bucket.
    pub tokens: Option<Rate>,
    /// Where it is counted.
    pub store: Store,
    /// Headers on admitted answers too.
    pub success_headers: bool,
}

/// A budget period (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// Calendar day.
    Day,
    /// Calendar month.
    Month,
}

/// A USD budget.
#[derive(Clone, Debug)]
pub struct Budget {
    /// Name from security.yaml.
    pub name: String,
    /// What is counted separately.
    pub per: Per,
    /// Which requests count.
    pub applies: Applies,
    /// Micro-dollars per period.
    pub limit_micros: u64,
    /// Period.
    pub period: Period,
    /// Where it is counted.
    pub store: Store,
}

/// A model's price in nano-dollars per token (= dollars per million tokens x 1000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Price {
    /// Prompt tokens.
    pub input_nanos: u64,
    /// Cached prompt tokens.
    pub cached_input_nanos: u64,
    /// Completion tokens.
    pub output_nanos: u64,
}

/// One tool of the registry.
#[derive(Clone, Debug)]
pub struct Tool {
    /// Name from tools.yaml.
    pub name: String,
    /// Shown in `GET /v1/tools`.
    pub description: String,
    /// What runs it.
    pub run: ToolRun,
    /// The argument schema, compiled.
    pub parameters: ToolSchema,
    /// The same schema as compact JSON text.
    pub parameters_json: String,
}

/// What runs a tool (`table::ToolKind`).
#[derive(Clone, Debug)]
pub enum ToolRun {
    /// The `table::Builtin` variant.
    Builtin(String),
    /// An HTTP call.
    Http(HttpTool),
    /// A `tools/call` to an MCP server.
    Mcp(McpTool),
}

/// A pinned MCP tool (`table::McpTool`).
#[derive(Clone, Debug)]
pub struct McpTool {
    /// Index into `Ir::mcp_servers`.
    pub server: u16,
    pub remote_name: String,
    pub sha256: String,
}

/// An MCP server (`table::McpServer`).
#[derive(Clone, Debug)]
pub struct McpServer {
    pub name: String,
    /// `Some(url, origin)` for streamable HTTP.
    pub http: Option<(String, String)>,
    pub url_env: Option<String>,
    /// Lower-cased.
    pub allow_hosts: Vec<String>,
    pub allow_private: bool,
    /// (lower-cased header name, secret), sorted by name.
    pub headers: Vec<(String, SecretRef)>,
    /// For stdio: argv.
    pub command: Vec<String>,
    /// For stdio: the gateway variables the child may see.
    pub env: Vec<String>,
    pub timeout_ms: u64,
    pub max_response_bytes: u64,
    /// `fail` (else `disable`).
    pub fail_on_drift: bool,
}

/// A `kind: http` tool (`table::HttpTool`).
#[derive(Clone, Debug)]
pub struct HttpTool {
    /// The `table::HttpMethod` variant.
    pub method: String,
    /// Whether arguments left after the path go to the query string (else a JSON body).
    pub query_arguments: bool,
    /// `scheme://authority`.
    pub origin: String,
    /// Path pieces: `(literal, false)` or `(argument name, true)`.
    pub path: Vec<(String, bool)>,
    /// Fixed query (without `?`).
    pub query: String,
    pub url_env: Option<String>,
    /// Lower-cased.
    pub allow_hosts: Vec<String>,
    pub allow_private: bool,
    /// (lower-cased header name, secret), sorted by name.
    pub headers: Vec<(String, SecretRef)>,
    pub timeout_ms: u64,
    pub max_response_bytes: u64,
}

/// A node of a tool's argument schema (`table::Schema`).
#[derive(Clone, Debug, PartialEq)]
pub enum ToolSchema {
    /// Properties sorted by name.
    Object {
        /// (name, schema), sorted by name.
        properties: Vec<(String, ToolSchema)>,
        /// Required property names.
        required: Vec<String>,
        /// Whether unknown properties are allowed.
        additional: bool,
    },
    /// A JSON string.
    Text {
        /// Longest allowed, in characters.
        max_length: Option<u32>,
        /// Allowed values (empty: any).
        allowed: Vec<String>,
    },
    /// A number, or an integer.
    Number {
        /// Integers only.
        integer: bool,
        /// Inclusive lower bound.
        minimum: Option<f64>,
        /// Inclusive upper bound.
        maximum: Option<f64>,
    },
    /// A boolean.
    Boolean,
    /// An array.
    Array {
        /// Every item's schema, if constrained.
        items: Option<Box<ToolSchema>>,
    },
}

/// A declarative agent with its defaults applied and references resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    /// Name from agents.yaml (served as `agent/<name>`).
    pub name: String,
    /// What it is for (empty when not written).
    pub description: String,
    /// The model it calls.
    pub model: ModelId,
    /// The system prompt, if any.
    pub system: Option<String>,
    /// Ids of its tools, in the order written.
    pub tools: Vec<u16>,
    /// Model calls per run.
    pub max_steps: u32,
    /// Wall time of a run in ms.
    pub max_time_ms: u64,
    /// Tokens per run.
    pub max_tokens: u64,
    /// Temperature sent with every model call, if set.
    pub temperature: Option<f64>,
    /// `kind: sdk`: the module and type under the root crate's `agents` module.
    pub sdk: Option<(String, String)>,
}
