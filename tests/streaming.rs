//! Streaming: SSE events pass through unchanged and unbuffered, usage is
//! read on the way, and a broken upstream stream ends with an explicit error.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_passes_through_event_by_event_unchanged() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let auth = format!("Bearer {CLIENT_KEY}");
    let body = r#"{"model":"echo","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"sse-gated"}]}"#;
    let response = open(
        gateway.addr,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &auth)],
        body,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    // The upstream holds every later event until we release it: a gateway that
    // buffered the stream would never deliver this first event.
    let first = next_data(&mut body)
        .await
        .expect("first event before the upstream continues");
    assert_eq!(first, SSE_EVENTS[0].as_bytes());
    upstream.release();
    let mut received = first.to_vec();
    while let Some(data) = next_data(&mut body).await {
        received.extend_from_slice(&data);
    }
    assert_eq!(
        String::from_utf8(received).unwrap(),
        SSE_EVENTS.concat(),
        "events arrive unchanged, comments included"
    );
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    assert!(
        metrics.contains(r#"gateway_tokens_total{model="echo",direction="completion"} 2"#),
        "usage read from the final chunk: {metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_upstream_stream_ends_with_an_error_event() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let body =
        r#"{"model":"echo","stream":true,"messages":[{"role":"user","content":"sse-truncated"}]}"#;
    let reply = chat(gateway.addr, body).await;
    assert_eq!(reply.status, 200);
    let text = reply.text();
    assert!(text.starts_with(&SSE_EVENTS[..2].concat()), "{text}");
    assert!(
        text.contains("event: error\ndata: {\"error\""),
        "explicit error, not a silent end: {text}"
    );
    assert!(text.contains("upstream_stream_truncated"), "{text}");
    assert!(
        !text.contains("data: [DONE]"),
        "no [DONE] line after a truncation: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_upstream_streams_chunks_then_done() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let body = r#"{"model":"demo","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#;
    let reply = chat(gateway.addr, body).await;
    assert_eq!(reply.status, 200);
    let text = reply.text();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    // role, 4 content chunks, finish, usage, [DONE] (config/test: mock chunks = 4)
    assert_eq!(events.len(), 8, "{events:?}");
    assert_eq!(events[7], "data: [DONE]");
    let content: String = events[1..5].iter().map(|e| delta_content(e)).collect();
    assert_eq!(content, "one two three four");
    assert!(events[6].contains("\"usage\""));
}

/// The `choices[0].delta.content` of one `data: {...}` event.
fn delta_content(event: &str) -> String {
    let json: serde_json::Value = serde_json::from_str(&event["data: ".len()..]).unwrap();
    json["choices"][0]["delta"]["content"]
        .as_str()
        .unwrap()
        .to_string()
}
