//! `GET /v1/models` and `GET /v1/models/{id}`: the public models in the
//! OpenAI list shape.

use http::{Response, StatusCode};
use serde_json::json;

use super::ops::json_response;
use crate::body::ResponseBody;
use crate::error::GatewayError;
use crate::gateway::Gateway;

/// `GET /v1/models`: the public models, OpenAI list shape (built once at startup).
pub fn models(gateway: &Gateway) -> Response<ResponseBody> {
    json_response(StatusCode::OK, gateway.models_json.clone())
}

/// `GET /v1/models/{id}`.
pub fn model(gateway: &Gateway, name: &str) -> Result<Response<ResponseBody>, GatewayError> {
    let config = gateway.config;
    let model = (config.resolve_model)(name)
        .and_then(|id| config.model(id))
        .ok_or_else(|| GatewayError::ModelNotFound(name.to_string()))?;
    let owner = config.upstream(model.upstream).map_or("", |u| u.name);
    let body = json!({ "id": model.name, "object": "model", "created": 0, "owned_by": owner });
    Ok(json_response(StatusCode::OK, body.to_string()))
}
