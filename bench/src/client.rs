//! The clients' HTTP/1.1 side: parsing `--url`, opening one keep-alive
//! connection (`TCP_NODELAY`), building requests, reading bodies in full.
//!
//! Deliberately not a pooled client: each worker owns exactly one
//! connection, so the number of connections the server sees is the number
//! the caller asked for.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::error::Failure;

/// The client end of one connection.
pub type Sender = SendRequest<Full<Bytes>>;

/// Largest response body the clients read (the mock's are < 1 KiB).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Where requests go, with the headers every request carries.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host:port`, for `TcpStream::connect`.
    pub authority: String,
    host: HeaderValue,
    path: Uri,
    bearer: Option<HeaderValue>,
}

impl Target {
    /// Parses `--url` (plain `http://` only) and the optional `--key`.
    pub fn parse(tool: &str, url: &str, key: Option<&str>) -> Result<Target, Failure> {
        let bad = |why: &str| {
            Failure::new(
                format!("{tool}: --url {url:?} {why}"),
                "pass a full plain-HTTP URL, e.g. `--url http://127.0.0.1:8080/v1/chat/completions`",
            )
        };
        let uri: Uri = url.parse().map_err(|_| bad("is not a URL"))?;
        if uri.scheme_str() != Some("http") {
            return Err(bad("is not http:// (TLS is not measured here)"));
        }
        let authority = uri.authority().ok_or_else(|| bad("has no host"))?;
        let port = authority.port_u16().unwrap_or(80);
        let path_and_query = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let bearer = match key {
            Some(key) => Some(
                HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                    Failure::new(
                        format!("{tool}: --key contains characters not allowed in a header"),
                        "pass the API key as plain visible ASCII",
                    )
                })?,
            ),
            None => None,
        };
        Ok(Target {
            authority: format!("{}:{port}", authority.host()),
            host: HeaderValue::from_str(authority.as_str()).map_err(|_| bad("has a bad host"))?,
            path: path_and_query.parse().map_err(|_| bad("has a bad path"))?,
            bearer,
        })
    }

    /// A request for this target; `Content-Type: application/json` when it has a body.
    pub fn request(&self, method: Method, body: Bytes) -> Request<Full<Bytes>> {
        let has_body = !body.is_empty();
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = self.path.clone();
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        if has_body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if let Some(bearer) = &self.bearer {
            headers.insert(AUTHORIZATION, bearer.clone());
        }
        request
    }
}

/// Opens one HTTP/1.1 keep-alive connection with `TCP_NODELAY`; the
/// connection task runs until the sender is dropped or the peer closes.
pub async fn connect(target: &Target, timeout: Duration) -> Result<Sender, String> {
    let connecting = TcpStream::connect(&target.authority);
    let stream = match tokio::time::timeout(timeout, connecting).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => return Err(format!("connect to {}: {error}", target.authority)),
        Err(_) => {
            return Err(format!(
                "connect to {}: timed out after {timeout:?}",
                target.authority
            ));
        }
    };
    stream
        .set_nodelay(true)
        .map_err(|error| format!("set TCP_NODELAY: {error}"))?;
    let handshake = hyper::client::conn::http1::handshake(TokioIo::new(stream));
    let (sender, connection) = match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok(pair)) => pair,
        Ok(Err(error)) => return Err(format!("HTTP/1.1 handshake: {error}")),
        Err(_) => return Err(format!("HTTP/1.1 handshake: timed out after {timeout:?}")),
    };
    tokio::spawn(async move {
        // Errors surface on the sender side as failed requests.
        let _ = connection.await;
    });
    Ok(sender)
}

/// How long connecting (TCP + handshake) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The worker's connection, ready for a request: reuses `slot` while it is
/// open, reconnects when it is empty or the peer closed it.
pub async fn ready<'a>(
    target: &Target,
    slot: &'a mut Option<Sender>,
) -> Result<&'a mut Sender, String> {
    if let Some(sender) = slot.as_mut()
        && sender.ready().await.is_err()
    {
        *slot = None;
    }
    if slot.is_none() {
        *slot = Some(connect(target, CONNECT_TIMEOUT).await?);
    }
    match slot.as_mut() {
        Some(sender) => match sender.ready().await {
            Ok(()) => Ok(sender),
            Err(error) => Err(format!("new connection not ready: {error}")),
        },
        None => Err("no connection".to_string()),
    }
}

/// Reads a whole response body, refusing more than [`MAX_BODY_BYTES`].
pub async fn read_body(mut body: Incoming) -> Result<Bytes, String> {
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| format!("reading the body: {error}"))?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > MAX_BODY_BYTES {
                return Err(format!("body larger than {MAX_BODY_BYTES} bytes"));
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(buffer.freeze())
}

/// The first `limit` bytes of a body as lossy text, for failure reasons.
pub fn excerpt(body: &[u8], limit: usize) -> String {
    String::from_utf8_lossy(body.get(..limit.min(body.len())).unwrap_or_default()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let target = Target::parse(
            "t",
            "http://127.0.0.1:8080/v1/chat/completions?x=1",
            Some("k"),
        )
        .unwrap();
        assert_eq!(target.authority, "127.0.0.1:8080");
        let request = target.request(Method::POST, Bytes::from_static(b"{}"));
        assert_eq!(request.uri(), "/v1/chat/completions?x=1");
        assert_eq!(request.headers()[HOST], "127.0.0.1:8080");
        assert_eq!(request.headers()[AUTHORIZATION], "Bearer k");
        assert_eq!(request.headers()[CONTENT_TYPE], "application/json");
        let plain = Target::parse("t", "http://localhost/health", None).unwrap();
        assert_eq!(plain.authority, "localhost:80");
        let get = plain.request(Method::GET, Bytes::new());
        assert!(get.headers().get(CONTENT_TYPE).is_none());
        assert!(get.headers().get(AUTHORIZATION).is_none());
    }

    #[test]
    fn rejects_non_http_urls() {
        for url in ["https://h/x", "h:80/x", "not a url"] {
            let error = Target::parse("t", url, None).unwrap_err();
            assert!(error.what.starts_with("t: --url"), "{url}: {error}");
        }
    }
}
