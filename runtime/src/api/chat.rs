//! `POST /v1/chat/completions`: read the body within limits, route by
//! `model`, splice the upstream's model name in, make one attempt at the
//! upstream (or the in-process mock), record its outcome once, and pass the
//! answer back.
//!
//! Non-streaming answers are read whole (bounded), scanned for `usage` and
//! sent as-is with the upstream's status. Streaming answers are forwarded
//! frame by frame through [`ObservedStream`]. Upstream error responses keep
//! their status and body. Not here: auth and route dispatch (`http/router.rs`).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, header};
use http_body_util::Full;
use hyper::body::Incoming;
use tokio::time::{Instant, timeout};

use crate::body::{CollectError, ResponseBody, collect_limited};
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::observe::metrics::UpstreamOutcome;
use crate::provider::{mock, openai};
use crate::request_id;
use crate::table::{Model, ModelId, Server, Upstream};
use crate::upstream::{self, Answer, HttpTarget, Outcome, Target};

/// Handles one chat completion; sets `resolved` as soon as the model is known (for the request log).
pub async fn chat_completions(
    gateway: &'static Gateway,
    request: Request<Incoming>,
    request_id: &HeaderValue,
    resolved: &mut Option<ModelId>,
) -> Result<Response<ResponseBody>, GatewayError> {
    let (parts, body) = request.into_parts();
    let body = read_body(&gateway.config.server, &parts.headers, body).await?;
    let head = openai::parse(&body)?;
    let model = (gateway.config.resolve_model)(&head.model)
        .and_then(|id| gateway.config.model(id))
        .ok_or_else(|| GatewayError::ModelNotFound(head.model.to_string()))?;
    let span = head.model_span;
    *resolved = Some(model.id);
    let index = usize::from(model.upstream.0);
    let (Some(upstream), Some(target)) = (
        gateway.config.upstreams.get(index),
        gateway.targets.get(index),
    ) else {
        return Err(GatewayError::UpstreamDisabled {
            upstream: "unknown",
        });
    };
    // Splice the upstream's model name in only once the request will be sent.
    let body = match gateway.upstream_model_json.get(usize::from(model.id.0)) {
        Some(upstream_model) => openai::rewrite_model(body, span, upstream_model),
        None => body,
    };
    match target {
        Target::Disabled(_) => Err(GatewayError::UpstreamDisabled {
            upstream: upstream.name,
        }),
        Target::Mock(behavior) => {
            let id = request_id.to_str().unwrap_or_default();
            let response = mock::respond(behavior, &body, id, gateway.drain.watch()).await;
            let status = response.status().as_u16();
            record(gateway, upstream, Outcome::Status(status));
            Ok(response)
        }
        Target::Http(http) => {
            let request = upstream_request(http, body, &parts.headers, request_id);
            let deadline = Instant::now() + upstream.timeouts.total;
            let attempt = upstream::attempt(&http.client, upstream.name, request, deadline).await;
            record(gateway, upstream, attempt.outcome);
            Ok(answer(
                gateway,
                upstream,
                model,
                attempt.answer?,
                request_id,
            ))
        }
    }
}

/// The one place an upstream outcome is counted.
fn record(gateway: &Gateway, upstream: &Upstream, outcome: Outcome) {
    let outcome = match outcome {
        Outcome::Status(status) => UpstreamOutcome::Status(status),
        Outcome::Unreachable => UpstreamOutcome::Unreachable,
        Outcome::Timeout => UpstreamOutcome::Timeout,
    };
    gateway.metrics.record_upstream(upstream.id, outcome);
}

/// The upstream's answer as the client's: a stream observed on the way, or
/// the whole body with its usage counted.
fn answer(
    gateway: &'static Gateway,
    upstream: &'static Upstream,
    model: &'static Model,
    answer: Answer,
    request_id: &HeaderValue,
) -> Response<ResponseBody> {
    match answer {
        Answer::Stream(parts, body) => {
            let stream = openai::ObservedStream::new(
                body,
                &gateway.metrics,
                (model.id, model.name),
                request_id.clone(),
                upstream.timeouts.stream_idle,
                gateway.drain.watch(),
            );
            Response::from_parts(parts, ResponseBody::stream(stream))
        }
        Answer::Whole(parts, bytes) => {
            if parts.status.is_success()
                && let Some(usage) = openai::usage_in(&bytes)
            {
                let (prompt, completion) = (usage.prompt_tokens, usage.completion_tokens);
                gateway.metrics.record_tokens(model.id, prompt, completion);
            }
            Response::from_parts(parts, ResponseBody::full(bytes))
        }
    }
}

/// The upstream request, its headers built directly into a pre-sized map
/// (the request builder converted and re-hashed every name: ~1,000
/// instructions per request).
fn upstream_request(
    http: &HttpTarget,
    body: Bytes,
    client_headers: &HeaderMap,
    request_id: &HeaderValue,
) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = http.chat_url.clone();
    let headers = request.headers_mut();
    headers.reserve(8);
    headers.insert(header::HOST, http.host.clone());
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(request_id::HEADER, request_id.clone());
    for name in [header::ACCEPT, header::USER_AGENT] {
        if let Some(value) = client_headers.get(&name) {
            headers.insert(name, value.clone());
        }
    }
    if let Some(authorization) = &http.authorization {
        headers.insert(header::AUTHORIZATION, authorization.clone());
    }
    request
}

/// Reads the client's body within the size limit and the body timeout.
async fn read_body(
    server: &Server,
    headers: &HeaderMap,
    body: Incoming,
) -> Result<Bytes, GatewayError> {
    let limit = server.max_request_body;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(GatewayError::PayloadTooLarge { limit });
    }
    let limit_bytes = usize::try_from(limit).unwrap_or(usize::MAX);
    match timeout(server.body_read_timeout, collect_limited(body, limit_bytes)).await {
        Err(_) => Err(GatewayError::BodyTimeout),
        Ok(Err(CollectError::TooLarge)) => Err(GatewayError::PayloadTooLarge { limit }),
        Ok(Err(CollectError::Body(_))) => Err(GatewayError::BodyIncomplete),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}
