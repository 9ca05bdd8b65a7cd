//! Every error status the gateway produces, each as OpenAI-shaped JSON, plus
//! upstream errors passed through and malformed traffic handled.

use crate::support::*;

const OK_BODY: &str = r#"{"model":"echo","messages":[{"role":"user","content":"json"}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_have_specific_statuses_and_codes() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let addr = gateway.addr;
    chat(addr, "{not json")
        .await
        .assert_error(400, "invalid_json");
    chat(addr, r#"{"messages":[]}"#)
        .await
        .assert_error(400, "missing_required_parameter");
    chat(addr, r#"{"model":"echo"}"#)
        .await
        .assert_error(400, "missing_required_parameter");
    chat(addr, r#"{"model":"echo","messages":{}}"#)
        .await
        .assert_error(400, "invalid_value");
    let unknown = chat(addr, r#"{"model":"gpt-9","messages":[]}"#).await;
    unknown.assert_error(404, "model_not_found");
    assert_eq!(unknown.json()["error"]["param"], "model");
    let big = format!(
        r#"{{"model":"echo","messages":[],"pad":"{}"}}"#,
        "x".repeat(70 * 1024)
    );
    chat(addr, &big)
        .await
        .assert_error(413, "request_too_large");
    let wrong_method = get(addr, "/v1/chat/completions", Some(CLIENT_KEY)).await;
    wrong_method.assert_error(405, "method_not_allowed");
    assert_eq!(wrong_method.headers["allow"], "POST");
    get(addr, "/v1/nothing-here", None)
        .await
        .assert_error(404, "unknown_url");
    let auth = format!("Bearer {CLIENT_KEY}");
    let invalid_utf8 =
        b"{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}"
            .to_vec();
    send(
        addr,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &auth)],
        invalid_utf8,
    )
    .await
    .assert_error(400, "invalid_json");
    assert!(
        upstream.requests().is_empty(),
        "no bad request reached the upstream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_failures_map_to_502_503_504_and_upstream_errors_pass_through() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let addr = gateway.addr;
    chat(addr, r#"{"model":"down","messages":[]}"#)
        .await
        .assert_error(502, "upstream_unreachable");
    chat(addr, r#"{"model":"cloud-model","messages":[]}"#)
        .await
        .assert_error(503, "upstream_disabled");
    chat(
        addr,
        r#"{"model":"echo","messages":[{"role":"user","content":"hang"}]}"#,
    )
    .await
    .assert_error(504, "upstream_timeout");
    let limited = chat(
        addr,
        r#"{"model":"echo","messages":[{"role":"user","content":"status:429"}]}"#,
    )
    .await;
    assert_eq!(limited.status, 429, "the upstream's status is kept");
    assert_eq!(
        limited.json()["error"]["code"],
        "rate_limit_exceeded",
        "the upstream's body is kept"
    );
    assert_eq!(limited.headers["retry-after"], "3");
    let broken = chat(
        addr,
        r#"{"model":"echo","messages":[{"role":"user","content":"status:500"}]}"#,
    )
    .await;
    assert_eq!(broken.status, 500);
    assert_eq!(
        chat(addr, OK_BODY).await.status,
        200,
        "the gateway still serves after upstream failures"
    );
    let metrics = get(addr, "/metrics", Some(ADMIN_KEY)).await.text();
    assert!(
        metrics.contains(
            r#"gateway_upstream_requests_total{upstream="unreachable",status="unreachable"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"gateway_upstream_requests_total{upstream="local",status="timeout"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"gateway_upstream_requests_total{upstream="local",status="429"} 1"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_traffic_gets_answers_not_hangs() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let addr = gateway.addr;
    let auth = format!("Bearer {CLIENT_KEY}");

    // Declared 100 bytes, sent 10, then the client stops sending.
    let truncated = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-length: 100\r\n\r\n{{\"model\":"
    );
    let answer = raw(addr, truncated.as_bytes(), true).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("incomplete_body"), "{answer}");

    // A slow client that never finishes its body within body_read_timeout (2 s in config/test).
    let slow = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-length: 100\r\n\r\n{{"
    );
    let answer = raw(addr, slow.as_bytes(), false).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");

    // Huge headers.
    let huge = format!(
        "GET /health HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(100 * 1024)
    );
    let answer = raw(addr, huge.as_bytes(), false).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");

    // Declared length over the limit is refused before reading.
    let declared = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-length: 999999999\r\n\r\n"
    );
    let answer = raw(addr, declared.as_bytes(), true).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // Still healthy afterwards.
    assert_eq!(get(addr, "/healthz", None).await.status, 200);
}
