//! `POST /v1/messages` and `POST /v1/messages/count_tokens`: the Anthropic
//! Messages API, for Anthropic clients such as Claude Code.
//!
//! - Anthropic upstream: passthrough, only `model` spliced; the client's
//!   `anthropic-*` headers and unknown fields travel as sent; the upstream's
//!   status, error body and headers (`retry-after`, `x-should-retry`,
//!   `anthropic-ratelimit-*`, `request-id`) come back unchanged; a stream is
//!   relayed event by event while its usage is read.
//! - OpenAI-compatible upstream or the in-process mock: the request is
//!   translated to chat completions (`translate/`), the answer back into
//!   Messages (plain, stream with `ping`s, or error).
//! - `count_tokens`: exact from an Anthropic upstream, otherwise an estimate,
//!   marked by the `x-gateway-token-count: estimate` header.
//!
//! Not here: auth, body reading and route dispatch (`http/router.rs`).

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::BodyExt;

use super::chat::json_content;
use super::count_tokens as count_tokens_of;
use super::{Routed, answer_error, call, note_dropped, record, relay, request_error};
use crate::body::ResponseBody;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::provider::anthropic::{self, AnthropicObserver};
use crate::provider::mock;
use crate::provider::translated::ToMessages;
use crate::translate::{self, ChatSseToMessages};
use crate::upstream::{Answer, HttpTarget, Outcome, Target, WireFormat};

/// One `POST /v1/messages` try at the routed deployment.
pub async fn try_once(
    gateway: &'static Gateway,
    routed: &mut Routed,
    client_headers: HeaderMap,
    request_id: &HeaderValue,
) -> Result<Response<ResponseBody>, GatewayError> {
    match routed.target {
        Target::Http(http) if http.wire == WireFormat::Anthropic => {
            let body = (&http.url, routed.spliced.clone());
            let answer = call(
                gateway,
                routed,
                http,
                body,
                client_headers,
                request_id,
                false,
            );
            Ok(match answer.await? {
                Answer::Stream(parts, body) => {
                    let wire = AnthropicObserver::default();
                    Response::from_parts(parts, relay(gateway, routed, body, wire, request_id))
                }
                Answer::Whole(parts, bytes) => {
                    if parts.status.is_success() {
                        count_tokens_of(gateway, routed, anthropic::usage_in_message(&bytes));
                    }
                    Response::from_parts(parts, ResponseBody::full(bytes))
                }
            })
        }
        Target::Http(http) => translated(gateway, routed, http, client_headers, request_id).await,
        Target::Mock(behavior) => mocked(gateway, routed, behavior, request_id).await,
        Target::Disabled(_) => Err(GatewayError::UpstreamDisabled {
            upstream: routed.upstream.name,
        }),
    }
}

/// One `POST /v1/messages/count_tokens` try at the routed deployment:
/// exact from an Anthropic upstream, otherwise estimated here.
pub async fn count_tokens_once(
    gateway: &'static Gateway,
    routed: &mut Routed,
    client_headers: HeaderMap,
    request_id: &HeaderValue,
) -> Result<Response<ResponseBody>, GatewayError> {
    if let Target::Http(http) = routed.target
        && let (WireFormat::Anthropic, Some(url)) = (http.wire, &http.count_tokens_url)
    {
        let body = (url, routed.spliced.clone());
        let (parts, bytes) = match call(
            gateway,
            routed,
            http,
            body,
            client_headers,
            request_id,
            false,
        )
        .await?
        {
            Answer::Whole(parts, bytes) => (parts, bytes),
            Answer::Stream(parts, body) => (parts, collect_stream(body).await),
        };
        return Ok(Response::from_parts(parts, ResponseBody::full(bytes)));
    }
    let tokens = translate::estimate_input_tokens(&routed.spliced).map_err(request_error)?;
    let mut response = Response::new(ResponseBody::full(translate::count_tokens_body(tokens)));
    let (name, value) = translate::ESTIMATE_HEADER;
    let headers = response.headers_mut();
    json_content(headers);
    headers.insert(
        HeaderName::from_static(name),
        HeaderValue::from_static(value),
    );
    Ok(response)
}

async fn collect_stream(body: crate::upstream::primed::Primed) -> Bytes {
    body.collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default()
}

