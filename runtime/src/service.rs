//! Route dispatch for one request: method and path to handler, auth for the
//! API routes, the request id, and the one `request.completed` log event and
//! metric update per request.
//!
//! Not here: what each handler does (`proxy.rs`, `health.rs`).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use http::{HeaderValue, Method, Request, Response};
use hyper::body::Incoming;

use crate::auth::{self, Caller, ConnectionAuth};
use crate::body::ResponseBody;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::health;
use crate::metrics::Route;
use crate::proxy;
use crate::request_id;
use crate::table::ModelId;

/// hyper service entry point: never fails; every error is an HTTP response.
pub async fn handle(
    gateway: &'static Gateway,
    connection: Arc<ConnectionAuth>,
    request: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    let started = Instant::now();
    let _in_flight = gateway.metrics.in_flight();
    let request_id = gateway.request_ids.for_request(request.headers());
    let method = request.method().clone();
    let uri = request.uri().clone();
    let (route, model, caller, result) = dispatch(gateway, &connection, request, &request_id).await;
    let error_source = result.as_ref().err().map(GatewayError::source);
    let mut response = result.unwrap_or_else(GatewayError::into_response);
    response
        .headers_mut()
        .insert(request_id::HEADER, request_id.clone());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    gateway
        .metrics
        .record_request(route, model, status, elapsed);
    let model_name = model
        .and_then(|id| gateway.config.model(id))
        .map_or("", |m| m.name);
    tracing::info!(
        event = "request.completed",
        request_id = request_id.to_str().unwrap_or_default(),
        method = method.as_str(),
        path = uri.path(),
        status,
        model = model_name,
        caller = caller_name(caller),
        error_source = error_source.map(|s| format!("{s:?}")),
        elapsed_ms = elapsed.as_secs_f64() * 1e3,
    );
    Ok(response)
}

type Dispatched = (
    Route,
    Option<ModelId>,
    Option<Caller>,
    Result<Response<ResponseBody>, GatewayError>,
);

async fn dispatch(
    gateway: &'static Gateway,
    connection: &ConnectionAuth,
    request: Request<Incoming>,
    request_id: &HeaderValue,
) -> Dispatched {
    let path = request.uri().path();
    let method = request.method();
    let is_get = method == Method::GET || method == Method::HEAD;
    match path {
        "/v1/chat/completions" => {
            if method != Method::POST {
                return (
                    Route::ChatCompletions,
                    None,
                    None,
                    Err(GatewayError::MethodNotAllowed { allow: "POST" }),
                );
            }
            let caller = match authenticate(gateway, connection, request.headers()) {
                Ok(caller) => caller,
                Err(error) => return (Route::ChatCompletions, None, None, Err(error)),
            };
            let (model, result) = proxy::chat_completions(gateway, request, request_id).await;
            (Route::ChatCompletions, model, Some(caller), result)
        }
        "/v1/models" => api_get(gateway, connection, &request, is_get, || {
            Ok(health::models(gateway))
        }),
        p if p.starts_with("/v1/models/") => {
            let name = &p["/v1/models/".len()..];
            api_get(gateway, connection, &request, is_get, || {
                health::model(gateway, name)
            })
        }
        "/health" => health_get(is_get, || health::health(gateway)),
        "/healthz" => health_get(is_get, health::healthz),
        "/ready" => health_get(is_get, || health::ready(gateway)),
        "/version" => health_get(is_get, || health::version(gateway)),
        "/metrics" => {
            let result = match (
                is_get,
                auth::authenticate_admin(&gateway.config.auth, request.headers()),
            ) {
                (false, _) => Err(GatewayError::MethodNotAllowed { allow: "GET, HEAD" }),
                (true, Err(error)) => Err(error),
                (true, Ok(())) => Ok(health::metrics(gateway)),
            };
            (Route::Metrics, None, None, result)
        }
        _ => {
            let error = GatewayError::UnknownPath {
                method: method.to_string(),
                path: path.to_string(),
            };
            (Route::Other, None, None, Err(error))
        }
    }
}

fn api_get(
    gateway: &Gateway,
    connection: &ConnectionAuth,
    request: &Request<Incoming>,
    is_get: bool,
    respond: impl FnOnce() -> Result<Response<ResponseBody>, GatewayError>,
) -> Dispatched {
    if !is_get {
        return (
            Route::Models,
            None,
            None,
            Err(GatewayError::MethodNotAllowed { allow: "GET, HEAD" }),
        );
    }
    match authenticate(gateway, connection, request.headers()) {
        Ok(caller) => (Route::Models, None, Some(caller), respond()),
        Err(error) => (Route::Models, None, None, Err(error)),
    }
}

/// An unauthenticated operational endpoint (GET or HEAD only).
fn health_get(is_get: bool, respond: impl FnOnce() -> Response<ResponseBody>) -> Dispatched {
    let result = match is_get {
        true => Ok(respond()),
        false => Err(GatewayError::MethodNotAllowed { allow: "GET, HEAD" }),
    };
    (Route::Health, None, None, result)
}

fn authenticate(
    gateway: &Gateway,
    connection: &ConnectionAuth,
    headers: &http::HeaderMap,
) -> Result<Caller, GatewayError> {
    connection
        .authenticate(&gateway.config.auth, headers)
        .inspect_err(|_| gateway.metrics.record_auth_failure())
}

fn caller_name(caller: Option<Caller>) -> &'static str {
    match caller {
        None => "",
        Some(Caller::Anonymous) => "anonymous",
        Some(Caller::Admin) => "admin",
        Some(Caller::Key(name)) => name,
    }
}
