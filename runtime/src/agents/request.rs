//! The chat request an agent run sends at each step: the client's request
//! with the agent's model, system prompt, tools and temperature, `stream`
//! off, and the transcript so far as `messages`.
//!
//! The client may not bring its own `tools` or `tool_choice` (the agent's
//! tools are compiled): refused with a 400 naming the parameter.

use serde_json::{Map, Value, json};

use crate::error::GatewayError;
use crate::table::{Agent, Tool};

/// The request of a run: fixed fields, and the messages that grow by step.
#[derive(Debug, Clone)]
pub struct Prepared {
    base: Map<String, Value>,
    messages: Vec<Value>,
}

impl Prepared {
    /// Appends a message to the transcript.
    pub fn push(&mut self, message: Value) {
        self.messages.push(message);
    }

    /// The transcript so far.
    pub fn messages(&self) -> &[Value] {
        &self.messages
    }

    /// The body of the next model call.
    pub fn body(&self) -> Vec<u8> {
        let mut body = self.base.clone();
        body.insert("messages".to_owned(), Value::Array(self.messages.clone()));
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// The client's chat request (JSON) made into the agent's; `model` is the
/// public name of the agent's model.
pub fn prepare(
    agent: &'static Agent,
    tools: &'static [Tool],
    model: &str,
    mut request: Map<String, Value>,
) -> Result<Prepared, GatewayError> {
    for param in ["tools", "tool_choice", "functions", "function_call"] {
        if request.get(param).is_some_and(|v| !v.is_null()) {
            return Err(GatewayError::UnsupportedField {
                param: static_name(param),
                message: format!(
                    "An agent's tools are set in agents.yaml; remove `{param}` from requests to `{}`.",
                    agent.model_id
                ),
            });
        }
    }
    let Some(Value::Array(client)) = request.remove("messages") else {
        return Err(GatewayError::MissingField("messages"));
    };
    let mut messages = Vec::with_capacity(client.len() + 1);
    if let Some(system) = agent.system {
        messages.push(json!({ "role": "system", "content": system }));
    }
    messages.extend(client);
    for key in ["stream", "stream_options", "parallel_tool_calls", "n"] {
        request.remove(key);
    }
    request.insert("model".to_owned(), Value::String(model.to_owned()));
    if let Some(t) = agent.temperature {
        request.insert("temperature".to_owned(), json!(t));
    }
    let functions: Vec<Value> = agent
        .tools
        .iter()
        .filter_map(|id| tools.get(usize::from(id.0)))
        .map(function)
        .collect();
    // An SDK agent calls the tools itself: the model is not offered them.
    if !functions.is_empty() && agent.sdk.is_none() {
        request.insert("tools".to_owned(), Value::Array(functions));
    }
    Ok(Prepared {
        base: request,
        messages,
    })
}

/// One tool in OpenAI's function-tool shape.
fn function(tool: &Tool) -> Value {
    let parameters: Value =
        serde_json::from_str(tool.parameters_json).unwrap_or_else(|_| json!({"type": "object"}));
    json!({
        "type": "function",
        "function": { "name": tool.name, "description": tool.description, "parameters": parameters },
    })
}

/// The `'static` name of a refused parameter.
fn static_name(param: &str) -> &'static str {
    match param {
        "tools" => "tools",
        "tool_choice" => "tool_choice",
        "functions" => "functions",
        _ => "function_call",
    }
}
