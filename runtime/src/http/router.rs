//! Route dispatch for one request: head checks, method and path to handler,
//! auth for the API routes, the request id, and the one `request.completed`
//! log event and metric update per request (also for a request whose client
//! left before its answer).
//!
//! Not here: what each endpoint does (`api/`).

use std::convert::Infallible;
use std::time::Instant;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, Version};
use hyper::body::Incoming;

use super::conn_state::ConnState;
use crate::api::failover::{self, Endpoint};
use crate::api::{self, admin, agents, mcp, models, ops, providers, security, tools};
use crate::auth::{self, Caller};
use crate::body::ResponseBody;
use crate::error::{ErrorSource, GatewayError, Shape, TokenProblem, capped};
use crate::gateway::Gateway;
use crate::observe::metrics::{AuthFailure, InFlight, Route};
use crate::request_id;
use crate::table::ModelId;

/// hyper service entry point: never fails; every error is an HTTP response.
pub async fn handle(
    gateway: &'static Gateway,
    connection: &ConnState,
    request: Request<Incoming>,
) -> Result<Response<ResponseBody>, Infallible> {
    if http_body::Body::is_end_stream(request.body()) {
        connection.body_read();
    }
    let mut record = Record::start(gateway, &request);
    let result = match head_problem(gateway, &request) {
        Some(error) => Err(error),
        None => dispatch(gateway, connection, request, &mut record).await,
    };
    Ok(record.finish(result))
}

/// The one log line and metric update of a request, written exactly once:
/// by [`Record::finish`] with the answer, or on drop when the client left
/// before the answer's head (status 499, nginx's "client closed request").
struct Record {
    gateway: &'static Gateway,
    started: Instant,
    request_id: HeaderValue,
    method: Method,
    uri: http::Uri,
    route: Route,
    /// The caller's protocol: the shape of the gateway's error bodies.
    shape: Shape,
    model: Option<ModelId>,
    caller: Option<Caller>,
    finished: bool,
    _in_flight: InFlight<'static>,
}

/// Status logged and counted for a request whose client left before its answer.
const CLIENT_CLOSED_REQUEST: u16 = 499;

impl Record {
    fn start(gateway: &'static Gateway, request: &Request<Incoming>) -> Self {
        Self {
            gateway,
            started: Instant::now(),
            request_id: gateway.request_ids.for_request(request.headers()),
            method: request.method().clone(),
            uri: request.uri().clone(),
            route: Route::Other,
            shape: Shape::OpenAi,
            model: None,
            caller: None,
            finished: false,
            _in_flight: gateway.metrics.in_flight(),
        }
    }

    fn finish(
        mut self,
        result: Result<Response<ResponseBody>, GatewayError>,
    ) -> Response<ResponseBody> {
        let error_source = result.as_ref().err().map(GatewayError::source);
        let shape = self.shape;
        let mut response = result.unwrap_or_else(|error| error.into_response_in(shape));
        response
            .headers_mut()
            .insert(request_id::HEADER, self.request_id.clone());
        self.write(response.status().as_u16(), error_source, None);
        response
    }

    fn write(&mut self, status: u16, error_source: Option<ErrorSource>, reason: Option<&str>) {
        self.finished = true;
        let gateway = self.gateway;
        let elapsed = self.started.elapsed();
        gateway
            .metrics
            .record_request(self.route, self.model, status, elapsed);
        let model_name = self
            .model
            .and_then(|id| gateway.config.model(id))
            .map_or("", |m| m.name);
        tracing::info!(
            event = "request.completed",
            request_id = self.request_id.to_str().unwrap_or_default(),
            method = self.method.as_str(),
            path = capped(self.uri.path()),
            status,
            model = model_name,
            caller = caller_name(self.caller.as_ref()),
            team = self
                .caller
                .as_ref()
                .and_then(Caller::team_index)
                .and_then(|t| gateway.config.auth.teams.get(usize::from(t)))
                .map_or("", |t| t.name),
            key_metadata = self.caller.as_ref().map_or("", Caller::metadata),
            error_source = error_source.map(|s| format!("{s:?}")),
            reason,
            elapsed_ms = elapsed.as_secs_f64() * 1e3,
        );
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        if !self.finished {
            // The future was dropped: the client went away before the answer's
            // head, and dropping it cancelled the upstream call.
            self.write(CLIENT_CLOSED_REQUEST, None, Some("client_disconnected"));
        }
    }
}

