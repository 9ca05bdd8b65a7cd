//! Agents of agents.yaml: declarative agents (a model, a system prompt, the
//! tools it may call and the bounds of one run), served as the model
//! `agent/<name>`; `defaults` gives every agent the bounds it does not set.
//!
//! Nothing here is checked: see `check/agents.rs`.

use schemars::JsonSchema;
use serde::Deserialize;

use super::values::DurationSpec;

/// `max_steps` when neither the agent nor `defaults` sets one.
pub const DEFAULT_MAX_STEPS: u32 = 8;
/// `max_time` when neither the agent nor `defaults` sets one.
pub const DEFAULT_MAX_TIME: &str = "60s";
/// `max_tokens` when neither the agent nor `defaults` sets one.
pub const DEFAULT_MAX_TOKENS: u64 = 20_000;
/// The largest `max_steps`.
pub const MAX_STEPS_CEILING: u32 = 100;
/// The largest `max_time`, in milliseconds (1h).
pub const MAX_TIME_CEILING_MS: u64 = 3_600_000;
/// The largest `max_tokens`.
pub const MAX_TOKENS_CEILING: u64 = 10_000_000;

/// Bounds every agent gets unless it sets its own.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentDefaultsSpec {
    /// Model calls per run, 1..=100 (default 8).
    pub max_steps: Option<u32>,
    /// Wall time of one run, at most `1h` (default `60s`).
    pub max_time: Option<DurationSpec>,
    /// Tokens (prompt + completion, as the model reports them) summed over a run's model calls, 1..=10000000 (default 20000).
    pub max_tokens: Option<u64>,
}

/// The kinds of agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentKindSpec {
    /// The gateway's tool loop: `system`, `tools`, `temperature`.
    #[default]
    Declarative,
    /// A Rust type in the root crate's `src/agents/` that picks each action (`path`).
    Sdk,
}

/// One agent.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// `declarative` (the gateway's tool loop) or `sdk` (a Rust type named by `path`) (default `declarative`).
    #[serde(default)]
    pub kind: AgentKindSpec,
    /// With `kind: sdk`: `module::Type`, a `pub struct Type;` in `src/agents/<module>.rs` of the root crate with `impl Agent for Type` (`gateway_runtime::agents::Agent`).
    pub path: Option<String>,
    /// What the agent is for, shown in `GET /v1/agents` (default empty).
    pub description: Option<String>,
    /// Public model name (from upstreams.yaml `models`) the agent calls (an SDK agent when it asks the model); it must serve `chat_completions`, and call tools if a declarative agent has any. Callers need access to it to use the agent.
    pub model: String,
    /// Declarative only: the system prompt put before the client's messages (default none).
    pub system: Option<String>,
    /// Names of tools (tools.yaml) the model (or the SDK agent) may call (default `[]`: none).
    #[serde(default)]
    pub tools: Vec<String>,
    /// Model calls per run, 1..=100 (default `defaults.max_steps`, else 8).
    pub max_steps: Option<u32>,
    /// Wall time of one run, at most `1h` (default `defaults.max_time`, else `60s`).
    pub max_time: Option<DurationSpec>,
    /// Tokens summed over a run's model calls, 1..=10000000 (default `defaults.max_tokens`, else 20000).
    pub max_tokens: Option<u64>,
    /// Declarative only: sampling temperature sent with every model call, 0..=2 (default: the client's, else the model's own).
    pub temperature: Option<f64>,
}

/// The Rust files SDK agent paths resolve against.
#[derive(Clone, Debug, Default)]
pub struct SdkSources {
    /// Workspace-relative directory, e.g. `src/agents`.
    pub display_dir: String,
    /// Module name (file stem) -> file text, sorted by name.
    pub modules: std::collections::BTreeMap<String, String>,
}
