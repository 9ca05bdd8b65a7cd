//! `POST /v1/chat/completions`: read the body within limits, route by
//! `model`, rewrite `model`, and forward to the upstream (or the in-process
//! mock), passing the answer back.
//!
//! Non-streaming answers are read whole (bounded), scanned for `usage` and
//! sent as-is with the upstream's status. Streaming answers are forwarded
//! frame by frame through [`ObservedStream`]. Upstream error responses keep
//! their status and body. Not here: auth and route dispatch (`service.rs`).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, header};
use http_body_util::Full;
use hyper::body::Incoming;
use tokio::time::{Instant, timeout, timeout_at};

use crate::body::{CollectError, ResponseBody, collect_limited};
use crate::chat_request;
use crate::error::GatewayError;
use crate::gateway::{Gateway, HttpClient, Target};
use crate::metrics::UpstreamOutcome;
use crate::request_id;
use crate::sse::{ObservedStream, usage_in};
use crate::table::{Model, ModelId, Upstream};

/// Largest non-streaming upstream answer read into memory.
const MAX_UPSTREAM_BODY: usize = 64 << 20;

/// Handles one chat completion; sets `resolved` as soon as the model is known (for the request log).
pub async fn chat_completions(
    gateway: &'static Gateway,
    request: Request<Incoming>,
    request_id: &HeaderValue,
    resolved: &mut Option<ModelId>,
) -> Result<Response<ResponseBody>, GatewayError> {
    let (parts, body) = request.into_parts();
    let body = read_body(gateway, &parts.headers, body).await?;
    let (model, span) = route(gateway, &body)?;
    *resolved = Some(model.id);
    forward(gateway, model, body, span, &parts.headers, request_id).await
}

fn route(
    gateway: &Gateway,
    body: &[u8],
) -> Result<(&'static Model, std::ops::Range<usize>), GatewayError> {
    let head = chat_request::parse(body)?;
    let model = (gateway.config.resolve_model)(&head.model)
        .and_then(|id| gateway.config.model(id))
        .ok_or_else(|| GatewayError::ModelNotFound(head.model.to_string()))?;
    Ok((model, head.model_span))
}

async fn forward(
    gateway: &'static Gateway,
    model: &'static Model,
    body: Bytes,
    span: std::ops::Range<usize>,
    client_headers: &HeaderMap,
    request_id: &HeaderValue,
) -> Result<Response<ResponseBody>, GatewayError> {
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
    let rewrite = |body: Bytes| match gateway.upstream_model_json.get(usize::from(model.id.0)) {
        Some(upstream_model) => chat_request::rewrite_model(body, span, upstream_model),
        None => body,
    };
    match target {
        Target::Disabled(_) => Err(GatewayError::UpstreamDisabled {
            upstream: upstream.name,
        }),
        Target::Mock(behavior) => {
            let id = request_id.to_str().unwrap_or_default();
            let drain = gateway.drain.watch();
            let response = crate::mock::respond(behavior, &rewrite(body), id, drain).await;
            gateway.metrics.record_upstream(
                upstream.id,
                UpstreamOutcome::Status(response.status().as_u16()),
            );
            Ok(response)
        }
        Target::Http {
            client,
            chat_url,
            host,
            authorization,
        } => {
            // Built directly into a pre-sized map: the request builder converted
            // and re-hashed every name (~1,000 instructions per request).
            let mut request = Request::new(Full::new(rewrite(body)));
            *request.method_mut() = http::Method::POST;
            *request.uri_mut() = chat_url.clone();
            let headers = request.headers_mut();
            headers.reserve(8);
            headers.insert(header::HOST, host.clone());
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
            if let Some(authorization) = authorization {
                headers.insert(header::AUTHORIZATION, authorization.clone());
            }
            // One timer covers the head and, for a whole answer, the body
            // (a second one cost ~1,000 instructions per request).
            let deadline = Instant::now() + upstream.timeouts.total;
            let exchanged = exchange(gateway, client, upstream, model, request, request_id);
            timeout_at(deadline, exchanged).await.unwrap_or_else(|_| {
                gateway
                    .metrics
                    .record_upstream(upstream.id, UpstreamOutcome::Timeout);
                Err(GatewayError::UpstreamTimeout {
                    upstream: upstream.name,
                })
            })
        }
    }
}