/// What is wrong with the request head before routing, if anything:
/// RFC 9112 §3.2 requires a 400 for an HTTP/1.1 request without exactly one
/// `Host`, or with an invalid one; an HTTP/2 head over `max_header_bytes` (the HTTP/1 library
/// enforces the limit itself) is a 431.
fn head_problem(gateway: &Gateway, request: &Request<Incoming>) -> Option<GatewayError> {
    let headers = request.headers();
    match request.version() {
        Version::HTTP_11 => {
            let mut hosts = headers.get_all(http::header::HOST).iter();
            match (hosts.next(), hosts.next()) {
                (Some(host), None) if is_authority(host.as_bytes()) => None,
                (Some(_), None) => Some(GatewayError::InvalidHost("an invalid Host value")),
                (None, _) => Some(GatewayError::InvalidHost("no Host header")),
                (Some(_), Some(_)) => Some(GatewayError::InvalidHost("more than one Host header")),
            }
        }
        Version::HTTP_2 => {
            // RFC 9113 §6.5.2 counts each field as name + value + 32 bytes.
            let size: usize = headers
                .iter()
                .map(|(name, value)| name.as_str().len() + value.len() + 32)
                .sum();
            let limit =
                usize::try_from(gateway.config.server.max_header_bytes).unwrap_or(usize::MAX);
            (size > limit).then_some(GatewayError::HeadTooLarge)
        }
        _ => None,
    }
}

