//! `POST /mcp`: one MCP server (Streamable HTTP transport, stateless, JSON
//! answers) that federates every compiled tool the caller may use. Names
//! `auth`, `body`, `build_info`, `error`, `gateway`, `observe`, `table` and
//! its sibling `api::tools`, whose `call_as` does the access check,
//! validation, the call, the tool metric and the `tool.invoke` line.
//!
//! Protocol revisions: the 2026-07-28 "single exchange" one (no handshake;
//! each POST carries `MCP-Protocol-Version: 2026-07-28`; `server/discover`
//! says what is served; results carry `resultType`, and `tools/list` and
//! `server/discover` the cache hints `ttlMs: 0`, `cacheScope: "private"`;
//! JSON-RPC errors get the HTTP status the revision assigns: 404 for an
//! unknown method, 400 for bad params) and the classic handshake ones
//! (`initialize`, then requests carrying the negotiated version)
//! 2025-11-25, 2025-06-18 and 2025-03-26, whose JSON-RPC errors are HTTP
//! 200. The official Python SDK's default (`mode="auto"`) probes
//! `server/discover` at 2026-07-28 and so takes the single-exchange path;
//! older clients (IDEs, Claude Code) take the handshake. Not checked: the
//! 2026-07-28 `_meta` envelope and `Mcp-Method`/`Mcp-Name` headers against
//! the body (the gateway does not route on them). No sessions are issued (a
//! stateless server is allowed), so there is no server-initiated stream:
//! GET and DELETE are 405 (the router answers them).
//!
//! Not here: the JSON-RPC framing (`mcp/jsonrpc.rs`), the `Origin` rule
//! (`mcp/origin.rs`), authentication (`http/router.rs`, before this runs),
//! the tools themselves (`tools/`).

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};
use serde_json::{Value, json};

use super::ops::json_response;
use super::tools::{self, Via};
use crate::auth::Caller;
use crate::body::ResponseBody;
use crate::gateway::Gateway;
use crate::observe::metrics::{McpMethod, McpOutcome, ToolOutcome};
use crate::table::Tool;

mod jsonrpc;
mod origin;

use jsonrpc::{
    INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, Message, Rejection, UNSUPPORTED_VERSION,
};

/// The revisions served, newest first.
pub const SUPPORTED_VERSIONS: [&str; 4] =
    [MODERN_VERSION, "2025-11-25", "2025-06-18", "2025-03-26"];
/// The single-exchange revision (no handshake).
const MODERN_VERSION: &str = "2026-07-28";
/// What `initialize` answers when the client's version is not a handshake one.
const LATEST_HANDSHAKE_VERSION: &str = "2025-11-25";

/// One POST to `/mcp` from an authenticated caller.
pub async fn serve(
    gateway: &Gateway,
    caller: &Caller,
    headers: &HeaderMap,
    body: &[u8],
    request_id: &str,
) -> Response<ResponseBody> {
    let (method, outcome, response) =
        match exchange(gateway, caller, headers, body, request_id).await {
            Ok(answered) => answered,
            Err(rejection) => {
                let response = json_response(rejection.status, rejection.body());
                (McpMethod::Other, McpOutcome::Rejected, response)
            }
        };
    gateway.metrics.record_mcp(method, outcome);
    response
}

async fn exchange(
    gateway: &Gateway,
    caller: &Caller,
    headers: &HeaderMap,
    body: &[u8],
    request_id: &str,
) -> Result<(McpMethod, McpOutcome, Response<ResponseBody>), Rejection> {
    let modern = check_head(headers)?;
    let message = jsonrpc::parse(body)?;
    let (id, method, params) = match jsonrpc::classify(&message)? {
        Message::Request { id, method, params } => (id, method, params),
        // Notifications (`notifications/initialized`, cancellations) and
        // responses are acknowledged; nothing here acts on them.
        Message::Notification { method } => {
            let counted = match method.starts_with("notifications/") {
                true => McpMethod::Notification,
                false => McpMethod::Other,
            };
            return Ok((counted, McpOutcome::Ok, accepted()));
        }
        Message::Response => return Ok((McpMethod::Other, McpOutcome::Ok, accepted())),
    };
    let (counted, answer) = request(gateway, caller, method, params, request_id).await;
    let (outcome, status, body) = match answer {
        Ok((outcome, mut result)) => {
            if modern {
                result["resultType"] = json!("complete");
                // Required on cacheable results; the tool list depends on
                // the caller, so reuse only within its authorization.
                if matches!(counted, McpMethod::ToolsList | McpMethod::Discover) {
                    result["ttlMs"] = json!(0);
                    result["cacheScope"] = json!("private");
                }
            }
            (outcome, StatusCode::OK, jsonrpc::result_body(id, &result))
        }
        Err((code, message)) => {
            // 2026-07-28 gives some errors an HTTP status; older revisions answer 200.
            let status = match (modern, code) {
                (true, METHOD_NOT_FOUND) => StatusCode::NOT_FOUND,
                (true, INVALID_PARAMS) => StatusCode::BAD_REQUEST,
                _ => StatusCode::OK,
            };
            let body = jsonrpc::error_body(id, code, &message, None);
            (McpOutcome::Error, status, body)
        }
    };
    Ok((counted, outcome, json_response(status, body)))
}

