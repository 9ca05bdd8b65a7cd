//! A small HTTP client for the tests: hyper on a fresh connection per call
//! (HTTP/1.1 or h2c), plus raw TCP for malformed traffic. Every call is
//! bounded by [`LIMIT`].

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Upper bound on any single client operation in the tests.
pub const LIMIT: Duration = Duration::from_secs(15);

/// A whole response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts an OpenAI-shaped gateway error with this status and code.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.text());
        let json = self.json();
        assert_eq!(json["error"]["code"], code, "body: {json}");
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "body: {json}"
        );
        assert!(json["error"]["type"].is_string(), "body: {json}");
        assert!(
            json["error"]
                .as_object()
                .is_some_and(|o| o.contains_key("param")),
            "body: {json}"
        );
        assert!(self.headers.contains_key("x-request-id"));
    }
}

/// Sends a request over HTTP/1.1 and returns the head with the unread body.
pub async fn open(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> http::Response<Incoming> {
    let stream = TcpStream::connect(addr).await.expect("connect to gateway");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(Full::new(body.into())).expect("request");
    tokio::time::timeout(LIMIT, sender.send_request(request))
        .await
        .expect("response head in time")
        .expect("response")
}

/// Sends a request and reads the whole response.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Reply {
    let response = open(addr, method, path, headers, body).await;
    collect(response).await
}

pub async fn collect(response: http::Response<Incoming>) -> Reply {
    let (parts, body) = response.into_parts();
    let body = tokio::time::timeout(LIMIT, body.collect())
        .await
        .expect("body in time")
        .expect("body")
        .to_bytes();
    Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    }
}

/// `POST /v1/chat/completions` with the test client key.
pub async fn chat(addr: SocketAddr, body: &str) -> Reply {
    let auth = format!("Bearer {}", super::CLIENT_KEY);
    send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        body.to_string(),
    )
    .await
}

/// `GET` with a bearer key.
pub async fn get(addr: SocketAddr, path: &str, key: Option<&str>) -> Reply {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    send(addr, "GET", path, &headers, Bytes::new()).await
}

/// A request over h2c (HTTP/2 with prior knowledge).
pub async fn send_h2(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2 handshake");
    tokio::spawn(connection);
    let mut builder = Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let response = tokio::time::timeout(LIMIT, sender.send_request(request))
        .await
        .expect("in time")
        .expect("h2 response");
    collect(response).await
}

/// Writes raw bytes, optionally half-closes, and reads until the server closes or LIMIT.
pub async fn raw(addr: SocketAddr, bytes: &[u8], half_close: bool) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    if half_close {
        stream.shutdown().await.expect("half-close");
    }
    let mut out = Vec::new();
    let _ = tokio::time::timeout(LIMIT, stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The next data frame of a streaming body (skipping trailers), or `None` at its end.
pub async fn next_data(body: &mut Incoming) -> Option<Bytes> {
    loop {
        let frame = tokio::time::timeout(LIMIT, body.frame())
            .await
            .expect("frame in time")?
            .expect("frame");
        if let Ok(data) = frame.into_data() {
            return Some(data);
        }
    }
}
