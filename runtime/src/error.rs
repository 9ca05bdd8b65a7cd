//! The runtime's one error type and its HTTP mapping, in one table.
//!
//! Every error the gateway itself produces leaves as OpenAI-shaped JSON
//! (`{"error":{"message","type","param","code"}}`) with the status chosen in
//! [`GatewayError::status`]. Errors the upstream produced are not represented
//! here: they are forwarded with the upstream's own status and body.
//! [`ErrorSource`] says whose fault an error is, so a later circuit breaker can
//! count upstream failures and ignore client mistakes.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use crate::body::ResponseBody;

mod rate;
pub use rate::{RateLimit, RateLine};

/// The protocol a caller speaks, which decides the shape of its error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `{"error":{"message","type","param","code"}}`
    OpenAi,
    /// `{"type":"error","error":{"type","message"}}`
    Anthropic,
}

/// Whose fault an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// The caller sent something wrong; never counts against an upstream.
    Client,
    /// The upstream failed or was too slow; feeds upstream health.
    Upstream,
    /// The gateway cannot serve this (an upstream disabled at startup).
    Gateway,
}

/// An error produced by the gateway itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayError {
    /// The body is not valid JSON (or not UTF-8, or not an object).
    InvalidJson(String),
    /// A required field is absent or null.
    MissingField(&'static str),
    /// A field has the wrong type or value.
    InvalidField {
        param: &'static str,
        message: String,
    },
    /// A field the model's upstream protocol cannot carry, refused rather than
    /// dropped because the answer would silently differ.
    UnsupportedField {
        param: &'static str,
        message: String,
    },
    MissingApiKey,
    InvalidApiKey,
    /// `/metrics` needs the admin key and it was not presented.
    AdminKeyRequired,
    /// An admin endpoint that changes state, with no admin key configured.
    AdminDisabled,
    /// `POST /security/refresh` found problems in the key files (each
    /// `file:line: what; fix`); the keys in force are unchanged.
    KeyFilesRejected(Vec<String>),
    /// A bearer token (JWT) was refused (401); `detail` says why.
    InvalidToken {
        problem: TokenProblem,
        detail: String,
    },
    /// A token carries none of the compiled scopes (403); the scopes that grant access.
    InsufficientScope(String),
    /// A token's team claim names no compiled team (403); the claim's value.
    TokenTeamNotAllowed(String),
    /// No identity provider keys are loaded, so no token can be verified (503).
    JwksUnavailable(String),
    ModelNotFound(String),
    PayloadTooLarge {
        limit: u64,
    },
    /// The client did not finish sending its body in time.
    BodyTimeout,
    /// The client's body ended early or the connection broke.
    BodyIncomplete,
    MethodNotAllowed {
        allow: &'static str,
    },
    UnknownPath {
        method: String,
        path: String,
    },
    /// An HTTP/1.1 request without exactly one `Host` (RFC 9112 §3.2).
    InvalidHost(&'static str),
    /// A request head the HTTP library could not parse (answered before routing).
    MalformedHead,
    /// A request target longer than the HTTP library accepts.
    UriTooLong,
    /// A request head over `server.max_header_bytes`.
    HeadTooLarge,
    /// The model's upstream was disabled at startup (optional upstream whose secret is missing).
    UpstreamDisabled {
        upstream: &'static str,
    },
    UpstreamUnreachable {
        upstream: &'static str,
        detail: String,
    },
    UpstreamTimeout {
        upstream: &'static str,
    },
    /// The upstream answered with something that is not a usable response.
    UpstreamInvalid {
        upstream: &'static str,
        detail: String,
    },
    /// A streamed answer broke before its first event reached the client.
    UpstreamStreamFailed {
        upstream: &'static str,
        detail: &'static str,
    },
    /// The caller's key (or its team) may not use this model.
    ModelNotAllowed {
        model: &'static str,
    },
    /// The model is not served on this endpoint (`endpoints` in its config).
    EndpointNotServed {
        model: &'static str,
        endpoint: &'static str,
    },
    /// Every deployment of the model (and of its fallbacks) is unavailable:
    /// circuit open, in maintenance, unhealthy or disabled.
    NoDeploymentAvailable {
        model: &'static str,
    },
    /// The model's deadline passed before any try succeeded.
    DeadlineExceeded {
        model: &'static str,
        deadline_ms: u64,
    },
    /// An admin endpoint named an upstream that is not in the compiled config.
    UnknownUpstream(String),
    /// The maintenance file could not be written.
    MaintenanceFile(String),
    /// A rate limit has no room for this request now.
    RateLimited(RateLimit),
    /// A budget is spent for this period.
    BudgetExceeded {
        budget: &'static str,
        period: &'static str,
        resets_in_secs: u64,
    },
    /// A fail-closed limit or budget could not reach its shared store.
    QuotaStoreUnavailable(String),
    /// No tool by this name, or one the caller may not use (not revealed).
    ToolNotFound(String),
    /// A tool call's arguments do not fit the tool's schema: where and what.
    InvalidToolArguments {
        tool: &'static str,
        path: String,
        problem: String,
    },
    /// A tool ran and failed on these arguments (e.g. a division by zero).
    ToolFailed {
        tool: &'static str,
        detail: String,
    },
    /// A tool's result is larger than the gateway returns.
    ToolResultTooLarge {
        tool: &'static str,
        limit: u64,
    },
    /// An http tool's server could not be reached or broke off.
    ToolUnreachable {
        tool: &'static str,
        detail: String,
    },
    /// An MCP tool is disabled: its pinned schema drifted (re-pin or refresh).
    ToolUnavailable {
        tool: &'static str,
        detail: String,
    },
    /// An http tool's call passed its `timeout`.
    ToolTimeout {
        tool: &'static str,
        limit_ms: u128,
    },
    /// An agent run hit one of its bounds (agents.yaml).
    AgentLimit {
        agent: &'static str,
        bound: AgentBound,
        limit: u64,
    },
    /// A step's model call of an agent run did not answer usably.
    AgentModelFailed {
        agent: &'static str,
        step: u32,
        detail: String,
    },
    /// An agent is not ready: a tool is missing or disabled, or its model cannot be routed.
    AgentUnavailable {
        agent: &'static str,
        detail: String,
    },
}

/// The bound an agent run hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentBound {
    /// `max_steps` model calls were made and the model still asked for tools.
    Steps,
    /// `max_tokens` were used.
    Tokens,
    /// `max_time` passed.
    Time,
}

