//! The Anthropic Messages API through the gateway, both ways (issue 10):
//! passthrough to an Anthropic upstream (the mock of `support::anthropic_upstream`),
//! translation to an OpenAI-format upstream (`support::upstream`) and to the
//! built-in mock, chat completions translated to an Anthropic upstream, and
//! the official `anthropic` and `openai` SDKs driving each combination, with
//! every body and stream the gateway produced parsed by the SDKs' own types.

use serde_json::{Value, json};

use crate::support::*;

/// A gateway whose `anthropic` upstream is `anthropic` and `local` is `openai`.
async fn rig() -> (MockUpstream, AnthropicUpstream, Gateway) {
    let openai = MockUpstream::start().await;
    let anthropic = AnthropicUpstream::start_with_key(ANTHROPIC_KEY).await;
    let anthropic_url = format!("{}/v1", anthropic.base_url());
    let gateway = Gateway::start(&anthropic_env(&openai.base_url(), &anthropic_url));
    (openai, anthropic, gateway)
}

/// `POST path` with the client key as `x-api-key` (as Anthropic clients send it).
async fn post(gateway: &Gateway, path: &str, extra: &[(&str, &str)], body: &Value) -> Reply {
    let mut headers = vec![
        ("x-api-key", CLIENT_KEY),
        ("anthropic-version", "2023-06-01"),
        ("content-type", "application/json"),
    ];
    headers.extend_from_slice(extra);
    send(gateway.addr, "POST", path, &headers, body.to_string()).await
}