/// The `Origin` guard and the `MCP-Protocol-Version` check; `Ok(true)` for
/// a 2026-07-28 single exchange.
fn check_head(headers: &HeaderMap) -> Result<bool, Rejection> {
    if let Err(origin) = origin::check(headers) {
        let message = format!(
            "Origin {origin:?} is not allowed: /mcp accepts requests without Origin or from a loopback origin"
        );
        return Err(Rejection::new(
            StatusCode::FORBIDDEN,
            INVALID_REQUEST,
            message,
        ));
    }
    let Some(version) = headers.get("mcp-protocol-version") else {
        return Ok(false);
    };
    let version = String::from_utf8_lossy(version.as_bytes());
    let version = crate::error::capped(&version);
    if !SUPPORTED_VERSIONS.contains(&version) {
        let supported = SUPPORTED_VERSIONS.join(", ");
        let message =
            format!("Unsupported MCP-Protocol-Version {version:?}; supported: {supported}");
        let mut rejection = Rejection::new(StatusCode::BAD_REQUEST, UNSUPPORTED_VERSION, message);
        rejection.data = Some(json!({ "supported": SUPPORTED_VERSIONS, "requested": version }));
        return Err(rejection);
    }
    Ok(version == MODERN_VERSION)
}

/// 202 Accepted, no body: the answer to a notification or a response.
fn accepted() -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::full(Bytes::new()));
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

/// A request's outcome and result, or a JSON-RPC error (code, message).
type Answer = Result<(McpOutcome, Value), (i64, String)>;

async fn request(
    gateway: &Gateway,
    caller: &Caller,
    method: &str,
    params: &Value,
    request_id: &str,
) -> (McpMethod, Answer) {
    let ok = |result| Ok((McpOutcome::Ok, result));
    match method {
        "initialize" => {
            let asked = params["protocolVersion"].as_str().unwrap_or_default();
            let version = SUPPORTED_VERSIONS
                .iter()
                .find(|v| **v == asked && **v != MODERN_VERSION)
                .unwrap_or(&LATEST_HANDSHAKE_VERSION);
            let result = json!({
                "protocolVersion": version,
                "capabilities": { "tools": { "listChanged": false } },
                "serverInfo": { "name": "gateway", "version": crate::build_info::get().version },
            });
            (McpMethod::Initialize, ok(result))
        }
        "server/discover" => {
            let result = json!({
                "supportedVersions": SUPPORTED_VERSIONS,
                "capabilities": { "tools": { "listChanged": false } },
                "_meta": { "io.modelcontextprotocol/serverInfo":
                    { "name": "gateway", "version": crate::build_info::get().version } },
            });
            (McpMethod::Discover, ok(result))
        }
        "ping" => (McpMethod::Ping, ok(json!({}))),
        "tools/list" => {
            let tools: Vec<Value> = tools::usable(gateway, caller).map(listed).collect();
            (McpMethod::ToolsList, ok(json!({ "tools": tools })))
        }
        "tools/call" => (
            McpMethod::ToolsCall,
            call(gateway, caller, params, request_id).await,
        ),
        other => {
            let message = format!("Method not found: {}", crate::error::capped(other));
            (McpMethod::Other, Err((METHOD_NOT_FOUND, message)))
        }
    }
}

/// One tool as `tools/list` shows it.
fn listed(tool: &Tool) -> Value {
    let schema = tools::parameters(tool);
    json!({ "name": tool.name, "description": tool.description, "inputSchema": schema })
}

/// `tools/call`: a tool's failure is a result with `isError` (the model
/// sees it); an unknown or forbidden tool is the same -32602.
async fn call(gateway: &Gateway, caller: &Caller, params: &Value, request_id: &str) -> Answer {
    let Some(name) = params["name"].as_str() else {
        return Err((
            INVALID_PARAMS,
            "Invalid params: \"name\" (a string) is required".to_owned(),
        ));
    };
    let unknown = || {
        let message = format!("Unknown tool: {}", crate::error::capped(name));
        Err((INVALID_PARAMS, message))
    };
    let Some(tool) = gateway
        .config
        .tool(name)
        // A disabled (drifted) tool is not offered: unknown, as in `tools/list`.
        .filter(|tool| gateway.tools.is_enabled(tool.id))
    else {
        tools::log_unknown(request_id, name, caller, Via::Mcp);
        return unknown();
    };
    let arguments = match params.get("arguments") {
        None | Some(Value::Null) => json!({}),
        Some(arguments) => arguments.clone(),
    };
    match tools::call_as(gateway, caller, request_id, tool, &arguments, Via::Mcp).await {
        Ok(result) => {
            let mut answer = json!({
                "content": [{ "type": "text", "text": result.to_string() }],
                "isError": false,
            });
            if result.is_object() {
                answer["structuredContent"] = result;
            }
            Ok((McpOutcome::Ok, answer))
        }
        Err((ToolOutcome::Forbidden, _)) => unknown(),
        Err((_, error)) => {
            let answer = json!({
                "content": [{ "type": "text", "text": error.message() }],
                "isError": true,
            });
            Ok((McpOutcome::ToolError, answer))
        }
    }
}