/// Sends the request and reads the answer: for a stream, until its response
/// head; otherwise the whole body. The caller bounds it with one deadline.
async fn exchange(
    gateway: &'static Gateway,
    client: &HttpClient,
    upstream: &'static Upstream,
    model: &'static Model,
    request: Request<Full<Bytes>>,
    request_id: &HeaderValue,
) -> Result<Response<ResponseBody>, GatewayError> {
    let metrics = &gateway.metrics;
    let response = match client.request(request).await {
        Err(error) => {
            metrics.record_upstream(upstream.id, UpstreamOutcome::Unreachable);
            return Err(GatewayError::UpstreamUnreachable {
                upstream: upstream.name,
                detail: error_chain(&error),
            });
        }
        Ok(response) => response,
    };
    metrics.record_upstream(
        upstream.id,
        UpstreamOutcome::Status(response.status().as_u16()),
    );
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let is_stream = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if is_stream && parts.status.is_success() {
        let stream = ObservedStream::new(
            body,
            gateway,
            model.id,
            request_id.clone(),
            upstream.timeouts.stream_idle,
        );
        return Ok(Response::from_parts(
            parts,
            ResponseBody::Upstream(Box::new(stream)),
        ));
    }
    let bytes = match collect_limited(body, MAX_UPSTREAM_BODY).await {
        Err(error) => {
            let detail = match error {
                CollectError::TooLarge => format!("answer larger than {MAX_UPSTREAM_BODY} bytes"),
                CollectError::Body(error) => error.to_string(),
            };
            return Err(GatewayError::UpstreamInvalid {
                upstream: upstream.name,
                detail,
            });
        }
        Ok(bytes) => bytes,
    };
    if parts.status.is_success()
        && let Some(usage) = usage_in(&bytes)
    {
        metrics.record_tokens(model.id, usage.prompt_tokens, usage.completion_tokens);
    }
    Ok(Response::from_parts(parts, ResponseBody::full(bytes)))
}

/// Reads the client's body within the size limit and the body timeout.
async fn read_body(
    gateway: &Gateway,
    headers: &HeaderMap,
    body: Incoming,
) -> Result<Bytes, GatewayError> {
    let server = &gateway.config.server;
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

/// Headers that describe one connection, not the message, plus cookies we never pass on.
const HOP_BY_HOP: [header::HeaderName; 8] = [
    header::CONNECTION,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::TE,
    header::TRAILER,
    header::PROXY_AUTHENTICATE,
    header::CONTENT_LENGTH,
    header::SET_COOKIE,
];

/// Removes [`HOP_BY_HOP`], `keep-alive`, and every header the `Connection`
/// header names (RFC 9110 §7.6.1), in one pass over the few headers an
/// upstream sends (a `remove` per name would hash all nine names every time).
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut found: [Option<header::HeaderName>; 4] = Default::default();
    let mut extra = Vec::new();
    let mut count = 0;
    for name in headers.keys() {
        if HOP_BY_HOP.contains(name) || name.as_str() == "keep-alive" {
            match found.get_mut(count) {
                Some(slot) => *slot = Some(name.clone()),
                None => extra.push(name.clone()),
            }
            count += 1;
        }
    }
    for value in headers.get_all(header::CONNECTION) {
        let Ok(list) = value.to_str() else { continue };
        let named = list.split(',').map(str::trim).filter(|t| !t.is_empty());
        extra.extend(
            named.filter_map(|token| header::HeaderName::from_bytes(token.as_bytes()).ok()),
        );
    }
    for name in found.into_iter().flatten().chain(extra) {
        headers.remove(name);
    }
}

/// `error: cause: cause` without anything secret (hyper errors carry no headers).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_hop_by_hop_and_connection_named_headers() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "keep-alive, X-Upstream-Private"),
            ("connection", "x-second"),
            ("keep-alive", "timeout=5"),
            ("x-upstream-private", "secret"),
            ("x-second", "2"),
            ("transfer-encoding", "chunked"),
            ("content-type", "application/json"),
            ("x-request-id", "abc"),
        ] {
            headers.append(name, HeaderValue::from_static(value));
        }
        strip_hop_by_hop(&mut headers);
        let mut left: Vec<_> = headers.keys().map(|k| k.as_str()).collect();
        left.sort_unstable();
        assert_eq!(left, ["content-type", "x-request-id"]);
    }
}
