//! `POST /v1/chat/completions`: route the (already read) body by `model`,
//! make one attempt at the model's upstream, record its outcome once, and
//! pass the answer back.
//!
//! - OpenAI-compatible upstream or the in-process mock: passthrough, only
//!   `model` spliced; a plain answer is read whole (bounded) and scanned for
//!   `usage`, a stream is relayed frame by frame (`provider/relay.rs`);
//!   upstream errors keep their status and body.
//! - Anthropic upstream: the request is translated to a Messages request
//!   (`translate/`; `max_tokens` is the model's compiled
//!   `default_max_tokens` when the client sets none), the answer (plain,
//!   stream, or error) back into the chat completions shape.
//!
//! Not here: auth, body reading and route dispatch (`http/router.rs`).

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, header};
use tokio::time::Instant;

use super::{Routed, answer_error, note_dropped, record, request_error, unix_now};
use crate::body::ResponseBody;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::provider::relay::RelayStream;
use crate::provider::translated::ToChat;
use crate::provider::{mock, openai};
use crate::table::ModelId;
use crate::translate::{self, MessagesSseToChat};
use crate::upstream::{self, Answer, HttpTarget, Target, WireFormat};

/// Handles one chat completion; sets `resolved` as soon as the model is known (for the request log).
pub async fn chat_completions(
    gateway: &'static Gateway,
    client_headers: HeaderMap,
    body: Bytes,
    request_id: &HeaderValue,
    resolved: &mut Option<ModelId>,
) -> Result<Response<ResponseBody>, GatewayError> {
    let routed = super::route(gateway, body, resolved)?;
    match routed.target {
        Target::Mock(behavior) => {
            let id = request_id.to_str().unwrap_or_default();
            let drain = gateway.drain.watch();
            let response = mock::respond(behavior, &routed.spliced, id, drain).await;
            let status = response.status().as_u16();
            record(gateway, routed.upstream, upstream::Outcome::Status(status));
            Ok(response)
        }
        Target::Http(http) if http.wire == WireFormat::Anthropic => {
            translated(gateway, &routed, http, client_headers, request_id).await
        }
        Target::Http(http) => {
            let request = upstream::request(
                http,
                &http.url,
                routed.spliced.clone(),
                client_headers,
                request_id,
                false,
            );
            let deadline = Instant::now() + routed.upstream.timeouts.total;
            let name = routed.upstream.name;
            let attempt = upstream::attempt(&http.client, name, request, deadline).await;
            record(gateway, routed.upstream, attempt.outcome);
            Ok(passthrough(gateway, &routed, attempt.answer?, request_id))
        }
        Target::Disabled(_) => Err(GatewayError::UpstreamDisabled {
            upstream: routed.upstream.name,
        }),
    }
}

/// The upstream's answer as the client's: a stream relayed and observed, or
/// the whole body with its usage counted.
fn passthrough(
    gateway: &'static Gateway,
    routed: &Routed,
    answer: Answer,
    request_id: &HeaderValue,
) -> Response<ResponseBody> {
    let model = routed.model;
    match answer {
        Answer::Stream(parts, body) => {
            let stream = RelayStream::new(
                body,
                openai::SseObserver::default(),
                &gateway.metrics,
                (model.id, model.name),
                request_id.clone(),
                routed.upstream.timeouts.stream_idle,
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

/// Chat client -> Anthropic upstream: the request, then the answer, translated.
async fn translated(
    gateway: &'static Gateway,
    routed: &Routed,
    http: &HttpTarget,
    client_headers: HeaderMap,
    request_id: &HeaderValue,
) -> Result<Response<ResponseBody>, GatewayError> {
    let model = routed.model;
    let request = translate::chat_request_to_messages(
        &routed.spliced,
        model.upstream_model,
        model.default_max_tokens,
    )
    .map_err(request_error)?;
    note_dropped(gateway, &request, request_id);
    let upstream_request = upstream::request(
        http,
        &http.url,
        request.body,
        client_headers,
        request_id,
        true,
    );
    let deadline = Instant::now() + routed.upstream.timeouts.total;
    let name = routed.upstream.name;
    let attempt = upstream::attempt(&http.client, name, upstream_request, deadline).await;
    record(gateway, routed.upstream, attempt.outcome);
    match attempt.answer? {
        Answer::Stream(mut parts, body) => {
            let wire = ToChat(MessagesSseToChat::new(
                model.name,
                request.include_usage,
                unix_now(),
            ));
            let stream = RelayStream::new(
                body,
                wire,
                &gateway.metrics,
                (model.id, model.name),
                request_id.clone(),
                routed.upstream.timeouts.stream_idle,
                gateway.drain.watch(),
            );
            parts.headers.remove(header::CONTENT_LENGTH);
            Ok(Response::from_parts(parts, ResponseBody::stream(stream)))
        }
        Answer::Whole(mut parts, bytes) if parts.status.is_success() => {
            if let Some(usage) = crate::provider::anthropic::usage_in_message(&bytes) {
                let (prompt, completion) = (usage.prompt_tokens, usage.completion_tokens);
                gateway.metrics.record_tokens(model.id, prompt, completion);
            }
            let id = request_id.to_str().unwrap_or_default();
            let body = translate::messages_response_to_chat(&bytes, model.name, id, unix_now())
                .map_err(|e| answer_error(routed.upstream, &e))?;
            json_content(&mut parts.headers);
            Ok(Response::from_parts(parts, ResponseBody::full(body)))
        }
        Answer::Whole(mut parts, bytes) => {
            let (status, body) = translate::error_to_openai(parts.status.as_u16(), &bytes);
            parts.status = http::StatusCode::from_u16(status).unwrap_or(parts.status);
            json_content(&mut parts.headers);
            Ok(Response::from_parts(parts, ResponseBody::full(body)))
        }
    }
}

/// A translated JSON body: its type, and no stale length.
pub fn json_content(headers: &mut HeaderMap) {
    headers.remove(header::CONTENT_LENGTH);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
}
