//! The compiled agents (agents.yaml): each agent's model, system prompt,
//! tools and the bounds of one run, with defaults applied at build time.
//!
//! Data only: the tool loop is `agents/`, the endpoints `api/agents.rs`.

use core::time::Duration;

use super::{ModelId, ToolId};

/// Dense index into [`super::Config::agents`]; agents are sorted by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentId(pub u16);

/// One declarative agent, served as the model `agent/<name>`.
#[derive(Debug)]
pub struct Agent {
    pub id: AgentId,
    /// The name in agents.yaml: `[A-Za-z0-9_-]{1,64}`.
    pub name: &'static str,
    /// `agent/<name>`, the model id clients send and see.
    pub model_id: &'static str,
    /// What the agent is for (may be empty).
    pub description: &'static str,
    /// The model every step calls.
    pub model: ModelId,
    /// Put before the client's messages as a system message.
    pub system: Option<&'static str>,
    /// The tools the model is offered, in the order written.
    pub tools: &'static [ToolId],
    /// Bounds of one run.
    pub bounds: AgentBounds,
    /// Sent with every model call when set (else the client's value passes).
    pub temperature: Option<f64>,
    /// `kind: sdk`: the Rust type that picks each action (`None`: declarative).
    pub sdk: Option<SdkAgent>,
}

/// An SDK agent's type, as the generated table names it
/// (`SdkAgent(&crate::agents::<module>::<Type>)`).
#[derive(Clone, Copy)]
pub struct SdkAgent(pub &'static dyn Program);

impl core::fmt::Debug for SdkAgent {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SdkAgent")
    }
}

/// What an SDK agent implements (re-exported as `gateway_runtime::agents::Agent`):
/// given the run's transcript so far (OpenAI chat messages: the client's,
/// then `assistant` answers of the model and `tool` results, each tool
/// result with the tool's `name`), the next action. The gateway runs each
/// action within the agent's bounds (every action is a step), so an SDK
/// agent cannot escape them; a tool it names must be one of the agent's
/// `tools`.
pub trait Program: Sync {
    fn next(&self, transcript: &[serde_json::Value]) -> Action;
}

/// The next step of an SDK agent's run.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Call one of the agent's tools with these arguments.
    CallTool {
        tool: String,
        arguments: serde_json::Value,
    },
    /// Send the transcript to the agent's model; its answer is appended as an `assistant` message.
    AskModel,
    /// End the run with this answer.
    Answer(String),
}

/// The bounds of one agent run; hitting one ends the run with an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentBounds {
    /// Model calls per run.
    pub max_steps: u32,
    /// Wall time of a run.
    pub max_time: Duration,
    /// Tokens (prompt + completion, as reported) summed over the run's model calls.
    pub max_tokens: u64,
}
