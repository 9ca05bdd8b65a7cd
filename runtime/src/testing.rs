//! Hand-built tables for the runtime's unit tests (test builds only).
//!
//! Mirrors what codegen emits, so logic is tested without YAML or codegen.

use core::time::Duration;

use crate::table::*;

pub static UPSTREAMS: [Upstream; 2] = [
    Upstream {
        id: UpstreamId(0),
        name: "one",
        kind: UpstreamKind::OpenAi {
            base_url: "http://127.0.0.1:9/v1",
            base_url_env: None,
        },
        api_key: Some(SecretRef::Env("GATEWAY_UNIT_TEST_KEY")),
        optional: true,
        timeouts: Timeouts {
            connect: Duration::from_secs(1),
            first_byte: Duration::from_secs(1),
            total: Duration::from_secs(2),
            stream_idle: Duration::from_secs(3),
        },
        breaker: BREAKER,
        health_check: None,
    },
    Upstream {
        id: UpstreamId(1),
        name: "two",
        kind: UpstreamKind::Mock(MockBehavior {
            latency: Duration::from_millis(5),
            chunks: 3,
            chunk_gap: Duration::from_millis(10),
            usage: true,
            reply: "alpha beta gamma delta",
        }),
        api_key: None,
        optional: false,
        timeouts: Timeouts {
            connect: Duration::from_secs(1),
            first_byte: Duration::from_secs(1),
            total: Duration::from_secs(2),
            stream_idle: Duration::from_secs(3),
        },
        breaker: BREAKER,
        health_check: None,
    },
];

/// The default breaker settings.
pub const BREAKER: Breaker = Breaker {
    enabled: true,
    consecutive_failures: 5,
    error_ratio_permille: 500,
    window: Duration::from_secs(60),
    min_requests: 20,
    open_for: Duration::from_secs(30),
    half_open_probes: 1,
};

/// The default retry settings: two tries on connect errors, timeouts, 429 and 5xx.
pub const RETRY: Retry = Retry {
    attempts: 2,
    on_connect_error: true,
    on_timeout: true,
    statuses: &[429, 500, 502, 503, 504],
    backoff_base: Duration::from_millis(250),
    backoff_max: Duration::from_secs(5),
    retry_after_max: Duration::from_secs(30),
};

pub static MODELS: [Model; 2] = [
    Model {
        id: ModelId(0),
        name: "alpha",
        deployments: &[Deployment {
            id: DeploymentId(0),
            upstream: UpstreamId(0),
            upstream_model: "alpha-upstream",
            weight: 1,
            priority: 0,
            chat: Serving::Passthrough,
            messages: Serving::Translated,
        }],
        default_max_tokens: 4096,
        endpoints: Endpoints {
            chat: true,
            messages: true,
        },
        balance: Balance::P2c,
        retry: RETRY,
        fallbacks: &[ModelId(1)],
        context_window_fallbacks: &[],
        deadline: Duration::from_secs(10),
        price: None,
        max_messages: None,
        max_tokens: None,
    },
    Model {
        id: ModelId(1),
        name: "beta",
        deployments: &[Deployment {
            id: DeploymentId(1),
            upstream: UpstreamId(1),
            upstream_model: "beta",
            weight: 1,
            priority: 0,
            chat: Serving::Passthrough,
            messages: Serving::Translated,
        }],
        default_max_tokens: 4096,
        endpoints: Endpoints {
            chat: true,
            messages: true,
        },
        balance: Balance::P2c,
        retry: RETRY,
        fallbacks: &[],
        context_window_fallbacks: &[],
        deadline: Duration::from_secs(10),
        price: None,
        max_messages: None,
        max_tokens: None,
    },
];

pub static API_KEYS: [ApiKey; 1] = [ApiKey {
    name: "unit",
    team: None,
    team_index: None,
    models: ModelAccess::All,
    tools: ModelAccess::All,
    agents: ModelAccess::All,
    metadata: "",
    // sha256("unit-key")
    sha256: [
        0x9d, 0xa9, 0x84, 0xf6, 0xf7, 0xad, 0x42, 0xbf, 0x6f, 0xce, 0x1d, 0xfd, 0x37, 0xd8, 0x39,
        0x1a, 0xac, 0x37, 0x80, 0xb1, 0x84, 0x9b, 0x88, 0x37, 0x18, 0xb7, 0x5d, 0x08, 0xe2, 0x2e,
        0xdf, 0x1e,
    ],
}];

pub fn resolve_model(name: &str) -> Option<ModelId> {
    match name {
        "alpha" => Some(ModelId(0)),
        "beta" => Some(ModelId(1)),
        _ => None,
    }
}

/// The unit config's listener settings.
pub const SERVER: Server = Server {
    listen: "127.0.0.1:0",
    max_request_body: 1024,
    header_read_timeout: Duration::from_secs(5),
    body_read_timeout: Duration::from_secs(5),
    shutdown_delay: Duration::ZERO,
    drain_timeout: Duration::from_secs(5),
    max_connections: 100,
    first_byte_timeout: Duration::from_secs(1),
    idle_timeout: Duration::from_secs(10),
    h2_keepalive_interval: Duration::from_secs(20),
    h2_keepalive_timeout: Duration::from_secs(10),
    max_header_bytes: 65536,
    maintenance_file: None,
};

/// The unit config's keys.
pub const AUTH: Auth = Auth {
    api_keys: &API_KEYS,
    admin_key_sha256: None,
    teams: &[],
    key_files: &[],
    jwt: None,
};

pub static CONFIG: Config = Config {
    environment: "unit",
    config_sha256: "0000000000000000000000000000000000000000000000000000000000000000",
    sources: &["config/unit/upstreams.yaml"],
    upstreams: &UPSTREAMS,
    models: &MODELS,
    deployment_count: 2,
    resolve_model,
    server: SERVER,
    auth: AUTH,
    quotas: Quotas::NONE,
    tools: &[],
    mcp_servers: &[],
    agents: &[],
};
