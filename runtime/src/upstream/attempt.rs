//! One attempt at an upstream exchange: send the request, read the answer
//! (an SSE stream until its head, anything else whole and bounded) within
//! one deadline, and return what happened as an [`Outcome`] for the caller
//! to record once, with the answer or the gateway error it amounts to.
//!
//! Not here: building the request and reading the answer's meaning
//! (`provider/`, `api/`), metrics (the caller).

use bytes::Bytes;
use http::response::Parts;
use http::{HeaderMap, Request, header};
use http_body_util::Full;
use tokio::time::{Instant, timeout_at};

use super::HttpClient;
use super::primed::{Primed, prime};
use crate::body::{CollectError, collect_limited};
use crate::error::GatewayError;

/// Largest non-streaming upstream answer read into memory.
const MAX_UPSTREAM_BODY: usize = 64 << 20;

/// What the upstream did, for `gateway_upstream_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Status(u16),
    Unreachable,
    Timeout,
}

/// The upstream's answer, hop-by-hop headers removed.
pub enum Answer {
    /// A successful `text/event-stream` answer: the head, and the body with
    /// its first event already read (so a stream that dies at its start is
    /// a failed try, not a committed answer).
    Stream(Parts, Primed),
    /// Anything else, read whole.
    Whole(Parts, Bytes),
}

/// One attempt: its outcome and the answer or the error it amounts to.
pub struct Attempt {
    pub outcome: Outcome,
    pub answer: Result<Answer, GatewayError>,
}

/// Sends `request` to upstream `name` and reads its answer by `deadline`
/// (a stream: its head and first event).
pub async fn attempt(
    client: &HttpClient,
    name: &'static str,
    request: Request<Full<Bytes>>,
    deadline: Instant,
) -> Attempt {
    // One timer covers the head and, for a whole answer, the body
    // (a second one cost ~1,000 instructions per request).
    timeout_at(deadline, exchange(client, name, request))
        .await
        .unwrap_or(Attempt {
            outcome: Outcome::Timeout,
            answer: Err(GatewayError::UpstreamTimeout { upstream: name }),
        })
}

async fn exchange(
    client: &HttpClient,
    name: &'static str,
    request: Request<Full<Bytes>>,
) -> Attempt {
    let response = match client.request(request).await {
        Err(error) => {
            return Attempt {
                outcome: Outcome::Unreachable,
                answer: Err(GatewayError::UpstreamUnreachable {
                    upstream: name,
                    detail: error_chain(&error),
                }),
            };
        }
        Ok(response) => response,
    };
    let outcome = Outcome::Status(response.status().as_u16());
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let is_stream = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if is_stream && parts.status.is_success() {
        // The caller's deadline (timeout_at above) also bounds this wait.
        let answer = match prime(body).await {
            Ok(primed) => Ok(Answer::Stream(parts, primed)),
            Err(failure) => Err(GatewayError::UpstreamStreamFailed {
                upstream: name,
                detail: failure.detail(),
            }),
        };
        return Attempt { outcome, answer };
    }
    let answer = match collect_limited(body, MAX_UPSTREAM_BODY).await {
        Ok(bytes) => Ok(Answer::Whole(parts, bytes)),
        Err(error) => Err(GatewayError::UpstreamInvalid {
            upstream: name,
            detail: match error {
                CollectError::TooLarge => format!("answer larger than {MAX_UPSTREAM_BODY} bytes"),
                CollectError::Body(error) => error.to_string(),
            },
        }),
    };
    Attempt { outcome, answer }
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
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let mut found: [Option<header::HeaderName>; 4] = Default::default();
    let mut extra = Vec::new();
    let mut count = 0;
    let mut connection = false;
    for name in headers.keys() {
        connection |= name == header::CONNECTION;
        if HOP_BY_HOP.contains(name) || name.as_str() == "keep-alive" {
            match found.get_mut(count) {
                Some(slot) => *slot = Some(name.clone()),
                None => extra.push(name.clone()),
            }
            count += 1;
        }
    }
    if connection {
        extra.extend(super::headers::named_by_connection(headers));
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
    use http::HeaderValue;

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
