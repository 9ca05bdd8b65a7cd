//! `POST /v1/chat/completions`: one try at one deployment (the failover
//! loop in `failover.rs` picks the deployment, retries and falls back),
//! its outcome recorded once, the answer passed back.
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

use http::{HeaderMap, HeaderValue, Response, header};
use http_body_util::BodyExt;

use super::{
    Routed, answer_error, call, count_tokens, note_dropped, record, relay, request_error, unix_now,
};
use crate::body::ResponseBody;
use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::provider::translated::ToChat;
use crate::provider::{anthropic, mock, openai};
use crate::translate::{self, MessagesSseToChat};
use crate::upstream::{self, Answer, HttpTarget, Target, WireFormat};

/// One chat completion try at the routed deployment.
pub async fn try_once(
    gateway: &'static Gateway,
    routed: &mut Routed,
    client_headers: HeaderMap,
    request_id: &HeaderValue,
) -> Result<Response<ResponseBody>, GatewayError> {
    match routed.target {
        Target::Mock(behavior) => {
            let id = request_id.to_str().unwrap_or_default();
            let response = mock::respond(behavior, &routed.spliced, id).await;
            let status = response.status().as_u16();
            record(gateway, routed.upstream, upstream::Outcome::Status(status));
            if let (true, Some(lease)) = (response.status().is_success(), &mut routed.lease) {
                lease.first_byte();
            }
            let (parts, body) = response.into_parts();
            Ok(match body {
                // Relayed like an upstream's stream: idle and drain deadlines, tokens, the log line.
                ResponseBody::Stream(stream) => {
                    let wire = openai::SseObserver::default();
                    Response::from_parts(parts, relay(gateway, routed, stream, wire, request_id))
                }
                // A whole answer is counted (and settles the quotas) like an upstream's.
                body => {
                    let bytes = body
                        .collect()
                        .await
                        .map(|c| c.to_bytes())
                        .unwrap_or_default();
                    if parts.status.is_success() {
                        count_tokens(gateway, routed, openai::usage_in(&bytes));
                    }
                    Response::from_parts(parts, ResponseBody::full(bytes))
                }
            })
        }
        Target::Http(http) if http.wire == WireFormat::Anthropic => {
            translated(gateway, routed, http, client_headers, request_id).await
        }
        Target::Http(http) => {
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
                    let wire = openai::SseObserver::default();
                    Response::from_parts(parts, relay(gateway, routed, body, wire, request_id))
                }
                Answer::Whole(parts, bytes) => {
                    if parts.status.is_success() {
                        count_tokens(gateway, routed, openai::usage_in(&bytes));
                    }
                    Response::from_parts(parts, ResponseBody::full(bytes))
                }
            })
        }
        Target::Disabled(_) => Err(GatewayError::UpstreamDisabled {
            upstream: routed.upstream.name,
        }),
    }
}

/// Chat client -> Anthropic upstream: the request, then the answer, translated.
async fn translated(
    gateway: &'static Gateway,
    routed: &mut Routed,
    http: &HttpTarget,
    client_headers: HeaderMap,
    request_id: &HeaderValue,
) -> Result<Response<ResponseBody>, GatewayError> {
    let model = routed.model;
    let request = translate::chat_request_to_messages(
        &routed.spliced,
        routed.deployment.upstream_model,
        model.default_max_tokens,
    )
    .map_err(request_error)?;
    note_dropped(gateway, &request, request_id);
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
        Answer::Stream(parts, body) => {
            let chat = MessagesSseToChat::new(model.name, request.include_usage, unix_now());
            let stream = relay(gateway, routed, body, ToChat(chat), request_id);
            Ok(Response::from_parts(parts, stream))
        }
        Answer::Whole(mut parts, bytes) if parts.status.is_success() => {
            count_tokens(gateway, routed, anthropic::usage_in_message(&bytes));
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

/// A translated JSON body's type. (No stale length can be left: the upstream
/// answer's `content-length` is stripped with the hop-by-hop headers, and
/// hyper sets the new one.)
pub fn json_content(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
}
