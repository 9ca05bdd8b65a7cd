//! The endpoints, one module per family: chat completions, Anthropic
//! messages, models, operational endpoints, provider health, tools (and
//! their MCP server) and the admin endpoints. Each receives the gateway state from the router and hands
//! lower layers only what they need. A model-routed request goes through
//! `failover.rs` (deployments, retries, fallbacks, one deadline), which
//! calls an endpoint's one try per deployment; the helpers here are what
//! those tries share: reading the body, one bounded upstream call recorded
//! once, the stream relay, and turning translation errors into gateway
//! errors.

pub mod admin;
pub mod agents;
pub mod chat;
pub mod failover;
pub mod mcp;
pub mod messages;
pub mod models;
pub mod ops;
pub mod providers;
pub mod security;
pub mod tools;

use bytes::Bytes;
use http::{HeaderMap, header};
use hyper::body::Incoming;
use tokio::time::{Instant, timeout};

use crate::body::{CollectError, collect_limited};
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::observe::metrics::{TimeoutKind, UpstreamOutcome};
use crate::provider::openai;
use crate::table::{Deployment, Model, Server, Upstream};
use crate::translate::{TranslateError, Translated};
use crate::upstream::{self, Answer, HttpTarget, Lease, Outcome, Target};

/// One try of a request at one deployment: what every model-routed endpoint needs.
pub struct Routed {
    pub model: &'static Model,
    pub deployment: &'static Deployment,
    pub upstream: &'static Upstream,
    pub target: &'static Target,
    /// The body with the deployment's model name spliced in (passthrough).
    pub spliced: Bytes,
    /// The client asked for a stream: the first-byte timeout applies.
    pub stream: bool,
    /// The request's deadline (the requested model's `deadline`).
    pub deadline: Instant,
    /// The try's bookkeeping; a stream's relay takes it and settles it at the end.
    pub lease: Option<Lease>,
    /// `Some` when another try may follow: the client headers it would
    /// forward again, set aside while this try's request is built.
    pub replay: Option<Vec<(http::HeaderName, http::HeaderValue)>>,
    /// The request's quota shares: settled by the answer that reports the
    /// usage (a stream's relay takes it), else handed back to the failover loop.
    pub ticket: Option<crate::policy::Ticket>,
}

impl Routed {
    fn started(&self) -> Instant {
        self.lease
            .as_ref()
            .map_or_else(Instant::now, Lease::started)
    }

    /// When this try must be over: its upstream's `timeout.total` from the
    /// try's start, or the request's deadline if that comes first.
    fn total_deadline(&self) -> Instant {
        (self.started() + self.upstream.timeouts.total).min(self.deadline)
    }
}

/// One attempt at the routed deployment's HTTP upstream: `body` POSTed to
/// `url`, its head (and a stream's first event) awaited until the first-byte
/// timeout (streams) or the total timeout (whole answers), both capped by
/// the request's deadline; its outcome recorded once.
pub async fn call(
    gateway: &Gateway,
    routed: &mut Routed,
    http: &HttpTarget,
    (url, body): (&http::Uri, Bytes),
    headers: http::HeaderMap,
    request_id: &http::HeaderValue,
    translated: bool,
) -> Result<Answer, GatewayError> {
    let replay = routed.replay.as_mut();
    let request = upstream::request(http, url, body, headers, (request_id, translated), replay);
    let own_total = routed.started() + routed.upstream.timeouts.total;
    let total = own_total.min(routed.deadline);
    let first_byte = routed.started() + routed.upstream.timeouts.first_byte;
    // The request's deadline is to blame only when it comes before the try's own bound.
    let (deadline, kind) = match routed.stream && first_byte < total {
        true => (first_byte, TimeoutKind::FirstByte),
        false if own_total > routed.deadline => (total, TimeoutKind::Deadline),
        false => (total, TimeoutKind::Total),
    };
    let name = routed.upstream.name;
    let attempt = upstream::attempt(&http.client, name, request, deadline).await;
    record(gateway, routed.upstream, attempt.outcome);
    match &attempt.answer {
        Ok(answer) => {
            let success = match answer {
                Answer::Stream(..) => true,
                Answer::Whole(parts, _) => parts.status.is_success(),
            };
            if let (true, Some(lease)) = (success, &mut routed.lease) {
                lease.first_byte();
            }
        }
        Err(GatewayError::UpstreamTimeout { .. }) => {
            gateway.metrics.record_timeout(routed.upstream.id, kind);
            if kind == TimeoutKind::Deadline {
                return Err(GatewayError::DeadlineExceeded {
                    model: routed.model.name,
                    deadline_ms: millis(routed.model.deadline),
                });
            }
        }
        Err(GatewayError::UpstreamUnreachable { detail, .. }) if is_connect_timeout(detail) => {
            let upstream = routed.upstream.id;
            gateway
                .metrics
                .record_timeout(upstream, TimeoutKind::Connect);
        }
        Err(_) => {}
    }
    attempt.answer
}

/// Whether a client error chain says the connect timed out (hyper-util's
/// connector reports its `connect_timeout` so).
fn is_connect_timeout(detail: &str) -> bool {
    detail.contains("timed out") || detail.contains("timeout")
}

/// A duration in whole milliseconds.
pub fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// A streamed answer relayed to the client through `wire` (observed, or
/// translated), bounded by the try's total deadline; the relay takes the
/// try's lease and settles it when the stream ends.
pub fn relay<B, W>(
    gateway: &'static Gateway,
    routed: &mut Routed,
    body: B,
    wire: W,
    request_id: &http::HeaderValue,
) -> crate::body::ResponseBody
where
    B: http_body::Body<Data = Bytes> + Unpin + Send + 'static,
    W: crate::provider::relay::Wire,
{
    let model = routed.model;
    let bounds = crate::provider::relay::Bounds {
        idle: routed.upstream.timeouts.stream_idle,
        total: routed.total_deadline(),
        upstream: routed.upstream.id,
    };
    crate::body::ResponseBody::stream(crate::provider::relay::RelayStream::new(
        body,
        wire,
        &gateway.metrics,
        (model.id, model.name),
        request_id.clone(),
        bounds,
        gateway.drain.watch(),
        (routed.lease.take(), routed.ticket.take()),
    ))
}

/// Counts the tokens of a whole answer, read by the wire format's `usage`,
/// and settles the request's quota shares with them.
pub fn count_tokens(gateway: &Gateway, routed: &mut Routed, usage: Option<openai::Usage>) {
    if let Some(usage) = usage {
        let (prompt, completion) = (usage.prompt_tokens, usage.completion_tokens);
        gateway
            .metrics
            .record_tokens(routed.model.id, prompt, completion);
        if let Some(ticket) = routed.ticket.take() {
            ticket.settle(prompt, completion, usage.cached_prompt_tokens);
        }
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