// The rarer endpoints' futures (agents, tools, `/mcp`) are boxed where they
// are awaited: an async fn's state is as large as its largest await, and
// this one is moved on every request, so an inline agent run would make
// every chat completion copy it.
async fn dispatch(
    gateway: &'static Gateway,
    connection: &ConnState,
    request: Request<Incoming>,
    record: &mut Record,
) -> Result<Response<ResponseBody>, GatewayError> {
    let path = request.uri().path();
    let method = request.method();
    let is_get = method == Method::GET || method == Method::HEAD;
    let get_only = || GatewayError::MethodNotAllowed { allow: "GET, HEAD" };
    match path {
        "/v1/chat/completions" | "/v1/messages" | "/v1/messages/count_tokens" => {
            record.route = match path {
                "/v1/chat/completions" => Route::ChatCompletions,
                "/v1/messages" => Route::Messages,
                _ => Route::CountTokens,
            };
            if record.route != Route::ChatCompletions {
                record.shape = Shape::Anthropic;
            }
            if method != Method::POST {
                return Err(GatewayError::MethodNotAllowed { allow: "POST" });
            }
            let caller = caller_of(gateway, connection, request.headers()).await?;
            record.caller = Some(caller.clone());
            let (parts, body) = request.into_parts();
            let body = read_body(gateway, connection, &parts.headers, body).await?;
            let request_id = record.request_id.clone();
            let model = &mut record.model;
            let headers = parts.headers;
            let endpoint = match record.route {
                Route::ChatCompletions => Endpoint::ChatCompletions,
                Route::Messages => Endpoint::Messages,
                _ => Endpoint::CountTokens,
            };
            if endpoint != Endpoint::CountTokens && agents::may_name_agent(gateway, &body) {
                let request = (&headers, &body, &request_id);
                let answer = match endpoint {
                    Endpoint::ChatCompletions => {
                        Box::pin(agents::chat(gateway, &caller, request, model)).await
                    }
                    _ => Box::pin(agents::messages(gateway, &caller, request, model)).await,
                };
                if let Some(answer) = answer {
                    return answer.inspect_err(|error| note_denial(gateway, error));
                }
            }
            let request = (headers, body, &request_id);
            failover::serve(gateway, (endpoint, caller), request, model)
                .await
                .inspect_err(|error| note_denial(gateway, error))
        }
        "/v1/models" => {
            record.route = Route::Models;
            record.shape = protocol_of(request.headers());
            is_get.then_some(()).ok_or_else(get_only)?;
            let caller = caller_of(gateway, connection, request.headers()).await?;
            let answer = models::models(gateway, record.shape, caller.clone());
            record.caller = Some(caller);
            Ok(answer)
        }
        p if p.starts_with("/v1/models/") => {
            record.route = Route::Models;
            record.shape = protocol_of(request.headers());
            is_get.then_some(()).ok_or_else(get_only)?;
            let caller = caller_of(gateway, connection, request.headers()).await?;
            let answer = models::model(
                gateway,
                &p["/v1/models/".len()..],
                record.shape,
                caller.clone(),
            );
            record.caller = Some(caller);
            answer
        }
        "/v1/tools" => {
            record.route = Route::Tools;
            is_get.then_some(()).ok_or_else(get_only)?;
            let caller = caller_of(gateway, connection, request.headers()).await?;
            let answer = tools::list(gateway, &caller);
            record.caller = Some(caller);
            Ok(answer)
        }
        p if tool_name(p).is_some() => {
            record.route = Route::Tools;
            if method != Method::POST {
                return Err(GatewayError::MethodNotAllowed { allow: "POST" });
            }
            let name = tool_name(p).unwrap_or_default().to_owned();
            let caller = caller_of(gateway, connection, request.headers()).await?;
            record.caller = Some(caller.clone());
            let (parts, body) = request.into_parts();
            let body = read_body(gateway, connection, &parts.headers, body).await?;
            let request_id = record.request_id.to_str().unwrap_or_default();
            Box::pin(tools::invoke(gateway, &name, &caller, &body, request_id)).await
        }
        "/mcp" => {
            record.route = Route::Mcp;
            // Stateless: no sessions, so no server-initiated GET stream and nothing to DELETE.
            if method != Method::POST {
                return Err(GatewayError::MethodNotAllowed { allow: "POST" });
            }
            let caller = caller_of(gateway, connection, request.headers()).await?;
            record.caller = Some(caller.clone());
            let (parts, body) = request.into_parts();
            let body = read_body(gateway, connection, &parts.headers, body).await?;
            let request_id = record.request_id.to_str().unwrap_or_default();
            Ok(Box::pin(mcp::serve(
                gateway,
                &caller,
                &parts.headers,
                &body,
                request_id,
            ))
            .await)
        }
        // Claude Code's warm-up probe: any answer will do, so the cheapest.
        "/api/hello" => {
            record.route = Route::Health;
            is_get.then_some(()).ok_or_else(get_only)?;
            Ok(Response::new(ResponseBody::full(Bytes::new())))
        }
        "/health" | "/healthz" | "/ready" | "/version" => {
            record.route = Route::Health;
            is_get.then_some(()).ok_or_else(get_only)?;
            Ok(match path {
                "/health" => ops::health(gateway),
                "/healthz" => ops::healthz(),
                "/ready" => ops::ready(gateway),
                _ => ops::version(gateway),
            })
        }
        "/health/providers" => {
            record.route = Route::Health;
            is_get.then_some(()).ok_or_else(get_only)?;
            auth::authenticate_admin(&gateway.config.auth, request.headers())
                .inspect_err(|error| note_denial(gateway, error))?;
            Ok(providers::providers(gateway))
        }
        "/v1/agents" => {
            record.route = Route::Tools;
            is_get.then_some(()).ok_or_else(get_only)?;
            let caller = caller_of(gateway, connection, request.headers()).await?;
            let answer = agents::list(gateway, &caller);
            record.caller = Some(caller);
            Ok(answer)
        }
        "/agents/refresh" => {
            if method != Method::POST {
                return Err(GatewayError::MethodNotAllowed { allow: "POST" });
            }
            auth::require_admin(&gateway.config.auth, request.headers())
                .inspect_err(|error| note_denial(gateway, error))?;
            Ok(agents::refresh(gateway))
        }
        "/upstreams/refresh" => {
            if method != Method::POST {
                return Err(GatewayError::MethodNotAllowed { allow: "POST" });
            }
            auth::require_admin(&gateway.config.auth, request.headers())
                .inspect_err(|error| note_denial(gateway, error))?;
            admin::refresh(gateway)
        }
        "/security/refresh" => {
            if method != Method::POST {
                return Err(GatewayError::MethodNotAllowed { allow: "POST" });
            }
            auth::require_admin(&gateway.config.auth, request.headers())
                .inspect_err(|error| note_denial(gateway, error))?;
            security::refresh(gateway)
        }
        "/tools/refresh" => {
            if method != Method::POST {
                return Err(GatewayError::MethodNotAllowed { allow: "POST" });
            }
            auth::require_admin(&gateway.config.auth, request.headers())
                .inspect_err(|error| note_denial(gateway, error))?;
            Ok(Box::pin(tools::refresh(gateway)).await)
        }
        p if let Some(name) = upstream_in_maintenance_path(p) => {
            auth::require_admin(&gateway.config.auth, request.headers())
                .inspect_err(|error| note_denial(gateway, error))?;
            admin::maintenance(gateway, name, method)
        }
        "/metrics" => {
            record.route = Route::Metrics;
            is_get.then_some(()).ok_or_else(get_only)?;
            auth::authenticate_admin(&gateway.config.auth, request.headers())
                .inspect_err(|error| note_denial(gateway, error))?;
            Ok(ops::metrics(gateway))
        }
        _ => Err(GatewayError::UnknownPath {
            method: capped(method.as_str()).to_string(),
            path: capped(path).to_string(),
        }),
    }
}

