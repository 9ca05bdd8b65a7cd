//! Regression tests for the defects a hostile-traffic probe found (issue 9),
//! one test per defect; each failed on main as of 2026-11-30. Timings rely on
//! config/test: `first_byte_timeout` 1 s, `idle_timeout` 2 s,
//! `max_connections` 32, `drain_timeout` 3 s, the `local` upstream's
//! `timeout.stream_idle` 1 s.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

/// Reads until the server closes (or `limit`): the bytes, and whether it closed.
async fn read_until_close(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut chunk = [0u8; 16384];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Err(_) => return (out, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The last response in `raw` (after any `100 Continue`): status and body.
fn final_response(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw).into_owned();
    let mut rest = text.as_str();
    while let Some(after) = rest.strip_prefix("HTTP/1.1 100 Continue\r\n\r\n") {
        rest = after;
    }
    let status = rest.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = rest
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

fn assert_json_error(raw: &[u8], status: u16, code: &str) {
    let (got, body) = final_response(raw);
    assert_eq!(got, status, "{}", String::from_utf8_lossy(raw));
    let json: serde_json::Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(raw)));
    assert_eq!(json["error"]["code"], code, "{json}");
    assert!(json["error"]["message"].is_string() && json["error"]["type"].is_string());
    assert!(String::from_utf8_lossy(raw).contains("x-request-id: "));
}