fn messages_body(model: &str, mode: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "max_tokens": 256,
        "stream": stream,
        "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": mode}]}],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_pass_through_to_an_anthropic_upstream_with_only_the_model_changed() {
    let (_openai, anthropic, gateway) = rig().await;
    let mut body = messages_body("claude", "text", false);
    body["context_management"] = json!({"edits": []});
    let sent = body.to_string();
    let beta = (
        "anthropic-beta",
        "interleaved-thinking-2025-05-14,context-management-2025-06-27",
    );
    let reply = send(
        gateway.addr,
        "POST",
        "/v1/messages?beta=true",
        &[
            ("x-api-key", CLIENT_KEY),
            ("anthropic-version", "2023-06-01"),
            beta,
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        ],
        sent.clone(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["content"][0]["text"], ANTHROPIC_TEXT_REPLY);
    let upstream = anthropic.messages().pop().expect("the upstream was called");
    let expected = sent.replace(r#""model":"claude""#, r#""model":"claude-upstream-model""#);
    assert_eq!(
        String::from_utf8_lossy(&upstream.body),
        expected,
        "only model changes"
    );
    assert_eq!(
        upstream.header("x-api-key"),
        Some(ANTHROPIC_KEY),
        "the gateway's key"
    );
    assert_eq!(upstream.header("authorization"), None);
    assert_eq!(
        upstream.header("anthropic-beta"),
        Some(beta.1),
        "open list of betas"
    );
    assert!(upstream.header("traceparent").is_some());
    assert_eq!(anthropic.rejected(), Vec::<String>::new());
    check_sdk_types(&[sdk_item_bytes("anthropic.message", &reply.body)])
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_streams_and_errors_pass_through_unchanged() {
    let (_openai, _anthropic, gateway) = rig().await;
    let stream = post(
        &gateway,
        "/v1/messages",
        &[],
        &messages_body("claude", "stream", true),
    )
    .await;
    assert_eq!(stream.status, 200);
    let text = stream.text();
    assert!(text.starts_with("event: message_start"), "{text}");
    assert!(
        text.trim_end()
            .rsplit("\n\n")
            .next()
            .is_some_and(|last| last.starts_with("event: message_stop")),
        "{text}"
    );
    let limited = post(
        &gateway,
        "/v1/messages",
        &[],
        &messages_body("claude", "status:429", false),
    )
    .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["type"], "error");
    assert_eq!(limited.json()["error"]["type"], "rate_limit_error");
    for header in ["retry-after", "x-should-retry", "request-id"] {
        assert!(
            limited.headers.contains_key(header),
            "{header}: {:?}",
            limited.headers
        );
    }
    assert!(
        limited
            .headers
            .keys()
            .any(|k| k.as_str().starts_with("anthropic-ratelimit-"))
    );
    let cut = post(
        &gateway,
        "/v1/messages",
        &[],
        &messages_body("claude", "truncated", true),
    )
    .await;
    let cut_text = cut.text();
    assert!(
        cut_text.ends_with("\n\n") && cut_text.contains("event: error\ndata: {\"type\":\"error\""),
        "{cut_text}"
    );
    check_sdk_types(&[
        sdk_item_bytes("anthropic.sse", &stream.body),
        sdk_item_bytes("anthropic.error", &limited.body),
    ])
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_translated_for_openai_upstreams_and_the_mock() {
    let (openai, _anthropic, gateway) = rig().await;
    let plain = post(
        &gateway,
        "/v1/messages",
        &[],
        &messages_body("echo", "json", false),
    )
    .await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert_eq!(plain.json()["type"], "message");
    assert_eq!(plain.json()["content"][0]["text"], "from upstream");
    let sent = openai.requests().pop().unwrap();
    let sent: Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(sent["model"], "upstream-echo-model");
    assert_eq!(sent["messages"][0]["role"], "system", "{sent}");
    assert!(
        sent.get("system").is_none() && sent.get("cache_control").is_none(),
        "{sent}"
    );
    assert!(
        openai
            .requests()
            .iter()
            .all(|r| !r.headers.contains_key("anthropic-version"))
    );
    let streamed = post(
        &gateway,
        "/v1/messages",
        &[],
        &messages_body("echo", "sse", true),
    )
    .await;
    let mocked = post(
        &gateway,
        "/v1/messages",
        &[],
        &messages_body("demo", "hi", true),
    )
    .await;
    let mocked_plain = post(
        &gateway,
        "/v1/messages",
        &[],
        &messages_body("demo", "hi", false),
    )
    .await;
    let limited = post(
        &gateway,
        "/v1/messages",
        &[],
        &messages_body("echo", "status:429", false),
    )
    .await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.json()["error"]["type"], "rate_limit_error");
    for reply in [&streamed, &mocked] {
        let text = reply.text();
        assert!(
            text.trim_end()
                .rsplit("\n\n")
                .next()
                .is_some_and(|last| last.starts_with("event: message_stop")),
            "{text}"
        );
    }
    check_sdk_types(&[
        sdk_item_bytes("anthropic.message", &plain.body),
        sdk_item_bytes("anthropic.sse", &streamed.body),
        sdk_item_bytes("anthropic.sse", &mocked.body),
        sdk_item_bytes("anthropic.message", &mocked_plain.body),
        sdk_item_bytes("anthropic.error", &limited.body),
    ])
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_completions_are_translated_for_anthropic_upstreams() {
    let (_openai, anthropic, gateway) = rig().await;
    let body = |mode: &str, stream: bool| {
        json!({"model": "claude", "stream": stream, "messages": [
            {"role": "developer", "content": "be brief"},
            {"role": "user", "content": mode}]})
        .to_string()
    };
    let plain = chat(gateway.addr, &body("text", false)).await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert_eq!(plain.json()["object"], "chat.completion");
    assert_eq!(
        plain.json()["choices"][0]["message"]["content"],
        ANTHROPIC_TEXT_REPLY
    );
    let sent = anthropic.messages().pop().unwrap().json();
    assert_eq!(sent["model"], "claude-upstream-model");
    assert_eq!(sent["max_tokens"], 4096, "the default output limit: {sent}");
    assert_eq!(
        sent["system"][0]["text"], "be brief",
        "the developer message: {sent}"
    );
    let streamed = chat(gateway.addr, &body("stream", true)).await;
    assert!(
        streamed.text().ends_with("data: [DONE]\n\n"),
        "{}",
        streamed.text()
    );
    let limited = chat(gateway.addr, &body("status:429", false)).await;
    assert_eq!(limited.status, 429);
    assert!(limited.json()["error"]["message"].is_string());
    let unsupported = chat(
        gateway.addr,
        &json!({"model": "claude", "n": 3, "messages": [{"role": "user", "content": "text"}]})
            .to_string(),
    )
    .await;
    unsupported.assert_error(400, "unsupported_parameter");
    assert_eq!(unsupported.json()["error"]["param"], "n");
    assert_eq!(
        anthropic.rejected(),
        Vec::<String>::new(),
        "nothing the API refuses was sent"
    );
    check_sdk_types(&[
        sdk_item_bytes("openai.chat_completion", &plain.body),
        sdk_item_bytes("openai.sse", &streamed.body),
        sdk_item_bytes("openai.error", &limited.body),
    ])
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_tokens_models_hello_and_anthropic_shaped_errors() {
    let (_openai, anthropic, gateway) = rig().await;
    let count = |model: &str| json!({"model": model, "messages": [{"role": "user", "content": "hello there"}]});
    let exact = post(&gateway, "/v1/messages/count_tokens", &[], &count("claude")).await;
    assert_eq!(exact.status, 200, "{}", exact.text());
    assert!(exact.json()["input_tokens"].as_u64().is_some());
    assert!(!exact.headers.contains_key("x-gateway-token-count"));
    assert!(
        anthropic
            .requests()
            .iter()
            .any(|r| r.path() == "/v1/messages/count_tokens")
    );
    let estimate = post(&gateway, "/v1/messages/count_tokens", &[], &count("echo")).await;
    assert_eq!(estimate.status, 200);
    assert_eq!(estimate.headers["x-gateway-token-count"], "estimate");
    assert!(
        estimate.json()["input_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
    let models = send(
        gateway.addr,
        "GET",
        "/v1/models",
        &[
            ("x-api-key", CLIENT_KEY),
            ("anthropic-version", "2023-06-01"),
        ],
        "",
    )
    .await;
    assert_eq!(models.json()["data"][0]["type"], "model");
    assert_eq!(models.json()["has_more"], false);
    let hello = send(gateway.addr, "HEAD", "/api/hello", &[], "").await;
    assert_eq!(hello.status, 200);
    let unknown = post(
        &gateway,
        "/v1/messages",
        &[],
        &messages_body("nope", "text", false),
    )
    .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["type"], "error");
    assert_eq!(unknown.json()["error"]["type"], "not_found_error");
    let anonymous = send(gateway.addr, "POST", "/v1/messages", &[], "{}").await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(anonymous.json()["error"]["type"], "authentication_error");
    check_sdk_types(&[
        sdk_item_bytes("anthropic.count_tokens", &exact.body),
        sdk_item_bytes("anthropic.count_tokens", &estimate.body),
        sdk_item_bytes("anthropic.models", &models.body),
        sdk_item_bytes("anthropic.error", &unknown.body),
        sdk_item_bytes("anthropic.error", &anonymous.body),
    ])
    .await
    .unwrap();
}

/// The official SDKs' own drives (plain, stream, tools with a follow-up
/// turn, count_tokens, a 429) through the gateway, for every combination.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_sdks_drive_every_protocol_and_upstream_combination() {
    let (_openai, anthropic, gateway) = rig().await;
    let base = format!("http://{}", gateway.addr);
    let v1 = format!("{base}/v1");
    for (command, url, model) in [
        ("anthropic", &base, "claude"),
        ("anthropic", &base, "echo"),
        ("openai", &v1, "claude"),
    ] {
        let run = run_sdk_script(
            &[
                command,
                "--base-url",
                url,
                "--api-key",
                CLIENT_KEY,
                "--model",
                model,
            ],
            "",
        )
        .await;
        assert!(
            run.success,
            "{command} SDK against model {model}:\n{run}\ngateway logs:\n{}",
            gateway.logs()
        );
    }
    assert_eq!(anthropic.rejected(), Vec::<String>::new());
}
