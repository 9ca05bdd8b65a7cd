//! `GET /v1/models` and `GET /v1/models/{id}`: the public models (and, in
//! the OpenAI shape, the agents the caller may use as `agent/<name>`), in the
//! OpenAI list shape, or in Anthropic's (`type: model`, `display_name`,
//! `created_at`, `lifecycle`, `has_more`/`first_id`/`last_id`) when the caller is an
//! Anthropic client.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::ops::json_response;
use crate::auth::Caller;
use crate::body::ResponseBody;
use crate::error::{GatewayError, Shape};
use crate::gateway::Gateway;
use crate::table::Model;

/// No creation date is known for a configured model; Anthropic's shape requires one.
const CREATED_AT: &str = "1970-01-01T00:00:00Z";

/// `GET /v1/models`: the models this caller may use. The OpenAI body for
/// callers who may use every model is built once at startup.
pub fn models(gateway: &Gateway, shape: Shape, caller: Caller) -> Response<ResponseBody> {
    let all = gateway.config.models;
    let agents = gateway.config.agents;
    let everything = all.iter().all(|m| caller.may_use(m.id))
        && agents
            .iter()
            .all(|a| super::agents::may_use(gateway, &caller, a));
    let visible: Vec<&Model> = all.iter().filter(|m| caller.may_use(m.id)).collect();
    let visible_agents = agents
        .iter()
        .filter(|a| super::agents::may_use(gateway, &caller, a));
    match shape {
        Shape::OpenAi if everything => json_response(StatusCode::OK, gateway.models_json.clone()),
        Shape::OpenAi => {
            let data: Vec<Value> = visible
                .iter()
                .map(|m| openai_model(gateway, m))
                .chain(visible_agents.map(|a| openai_agent(a.model_id)))
                .collect();
            let body = json!({ "object": "list", "data": data });
            json_response(StatusCode::OK, body.to_string())
        }
        Shape::Anthropic => {
            let data: Vec<Value> = visible.iter().map(|m| anthropic_model(m)).collect();
            let body = json!({
                "data": data,
                "has_more": false,
                "first_id": visible.first().map(|m| m.name),
                "last_id": visible.last().map(|m| m.name),
            });
            json_response(StatusCode::OK, body.to_string())
        }
    }
}

/// One model in the OpenAI list shape.
fn openai_model(gateway: &Gateway, model: &Model) -> Value {
    let owner = model
        .primary_upstream()
        .and_then(|id| gateway.config.upstream(id))
        .map_or("", |u| u.name);
    json!({ "id": model.name, "object": "model", "created": 0, "owned_by": owner })
}

/// One agent (`agent/<name>`) in the OpenAI list shape.
fn openai_agent(id: &str) -> Value {
    json!({ "id": id, "object": "model", "created": 0, "owned_by": "gateway" })
}

/// `GET /v1/models/{id}`: a model the caller may not use is not found
/// (its existence is not revealed).
pub fn model(
    gateway: &Gateway,
    name: &str,
    shape: Shape,
    caller: Caller,
) -> Result<Response<ResponseBody>, GatewayError> {
    let config = gateway.config;
    if let (Shape::OpenAi, Some(agent)) = (shape, super::agents::visible(gateway, &caller, name)) {
        let body = openai_agent(agent.model_id);
        return Ok(json_response(StatusCode::OK, body.to_string()));
    }
    let model = (config.resolve_model)(name)
        .and_then(|id| config.model(id))
        .filter(|m| caller.may_use(m.id))
        .ok_or_else(|| GatewayError::ModelNotFound(name.to_string()))?;
    let body = match shape {
        Shape::OpenAi => openai_model(gateway, model),
        Shape::Anthropic => anthropic_model(model),
    };
    Ok(json_response(StatusCode::OK, body.to_string()))
}

fn anthropic_model(model: &Model) -> Value {
    json!({
        "type": "model",
        "id": model.name,
        "display_name": model.name,
        "created_at": CREATED_AT,
        "lifecycle": "active",
    })
}