/// `{name}` of `/v1/tools/{name}/invoke`.
fn tool_name(path: &str) -> Option<&str> {
    path.strip_prefix("/v1/tools/")?.strip_suffix("/invoke")
}

/// The protocol of a request that could be either: Anthropic clients send
/// `anthropic-version` on every request.
fn protocol_of(headers: &http::HeaderMap) -> Shape {
    if headers.contains_key("anthropic-version") {
        Shape::Anthropic
    } else {
        Shape::OpenAi
    }
}

/// A `Host` value: `uri-host [":" port]` (RFC 9110 §7.2), or empty. A byte
/// scan (the `Authority` parser cost ~500 instructions per request): a
/// reg-name or IPv4 of unreserved, sub-delims and `%`, or an IPv6 literal in
/// brackets, then an optional numeric port.
fn is_authority(host: &[u8]) -> bool {
    let (name, port) = match host.first() {
        Some(b'[') => match host.iter().position(|&b| b == b']') {
            Some(end) => {
                let literal = host.get(1..end).unwrap_or_default();
                if literal.is_empty()
                    || !literal
                        .iter()
                        .all(|b| b.is_ascii_hexdigit() || b".:".contains(b))
                {
                    return false;
                }
                (&[][..], host.get(end + 1..).unwrap_or_default())
            }
            None => return false,
        },
        _ => match host.iter().position(|&b| b == b':') {
            Some(at) => (
                host.get(..at).unwrap_or_default(),
                host.get(at..).unwrap_or_default(),
            ),
            None => (host, &[][..]),
        },
    };
    // unreserved, pct-encoded and sub-delims (RFC 3986 §3.2.2)
    let name_ok = name.iter().all(|b| {
        matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'%'
            | b'!' | b'$' | b'&' | b'\'' | b'('..=b',' | b';' | b'=')
    });
    let port_ok = match port.split_first() {
        None => true,
        Some((b':', digits)) => {
            digits.len() <= 5
                && digits.iter().all(u8::is_ascii_digit)
                && digits
                    .iter()
                    .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
                    <= u32::from(u16::MAX)
        }
        Some(_) => false,
    };
    name_ok && port_ok
}

/// Reads the request body whole. A client that ends its input first (the
/// socket wrapper holds that end back while a request is pending, see
/// `eof.rs`) will never complete it: that is an incomplete body, at once.
async fn read_body(
    gateway: &Gateway,
    connection: &ConnState,
    headers: &http::HeaderMap,
    body: Incoming,
) -> Result<bytes::Bytes, GatewayError> {
    let body = tokio::select! {
        biased;
        body = api::read_body(&gateway.config.server, headers, body) => body?,
        () = connection.client_eof() => return Err(GatewayError::BodyIncomplete),
    };
    connection.body_read();
    Ok(body)
}

/// The caller, or the denial (counted). Awaits only for a token checked
/// against keys fetched from a URL (the first fetch, an unknown `kid`).
/// The caller, answered without waiting: every key, and a token whose
/// JWKS is in force. The common path builds no future.
fn authenticate_now(
    gateway: &Gateway,
    connection: &ConnState,
    headers: &http::HeaderMap,
) -> Result<Caller, GatewayError> {
    connection.auth.authenticate(&gateway.auth, headers)
}

