//! The endpoints, one module per family: chat completions, Anthropic
//! messages, models, operational endpoints. Each receives the gateway state
//! from the router and hands lower layers only what they need; the helpers
//! here are what every model-routed endpoint shares: reading the body,
//! resolving the model to its upstream, recording an attempt's outcome once,
//! and turning translation errors into gateway errors.

pub mod chat;
pub mod messages;
pub mod models;
pub mod ops;

use bytes::Bytes;
use http::{HeaderMap, header};
use hyper::body::Incoming;
use tokio::time::timeout;

use crate::body::{CollectError, collect_limited};
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::observe::metrics::UpstreamOutcome;
use crate::provider::openai;
use crate::table::{Model, ModelId, Server, Upstream};
use crate::translate::{TranslateError, Translated};
use crate::upstream::{self, Answer, HttpTarget, Outcome, Target};

/// A request routed to its model: what every model-routed endpoint needs.
pub struct Routed {
    pub model: &'static Model,
    pub upstream: &'static Upstream,
    pub target: &'static Target,
    /// The body with the upstream's model name spliced in (passthrough).
    pub spliced: Bytes,
}

/// Parses the head (`model`, `messages`, `stream`: the same in both
/// protocols), resolves the model and its upstream, and sets `resolved` for
/// the request log as soon as the model is known.
pub fn route(
    gateway: &'static Gateway,
    body: Bytes,
    resolved: &mut Option<ModelId>,
) -> Result<Routed, GatewayError> {
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
    if let Target::Disabled(_) = target {
        return Err(GatewayError::UpstreamDisabled {
            upstream: upstream.name,
        });
    }
    // Splice the upstream's model name in only once the request will be sent.
    let spliced = match gateway.upstream_model_json.get(usize::from(model.id.0)) {
        Some(upstream_model) => openai::rewrite_model(body, span, upstream_model),
        None => body,
    };
    Ok(Routed {
        model,
        upstream,
        target,
        spliced,
    })
}

/// One attempt at the routed model's HTTP upstream: `body` POSTed to `url`
/// within the upstream's total timeout, its outcome recorded once.
pub async fn call(
    gateway: &Gateway,
    routed: &Routed,
    http: &HttpTarget,
    (url, body): (&http::Uri, Bytes),
    headers: http::HeaderMap,
    request_id: &http::HeaderValue,
    translated: bool,
) -> Result<Answer, GatewayError> {
    let request = upstream::request(http, url, body, headers, request_id, translated);
    let deadline = tokio::time::Instant::now() + routed.upstream.timeouts.total;
    let name = routed.upstream.name;
    let attempt = upstream::attempt(&http.client, name, request, deadline).await;
    record(gateway, routed.upstream, attempt.outcome);
    attempt.answer
}

/// A streamed answer relayed to the client through `wire` (observed, or translated).
pub fn relay<B, W>(
    gateway: &'static Gateway,
    routed: &Routed,
    body: B,
    wire: W,
    request_id: &http::HeaderValue,
) -> crate::body::ResponseBody
where
    B: http_body::Body<Data = Bytes> + Unpin + Send + 'static,
    W: crate::provider::relay::Wire,
{
    let model = routed.model;
    crate::body::ResponseBody::stream(crate::provider::relay::RelayStream::new(
        body,
        wire,
        &gateway.metrics,
        (model.id, model.name),
        request_id.clone(),
        routed.upstream.timeouts.stream_idle,
        gateway.drain.watch(),
    ))
}

/// Counts the tokens of a whole answer, read by the wire format's `usage`.
pub fn count_tokens(gateway: &Gateway, routed: &Routed, usage: Option<openai::Usage>) {
    if let Some(usage) = usage {
        let (prompt, completion) = (usage.prompt_tokens, usage.completion_tokens);
        gateway
            .metrics
            .record_tokens(routed.model.id, prompt, completion);
    }
}

/// The one place an upstream outcome is counted.
pub fn record(gateway: &Gateway, upstream: &Upstream, outcome: Outcome) {
    let outcome = match outcome {
        Outcome::Status(status) => UpstreamOutcome::Status(status),
        Outcome::Unreachable => UpstreamOutcome::Unreachable,
        Outcome::Timeout => UpstreamOutcome::Timeout,
    };
    gateway.metrics.record_upstream(upstream.id, outcome);
}

/// A translation that failed on the client's request: a 400 naming the field.
pub fn request_error(error: TranslateError) -> GatewayError {
    match error {
        TranslateError::InvalidJson(detail) => GatewayError::InvalidJson(detail),
        TranslateError::Invalid { param, message } => GatewayError::InvalidField { param, message },
        TranslateError::Unsupported { param, message } => {
            GatewayError::UnsupportedField { param, message }
        }
    }
}

/// A translation that failed on the upstream's answer: the upstream's fault.
pub fn answer_error(upstream: &Upstream, error: &TranslateError) -> GatewayError {
    GatewayError::UpstreamInvalid {
        upstream: upstream.name,
        detail: format!("its answer could not be translated: {error}"),
    }
}

/// Logs and counts what a translation dropped on purpose.
pub fn note_dropped(gateway: &Gateway, translated: &Translated, request_id: &http::HeaderValue) {
    if translated.dropped.is_empty() && translated.unknown.is_empty() {
        return;
    }
    gateway
        .metrics
        .record_dropped_fields(translated.dropped.len() + translated.unknown.len());
    tracing::info!(
        event = "translation.dropped_fields",
        request_id = request_id.to_str().unwrap_or_default(),
        dropped = ?translated.dropped,
        unknown = ?translated.unknown,
    );
}

/// Seconds since the Unix epoch, for translated answers' `created`.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Reads the client's body within the size limit and the body timeout.
pub async fn read_body(
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
