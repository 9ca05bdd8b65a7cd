//! `POST /v1/chat/completions`: route the (already read) body by
//! `model`, splice the upstream's model name in, make one attempt at the
//! upstream (or the in-process mock), record its outcome once, and pass the
//! answer back.
//!
//! Non-streaming answers are read whole (bounded), scanned for `usage` and
//! sent as-is with the upstream's status. Streaming answers are forwarded
//! frame by frame through the relay (`provider/relay.rs`). Upstream error responses keep
//! their status and body. Not here: auth and route dispatch (`http/router.rs`).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, header};
use http_body_util::Full;
use tokio::time::Instant;

use crate::body::ResponseBody;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::observe::metrics::UpstreamOutcome;
use crate::provider::relay::RelayStream;
use crate::provider::{mock, openai};
use crate::request_id;
use crate::table::{Model, ModelId, Upstream};
use crate::upstream::{self, Answer, HttpTarget, Outcome, Target};

/// Handles one chat completion; sets `resolved` as soon as the model is known (for the request log).
pub async fn chat_completions(
    gateway: &'static Gateway,
    client_headers: &HeaderMap,
    body: Bytes,
    request_id: &HeaderValue,
    resolved: &mut Option<ModelId>,
) -> Result<Response<ResponseBody>, GatewayError> {
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
            let request = upstream_request(http, body, client_headers, request_id);
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
            let stream = RelayStream::new(
                body,
                openai::SseObserver::default(),
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
