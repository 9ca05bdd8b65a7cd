//! `GET /v1/tools` (the tools this caller may use, in OpenAI's function-tool
//! shape) and `POST /v1/tools/{name}/invoke` (`{"arguments": {...}}` ->
//! `{"tool", "result"}`), each call logged once as `tool.invoke` and counted
//! in `gateway_tool_invocations_total{tool,outcome}`.
//!
//! A tool the caller may not use answers exactly like an unknown one (404),
//! so its existence is not revealed. Not here: validation, the builtin
//! functions and http calls (`tools/`), authentication (`http/router.rs`).

use std::time::Instant;

use http::{Response, StatusCode};
use serde_json::{Value, json};

use super::ops::json_response;
use crate::auth::Caller;
use crate::body::ResponseBody;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::observe::metrics::ToolOutcome;
use crate::table::Tool;
use crate::tools::{self, ToolError};

/// `GET /v1/tools`: `{"object":"list","data":[{"type":"function","function":{...}}]}`.
pub fn list(gateway: &Gateway, caller: &Caller) -> Response<ResponseBody> {
    let data: Vec<Value> = usable(gateway, caller).map(function).collect();
    let body = json!({ "object": "list", "data": data });
    json_response(StatusCode::OK, body.to_string())
}

/// The tools `caller` may use now, as `GET /v1/tools` and `/mcp`'s
/// `tools/list` show them: its access allows them and they are enabled
/// (not an MCP tool whose pin drifted).
pub fn usable<'a>(
    gateway: &'a Gateway,
    caller: &'a Caller,
) -> impl Iterator<Item = &'static Tool> + 'a {
    let config = gateway.config;
    config.tools.iter().filter(move |tool| {
        caller.may_use_tool(&config.auth, tool.id) && gateway.tools.is_enabled(tool.id)
    })
}

/// A tool's argument schema as JSON, as both listings show it.
pub fn parameters(tool: &Tool) -> Value {
    serde_json::from_str(tool.parameters_json).unwrap_or_else(|_| json!({"type": "object"}))
}

/// `POST /tools/refresh` (admin): reconnect to every MCP server and verify
/// its pins now. 200 with `{"servers":[...]}`, or 409 with the same body and
/// an `error` (`tools_drift`) when a server with `on_drift: fail` drifted.
pub async fn refresh(gateway: &Gateway) -> Response<ResponseBody> {
    let reports = gateway.tools.mcp.refresh().await;
    let servers: Vec<Value> = reports.iter().map(|r| r.json()).collect();
    let fatal: Vec<&str> = reports
        .iter()
        .filter(|r| r.fatal())
        .map(|r| r.server.name)
        .collect();
    tracing::info!(
        event = "tools.refresh",
        servers = reports.len(),
        fatal = fatal.len()
    );
    if fatal.is_empty() {
        return json_response(StatusCode::OK, json!({ "servers": servers }).to_string());
    }
    let error = json!({
        "type": "api_error",
        "code": "tools_drift",
        "message": format!(
            "MCP servers with `on_drift: fail` drifted ({}); their drifted tools are disabled until re-pinned in tools.yaml.",
            fatal.join(", ")
        ),
    });
    let body = json!({ "servers": servers, "error": error });
    json_response(StatusCode::CONFLICT, body.to_string())
}

/// One tool in OpenAI's function-tool shape.
fn function(tool: &Tool) -> Value {
    json!({
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": parameters(tool),
        },
    })
}

/// `POST /v1/tools/{name}/invoke`.
pub async fn invoke(
    gateway: &Gateway,
    name: &str,
    caller: &Caller,
    body: &[u8],
    request_id: &str,
) -> Result<Response<ResponseBody>, GatewayError> {
    let started = Instant::now();
    let config = gateway.config;
    let Some(tool) = config.tool(name) else {
        log(request_id, name, caller, started, "not_found", Via::Invoke);
        return Err(GatewayError::ToolNotFound(name.to_owned()));
    };
    let arguments = match arguments(tool, body) {
        Ok(arguments) => arguments,
        // A body error must not reveal a tool the caller may not use:
        // `call_as` refuses it as unknown before looking at the arguments.
        Err(_) if !caller.may_use_tool(&config.auth, tool.id) => Value::Null,
        Err((outcome, error)) => {
            gateway.metrics.record_tool(tool.id, outcome);
            log(
                request_id,
                tool.name,
                caller,
                started,
                outcome.label(),
                Via::Invoke,
            );
            return Err(error);
        }
    };
    let outcome = call_as(gateway, caller, request_id, tool, &arguments, Via::Invoke).await;
    let result = outcome.map_err(|(_, error)| error)?;
    let body = json!({ "tool": tool.name, "result": result });
    Ok(json_response(StatusCode::OK, body.to_string()))
}