impl AgentBound {
    /// The agents.yaml key.
    pub fn key(self) -> &'static str {
        match self {
            Self::Steps => "max_steps",
            Self::Tokens => "max_tokens",
            Self::Time => "max_time",
        }
    }
}

/// Why a bearer token (JWT) was refused, each counted under its own reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not three base64url parts of JSON, or a required claim missing.
    Malformed,
    /// `alg` not accepted, or not the key's algorithm.
    AlgorithmNotAllowed,
    /// `kid` not in the identity provider's key set.
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
}

impl TokenProblem {
    /// The error `code` in the OpenAI-shaped body.
    pub fn code(self) -> &'static str {
        match self {
            Self::Malformed => "malformed_token",
            Self::AlgorithmNotAllowed => "token_algorithm_not_allowed",
            Self::UnknownKey => "unknown_token_key",
            Self::BadSignature => "invalid_token_signature",
            Self::Expired => "token_expired",
            Self::NotYetValid => "token_not_yet_valid",
            Self::WrongIssuer => "invalid_token_issuer",
            Self::WrongAudience => "invalid_token_audience",
        }
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    param: Option<&'static str>,
    code: Option<&'static str>,
}

impl GatewayError {
    /// The whole mapping: status, OpenAI `type`, `code`, and source, one row per variant.
    fn row(&self) -> (StatusCode, &'static str, Option<&'static str>, ErrorSource) {
        use ErrorSource::{Client, Gateway, Upstream};
        use GatewayError as E;
        const INVALID: &str = "invalid_request_error";
        match self {
            E::InvalidJson(_) => (
                StatusCode::BAD_REQUEST,
                INVALID,
                Some("invalid_json"),
                Client,
            ),
            E::MissingField(_) => (
                StatusCode::BAD_REQUEST,
                INVALID,
                Some("missing_required_parameter"),
                Client,
            ),
            E::InvalidField { .. } => (
                StatusCode::BAD_REQUEST,
                INVALID,
                Some("invalid_value"),
                Client,
            ),
            E::UnsupportedField { .. } => (
                StatusCode::BAD_REQUEST,
                INVALID,
                Some("unsupported_parameter"),
                Client,
            ),
            E::MissingApiKey => (
                StatusCode::UNAUTHORIZED,
                INVALID,
                Some("missing_api_key"),
                Client,
            ),
            E::InvalidApiKey => (
                StatusCode::UNAUTHORIZED,
                INVALID,
                Some("invalid_api_key"),
                Client,
            ),
            E::AdminKeyRequired => (
                StatusCode::UNAUTHORIZED,
                INVALID,
                Some("admin_key_required"),
                Client,
            ),
            E::AdminDisabled => (
                StatusCode::FORBIDDEN,
                INVALID,
                Some("admin_disabled"),
                Client,
            ),
            // 500: the request was valid and authorized; what failed is the
            // server's own input (files on its disk). A 4xx would tell the
            // caller to change a request that was right, a 503 to retry
            // what cannot succeed until the file is fixed.
            E::KeyFilesRejected(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                Some("key_files_rejected"),
                Gateway,
            ),
            E::InvalidToken { problem, .. } => (
                StatusCode::UNAUTHORIZED,
                INVALID,
                Some(problem.code()),
                Client,
            ),
            E::InsufficientScope(_) => (
                StatusCode::FORBIDDEN,
                "permission_error",
                Some("insufficient_scope"),
                Client,
            ),
            E::TokenTeamNotAllowed(_) => (
                StatusCode::FORBIDDEN,
                "permission_error",
                Some("team_not_allowed"),
                Client,
            ),
            // 503: the caller's token may be fine; the gateway cannot check it yet.
            E::JwksUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "api_error",
                Some("jwks_unavailable"),
                Gateway,
            ),
            E::ModelNotFound(_) => (
                StatusCode::NOT_FOUND,
                INVALID,
                Some("model_not_found"),
                Client,
            ),
            E::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                INVALID,
                Some("request_too_large"),
                Client,
            ),
            E::BodyTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                INVALID,
                Some("request_timeout"),
                Client,
            ),
            E::BodyIncomplete => (
                StatusCode::BAD_REQUEST,
                INVALID,
                Some("incomplete_body"),
                Client,
            ),
            E::MethodNotAllowed { .. } => (
                StatusCode::METHOD_NOT_ALLOWED,
                INVALID,
                Some("method_not_allowed"),
                Client,
            ),
            E::UnknownPath { .. } => (StatusCode::NOT_FOUND, INVALID, Some("unknown_url"), Client),
            E::InvalidHost(_) => (
                StatusCode::BAD_REQUEST,
                INVALID,
                Some("invalid_host_header"),
                Client,
            ),
            E::MalformedHead => (
                StatusCode::BAD_REQUEST,
                INVALID,
                Some("malformed_request_head"),
                Client,
            ),
            E::UriTooLong => (
                StatusCode::URI_TOO_LONG,
                INVALID,
                Some("uri_too_long"),
                Client,
            ),
            E::HeadTooLarge => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                INVALID,
                Some("request_header_fields_too_large"),
                Client,
            ),
            E::UpstreamDisabled { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "api_error",
                Some("upstream_disabled"),
                Gateway,
            ),
            E::UpstreamUnreachable { .. } => (
                StatusCode::BAD_GATEWAY,
                "api_error",
                Some("upstream_unreachable"),
                Upstream,
            ),
            E::UpstreamTimeout { .. } => (
                StatusCode::GATEWAY_TIMEOUT,
                "api_error",
                Some("upstream_timeout"),
                Upstream,
            ),
            E::UpstreamInvalid { .. } => (
                StatusCode::BAD_GATEWAY,
                "api_error",
                Some("upstream_invalid_response"),
                Upstream,
            ),
            E::UpstreamStreamFailed { .. } => (
                StatusCode::BAD_GATEWAY,
                "api_error",
                Some("upstream_stream_failed"),
                Upstream,
            ),
            E::ModelNotAllowed { .. } => (
                StatusCode::FORBIDDEN,
                "permission_error",
                Some("model_not_allowed"),
                Client,
            ),
            E::EndpointNotServed { .. } => (
                StatusCode::BAD_REQUEST,
                INVALID,
                Some("model_not_supported"),
                Client,
            ),
            E::NoDeploymentAvailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "api_error",
                Some("no_deployment_available"),
                Gateway,
            ),
            E::DeadlineExceeded { .. } => (
                StatusCode::GATEWAY_TIMEOUT,
                "api_error",
                Some("deadline_exceeded"),
                Upstream,
            ),
            E::UnknownUpstream(_) => (
                StatusCode::NOT_FOUND,
                INVALID,
                Some("upstream_not_found"),
                Client,
            ),
            E::MaintenanceFile(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                Some("maintenance_file_not_written"),
                Gateway,
            ),
            // OpenAI's own rate-limit errors say `type: "requests"` or `"tokens"`.
            E::RateLimited(limited) => (
                StatusCode::TOO_MANY_REQUESTS,
                if limited.line.tokens {
                    "tokens"
                } else {
                    "requests"
                },
                Some("rate_limit_exceeded"),
                Client,
            ),
            E::BudgetExceeded { .. } => (
                StatusCode::PAYMENT_REQUIRED,
                "insufficient_quota",
                Some("budget_exceeded"),
                Client,
            ),
            E::QuotaStoreUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "api_error",
                Some("quota_store_unavailable"),
                Gateway,
            ),
            E::ToolNotFound(_) => (
                StatusCode::NOT_FOUND,
                INVALID,
                Some("tool_not_found"),
                Client,
            ),
            E::InvalidToolArguments { .. } => (
                StatusCode::BAD_REQUEST,
                INVALID,
                Some("invalid_tool_arguments"),
                Client,
            ),
            E::ToolFailed { .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                INVALID,
                Some("tool_failed"),
                Client,
            ),
            E::ToolResultTooLarge { .. } => (
                StatusCode::BAD_GATEWAY,
                "api_error",
                Some("tool_result_too_large"),
                Gateway,
            ),
            E::ToolUnreachable { .. } => (
                StatusCode::BAD_GATEWAY,
                "api_error",
                Some("tool_unreachable"),
                Gateway,
            ),
            E::ToolUnavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "api_error",
                Some("tool_unavailable"),
                Gateway,
            ),
            E::ToolTimeout { .. } => (
                StatusCode::GATEWAY_TIMEOUT,
                "api_error",
                Some("tool_timeout"),
                Gateway,
            ),
            E::AgentLimit { bound, .. } => match bound {
                AgentBound::Steps => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    INVALID,
                    Some("agent_step_limit"),
                    Client,
                ),
                AgentBound::Tokens => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    INVALID,
                    Some("agent_token_limit"),
                    Client,
                ),
                AgentBound::Time => (
                    StatusCode::GATEWAY_TIMEOUT,
                    "api_error",
                    Some("agent_time_limit"),
                    Gateway,
                ),
            },
            E::AgentModelFailed { .. } => (
                StatusCode::BAD_GATEWAY,
                "api_error",
                Some("agent_model_error"),
                Upstream,
            ),
            E::AgentUnavailable { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "api_error",
                Some("agent_unavailable"),
                Gateway,
            ),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.row().0
    }

    pub fn source(&self) -> ErrorSource {
        self.row().3
    }

    /// The error `code` of the OpenAI-shaped body, if it has one.
    pub fn code(&self) -> Option<&'static str> {
        self.row().2
    }

    /// The request field the error is about, as OpenAI's `param`.
    fn param(&self) -> Option<&'static str> {
        match self {
            Self::MissingField(param)
            | Self::InvalidField { param, .. }
            | Self::UnsupportedField { param, .. } => Some(param),
            Self::ModelNotFound(_)
            | Self::EndpointNotServed { .. }
            | Self::ModelNotAllowed { .. } => Some("model"),
            _ => None,
        }
    }

    /// Human-readable message; never contains a secret or a presented key.
    pub fn message(&self) -> String {
        match self {
            Self::InvalidJson(detail) => {
                format!("We could not parse the JSON body of your request: {detail}")
            }
            Self::MissingField(field) => format!("Missing required parameter: '{field}'."),
            Self::InvalidField { message, .. } | Self::UnsupportedField { message, .. } => {
                message.clone()
            }
            Self::MissingApiKey => {
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.".into()
            }
            Self::InvalidApiKey => "Incorrect API key provided.".into(),
            Self::AdminKeyRequired => {
                "This endpoint needs the admin key as 'Authorization: Bearer <admin key>'.".into()
            }
            Self::AdminDisabled => "This admin endpoint is off: no admin key is configured (`auth.admin_key_sha256` in security.yaml).".into(),
            Self::InvalidToken { detail, .. } => {
                format!("Your bearer token was refused: {detail}.")
            }
            Self::InsufficientScope(scopes) => format!(
                "Your token carries none of the scopes that grant access here ({scopes})."
            ),
            Self::TokenTeamNotAllowed(team) => format!(
                "Your token's team {} is not a team of this gateway.",
                capped(team)
            ),
            Self::JwksUnavailable(why) => format!(
                "The identity provider's signing keys are not available, so no token can be verified now ({why}); API keys still work. Retry shortly."
            ),
            Self::KeyFilesRejected(problems) => format!(
                "Not everything was reloaded; what a problem is named for stays in force as it was (a problem in any key file keeps every key file's keys; the JWKS file is reloaded on its own). Fix these and reload again: {}",
                problems.join("; ")
            ),
            Self::ModelNotFound(model) => format!(
                "The model `{}` does not exist or you do not have access to it. GET /v1/models lists the models this gateway serves.",
                capped(model)
            ),
            Self::PayloadTooLarge { limit } => {
                format!("Request body is larger than this gateway's limit of {limit} bytes.")
            }
            Self::BodyTimeout => "The request body was not received in time.".into(),
            Self::BodyIncomplete => {
                "The request body ended before its declared length, or the connection broke.".into()
            }
            Self::MethodNotAllowed { allow } => {
                format!("Method not allowed; this path accepts {allow}.")
            }
            Self::UnknownPath { method, path } => format!("Invalid URL ({method} {path})"),
            Self::InvalidHost(problem) => format!(
                "An HTTP/1.1 request needs exactly one Host header; this one has {problem}."
            ),
            Self::MalformedHead => "The request line or a header could not be parsed (invalid bytes, framing or syntax).".into(),
            Self::UriTooLong => "The request target is too long.".into(),
            Self::HeadTooLarge => "The request line and headers are larger than this gateway accepts.".into(),
            Self::UpstreamDisabled { upstream } => format!(
                "The upstream `{upstream}` serving this model is disabled: its secret was missing when the gateway started."
            ),
            Self::UpstreamUnreachable { upstream, detail } => {
                format!("Could not reach upstream `{upstream}`: {detail}")
            }
            Self::UpstreamTimeout { upstream } => {
                format!("Upstream `{upstream}` did not answer within its timeout.")
            }
            Self::UpstreamInvalid { upstream, detail } => {
                format!("Upstream `{upstream}` sent an unusable response: {detail}")
            }
            Self::UpstreamStreamFailed { upstream, detail } => {
                format!("Upstream `{upstream}` {detail} before its first event.")
            }
            Self::ModelNotAllowed { model } => format!(
                "Your API key may not use the model `{model}`. GET /v1/models lists the models it may use."
            ),
            Self::EndpointNotServed { model, endpoint } => format!(
                "The model `{model}` is not served on {endpoint}; GET /v1/models lists the models, and the gateway's `endpoints` setting says where each is served."
            ),
            Self::NoDeploymentAvailable { model } => format!(
                "No deployment of model `{model}` or its fallbacks can take requests now (circuit breaker open, maintenance, failing health checks, or disabled); GET /health/providers shows why. Retry later."
            ),
            Self::DeadlineExceeded { model, deadline_ms } => format!(
                "The request for model `{model}` did not succeed within its deadline of {deadline_ms} ms (every try, retry and fallback included)."
            ),
            Self::UnknownUpstream(name) => format!(
                "There is no upstream `{}`; GET /health/providers lists them.",
                capped(name)
            ),
            Self::MaintenanceFile(detail) => format!(
                "The maintenance state changed in memory but could not be saved: {detail}"
            ),
            Self::RateLimited(limited) => format!(
                "Rate limit `{}` reached: {} {} per bucket; retry after {} ms.",
                limited.limit,
                limited.line.capacity,
                if limited.line.tokens { "tokens" } else { "requests" },
                limited.retry_after_ms
            ),
            Self::BudgetExceeded {
                budget,
                period,
                resets_in_secs,
            } => format!(
                "Budget `{budget}` is spent for this {period}; it starts again in {resets_in_secs} s (UTC {period} boundary)."
            ),
            Self::QuotaStoreUnavailable(detail) => format!(
                "The shared quota store is unreachable and this limit refuses requests it cannot count: {detail}. GET /health shows the store's state."
            ),
            Self::ToolNotFound(tool) => format!(
                "The tool `{}` does not exist or you do not have access to it. GET /v1/tools lists the tools you may use.",
                capped(tool)
            ),
            Self::InvalidToolArguments { tool, path, problem } => format!(
                "Invalid arguments for tool `{tool}`: `{path}` {problem}. GET /v1/tools shows its parameters."
            ),
            Self::ToolFailed { tool, detail } => format!("The tool `{tool}` failed: {detail}."),
            Self::ToolResultTooLarge { tool, limit } => format!(
                "The tool `{tool}` returned more than {limit} bytes, more than this gateway returns."
            ),
            Self::ToolUnreachable { tool, detail } => {
                format!("The tool `{tool}` could not be called: {detail}.")
            }
            Self::ToolUnavailable { tool, detail } => {
                format!("The tool `{tool}` is disabled: {detail}.")
            }
            Self::ToolTimeout { tool, limit_ms } => {
                format!("The tool `{tool}` did not answer within {limit_ms} ms.")
            }
            Self::AgentLimit {
                agent,
                bound,
                limit,
            } => {
                let key = bound.key();
                let what = match bound {
                    AgentBound::Steps => format!("{limit} model calls"),
                    AgentBound::Tokens => format!("{limit} tokens"),
                    AgentBound::Time => format!("{limit} ms"),
                };
                format!(
                    "The agent `{agent}` stopped at its `{key}` bound ({what}) before answering. Raise `{key}` for `{agent}` (or under `defaults`) in agents.yaml and rebuild."
                )
            }
            Self::AgentModelFailed {
                agent,
                step,
                detail,
            } => format!(
                "The agent `{agent}`'s model call at step {step} failed: {}",
                capped(detail)
            ),
            Self::AgentUnavailable { agent, detail } => format!(
                "The agent `{agent}` is not available: {}. POST /agents/refresh shows each agent's state.",
                capped(detail)
            ),
        }
    }

    /// The Anthropic error `type` for this error's status (Anthropic's documented set).
    fn anthropic_type(&self) -> &'static str {
        match self.status().as_u16() {
            401 => "authentication_error",
            402 => "billing_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            504 => "timeout_error",
            529 => "overloaded_error",
            s if s >= 500 => "api_error",
            _ => "invalid_request_error",
        }
    }

    /// The JSON body in the caller's protocol.
    pub fn to_json_in(&self, shape: Shape) -> Bytes {
        match shape {
            Shape::OpenAi => self.to_json(),
            Shape::Anthropic => {
                let body = serde_json::json!({
                    "type": "error",
                    "error": { "type": self.anthropic_type(), "message": self.message() },
                });
                Bytes::from(body.to_string())
            }
        }
    }

    /// The OpenAI-shaped JSON body.
    pub fn to_json(&self) -> Bytes {
        let (_, kind, code, _) = self.row();
        let message = self.message();
        let envelope = Envelope {
            error: Body {
                message: &message,
                kind,
                param: self.param(),
                code,
            },
        };
        serde_json::to_vec(&envelope)
            .map(Bytes::from)
            .unwrap_or_else(|_| Bytes::from_static(b"{}"))
    }

    /// The full HTTP response in the caller's protocol.
    pub fn into_response_in(self, shape: Shape) -> http::Response<ResponseBody> {
        let mut response = http::Response::new(ResponseBody::full(self.to_json_in(shape)));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Self::MethodNotAllowed { allow } = self {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        // RFC 6750 §3: which bearer-token error this is.
        let challenge = match &self {
            Self::InvalidToken { problem, .. } => Some(format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\"",
                problem.code()
            )),
            Self::InsufficientScope(scopes) => Some(format!(
                "Bearer error=\"insufficient_scope\", scope=\"{scopes}\""
            )),
            _ => None,
        };
        if let Some(value) = challenge.and_then(|c| HeaderValue::try_from(c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Self::RateLimited(limited) = self {
            // Whole seconds, rounded up, for every client; milliseconds for
            // the SDKs that read `retry-after-ms` (OpenAI's).
            let ms = limited.retry_after_ms;
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(ms.div_ceil(1000).max(1)),
            );
            headers.insert(
                http::HeaderName::from_static("retry-after-ms"),
                HeaderValue::from(ms),
            );
            limited.line.write(headers, shape);
        }
        response
    }
}

