//! The agent tool loop: the agent's system prompt and the client's messages
//! go to the agent's model with the agent's tools; each tool call the model
//! asks for runs and its result goes back as a `tool` message; repeated
//! until the model answers, within the agent's bounds (`max_steps` model
//! calls, `max_time` wall time on tokio's clock, `max_tokens` reported
//! tokens). One `agent.step` line per model call and per tool call, one
//! `agent.run` line at the end.
//!
//! It names `table` (the agent and tool records), `error` (bounds end a run
//! with a `GatewayError`) and `observe` (the run and step counters), and
//! nothing above: how a model call and a tool call are made (the gateway's
//! own chat path, `api::tools::call_as`) comes in through [`Steps`], which
//! `api/agents.rs` implements, so the loop is unit-tested with a script.

mod request;
mod sdk;
#[cfg(test)]
mod tests;

use core::future::Future;

use serde_json::{Value, json};
use tokio::time::{Instant, timeout_at};

use crate::error::{AgentBound, GatewayError};
use crate::observe::metrics::{AgentOutcome, Metrics, StepKind};
use crate::table::{Agent as Compiled, Tool};

/// What an SDK agent (a type in the root crate's `src/agents/`) implements.
pub use crate::table::{Action, Program as Agent};
pub use request::{Prepared, prepare};
/// The JSON types of a transcript, for SDK agents.
pub use serde_json;

/// How the loop reaches the world: one model call, one tool call, a progress note.
pub trait Steps {
    /// One chat completions call (`stream: false`) with this body: the answer JSON, or why there is none.
    fn model(&mut self, body: Vec<u8>) -> impl Future<Output = Result<Value, GatewayError>> + Send;
    /// One call of a tool of the agent: its result, or the failure as text for the model.
    fn tool(
        &mut self,
        tool: &'static Tool,
        arguments: &Value,
    ) -> impl Future<Output = Result<Value, String>> + Send;
    /// Step `step` is about to run (`tool` names the tool of a tool step); streams say so to the client.
    fn note(&mut self, step: u32, tool: Option<&str>);
}

/// What a finished run answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The model's final content.
    pub content: String,
    /// Model calls made.
    pub steps: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Answer {
    /// `usage` in the chat completions shape, summed over the run.
    pub fn usage(&self) -> Value {
        json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        })
    }
}

/// Runs `agent` on a prepared request to the end, a bound, or a failure.
pub async fn run<S: Steps + Send>(
    (agent, tools): (&'static Compiled, &'static [Tool]),
    mut prepared: Prepared,
    steps: &mut S,
    metrics: &Metrics,
    request_id: &str,
) -> Result<Answer, GatewayError> {
    let started = Instant::now();
    let deadline = started + agent.bounds.max_time;
    let mut answer = Answer {
        content: String::new(),
        steps: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
    };
    let outcome = timeout_at(deadline, async {
        let tally = (metrics, request_id);
        match agent.sdk {
            Some(sdk) => {
                let agent = (agent, sdk, tools);
                sdk::turns(agent, &mut prepared, steps, tally, &mut answer).await
            }
            None => turns(agent, tools, &mut prepared, steps, tally, &mut answer).await,
        }
    })
    .await
    .unwrap_or(Err(limit(agent, AgentBound::Time)));
    let label = match &outcome {
        Ok(()) => "ok",
        Err(error) => error.code().unwrap_or("error"),
    };
    let counted = match &outcome {
        Ok(()) => AgentOutcome::Ok,
        Err(GatewayError::AgentLimit { bound, .. }) => match bound {
            AgentBound::Steps => AgentOutcome::StepLimit,
            AgentBound::Tokens => AgentOutcome::TokenLimit,
            AgentBound::Time => AgentOutcome::TimeLimit,
        },
        Err(_) => AgentOutcome::ModelError,
    };
    metrics.record_agent_run(agent.id, counted);
    tracing::info!(
        event = "agent.run",
        request_id,
        agent = agent.name,
        outcome = label,
        steps = answer.steps,
        tokens = answer.prompt_tokens + answer.completion_tokens,
        duration_ms = started.elapsed().as_secs_f64() * 1e3,
    );
    outcome.map(|()| answer)
}

/// The error of a bound.
fn limit(agent: &'static Compiled, bound: AgentBound) -> GatewayError {
    let b = agent.bounds;
    let limit = match bound {
        AgentBound::Steps => u64::from(b.max_steps),
        AgentBound::Tokens => b.max_tokens,
        AgentBound::Time => u64::try_from(b.max_time.as_millis()).unwrap_or(u64::MAX),
    };
    GatewayError::AgentLimit {
        agent: agent.name,
        bound,
        limit,
    }
}

