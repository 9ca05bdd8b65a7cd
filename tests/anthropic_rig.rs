//! The test rigs themselves, without the gateway: the official SDKs against
//! the mocks directly (proof that each mock speaks a wire format its SDK
//! accepts, strictly), the Anthropic mock's faults and refusals, and the
//! SDK-type checker both accepting good shapes and catching bad ones.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

const MOCK_KEY: &str = "sk-ant-mock-key-0123456789";

fn anthropic_headers(key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        ("anthropic-version", "2023-06-01".into()),
        ("x-api-key", key.into()),
    ]
}

/// POSTs `body` to the Anthropic mock at `path` with the given headers.
async fn post(
    mock: &AnthropicUpstream,
    path: &str,
    headers: &[(&'static str, String)],
    body: Value,
) -> Reply {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    send(mock.addr, "POST", path, &headers, body.to_string()).await
}

fn ask(prompt: &str, stream: bool) -> Value {
    let tools = json!([{"name": "Bash", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}},
                       {"name": "Read", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}}]);
    json!({"model": "claude-mock-1", "max_tokens": 2048, "stream": stream, "tools": tools,
           "messages": [{"role": "user", "content": [{"type": "text", "text": "<system-reminder>ignored</system-reminder>"}, {"type": "text", "text": prompt}]}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_sdk_accepts_the_anthropic_mock() {
    let mock = AnthropicUpstream::start_with_key(MOCK_KEY).await;
    let steps = "plain,stream,tools,tools-stream,count_tokens,errors,thinking";
    let args = [
        "anthropic",
        "--base-url",
        &mock.base_url(),
        "--api-key",
        MOCK_KEY,
        "--model",
        "claude-mock-1",
        "--steps",
        steps,
    ];
    let report = run_sdk_script(&args, "").await.assert_ok();
    assert_eq!(
        report["steps"]["tools"]["answer"], "the tool said: marker-7f3a",
        "{report:#}"
    );
    assert_eq!(report["steps"]["errors"]["retry_after"], "7", "{report:#}");
    assert_eq!(
        mock.rejected(),
        Vec::<String>::new(),
        "the mock refused an SDK request"
    );
    let first = &mock.messages()[0];
    // The anthropic SDK 2.x sends its api_key as a bearer token, not x-api-key.
    assert_eq!(
        first.header("authorization"),
        Some(format!("Bearer {MOCK_KEY}").as_str())
    );
    assert_eq!(first.header("x-api-key"), None);
    // SDK 2.14 sends API version 2026-10-21 (Claude Code sends 2023-06-01).
    assert_eq!(first.header("anthropic-version"), Some("2026-10-21"));
    let paths: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert!(
        paths.contains(&"/v1/messages/count_tokens".to_string()),
        "{paths:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_sdk_accepts_the_openai_mock_tool_modes() {
    let mock = MockUpstream::start().await;
    let args = [
        "openai",
        "--base-url",
        &mock.base_url(),
        "--api-key",
        UPSTREAM_KEY,
        "--model",
        "gpt-mock",
    ];
    let report = run_sdk_script(&args, "").await.assert_ok();
    assert_eq!(
        report["steps"]["tools-stream"]["answer"], "the tool said: marker-7f3a",
        "{report:#}"
    );
    let streamed = mock
        .requests()
        .iter()
        .filter(|r| r.body.windows(8).any(|w| w == b"sse-tool"))
        .count();
    assert_eq!(streamed, 2, "the streamed tool-call turn and its follow-up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_mock_errors_and_refusals_look_like_the_api() {
    let mock = AnthropicUpstream::start_with_key(MOCK_KEY).await;
    let headers = anthropic_headers(MOCK_KEY);
    // (prompt, status, error type, retry-after, x-should-retry)
    let cases = [
        ("status:429", 429, "rate_limit_error", Some("7"), "true"),
        ("status:529", 529, "overloaded_error", Some("7"), "true"),
        ("status:400", 400, "invalid_request_error", None, "false"),
        ("status:500", 500, "api_error", None, "true"),
    ];
    let mut bodies = Vec::new();
    for (prompt, status, kind, retry_after, should_retry) in cases {
        let reply = post(&mock, "/v1/messages", &headers, ask(prompt, false)).await;
        assert_eq!(reply.status, status, "{prompt}: {}", reply.text());
        assert_eq!(reply.json()["error"]["type"], kind, "{prompt}");
        let header = |name: &str| {
            reply
                .headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(header("retry-after").as_deref(), retry_after, "{prompt}");
        assert_eq!(
            header("x-should-retry").as_deref(),
            Some(should_retry),
            "{prompt}"
        );
        assert_eq!(
            Some(reply.json()["request_id"].as_str().unwrap().to_string()),
            header("request-id")
        );
        assert!(
            header("anthropic-ratelimit-requests-remaining").is_some(),
            "{prompt}"
        );
        bodies.push(sdk_item_bytes("anthropic.error", &reply.body));
    }
    check_sdk_types(&bodies).await.unwrap();
    assert!(mock.rejected().is_empty(), "status modes are not refusals");

    // What the real API refuses, the mock refuses and lists.
    let mut no_version = headers.clone();
    no_version.retain(|(n, _)| *n != "anthropic-version");
    let mut wrong_key = headers.clone();
    wrong_key[2].1 = "sk-wrong".into();
    let mut openai_field = ask("text", false);
    openai_field["stream_options"] = json!({"include_usage": true});
    let refusals = [
        (
            post(&mock, "/v1/messages", &no_version, ask("text", false)).await,
            400,
        ),
        (
            post(&mock, "/v1/messages", &wrong_key, ask("text", false)).await,
            401,
        ),
        (
            post(&mock, "/v1/messages", &headers, openai_field).await,
            400,
        ),
    ];
    for (reply, status) in &refusals {
        assert_eq!(reply.status, *status, "{}", reply.text());
        assert_eq!(reply.json()["type"], "error");
    }
    let rejected = mock.rejected();
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert!(
        rejected[2].contains("stream_options: Extra inputs are not permitted"),
        "{rejected:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_mock_streams_and_faults() {
    let mock = AnthropicUpstream::start().await;
    let headers = anthropic_headers("any");
    let mut good = Vec::new();
    for prompt in [
        "text",
        "stream",
        "tool",
        "parallel-tool",
        r#"tool:Read:{"file_path":"/etc/hostname"}"#,
        "thinking+tool",
        "error-event",
    ] {
        let reply = post(&mock, "/v1/messages", &headers, ask(prompt, true)).await;
        assert_eq!(reply.status, 200, "{prompt}");
        assert!(
            reply.text().starts_with("event: message_start\n"),
            "{prompt}: {}",
            reply.text()
        );
        good.push(sdk_item_bytes("anthropic.sse", &reply.body));
        let plain = post(&mock, "/v1/messages", &headers, ask(prompt, false)).await;
        if prompt != "error-event" {
            good.push(sdk_item_bytes("anthropic.message", &plain.body));
        }
    }
    let counted = post(
        &mock,
        "/v1/messages/count_tokens",
        &headers,
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    good.push(sdk_item_bytes("anthropic.count_tokens", &counted.body));
    let models = send(mock.addr, "GET", "/v1/models", &[], "").await;
    good.push(sdk_item_bytes("anthropic.models", &models.body));
    let report = check_sdk_types(&good).await.unwrap();
    // Items: an SSE then a JSON answer per prompt (no JSON for error-event).
    let results = &report["results"];
    assert_eq!(
        results[4]["blocks"],
        json!(["text", "tool_use"]),
        "{report:#}"
    );
    assert_eq!(
        results[6]["blocks"],
        json!(["text", "tool_use", "tool_use"]),
        "{report:#}"
    );
    assert_eq!(
        results[10]["blocks"],
        json!(["thinking", "text", "tool_use"]),
        "{report:#}"
    );
    assert_eq!(results[12]["ended"], "error", "{report:#}");

    // `truncated` ends without message_stop: the checker must say so.
    let truncated = post(&mock, "/v1/messages", &headers, ask("truncated", true)).await;
    let error = check_sdk_types(&[sdk_item_bytes("anthropic.sse", &truncated.body)])
        .await
        .unwrap_err();
    assert!(error.contains("without message_stop"), "{error}");

    // `stall` sends the first events, then nothing while the test waits.
    let body = ask("stall", true).to_string();
    let response = open(
        mock.addr,
        "POST",
        "/v1/messages",
        &[("anthropic-version", "2023-06-01")],
        body,
    )
    .await;
    let mut body = response.into_body();
    let mut seen = String::new();
    while !seen.contains("content_block_delta") {
        seen.push_str(&String::from_utf8_lossy(
            &next_data(&mut body).await.expect("an event"),
        ));
    }
    let silent = tokio::time::timeout(Duration::from_millis(500), next_data(&mut body)).await;
    assert!(silent.is_err(), "stall should stay silent");

    // A client that gives up on a non-streamed `stall` is counted as cancelled.
    let abandoned = tokio::time::timeout(
        Duration::from_millis(300),
        post(&mock, "/v1/messages", &headers, ask("stall", false)),
    )
    .await;
    assert!(abandoned.is_err(), "stall answered");
    let deadline = tokio::time::Instant::now() + LIMIT;
    while mock.cancelled() != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the abandoned request was not counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anthropic_mock_gated_stream_and_thinking_signature() {
    let mock = AnthropicUpstream::start().await;
    // `stream-gated` sends message_start, then waits for the test.
    let response = open(
        mock.addr,
        "POST",
        "/v1/messages",
        &[("anthropic-version", "2023-06-01")],
        ask("stream-gated", true).to_string(),
    )
    .await;
    let mut body = response.into_body();
    let first = next_data(&mut body).await.expect("message_start");
    assert!(first.starts_with(b"event: message_start\n"), "{first:?}");
    let held = tokio::time::timeout(Duration::from_millis(300), next_data(&mut body)).await;
    assert!(held.is_err(), "the gate did not hold");
    mock.release();
    let mut rest = String::new();
    while let Some(frame) = next_data(&mut body).await {
        rest.push_str(&String::from_utf8_lossy(&frame));
    }
    assert!(
        rest.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
        "{rest}"
    );
    let text: String = rest
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .filter_map(|event| event["delta"]["text"].as_str().map(String::from))
        .collect();
    assert_eq!(text, ANTHROPIC_LONG_REPLY);

    // A thinking block comes back only with the signature the mock gave it.
    let headers = anthropic_headers("any");
    let first = post(&mock, "/v1/messages", &headers, ask("thinking", false))
        .await
        .json();
    let thinking = first["content"][0].clone();
    assert_eq!(
        thinking["signature"],
        thinking_signature(thinking["thinking"].as_str().unwrap())
    );
    let follow_up = |block: Value| {
        let mut body = ask("text", false);
        let question = body["messages"][0].clone();
        body["messages"] = json!([question, {"role": "assistant", "content": [block, first["content"][1]]}, {"role": "user", "content": "text"}]);
        body
    };
    let kept = post(&mock, "/v1/messages", &headers, follow_up(thinking.clone())).await;
    assert_eq!(kept.status, 200, "{}", kept.text());
    let mut altered = thinking;
    altered["thinking"] = json!("re-serialised by a translator");
    let refused = post(&mock, "/v1/messages", &headers, follow_up(altered)).await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(
        mock.rejected()[0].contains("Invalid `signature`"),
        "{:?}",
        mock.rejected()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_type_checker_catches_bad_shapes() {
    let message = json!({"id": "m", "type": "message", "role": "assistant", "model": "x", "content": [{"type": "text", "text": "hi"}],
                         "stop_reason": "end_turn", "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 1}});
    let mut extra = message.clone();
    extra["invented"] = json!(true);
    let mut missing = message.clone();
    missing["usage"] = json!({"input_tokens": 1});
    let start = r#"{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}"#;
    let delta =
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#;
    let no_event_line = format!("event: message_start\ndata: {start}\n\ndata: {delta}\n\n");
    let delta_before_start = format!(
        "event: message_start\ndata: {start}\n\nevent: content_block_delta\ndata: {delta}\n\n"
    );
    let cases = [
        (sdk_item("anthropic.message", message.clone()), None),
        (sdk_item("anthropic.message", extra), Some("invented")),
        (
            sdk_item("anthropic.message", missing),
            Some("usage.output_tokens"),
        ),
        (
            sdk_item("anthropic.sse", no_event_line),
            Some("without an `event:` line"),
        ),
        (
            sdk_item("anthropic.sse", delta_before_start),
            Some("not open"),
        ),
        // The OpenAI mock's original `sse` chunks omit `created` and `model`.
        (
            sdk_item(
                "openai.chunk",
                serde_json::from_str::<Value>(&SSE_EVENTS[1][6..]).unwrap(),
            ),
            Some("created"),
        ),
        (
            sdk_item(
                "openai.chat_completion",
                serde_json::from_str::<Value>(JSON_REPLY).unwrap(),
            ),
            None,
        ),
    ];
    let items: Vec<Value> = cases.iter().map(|(item, _)| item.clone()).collect();
    let report = sdk_type_report(&items).await;
    for (index, (item, expected)) in cases.iter().enumerate() {
        let error = report["results"][index]["error"].as_str();
        match (expected, error) {
            (None, None) => {}
            (Some(needle), Some(error)) => assert!(
                error.contains(needle),
                "{item}: expected {needle:?} in {error}"
            ),
            _ => panic!(
                "{item}: expected {expected:?}, got {:#}",
                report["results"][index]
            ),
        }
    }
    assert_eq!(report["ok"], false);
}