/// The caller of a request: at once (the connection's memo or the key
/// sets) or, for a token whose keys may still arrive, after a bounded wait;
/// a denial is counted by its reason either way.
async fn caller_of(
    gateway: &Gateway,
    connection: &ConnState,
    headers: &http::HeaderMap,
) -> Result<Caller, GatewayError> {
    match authenticate_now(gateway, connection, headers) {
        Err(error) if gateway.auth.may_wait(&error) => {
            authenticate(gateway, connection, headers).await
        }
        now => now.inspect_err(|error| note_denial(gateway, error)),
    }
}

/// The caller when a token's keys may still arrive from a JWKS URL (the
/// first fetch, or a forced one for an unknown `kid`): waits a bounded time.
async fn authenticate(
    gateway: &Gateway,
    connection: &ConnState,
    headers: &http::HeaderMap,
) -> Result<Caller, GatewayError> {
    connection
        .auth
        .authenticate_waiting(&gateway.auth, headers)
        .await
        .inspect_err(|error| note_denial(gateway, error))
}

/// Counts a denial by its reason (`gateway_auth_failures_total{reason}`).
pub fn note_denial(gateway: &Gateway, error: &GatewayError) {
    let reason = match error {
        GatewayError::MissingApiKey => AuthFailure::MissingKey,
        GatewayError::InvalidApiKey => AuthFailure::InvalidKey,
        GatewayError::AdminKeyRequired => AuthFailure::AdminKeyRequired,
        GatewayError::AdminDisabled => AuthFailure::AdminDisabled,
        GatewayError::ModelNotAllowed { .. } => AuthFailure::ModelNotAllowed,
        GatewayError::InvalidToken { problem, .. } => match problem {
            TokenProblem::Malformed => AuthFailure::MalformedToken,
            TokenProblem::AlgorithmNotAllowed => AuthFailure::TokenAlgorithm,
            TokenProblem::UnknownKey => AuthFailure::UnknownTokenKey,
            TokenProblem::BadSignature => AuthFailure::BadTokenSignature,
            TokenProblem::Expired | TokenProblem::NotYetValid => AuthFailure::ExpiredToken,
            TokenProblem::WrongIssuer => AuthFailure::WrongIssuer,
            TokenProblem::WrongAudience => AuthFailure::WrongAudience,
        },
        GatewayError::InsufficientScope(_) => AuthFailure::InsufficientScope,
        GatewayError::TokenTeamNotAllowed(_) => AuthFailure::TokenTeam,
        GatewayError::JwksUnavailable(_) => AuthFailure::JwksUnavailable,
        _ => return,
    };
    gateway.metrics.record_auth_failure(reason);
}

/// `{name}` of `/upstreams/{name}/maintenance`; `None` for any other path,
/// including `/upstreams/maintenance` (no name: the two affixes overlap).
fn upstream_in_maintenance_path(path: &str) -> Option<&str> {
    path.strip_prefix("/upstreams/")?
        .strip_suffix("/maintenance")
}

fn caller_name(caller: Option<&Caller>) -> &str {
    caller.map_or("", Caller::name)
}

#[cfg(test)]
mod tests {
    use super::is_authority;

    #[test]
    fn maintenance_paths_never_slice_out_of_bounds() {
        use super::upstream_in_maintenance_path as name;
        assert_eq!(name("/upstreams/openai/maintenance"), Some("openai"));
        assert_eq!(name("/upstreams//maintenance"), Some(""));
        assert_eq!(name("/upstreams/maintenance"), None);
        assert_eq!(name("/upstreams/x/other"), None);
    }

    #[test]
    fn host_values() {
        for good in ["gw", "127.0.0.1:8080", "[::1]:80", "api.example.com", ""] {
            assert!(is_authority(good.as_bytes()), "{good}");
        }
        for bad in [
            "g w",
            "a/b",
            "user@host",
            "host:port",
            "a b:80",
            "x\ty",
            "h:99999",
            "[zz]",
            "[::1",
            "a:1:2",
        ] {
            assert!(!is_authority(bad.as_bytes()), "{bad}");
        }
    }
}
