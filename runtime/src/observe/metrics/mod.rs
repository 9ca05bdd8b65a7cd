//! Prometheus metrics as dense atomic tables indexed by compiled ids.
//!
//! Every series is a slot in a flat array sized once at startup from the
//! compiled tables (models x statuses, upstreams x outcomes, ...), so the hot
//! path is one relaxed atomic add: no label hashing, no lock, no allocation.
//! Text exposition (format 0.0.4) is produced only on scrape, emitting counter
//! series that have been touched (`render.rs`), so memory and scrape size stay
//! flat with 10,000 models. Routing and resilience series live in
//! `routing.rs`, histogram rows in `histogram.rs`. Not here: the HTTP
//! handler for `/metrics` (see `api/ops.rs`).

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::table::{AgentId, Config, ModelId, ToolId, UpstreamId};

mod agents;
mod histogram;
mod mcp;
mod render;
mod routing;
#[cfg(test)]
mod tests;
mod tools;

pub use agents::{AgentOutcome, StepKind};
pub use mcp::{McpMethod, McpOutcome};
pub use routing::{
    DeploymentGauge, FallbackReason, Live, StreamFailure, TimeoutKind, UpstreamGauge,
};
pub use tools::ToolOutcome;

use histogram::Histograms;

/// Routes with their own request series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    ChatCompletions = 0,
    Models = 1,
    Health = 2,
    Metrics = 3,
    Other = 4,
    Messages = 5,
    CountTokens = 6,
    Tools = 7,
    Mcp = 8,
}

const ROUTE_LABELS: [&str; 9] = [
    "chat_completions",
    "models",
    "health",
    "metrics",
    "other",
    "messages",
    "count_tokens",
    "tools",
    "mcp",
];

/// Routes whose request series carry the public model, in family order.
const MODEL_ROUTES: [Route; 2] = [Route::ChatCompletions, Route::Messages];

/// HTTP statuses with their own slot; anything else lands in its class (`4xx`, `5xx`, ...).
/// 499 is nginx's "client closed request": the client left before the answer was sent.
const STATUS_CODES: [u16; 19] = [
    200, 201, 204, 400, 401, 403, 404, 405, 408, 413, 414, 422, 429, 431, 499, 500, 502, 503, 504,
];
const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
const STATUS_SLOTS: usize = STATUS_CODES.len() + STATUS_CLASSES.len();

/// Why an upstream exchange produced no HTTP status.
#[derive(Debug, Clone, Copy)]
pub enum UpstreamOutcome {
    Status(u16),
    Unreachable,
    Timeout,
}
const UPSTREAM_SLOTS: usize = STATUS_SLOTS + 2;

/// Why a request was denied, for `gateway_auth_failures_total{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No key presented.
    MissingKey = 0,
    /// A key that is not among the compiled digests.
    InvalidKey = 1,
    /// An admin endpoint without the admin key.
    AdminKeyRequired = 2,
    /// A state-changing admin endpoint with no admin key configured.
    AdminDisabled = 3,
    /// A valid key asking for a model it may not use.
    ModelNotAllowed = 4,
    /// A bearer token that is not a well-formed JWT with its required claims.
    MalformedToken = 5,
    /// A token whose `alg` is not accepted or does not fit its key.
    TokenAlgorithm = 6,
    /// A token signed by a key the identity provider does not publish.
    UnknownTokenKey = 7,
    /// A token whose signature does not verify.
    BadTokenSignature = 8,
    /// An expired token (or one not valid yet).
    ExpiredToken = 9,
    /// A token from another issuer.
    WrongIssuer = 10,
    /// A token for another audience.
    WrongAudience = 11,
    /// A token with none of the compiled scopes.
    InsufficientScope = 12,
    /// A token whose team is not a compiled team.
    TokenTeam = 13,
    /// No identity provider keys loaded to check a token with.
    JwksUnavailable = 14,
}

const AUTH_FAILURE_LABELS: [&str; AUTH_FAILURES] = [
    "missing_key",
    "invalid_key",
    "admin_key_required",
    "admin_disabled",
    "model_not_allowed",
    "malformed_token",
    "token_algorithm",
    "unknown_token_key",
    "bad_token_signature",
    "expired_token",
    "wrong_issuer",
    "wrong_audience",
    "insufficient_scope",
    "token_team",
    "jwks_unavailable",
];

