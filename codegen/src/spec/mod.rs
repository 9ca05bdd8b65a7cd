//! Spec types: what the user wrote, mirroring the four YAML files 1:1, one
//! file per concern (`upstreams`, `resilience` (breaker, health check),
//! `models`, `routing` (deployments, balance, retry, endpoints), `server`,
//! `auth`, `agents`, `tools`) plus `values` (strings parsed once when read).
//!
//! These types derive `Deserialize` + `JsonSchema`; the checked-in
//! `schema/*.schema.json` files are generated from them (doc comments become
//! `description`s, which editors show on hover). Each concern's defaults are
//! constants beside its types, so the schema, the docs and `lower/` share
//! them. Nothing here is checked, resolved or defaulted: that is `check/` and
//! `lower/`.

pub mod agents;
pub mod auth;
pub mod models;
pub mod quotas;
pub mod resilience;
pub mod routing;
pub mod server;
pub mod tools;
pub mod upstreams;
pub mod values;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

pub use agents::AgentSpec;
pub use auth::{ApiKeySpec, AuthSpec, KeyFileSpec, TeamSpec};
pub use models::{ModelSpec, Written};
pub use resilience::{BreakerSpec, HealthCheckSpec};
pub use routing::{BalanceSpec, DeploymentSpec, EndpointSpec, RetrySpec};
pub use server::ServerSpec;
pub use tools::ToolSpec;
pub use upstreams::{MockSpec, SecretSpec, TimeoutSpec, UpstreamKindSpec, UpstreamSpec};
pub use values::{
    ApiVersionSpec, DigestSpec, DurationSpec, Parsed, RetryOnSpec, SizeSpec, UrlSpec,
};

/// upstreams.yaml: the upstream providers and the public models they serve.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamsFile {
    /// Upstream providers by name.
    pub upstreams: BTreeMap<String, UpstreamSpec>,
    /// Public model name (what clients send as `model`) -> where it is served.
    pub models: BTreeMap<String, ModelSpec>,
}

/// agents.yaml: agents, each served as the model `agent/<name>`.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentsFile {
    /// Bounds applied to every agent that does not set its own (default: 8 steps, `60s`, 20000 tokens).
    #[serde(default)]
    pub defaults: agents::AgentDefaultsSpec,
    /// Agents by name (`[A-Za-z0-9_-]{1,64}`), served as `agent/<name>`.
    #[serde(default)]
    pub agents: BTreeMap<String, AgentSpec>,
}

/// tools.yaml: tool definitions (placeholder until tools ship; checked, not emitted).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolsFile {
    /// Tools by name.
    #[serde(default)]
    pub tools: BTreeMap<String, ToolSpec>,
    /// Upstream MCP servers by name (`[a-z0-9_-]`), each with the tools the gateway imports from it, pinned by schema hash (default none).
    #[serde(default)]
    pub mcp_servers: BTreeMap<String, tools::McpServerSpec>,
}

/// security.yaml: listener limits, inbound authentication and quotas.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityFile {
    /// Listener and request limits.
    #[serde(default)]
    pub server: ServerSpec,
    /// Inbound authentication.
    #[serde(default)]
    pub auth: AuthSpec,
    /// How many gateway processes serve this config (decides whether a local limit is exact).
    #[serde(default)]
    pub deployment: quotas::DeploymentSpec,
    /// Where shared quota state lives (Redis).
    #[serde(default)]
    pub stores: quotas::StoresSpec,
    /// Rate limits by name: requests and tokens per key, team, model or in all.
    #[serde(default)]
    pub limits: quotas::Limits,
    /// Budgets by name: US dollars per key, team, model or in all, per day or month.
    #[serde(default)]
    pub budgets: quotas::Budgets,
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

/// The four files as far as they loaded: a file with YAML or schema errors is
/// `None`, and the others are still checked.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// upstreams.yaml
    pub upstreams: Option<UpstreamsFile>,
    /// agents.yaml
    pub agents: Option<AgentsFile>,
    /// tools.yaml
    pub tools: Option<ToolsFile>,
    /// security.yaml
    pub security: Option<SecurityFile>,
}

impl Loaded {
    /// The whole spec, when every file loaded.
    pub fn complete(self) -> Option<Spec> {
        Some(Spec {
            upstreams: self.upstreams?,
            agents: self.agents?,
            tools: self.tools?,
            security: self.security?,
        })
    }
}
