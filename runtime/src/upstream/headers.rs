//! The one rule for which client headers reach an upstream, for every
//! protocol: all of the client's end-to-end headers, except
//!
//! - hop-by-hop headers (RFC 9110 §7.6.1) and any the client's
//!   `Connection` header names;
//! - the client's credentials (`authorization`, `x-api-key`, `cookie`,
//!   `proxy-authorization`): the upstream gets the gateway's own key;
//! - what the gateway sets itself (`host`, `content-length`,
//!   `content-type`, `x-request-id`) or has already handled (`expect`);
//! - `accept-encoding`: answers are read on the way (usage, translation), so
//!   they travel uncompressed between the upstream and the gateway;
//! - when the request is translated, the other protocol's own namespace
//!   (`anthropic-*` never reaches an OpenAI-format upstream, `openai-*` never
//!   an Anthropic one).
//!
//! So `openai-beta`, `OpenAI-Organization`, `anthropic-beta`,
//! `anthropic-version`, `traceparent`, `user-agent` and unknown headers pass.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Uri, header};
use http_body_util::Full;

use super::{HttpTarget, WireFormat};
use crate::request_id;

/// Client headers never forwarded (see the module docs).
const DROPPED: [HeaderName; 17] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
    header::AUTHORIZATION,
    HeaderName::from_static("x-api-key"),
    header::COOKIE,
    header::PROXY_AUTHORIZATION,
    header::HOST,
    header::CONTENT_LENGTH,
    header::CONTENT_TYPE,
    request_id::HEADER,
    header::EXPECT,
    header::ACCEPT_ENCODING,
];

/// `anthropic-version`, sent to Anthropic upstreams when the client sent none.
pub const ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");

/// The upstream request: `body` POSTed to `url` with the gateway's headers
/// (host, JSON content type, request id, credential, Anthropic version) and
/// the client's headers by the rule above. `translated`: the body was
/// translated from the other protocol.
pub fn request(
    http: &HttpTarget,
    url: &Uri,
    body: Bytes,
    client: &HeaderMap,
    request_id: &HeaderValue,
    translated: bool,
) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = url.clone();
    // Built directly into a pre-sized map: the request builder converted and
    // re-hashed every name (~1,000 instructions per request).
    let headers = request.headers_mut();
    headers.reserve(client.len() + 6);
    forward(client, headers, translated.then_some(http.wire));
    headers.insert(header::HOST, http.host.clone());
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(request_id::HEADER, request_id.clone());
    if let Some((name, value)) = &http.credential {
        headers.insert(name.clone(), value.clone());
    }
    if let Some(version) = &http.version
        && !headers.contains_key(&ANTHROPIC_VERSION)
    {
        headers.insert(ANTHROPIC_VERSION, version.clone());
    }
    request
}

/// Copies the client's headers that pass the rule into `out`. With
/// `translated_for`, the ingress protocol's namespace is dropped too.
fn forward(client: &HeaderMap, out: &mut HeaderMap, translated_for: Option<WireFormat>) {
    let foreign_prefix = match translated_for {
        None => None,
        Some(WireFormat::OpenAi) => Some("anthropic-"),
        Some(WireFormat::Anthropic) => Some("openai-"),
    };
    let has_connection = client.contains_key(header::CONNECTION);
    for (name, value) in client {
        if DROPPED.contains(name)
            || foreign_prefix.is_some_and(|prefix| name.as_str().starts_with(prefix))
            || (has_connection && named_by_connection(client, name))
        {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
}

/// Whether the client's `Connection` header lists `name` (RFC 9110 §7.6.1).
fn named_by_connection(client: &HeaderMap, name: &HeaderName) -> bool {
    client.get_all(header::CONNECTION).iter().any(|value| {
        value.to_str().is_ok_and(|list| {
            list.split(',')
                .any(|token| token.trim().eq_ignore_ascii_case(name.as_str()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer client-key"),
            ("x-api-key", "client-key"),
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("host", "gw"),
            ("content-length", "10"),
            ("accept-encoding", "gzip"),
            ("anthropic-beta", "interleaved-thinking-2025-05-14"),
            ("anthropic-version", "2023-06-01"),
            ("openai-beta", "assistants=v2"),
            ("openai-organization", "org-1"),
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
            ("user-agent", "claude-cli/2.1"),
            ("x-custom", "kept"),
        ] {
            headers.append(name, HeaderValue::from_static(value));
        }
        headers
    }

    fn names(headers: &HeaderMap) -> Vec<&str> {
        let mut names: Vec<_> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn passthrough_keeps_end_to_end_headers_only() {
        let mut out = HeaderMap::new();
        forward(&client(), &mut out, None);
        assert_eq!(
            names(&out),
            [
                "anthropic-beta",
                "anthropic-version",
                "openai-beta",
                "openai-organization",
                "traceparent",
                "user-agent",
                "x-custom"
            ]
        );
    }

    #[test]
    fn translation_drops_the_other_protocols_namespace() {
        let mut to_openai = HeaderMap::new();
        forward(&client(), &mut to_openai, Some(WireFormat::OpenAi));
        assert!(
            !names(&to_openai)
                .iter()
                .any(|n| n.starts_with("anthropic-"))
        );
        assert!(names(&to_openai).contains(&"openai-beta"));
        let mut to_anthropic = HeaderMap::new();
        forward(&client(), &mut to_anthropic, Some(WireFormat::Anthropic));
        assert!(
            !names(&to_anthropic)
                .iter()
                .any(|n| n.starts_with("openai-"))
        );
        assert!(names(&to_anthropic).contains(&"anthropic-beta"));
    }
}
