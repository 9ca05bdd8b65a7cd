//! `GET /v1/models` and `GET /v1/models/{id}`: the public models, in the
//! OpenAI list shape, or in Anthropic's (`type: model`, `display_name`,
//! `created_at`, `lifecycle`, `has_more`/`first_id`/`last_id`) when the caller is an
//! Anthropic client.

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::ops::json_response;
use crate::body::ResponseBody;
use crate::error::{GatewayError, Shape};
use crate::gateway::Gateway;
use crate::table::Model;

/// No creation date is known for a configured model; Anthropic's shape requires one.
const CREATED_AT: &str = "1970-01-01T00:00:00Z";

/// `GET /v1/models`. The OpenAI body is built once at startup.
pub fn models(gateway: &Gateway, shape: Shape) -> Response<ResponseBody> {
    match shape {
        Shape::OpenAi => json_response(StatusCode::OK, gateway.models_json.clone()),
        Shape::Anthropic => {
            let models = gateway.config.models;
            let data: Vec<Value> = models.iter().map(anthropic_model).collect();
            let body = json!({
                "data": data,
                "has_more": false,
                "first_id": models.first().map(|m| m.name),
                "last_id": models.last().map(|m| m.name),
            });
            json_response(StatusCode::OK, body.to_string())
        }
    }
}

/// `GET /v1/models/{id}`.
pub fn model(
    gateway: &Gateway,
    name: &str,
    shape: Shape,
) -> Result<Response<ResponseBody>, GatewayError> {
    let config = gateway.config;
    let model = (config.resolve_model)(name)
        .and_then(|id| config.model(id))
        .ok_or_else(|| GatewayError::ModelNotFound(name.to_string()))?;
    let body = match shape {
        Shape::OpenAi => {
            let owner = model
                .primary_upstream()
                .and_then(|id| config.upstream(id))
                .map_or("", |u| u.name);
            json!({ "id": model.name, "object": "model", "created": 0, "owned_by": owner })
        }
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
