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

use super::{CredentialValue, HttpTarget, WireFormat};
use crate::request_id;

/// Whether a client header is never forwarded (see the module docs). A
/// `match` on the name: comparing each header against a list of names cost
/// ~80 instructions per header under callgrind.
fn dropped(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "authorization"
            | "x-api-key"
            | "cookie"
            | "proxy-authorization"
            | "host"
            | "content-length"
            | "content-type"
            | "x-request-id"
            | "expect"
            | "accept-encoding"
    )
}

/// `anthropic-version`, sent to Anthropic upstreams when the client sent none.
pub const ANTHROPIC_VERSION: HeaderName = HeaderName::from_static("anthropic-version");

/// The upstream request: `body` POSTed to `url` with the client's headers by
/// the rule above and the gateway's own (host, JSON content type, request id,
/// credential, Anthropic version). The client's header map is reused: only
/// what must not pass is removed and the gateway's headers overwrite theirs,
/// so a typical request re-hashes no header it keeps. `translated`: the body
/// was translated from the other protocol. `replay`: where to set aside the
/// headers any upstream may get, for a later try (filled in the same pass,
/// see [`replayed`]).
pub fn request(
    http: &HttpTarget,
    url: &Uri,
    body: Bytes,
    client: HeaderMap,
    (request_id, translated): (&HeaderValue, bool),
    replay: Option<&mut Vec<(HeaderName, HeaderValue)>>,
) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = url.clone();
    let headers = request.headers_mut();
    *headers = client;
    let swapped;
    let key: Option<&HeaderValue> = match &http.credential {
        CredentialValue::Fixed(value) => value.as_ref(),
        CredentialValue::FromFile(slot) => {
            swapped = slot.load();
            swapped.as_deref()
        }
    };
    let credential = key.map(|_| http.credential_name.as_str());
    strip_client_only(headers, translated.then_some(http.wire), credential, replay);
    headers.insert(header::HOST, http.host.clone());
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(request_id::HEADER, request_id.clone());
    if let Some(value) = key {
        headers.insert(http.credential_name.clone(), value.clone());
    }
    if let Some(version) = &http.version
        && !headers.contains_key(&ANTHROPIC_VERSION)
    {
        headers.insert(ANTHROPIC_VERSION, version.clone());
    }
    request
}

/// A client header map rebuilt from the headers [`request`] set aside, for a
/// later try: the first try takes the client's own map (no copy on the happy
/// path), and the set-aside list is usually a handful of shared values, often
/// none.
pub fn replayed(kept: &[(HeaderName, HeaderValue)]) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(kept.len() + 4);
    for (name, value) in kept {
        headers.append(name.clone(), value.clone());
    }
    headers
}

/// Removes from the client's headers what must not reach the upstream. With
/// `translated_for`, the ingress protocol's namespace goes too. Headers the
/// gateway sets right after (host, content type, request id, its
/// `credential` header) are left for those inserts to overwrite: replacing a
/// value costs less than removing an entry.
fn strip_client_only(
    headers: &mut HeaderMap,
    translated_for: Option<WireFormat>,
    credential: Option<&str>,
    mut replay: Option<&mut Vec<(HeaderName, HeaderValue)>>,
) {
    let foreign_prefix = match translated_for {
        None => None,
        Some(WireFormat::OpenAi) => Some("anthropic-"),
        Some(WireFormat::Anthropic) => Some("openai-"),
    };
    let mut connection = false;
    let mut remove: Vec<HeaderName> = Vec::new();
    for (name, value) in headers.iter() {
        let text = name.as_str();
        connection |= text == "connection";
        let is_dropped = dropped(text);
        // Another try may go to the other protocol: its namespace is kept here.
        if let (false, Some(replay)) = (is_dropped, replay.as_deref_mut()) {
            replay.push((name.clone(), value.clone()));
        }
        // The client's `content-length` is removed, not overwritten: hyper
        // then sets the spliced body's length without parsing ours.
        let overwritten =
            matches!(text, "host" | "content-type" | "x-request-id") || credential == Some(text);
        let goes = (!overwritten && is_dropped)
            || foreign_prefix.is_some_and(|prefix| text.starts_with(prefix));
        // A name with several values comes once per value, one after another.
        if goes && remove.last() != Some(name) {
            remove.push(name.clone());
        }
    }
    if connection {
        let named: Vec<HeaderName> = named_by_connection(headers).collect();
        if let Some(replay) = replay {
            replay.retain(|(name, _)| !named.contains(name));
        }
        remove.extend(named);
    }
    for name in remove {
        headers.remove(name);
    }
}

/// The headers a message's `Connection` header names (RFC 9110 §7.6.1): they
/// describe that hop only, in requests and answers alike.
pub fn named_by_connection(headers: &HeaderMap) -> impl Iterator<Item = HeaderName> + '_ {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter_map(|token| HeaderName::from_bytes(token.as_bytes()).ok())
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

    /// The end-to-end headers of [`client`]: what passthrough forwards.
    const END_TO_END: [&str; 7] = [
        "anthropic-beta",
        "anthropic-version",
        "openai-beta",
        "openai-organization",
        "traceparent",
        "user-agent",
        "x-custom",
    ];

    fn names(headers: &HeaderMap) -> Vec<&str> {
        let mut names: Vec<_> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        names
    }

    fn forward(client: &HeaderMap, out: &mut HeaderMap, translated_for: Option<WireFormat>) {
        *out = client.clone();
        strip_client_only(out, translated_for, None, None);
        for overwritten in ["host", "content-type", "x-request-id"] {
            out.remove(overwritten);
        }
    }

    #[test]
    fn passthrough_keeps_end_to_end_headers_only() {
        let mut out = HeaderMap::new();
        forward(&client(), &mut out, None);
        assert_eq!(names(&out), END_TO_END);
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

    #[test]
    fn a_retry_replays_what_any_upstream_may_get_whatever_the_first_target() {
        let mut client = client();
        client.append("connection", HeaderValue::from_static("x-hop"));
        client.append("x-hop", HeaderValue::from_static("1"));
        client.append("x-custom", HeaderValue::from_static("second"));
        let mut replay = Vec::new();
        // The first try was translated for an OpenAI upstream: `anthropic-*`
        // left its request, but a retry may go to an Anthropic one.
        strip_client_only(
            &mut client,
            Some(WireFormat::OpenAi),
            None,
            Some(&mut replay),
        );
        let rebuilt = replayed(&replay);
        assert_eq!(names(&rebuilt), END_TO_END);
        assert_eq!(rebuilt.get_all("x-custom").iter().count(), 2, "every value");
    }
}