/// Variants of [`AuthFailure`].
const AUTH_FAILURES: usize = 15;

/// What happened to a client connection, outside any request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionEvent {
    /// Accepted and handed to the HTTP library.
    Accepted = 0,
    /// Closed at once because `max_connections` were open.
    RefusedAtCapacity = 1,
    /// Closed because no request byte arrived within `first_byte_timeout`.
    FirstByteTimeout = 2,
    /// An HTTP/2 connection closed after `idle_timeout` without requests.
    IdleTimeout = 3,
    /// A malformed request head answered by the HTTP library (rewritten to JSON).
    MalformedHead = 4,
}

const CONNECTION_EVENT_LABELS: [&str; 5] = [
    "accepted",
    "refused_at_capacity",
    "first_byte_timeout",
    "idle_timeout",
    "malformed_head",
];

/// Latency buckets in seconds (upper bounds), `+Inf` implied.
const BUCKETS: [f64; 16] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    120.0,
];

pub struct Metrics {
    config: &'static Config,
    /// `[model slot][status]` for chat completions; slot 0 = no model resolved.
    /// `[family][model slot][status]` for the model-routed routes
    /// ([`MODEL_ROUTES`]); slot 0 = no model resolved.
    model_requests: Box<[AtomicU64]>,
    /// `[route][status]` for every other route.
    other_requests: Box<[AtomicU64]>,
    /// `[route]` time to the response head.
    latency: Histograms,
    /// `[upstream][outcome]`.
    upstream_requests: Box<[AtomicU64]>,
    /// `[model][prompt, completion]`.
    tokens: Box<[AtomicU64]>,
    /// `[AuthFailure]`.
    auth_failures: [AtomicU64; AUTH_FAILURES],
    /// `[ConnectionEvent]`.
    connection_events: [AtomicU64; 5],
    accept_errors: AtomicU64,
    connections_open: AtomicI64,
    dropped_fields: AtomicU64,
    in_flight: AtomicI64,
    streams_in_flight: AtomicI64,
    /// Per-deployment, per-model and per-upstream routing tables.
    routing: routing::Routing,
    /// `[tool][outcome]`.
    tools: tools::ToolCounters,
    /// `[agent][outcome]` runs and `[agent][kind]` steps.
    agents: agents::AgentCounters,
    /// `[method][outcome]` of `/mcp` messages.
    mcp: mcp::McpCounters,
}

fn zeroed(len: usize) -> Box<[AtomicU64]> {
    (0..len).map(|_| AtomicU64::new(0)).collect()
}

fn status_slot(status: u16) -> usize {
    match STATUS_CODES.binary_search(&status) {
        Ok(index) => index,
        Err(_) => STATUS_CODES.len() + usize::from(status / 100).clamp(1, 5) - 1,
    }
}

fn status_label(slot: usize) -> String {
    match STATUS_CODES.get(slot) {
        Some(code) => code.to_string(),
        None => STATUS_CLASSES
            .get(slot - STATUS_CODES.len())
            .copied()
            .unwrap_or("other")
            .to_string(),
    }
}

impl Metrics {
    pub fn new(config: &'static Config) -> Self {
        let models = config.models.len();
        Self {
            config,
            model_requests: zeroed(MODEL_ROUTES.len() * (models + 1) * STATUS_SLOTS),
            other_requests: zeroed(ROUTE_LABELS.len() * STATUS_SLOTS),
            latency: Histograms::new(ROUTE_LABELS.len()),
            upstream_requests: zeroed(config.upstreams.len() * UPSTREAM_SLOTS),
            tokens: zeroed(models * 2),
            auth_failures: Default::default(),
            connection_events: Default::default(),
            accept_errors: AtomicU64::new(0),
            connections_open: AtomicI64::new(0),
            dropped_fields: AtomicU64::new(0),
            in_flight: AtomicI64::new(0),
            streams_in_flight: AtomicI64::new(0),
            routing: routing::Routing::new(config),
            tools: tools::ToolCounters::new(config.tools.len()),
            agents: agents::AgentCounters::new(config.agents.len()),
            mcp: mcp::McpCounters::default(),
        }
    }