/// At most [`MAX_ECHO`] bytes of a client-chosen string, for logs and error messages.
pub fn capped(text: &str) -> &str {
    if text.len() <= MAX_ECHO {
        return text;
    }
    let mut end = MAX_ECHO;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// Longest client-chosen string echoed back or logged.
pub const MAX_ECHO: usize = 256;

#[cfg(test)]
mod tests {
    use super::*;

    fn check(error: GatewayError, status: u16, code: &str, source: ErrorSource) {
        assert_eq!(error.status().as_u16(), status, "{error:?}");
        assert_eq!(error.source(), source, "{error:?}");
        let json: serde_json::Value = serde_json::from_slice(&error.to_json()).unwrap();
        assert_eq!(json["error"]["code"], code, "{error:?}");
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
        assert!(json["error"]["type"].is_string());
        assert!(json["error"].as_object().unwrap().contains_key("param"));
    }

    #[test]
    fn every_variant_maps_to_status_code_and_source() {
        use ErrorSource::*;
        use GatewayError as E;
        check(E::InvalidJson("x".into()), 400, "invalid_json", Client);
        check(
            E::MissingField("model"),
            400,
            "missing_required_parameter",
            Client,
        );
        check(
            E::InvalidField {
                param: "stream",
                message: "m".into(),
            },
            400,
            "invalid_value",
            Client,
        );
        check(
            E::UnsupportedField {
                param: "n",
                message: "m".into(),
            },
            400,
            "unsupported_parameter",
            Client,
        );
        check(E::MissingApiKey, 401, "missing_api_key", Client);
        check(E::InvalidApiKey, 401, "invalid_api_key", Client);
        check(E::AdminKeyRequired, 401, "admin_key_required", Client);
        check(E::ModelNotFound("m".into()), 404, "model_not_found", Client);
        check(E::ToolNotFound("t".into()), 404, "tool_not_found", Client);
        let arguments = E::InvalidToolArguments {
            tool: "t",
            path: "arguments.a".into(),
            problem: "is required".into(),
        };
        assert!(arguments.message().contains("`arguments.a` is required"));
        check(arguments, 400, "invalid_tool_arguments", Client);
        let failed = E::ToolFailed {
            tool: "t",
            detail: "x".into(),
        };
        check(failed, 422, "tool_failed", Client);
        let large = E::ToolResultTooLarge {
            tool: "t",
            limit: 1,
        };
        check(large, 502, "tool_result_too_large", Gateway);
        let unreachable = E::ToolUnreachable {
            tool: "t",
            detail: "x".into(),
        };
        check(unreachable, 502, "tool_unreachable", Gateway);
        let timeout = E::ToolTimeout {
            tool: "t",
            limit_ms: 5,
        };
        check(timeout, 504, "tool_timeout", Gateway);
        let unavailable = E::ToolUnavailable {
            tool: "t",
            detail: "x".into(),
        };
        check(unavailable, 503, "tool_unavailable", Gateway);
        check(
            E::PayloadTooLarge { limit: 1 },
            413,
            "request_too_large",
            Client,
        );
        check(E::BodyTimeout, 408, "request_timeout", Client);
        check(E::BodyIncomplete, 400, "incomplete_body", Client);
        check(
            E::MethodNotAllowed { allow: "GET" },
            405,
            "method_not_allowed",
            Client,
        );
        check(
            E::UnknownPath {
                method: "GET".into(),
                path: "/x".into(),
            },
            404,
            "unknown_url",
            Client,
        );
        check(
            E::UpstreamDisabled { upstream: "u" },
            503,
            "upstream_disabled",
            Gateway,
        );
        check(
            E::UpstreamUnreachable {
                upstream: "u",
                detail: "d".into(),
            },
            502,
            "upstream_unreachable",
            Upstream,
        );
        check(
            E::UpstreamTimeout { upstream: "u" },
            504,
            "upstream_timeout",
            Upstream,
        );
        check(
            E::UpstreamInvalid {
                upstream: "u",
                detail: "d".into(),
            },
            502,
            "upstream_invalid_response",
            Upstream,
        );
        check(E::InvalidHost("x"), 400, "invalid_host_header", Client);
        check(E::MalformedHead, 400, "malformed_request_head", Client);
        check(E::UriTooLong, 414, "uri_too_long", Client);
        check(
            E::HeadTooLarge,
            431,
            "request_header_fields_too_large",
            Client,
        );
        let failed = E::UpstreamStreamFailed {
            upstream: "u",
            detail: "ended the stream",
        };
        check(failed, 502, "upstream_stream_failed", Upstream);
        let endpoint = E::EndpointNotServed {
            model: "m",
            endpoint: "/v1/messages",
        };
        check(endpoint, 400, "model_not_supported", Client);
        let none = E::NoDeploymentAvailable { model: "m" };
        check(none, 503, "no_deployment_available", Gateway);
        let deadline = E::DeadlineExceeded {
            model: "m",
            deadline_ms: 5,
        };
        check(deadline, 504, "deadline_exceeded", Upstream);
        check(E::AdminDisabled, 403, "admin_disabled", Client);
        check(
            E::KeyFilesRejected(vec!["/k:1: key `a` has no digest".into()]),
            500,
            "key_files_rejected",
            Gateway,
        );
        let token = |problem| E::InvalidToken {
            problem,
            detail: "d".into(),
        };
        check(token(TokenProblem::Expired), 401, "token_expired", Client);
        check(
            token(TokenProblem::WrongAudience),
            401,
            "invalid_token_audience",
            Client,
        );
        check(
            E::InsufficientScope("chat".into()),
            403,
            "insufficient_scope",
            Client,
        );
        check(
            E::TokenTeamNotAllowed("\"x\"".into()),
            403,
            "team_not_allowed",
            Client,
        );
        check(
            E::JwksUnavailable("x".into()),
            503,
            "jwks_unavailable",
            Gateway,
        );
        let denied = E::ModelNotAllowed { model: "m" };
        check(denied, 403, "model_not_allowed", Client);
        check(
            E::UnknownUpstream("x".into()),
            404,
            "upstream_not_found",
            Client,
        );
        check(
            E::MaintenanceFile("x".into()),
            500,
            "maintenance_file_not_written",
            Gateway,
        );
    }

    #[test]
    fn anthropic_shape_uses_anthropic_error_types() {
        let body = GatewayError::InvalidApiKey.to_json_in(Shape::Anthropic);
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["type"], "error");
        assert_eq!(json["error"]["type"], "authentication_error");
        assert!(json["error"]["message"].is_string());
        let response = GatewayError::ModelNotFound("x".into()).into_response_in(Shape::Anthropic);
        assert_eq!(response.status(), 404);
        let timeout = GatewayError::UpstreamTimeout { upstream: "u" }.to_json_in(Shape::Anthropic);
        assert!(
            std::str::from_utf8(&timeout)
                .unwrap()
                .contains("timeout_error")
        );
    }

    #[test]
    fn model_not_found_names_the_param() {
        let json: serde_json::Value =
            serde_json::from_slice(&GatewayError::ModelNotFound("nope".into()).to_json()).unwrap();
        assert_eq!(json["error"]["param"], "model");
        assert_eq!(json["error"]["type"], "invalid_request_error");
    }

    #[test]
    fn method_not_allowed_sets_allow_header() {
        let response =
            GatewayError::MethodNotAllowed { allow: "POST" }.into_response_in(Shape::OpenAi);
        assert_eq!(response.headers()[http::header::ALLOW], "POST");
    }
}