/// The request translated for an OpenAI-format upstream, with the input
/// token estimate its stream's `message_start` announces.
fn to_chat(
    gateway: &Gateway,
    routed: &Routed,
    request_id: &HeaderValue,
) -> Result<(translate::Translated, u64), GatewayError> {
    let upstream_model = routed.deployment.upstream_model;
    let request = translate::messages_request_to_chat(&routed.spliced, upstream_model)
        .map_err(request_error)?;
    note_dropped(gateway, &request, request_id);
    let estimate = translate::estimate_input_tokens(&routed.spliced).unwrap_or(0);
    Ok((request, estimate))
}

/// Messages client -> OpenAI-compatible upstream.
async fn translated(
    gateway: &'static Gateway,
    routed: &mut Routed,
    http: &HttpTarget,
    client_headers: HeaderMap,
    request_id: &HeaderValue,
) -> Result<Response<ResponseBody>, GatewayError> {
    let (request, estimate) = to_chat(gateway, routed, request_id)?;
    let body = (&http.url, request.body);
    match call(
        gateway,
        routed,
        http,
        body,
        client_headers,
        request_id,
        true,
    )
    .await?
    {
        Answer::Stream(mut parts, body) => {
            event_stream_content(&mut parts.headers);
            let stream = relay_to_messages(gateway, routed, body, estimate, request_id);
            Ok(Response::from_parts(parts, stream))
        }
        Answer::Whole(parts, bytes) => whole_to_messages(gateway, routed, parts, bytes),
    }
}

/// Messages client -> the built-in mock (which speaks OpenAI chat completions).
async fn mocked(
    gateway: &'static Gateway,
    routed: &mut Routed,
    behavior: &'static crate::table::MockBehavior,
    request_id: &HeaderValue,
) -> Result<Response<ResponseBody>, GatewayError> {
    let (request, estimate) = to_chat(gateway, routed, request_id)?;
    let id = request_id.to_str().unwrap_or_default();
    let response = mock::respond(behavior, &request.body, id).await;
    record(
        gateway,
        routed.upstream,
        Outcome::Status(response.status().as_u16()),
    );
    if let (true, Some(lease)) = (response.status().is_success(), &mut routed.lease) {
        lease.first_byte();
    }
    let (mut parts, body) = response.into_parts();
    match body {
        ResponseBody::Stream(stream) if parts.status.is_success() => {
            event_stream_content(&mut parts.headers);
            let relayed = relay_to_messages(gateway, routed, stream, estimate, request_id);
            Ok(Response::from_parts(parts, relayed))
        }
        body => {
            let bytes = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            whole_to_messages(gateway, routed, parts, bytes)
        }
    }
}

/// An OpenAI chunk stream relayed as Anthropic events.
fn relay_to_messages<B>(
    gateway: &'static Gateway,
    routed: &mut Routed,
    body: B,
    estimate: u64,
    request_id: &HeaderValue,
) -> ResponseBody
where
    B: http_body::Body<Data = Bytes> + Unpin + Send + 'static,
{
    let messages = ChatSseToMessages::new(routed.model.name).with_input_tokens(estimate);
    relay(gateway, routed, body, ToMessages(messages), request_id)
}

/// A whole chat completion (or an OpenAI error) as a Messages answer.
fn whole_to_messages(
    gateway: &Gateway,
    routed: &mut Routed,
    mut parts: http::response::Parts,
    bytes: Bytes,
) -> Result<Response<ResponseBody>, GatewayError> {
    json_content(&mut parts.headers);
    if !parts.status.is_success() {
        let (status, body) = translate::error_to_anthropic(parts.status.as_u16(), &bytes);
        parts.status = StatusCode::from_u16(status).unwrap_or(parts.status);
        return Ok(Response::from_parts(parts, ResponseBody::full(body)));
    }
    count_tokens_of(gateway, routed, crate::provider::openai::usage_in(&bytes));
    let body = translate::chat_response_to_messages(&bytes, routed.model.name)
        .map_err(|e| answer_error(routed.upstream, &e))?;
    Ok(Response::from_parts(parts, ResponseBody::full(body)))
}

/// A translated stream's content type.
fn event_stream_content(headers: &mut HeaderMap) {
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
}
