//! The run of an SDK agent: its type picks each action from the transcript
//! (`table::Program`); the gateway runs it as a step within the same bounds
//! as a declarative agent's (every tool call and model call is a step), with
//! the same `agent.step` lines, counters and tool path.

use serde_json::{Value, json};
use tokio::time::Instant;

use super::request::Prepared;
use super::{Answer, Steps, count_model_step, limit, log_step, tool_message};
use crate::error::{AgentBound, GatewayError};
use crate::observe::metrics::{Metrics, StepKind};
use crate::table::{Action, Agent, SdkAgent, Tool};

/// Actions until the type answers; `answer` keeps the tally.
pub(super) async fn turns<S: Steps + Send>(
    (agent, sdk, tools): (&'static Agent, SdkAgent, &'static [Tool]),
    prepared: &mut Prepared,
    steps: &mut S,
    (metrics, request_id): (&Metrics, &str),
    answer: &mut Answer,
) -> Result<(), GatewayError> {
    loop {
        let action = sdk.0.next(prepared.messages());
        let (tool, arguments) = match action {
            Action::Answer(text) => {
                answer.content = text;
                return Ok(());
            }
            Action::CallTool { tool, arguments } => (Some(tool), arguments),
            Action::AskModel => (None, Value::Null),
        };
        let step = answer.steps + 1;
        if step > agent.bounds.max_steps {
            return Err(limit(agent, AgentBound::Steps));
        }
        answer.steps = step;
        let Some(tool) = tool else {
            steps.note(step, None);
            metrics.record_agent_step(agent.id, StepKind::Model);
            let reply = ask_model(agent, prepared, steps, (request_id, step), answer).await?;
            prepared.push(json!({ "role": "assistant", "content": reply }));
            continue;
        };
        metrics.record_agent_step(agent.id, StepKind::Tool);
        let call = json!({
            "id": format!("sdk-{step}"),
            "function": { "name": tool, "arguments": arguments.to_string() },
        });
        let mut message = tool_message(agent, tools, &call, steps, (request_id, step)).await;
        message["name"] = Value::String(tool);
        prepared.push(message);
    }
}

/// One model call with the transcript: the answer's content.
async fn ask_model<S: Steps + Send>(
    agent: &'static Agent,
    prepared: &Prepared,
    steps: &mut S,
    (request_id, step): (&str, u32),
    answer: &mut Answer,
) -> Result<String, GatewayError> {
    let started = Instant::now();
    let reply = match steps.model(prepared.body()).await {
        Ok(reply) => reply,
        Err(error) => {
            log_step(request_id, agent, step, None, "error", 0, started);
            return Err(error);
        }
    };
    count_model_step(agent, &reply, answer, (request_id, step, started))?;
    let content = reply
        .pointer("/choices/0/message/content")
        .and_then(Value::as_str);
    Ok(content.unwrap_or_default().to_owned())
}