/// Model calls until an answer without tool calls; `answer` keeps the tally
/// even when a bound ends the run (for the `agent.run` line).
async fn turns<S: Steps + Send>(
    agent: &'static Compiled,
    tools: &'static [Tool],
    prepared: &mut Prepared,
    steps: &mut S,
    (metrics, request_id): (&Metrics, &str),
    answer: &mut Answer,
) -> Result<(), GatewayError> {
    loop {
        let step = answer.steps + 1;
        steps.note(step, None);
        metrics.record_agent_step(agent.id, StepKind::Model);
        let started = Instant::now();
        let result = steps.model(prepared.body()).await;
        answer.steps = step;
        let message = match result {
            Ok(json) => json,
            Err(error) => {
                log_step(request_id, agent, step, None, "error", 0, started);
                return Err(match error {
                    GatewayError::AgentModelFailed { agent, detail, .. } => {
                        GatewayError::AgentModelFailed {
                            agent,
                            step,
                            detail,
                        }
                    }
                    error => error,
                });
            }
        };
        count_model_step(agent, &message, answer, (request_id, step, started))?;
        let Some(reply) = message.pointer("/choices/0/message").cloned() else {
            return Err(GatewayError::AgentModelFailed {
                agent: agent.name,
                step,
                detail: "the answer has no `choices[0].message`".to_owned(),
            });
        };
        let calls = reply
            .get("tool_calls")
            .and_then(Value::as_array)
            .filter(|calls| !calls.is_empty())
            .cloned();
        let Some(calls) = calls else {
            answer.content = reply
                .get("content")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            return Ok(());
        };
        if step >= agent.bounds.max_steps {
            return Err(limit(agent, AgentBound::Steps));
        }
        prepared.push(reply);
        for call in &calls {
            metrics.record_agent_step(agent.id, StepKind::Tool);
            let message = tool_message(agent, tools, call, steps, (request_id, step)).await;
            prepared.push(message);
        }
    }
}

/// Runs one tool call the model asked for and answers it as a `tool`
/// message; any failure becomes `error: ...` content so the model can recover.
async fn tool_message<S: Steps + Send>(
    agent: &'static Compiled,
    tools: &'static [Tool],
    call: &Value,
    steps: &mut S,
    (request_id, step): (&str, u32),
) -> Value {
    let id = call.get("id").and_then(Value::as_str).unwrap_or_default();
    let name = call
        .pointer("/function/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let started = Instant::now();
    let tool = agent
        .tools
        .iter()
        .filter_map(|id| tools.get(usize::from(id.0)))
        .find(|tool| tool.name == name);
    steps.note(step, Some(name));
    let result = match tool {
        None => Err(format!(
            "the agent has no tool `{}`",
            crate::error::capped(name)
        )),
        Some(tool) => {
            let text = call
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .unwrap_or("{}");
            match serde_json::from_str::<Value>(if text.is_empty() { "{}" } else { text }) {
                Ok(arguments) => steps.tool(tool, &arguments).await,
                Err(e) => Err(format!("the arguments are not JSON: {e}")),
            }
        }
    };
    let shown = tool.map_or("unknown", |t| t.name);
    let outcome = if result.is_ok() { "ok" } else { "error" };
    log_step(request_id, agent, step, Some(shown), outcome, 0, started);
    let content = match result {
        Ok(Value::String(text)) => text,
        Ok(value) => value.to_string(),
        Err(error) => format!("error: {error}"),
    };
    json!({ "role": "tool", "tool_call_id": id, "content": content })
}

/// `usage` of a chat completion: (prompt, completion) tokens, zero when absent.
/// A model step that answered: its reported tokens join the run's tally, its
/// `agent.step` line is written, and the run ends once past `max_tokens`.
fn count_model_step(
    agent: &'static Compiled,
    reply: &Value,
    answer: &mut Answer,
    (request_id, step, started): (&str, u32, Instant),
) -> Result<(), GatewayError> {
    let (prompt, completion) = usage(reply);
    answer.prompt_tokens += prompt;
    answer.completion_tokens += completion;
    let tokens = prompt + completion;
    log_step(request_id, agent, step, None, "ok", tokens, started);
    if answer.prompt_tokens + answer.completion_tokens > agent.bounds.max_tokens {
        return Err(limit(agent, AgentBound::Tokens));
    }
    Ok(())
}

fn usage(answer: &Value) -> (u64, u64) {
    let read = |key: &str| {
        answer
            .pointer(&format!("/usage/{key}"))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    (read("prompt_tokens"), read("completion_tokens"))
}

/// The one `agent.step` line of a step.
fn log_step(
    request_id: &str,
    agent: &Compiled,
    step: u32,
    tool: Option<&str>,
    outcome: &str,
    tokens: u64,
    started: Instant,
) {
    tracing::info!(
        event = "agent.step",
        request_id,
        agent = agent.name,
        step,
        kind = if tool.is_some() { "tool" } else { "model" },
        tool = tool.unwrap_or(""),
        outcome,
        tokens,
        duration_ms = started.elapsed().as_secs_f64() * 1e3,
    );
}