    /// One finished request (for streams: when the response head was sent).
    pub fn record_request(
        &self,
        route: Route,
        model: Option<ModelId>,
        status: u16,
        elapsed: Duration,
    ) {
        let slot = status_slot(status);
        let counter = match route {
            Route::ChatCompletions | Route::Messages => {
                let family = usize::from(route == Route::Messages);
                let model_slot = model.map_or(0, |id| usize::from(id.0) + 1);
                let models = self.config.models.len() + 1;
                self.model_requests
                    .get((family * models + model_slot) * STATUS_SLOTS + slot)
            }
            _ => self
                .other_requests
                .get(route as usize * STATUS_SLOTS + slot),
        };
        if let Some(counter) = counter {
            counter.fetch_add(1, Relaxed);
        }
        self.latency.record(route as usize, elapsed);
    }

    pub fn record_upstream(&self, upstream: UpstreamId, outcome: UpstreamOutcome) {
        let slot = match outcome {
            UpstreamOutcome::Status(status) => status_slot(status),
            UpstreamOutcome::Unreachable => STATUS_SLOTS,
            UpstreamOutcome::Timeout => STATUS_SLOTS + 1,
        };
        if let Some(counter) = self
            .upstream_requests
            .get(usize::from(upstream.0) * UPSTREAM_SLOTS + slot)
        {
            counter.fetch_add(1, Relaxed);
        }
    }

    pub fn record_tokens(&self, model: ModelId, prompt: u64, completion: u64) {
        let base = usize::from(model.0) * 2;
        if let (Some(p), Some(c)) = (self.tokens.get(base), self.tokens.get(base + 1)) {
            p.fetch_add(prompt, Relaxed);
            c.fetch_add(completion, Relaxed);
        }
    }

    /// One tool call (`gateway_tool_invocations_total{tool,outcome}`).
    pub fn record_tool(&self, tool: ToolId, outcome: ToolOutcome) {
        self.tools.record(tool, outcome);
    }

    /// One finished agent run (`gateway_agent_runs_total{agent,outcome}`).
    pub fn record_agent_run(&self, agent: AgentId, outcome: AgentOutcome) {
        self.agents.run(agent, outcome);
    }

    /// One agent step (`gateway_agent_steps_total{agent,kind}`).
    pub fn record_agent_step(&self, agent: AgentId, kind: StepKind) {
        self.agents.step(agent, kind);
    }

    /// One `/mcp` message (`gateway_mcp_requests_total{method,outcome}`).
    pub fn record_mcp(&self, method: McpMethod, outcome: McpOutcome) {
        self.mcp.record(method, outcome);
    }

    pub fn record_auth_failure(&self, reason: AuthFailure) {
        self.auth_failures[reason as usize].fetch_add(1, Relaxed);
    }

    pub fn record_connection(&self, event: ConnectionEvent) {
        self.connection_events[event as usize].fetch_add(1, Relaxed);
    }

    /// Request fields a translation dropped on purpose (each is also logged).
    pub fn record_dropped_fields(&self, count: usize) {
        self.dropped_fields.fetch_add(count as u64, Relaxed);
    }

    pub fn record_accept_error(&self) {
        self.accept_errors.fetch_add(1, Relaxed);
    }

    /// Counts an open client connection until the guard drops.
    pub fn connection_open(&self) -> InFlight<'_> {
        self.connections_open.fetch_add(1, Relaxed);
        InFlight(&self.connections_open)
    }

    /// Counts a request in flight until the guard drops.
    pub fn in_flight(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(&self.in_flight)
    }

    /// Counts a stream in flight until the guard drops.
    pub fn stream_in_flight(&self) -> InFlight<'_> {
        self.streams_in_flight.fetch_add(1, Relaxed);
        InFlight(&self.streams_in_flight)
    }
}

/// Decrements its gauge on drop.
pub struct InFlight<'a>(&'a AtomicI64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}
