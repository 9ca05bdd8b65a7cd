//! Agents of agents.yaml (a placeholder until agents ship: checked, not emitted).

use schemars::JsonSchema;
use serde::Deserialize;

/// One agent.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    /// What the agent is for.
    pub description: Option<String>,
    /// Public model name (from upstreams.yaml `models`) the agent uses.
    pub model: String,
}