async fn metric(addr: std::net::SocketAddr, series: &str) -> u64 {
    let text = get(addr, "/metrics", Some(ADMIN_KEY)).await.text();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

fn chat_request(body: &str, extra: &str) -> Vec<u8> {
    format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: gw\r\nauthorization: Bearer {CLIENT_KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_never_finish_detection_or_idle_on_h2_are_closed() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let addr = gateway.addr;
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    let mut idle_h2 = TcpStream::connect(addr).await.unwrap();
    // Preface + an empty SETTINGS frame, then nothing.
    idle_h2
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    for (name, stream) in [("silent", &mut silent), ("partial preface", &mut partial)] {
        let (bytes, closed) = read_until_close(stream, Duration::from_secs(5)).await;
        assert!(closed, "{name} connection still open after 5 s");
        assert!(bytes.is_empty(), "{name}: nothing to answer");
    }
    let (bytes, closed) = read_until_close(&mut idle_h2, Duration::from_secs(8)).await;
    assert!(closed, "idle h2c connection still open after 8 s");
    // A GOAWAY frame (type 7) said goodbye before the close.
    assert!(bytes.windows(2).any(|w| w == [0x07, 0x00]), "{bytes:?}");
    assert_eq!(
        metric(
            addr,
            "gateway_connections_total{event=\"first_byte_timeout\"}"
        )
        .await,
        2
    );
    assert_eq!(
        metric(addr, "gateway_connections_total{event=\"idle_timeout\"}").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_cap_are_refused_at_once_and_counted() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let addr = gateway.addr;
    let mut held = Vec::new();
    for _ in 0..32 {
        // A served keep-alive request proves the connection was accepted.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: gw\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 512];
        let n = tokio::time::timeout(LIMIT, stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
        held.push(stream);
    }
    let mut over = TcpStream::connect(addr).await.unwrap();
    let _ = over
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: gw\r\n\r\n")
        .await;
    let (bytes, closed) = read_until_close(&mut over, Duration::from_secs(2)).await;
    assert!(
        closed && bytes.is_empty(),
        "the 33rd connection was served: {bytes:?}"
    );
    drop(held);
    let mut served = false;
    for _ in 0..100 {
        let mut probe = TcpStream::connect(addr).await.unwrap();
        let _ = probe
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n")
            .await;
        let (bytes, _) = read_until_close(&mut probe, Duration::from_secs(2)).await;
        if bytes.starts_with(b"HTTP/1.1 200") {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        served,
        "connections were not accepted again after the held ones closed"
    );
    assert!(
        metric(
            addr,
            "gateway_connections_total{event=\"refused_at_capacity\"}"
        )
        .await
            >= 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_descriptor_pressure_neither_spins_nor_starves_health_checks() {
    let upstream = MockUpstream::start().await;
    // (100 - 64 reserved) / 2 = 18 connections fit beside their upstream ones.
    let gateway = Gateway::start_with_file_limit(&standard_env(&upstream.base_url()), 100);
    let addr = gateway.addr;
    let logs = gateway.wait_for_log("server.max_connections_lowered", LIMIT);
    assert!(logs.contains("\"effective\":18"), "{logs}");
    let mut silent = Vec::new();
    for _ in 0..300 {
        silent.push(TcpStream::connect(addr).await.unwrap());
    }
    let before = gateway.cpu_time();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let used = gateway.cpu_time() - before;
    assert!(
        used < Duration::from_millis(300),
        "the gateway burned {used:?} of CPU in 1 s"
    );
    // Silent connections are closed after first_byte_timeout; then /healthz is served.
    let mut healthy = false;
    for _ in 0..100 {
        let mut probe = TcpStream::connect(addr).await.unwrap();
        let _ = probe
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n")
            .await;
        let (bytes, _) = read_until_close(&mut probe, Duration::from_secs(2)).await;
        if bytes.starts_with(b"HTTP/1.1 200") {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        healthy,
        "/healthz never answered while 300 silent connections were held"
    );
    drop(silent);
    assert!(
        metric(
            addr,
            "gateway_connections_total{event=\"refused_at_capacity\"}"
        )
        .await
            > 0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_before_the_answer_is_logged_counted_and_cancelled() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let addr = gateway.addr;
    // HTTP/1.1: the client closes its socket while the upstream is thinking.
    let body = r#"{"model":"echo","messages":[{"role":"user","content":"hang"}]}"#;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&chat_request(body, "")).await.unwrap();
    wait_until(|| upstream.requests().len() == 1).await;
    drop(stream);
    wait_until(|| upstream.cancelled() == 1).await;
    // HTTP/2: the client resets its stream.
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = Request::post(format!("http://{addr}/v1/chat/completions"))
        .header("authorization", format!("Bearer {CLIENT_KEY}"))
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    // Dropping the unanswered request after 1 s resets its stream.
    let abandoned =
        tokio::time::timeout(Duration::from_secs(1), sender.send_request(request)).await;
    assert!(abandoned.is_err(), "the hang upstream answered");
    assert_eq!(upstream.requests().len(), 2);
    wait_until(|| upstream.cancelled() == 2).await;
    let logs = gateway.wait_for_log("\"status\":499", LIMIT);
    assert_eq!(
        logs.matches("\"reason\":\"client_disconnected\"").count(),
        2,
        "{logs}"
    );
    let series = "gateway_requests_total{route=\"chat_completions\",model=\"echo\",status=\"499\"}";
    assert_eq!(metric(addr, series).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_closed_client_gets_its_answer() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let body = r#"{"model":"echo","messages":[{"role":"user","content":"delayed"}]}"#;
    let mut stream = TcpStream::connect(gateway.addr).await.unwrap();
    stream.write_all(&chat_request(body, "")).await.unwrap();
    stream.shutdown().await.unwrap();
    let (raw, closed) = read_until_close(&mut stream, LIMIT).await;
    assert!(closed);
    let (status, answer) = final_response(&raw);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&raw));
    assert!(answer.contains("from upstream"), "{answer}");
    assert_eq!(upstream.cancelled(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_that_stalls_mid_stream_is_timed_out_with_an_error_event() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let auth = format!("Bearer {CLIENT_KEY}");
    let body =
        r#"{"model":"echo","stream":true,"messages":[{"role":"user","content":"sse-stall"}]}"#;
    let response = open(
        gateway.addr,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &auth)],
        body,
    )
    .await;
    assert_eq!(response.status(), 200);
    let mut stream = response.into_body();
    let mut text = Vec::new();
    while let Some(data) = next_data(&mut stream).await {
        text.extend_from_slice(&data);
    }
    let text = String::from_utf8(text).unwrap();
    assert!(text.starts_with(SSE_EVENTS[0]), "{text}");
    assert!(
        text.ends_with("\n\n")
            && text.contains("event: error\ndata: ")
            && text.contains("upstream_stream_idle_timeout"),
        "{text}"
    );
    gateway.wait_for_log("\"reason\":\"upstream_stream_idle_timeout\"", LIMIT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_open_at_the_drain_timeout_end_with_an_error_event() {
    let upstream = MockUpstream::start().await;
    let mut gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let auth = format!("Bearer {CLIENT_KEY}");
    let body = r#"{"model":"endless","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let response = open(
        gateway.addr,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &auth)],
        body,
    )
    .await;
    assert_eq!(response.status(), 200);
    let mut stream = response.into_body();
    next_data(&mut stream).await.expect("first event");
    gateway.signal("TERM");
    let mut text = Vec::new();
    while let Some(data) = next_data(&mut stream).await {
        text.extend_from_slice(&data);
    }
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.ends_with("\n\n")
            && text.contains("event: error\ndata: ")
            && text.contains("\"drain_timeout\""),
        "{text}"
    );
    assert_eq!(gateway.wait_exit(Duration::from_secs(15)).code(), Some(0));
    let logs = gateway.logs();
    assert!(logs.contains("\"reason\":\"drain_timeout\""), "{logs}");
    assert!(!logs.contains("client_disconnected"), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_librarys_own_errors_are_openai_shaped() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let addr = gateway.addr;
    let bad_bytes = raw(
        addr,
        b"GET /healthz HTTP/1.1\r\nhost: gw\r\nbad header: x\r\n\r\n",
        false,
    )
    .await;
    assert_json_error(bad_bytes.as_bytes(), 400, "malformed_request_head");
    let huge = format!(
        "GET /healthz HTTP/1.1\r\nhost: gw\r\nx-big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let too_large = raw(addr, huge.as_bytes(), false).await;
    assert_json_error(too_large.as_bytes(), 431, "request_header_fields_too_large");
    let two_hosts = raw(
        addr,
        b"GET /healthz HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n",
        false,
    )
    .await;
    assert_json_error(two_hosts.as_bytes(), 400, "invalid_host_header");
    // h2c: a head over max_header_bytes gets the same JSON 431.
    let big = "a".repeat(70 * 1024);
    let reply = send_h2(addr, "/v1/chat/completions", &[("x-big", &big)], "{}").await;
    reply.assert_error(431, "request_header_fields_too_large");
    // An unknown model is echoed only in part.
    let long_model = "m".repeat(10_000);
    let reply = chat(
        addr,
        &format!(r#"{{"model":"{long_model}","messages":[]}}"#),
    )
    .await;
    reply.assert_error(404, "model_not_found");
    assert!(reply.body.len() < 1024, "{}", reply.body.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_named_in_the_upstreams_connection_header_are_stripped() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let reply = chat(
        gateway.addr,
        r#"{"model":"echo","messages":[{"role":"user","content":"connection-private"}]}"#,
    )
    .await;
    assert_eq!(reply.status, 200);
    assert!(
        !reply.headers.contains_key("x-upstream-private"),
        "{:?}",
        reply.headers
    );
    assert!(reply.text().contains("from upstream"));
}

/// Polls `condition` every 10 ms, up to [`LIMIT`]; panics when it never held.
async fn wait_until(condition: impl Fn() -> bool) {
    for _ in 0..(LIMIT.as_millis() / 10) {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not met within {LIMIT:?}");
}
