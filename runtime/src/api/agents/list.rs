//! `GET /v1/agents` (the agents the caller may use: name, model id,
//! description, kind, model, tools, bounds, state) and `POST /agents/refresh`
//! (admin: every agent's readiness re-checked and answered). An agent's
//! definition changes only by rebuilding; readiness is what can change at
//! run time: its model must have an upstream that takes traffic, and each
//! of its tools must be present.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::super::ops::json_response;
use crate::auth::Caller;
use crate::body::ResponseBody;
use crate::gateway::Gateway;
use crate::table::Agent;
use crate::upstream::Target;

/// `GET /v1/agents`.
pub fn list(gateway: &Gateway, caller: &Caller) -> Response<ResponseBody> {
    let data: Vec<Value> = gateway
        .config
        .agents
        .iter()
        .filter(|agent| super::may_use(gateway, caller, agent))
        .map(|agent| describe(gateway, agent))
        .collect();
    let body = json!({ "object": "list", "data": data });
    json_response(StatusCode::OK, body.to_string())
}

/// `POST /agents/refresh`: every agent's state, and how many are ready.
pub fn refresh(gateway: &Gateway) -> Response<ResponseBody> {
    let agents: Vec<Value> = gateway
        .config
        .agents
        .iter()
        .map(|agent| {
            let state = readiness(gateway, agent);
            if let Err(detail) = &state {
                tracing::warn!(event = "agent.unavailable", agent = agent.name, detail = %detail);
            }
            json!({ "name": agent.name, "state": label(&state), "detail": state.err() })
        })
        .collect();
    let ready = agents.iter().filter(|a| a["state"] == "ready").count();
    let body = json!({
        "agents": agents,
        "ready": ready,
        "note": "agent definitions change only by rebuilding the gateway from agents.yaml; this re-checks each agent's model and tools",
    });
    json_response(StatusCode::OK, body.to_string())
}

/// Whether `agent` can run now; `Err` says what is missing.
pub fn readiness(gateway: &Gateway, agent: &Agent) -> Result<(), String> {
    let config = gateway.config;
    let Some(model) = config.model(agent.model) else {
        return Err("its model is not compiled".to_owned());
    };
    for id in agent.tools {
        let Some(tool) = config.tools.get(usize::from(id.0)) else {
            return Err(format!("its tool #{} is missing", id.0));
        };
        if !gateway.tools.is_enabled(*id) {
            return Err(format!(
                "its tool `{}` is disabled: its MCP server's schema drifted from the pin (fix the server or re-pin and rebuild, then POST /tools/refresh)",
                tool.name
            ));
        }
    }
    let routable = model.deployments.iter().any(|d| {
        gateway
            .targets
            .get(usize::from(d.upstream.0))
            .is_some_and(|t| !matches!(t, Target::Disabled(_)))
    });
    if !routable {
        return Err(format!(
            "its model `{}` has no upstream that takes traffic (all disabled at startup)",
            model.name
        ));
    }
    Ok(())
}

fn label(state: &Result<(), String>) -> &'static str {
    if state.is_ok() {
        "ready"
    } else {
        "unavailable"
    }
}

/// One agent as `GET /v1/agents` shows it.
fn describe(gateway: &Gateway, agent: &Agent) -> Value {
    let config = gateway.config;
    let tools: Vec<&str> = agent
        .tools
        .iter()
        .filter_map(|id| config.tools.get(usize::from(id.0)))
        .map(|tool| tool.name)
        .collect();
    let state = readiness(gateway, agent);
    json!({
        "id": agent.model_id,
        "object": "agent",
        "name": agent.name,
        "description": agent.description,
        "kind": if agent.sdk.is_some() { "sdk" } else { "declarative" },
        "model": config.model(agent.model).map(|m| m.name),
        "tools": tools,
        "bounds": {
            "max_steps": agent.bounds.max_steps,
            "max_time_ms": u64::try_from(agent.bounds.max_time.as_millis()).unwrap_or(u64::MAX),
            "max_tokens": agent.bounds.max_tokens,
        },
        "state": label(&state),
    })
}