/// Why a call produced no result: the outcome counted and the answer to give.
pub type Failure = (ToolOutcome, GatewayError);

/// Which surface a tool call came through (the `via` field of `tool.invoke`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `POST /v1/tools/{name}/invoke`.
    Invoke,
    /// `tools/call` on `/mcp`.
    Mcp,
    /// A step of an agent's tool loop.
    Agent,
}

impl Via {
    fn label(self) -> &'static str {
        match self {
            Self::Invoke => "invoke",
            Self::Mcp => "mcp",
            Self::Agent => "agent",
        }
    }
}

/// One call of `tool` on behalf of `caller`, whichever surface it came
/// through: the access check (a tool the caller may not use fails as
/// `ToolNotFound`, like an unknown one), validation, the call, the counted
/// outcome and the one `tool.invoke` line.
pub async fn call_as(
    gateway: &Gateway,
    caller: &Caller,
    request_id: &str,
    tool: &'static Tool,
    arguments: &Value,
    via: Via,
) -> Result<Value, Failure> {
    let started = Instant::now();
    let outcome = if caller.may_use_tool(&gateway.config.auth, tool.id) {
        call(gateway, tool, arguments).await
    } else {
        Err((
            ToolOutcome::Forbidden,
            GatewayError::ToolNotFound(tool.name.to_owned()),
        ))
    };
    let label = match &outcome {
        Ok(_) => ToolOutcome::Ok,
        Err((outcome, _)) => *outcome,
    };
    gateway.metrics.record_tool(tool.id, label);
    log(request_id, tool.name, caller, started, label.label(), via);
    outcome
}

/// The `arguments` member of the request body.
fn arguments(tool: &'static Tool, body: &[u8]) -> Result<Value, Failure> {
    let invalid = |path: &str, problem: String| {
        let error = GatewayError::InvalidToolArguments {
            tool: tool.name,
            path: path.to_owned(),
            problem,
        };
        (ToolOutcome::InvalidArguments, error)
    };
    let mut body: Value = serde_json::from_slice(body).map_err(|e| {
        invalid(
            "body",
            format!("is not JSON ({e}); send {{\"arguments\": {{...}}}}"),
        )
    })?;
    match body.get_mut("arguments").map(Value::take) {
        Some(arguments) => Ok(arguments),
        None => Err(invalid(
            "arguments",
            "is required: send {\"arguments\": {...}}".to_owned(),
        )),
    }
}

/// Runs the tool and maps its failure to an outcome and an answer.
async fn call(gateway: &Gateway, tool: &'static Tool, arguments: &Value) -> Result<Value, Failure> {
    let result = tools::invoke(tool, arguments, &gateway.tools).await;
    result.map_err(|error| match error {
        ToolError::Arguments(violation) => (
            ToolOutcome::InvalidArguments,
            GatewayError::InvalidToolArguments {
                tool: tool.name,
                path: violation.path,
                problem: violation.problem,
            },
        ),
        ToolError::Failed(detail) => (
            ToolOutcome::Failed,
            GatewayError::ToolFailed {
                tool: tool.name,
                detail,
            },
        ),
        ToolError::TooLarge => (
            ToolOutcome::TooLarge,
            GatewayError::ToolResultTooLarge {
                tool: tool.name,
                limit: tools::result_limit(tool),
            },
        ),
        ToolError::Unreachable(detail) => (
            ToolOutcome::UpstreamError,
            GatewayError::ToolUnreachable {
                tool: tool.name,
                detail,
            },
        ),
        ToolError::Unavailable(detail) => (
            ToolOutcome::Unavailable,
            GatewayError::ToolUnavailable {
                tool: tool.name,
                detail,
            },
        ),
        ToolError::Timeout(limit) => (
            ToolOutcome::Timeout,
            GatewayError::ToolTimeout {
                tool: tool.name,
                limit_ms: limit.as_millis(),
            },
        ),
    })
}

/// The `tool.invoke` line of a call of a tool that does not exist.
pub fn log_unknown(request_id: &str, tool: &str, caller: &Caller, via: Via) {
    log(request_id, tool, caller, Instant::now(), "not_found", via);
}

/// The one `tool.invoke` line of a call.
fn log(request_id: &str, tool: &str, caller: &Caller, started: Instant, outcome: &str, via: Via) {
    tracing::info!(
        event = "tool.invoke",
        request_id,
        tool = crate::error::capped(tool),
        caller = caller.name(),
        via = via.label(),
        outcome,
        duration_ms = started.elapsed().as_secs_f64() * 1e3,
    );
}
