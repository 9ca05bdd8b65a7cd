//! The built-in mock upstream's tool calls through the gateway (issue 13):
//! `demo` (config/test, kind `mock`) answers `call <name> <json>` with one
//! tool call and a tool result with text, in OpenAI chat completions shape
//! (whole and streamed) and, translated, as Anthropic Messages `tool_use`.

use serde_json::json;

use crate::support::*;

const TOOLS: &str =
    r#"[{"type":"function","function":{"name":"calculator","parameters":{"type":"object"}}}]"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_model_calls_tools_in_both_protocols() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let ask =
        r#"[{"role":"user","content":"call calculator {\"operation\":\"add\",\"a\":1,\"b\":2}"}]"#;
    let body = format!(r#"{{"model":"demo","tools":{TOOLS},"messages":{ask}}}"#);
    let reply = chat(gateway.addr, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let choice = &reply.json()["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls", "{choice}");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["id"], "call_1");
    assert_eq!(call["function"]["name"], "calculator");
    let arguments: serde_json::Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(arguments, json!({"operation": "add", "a": 1, "b": 2}));

    let stream = format!(r#"{{"model":"demo","stream":true,"tools":{TOOLS},"messages":{ask}}}"#);
    let reply = chat(gateway.addr, &stream).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let text = reply.text();
    assert!(text.contains(r#""finish_reason":"tool_calls""#), "{text}");
    assert!(text.contains(r#""name":"calculator""#), "{text}");
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");

    let answered = format!(
        r#"{{"model":"demo","tools":{TOOLS},"messages":[
        {{"role":"user","content":"call calculator {{}}"}},
        {{"role":"assistant","content":null,"tool_calls":[{{"id":"call_1","type":"function","function":{{"name":"calculator","arguments":"{{}}"}}}}]}},
        {{"role":"tool","tool_call_id":"call_1","content":"3"}}]}}"#
    );
    let reply = chat(gateway.addr, &answered).await;
    assert_eq!(
        reply.json()["choices"][0]["message"]["content"],
        "The tool returned: 3"
    );

    // Anthropic Messages, translated to chat for the mock and back.
    let messages = json!({
        "model": "demo", "max_tokens": 64,
        "tools": [{"name": "calculator", "input_schema": {"type": "object"}}],
        "messages": [{"role": "user", "content": "call calculator {\"a\":1}"}],
    });
    let reply = send(
        gateway.addr,
        "POST",
        "/v1/messages",
        &[
            ("x-api-key", CLIENT_KEY),
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ],
        messages.to_string(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["stop_reason"], "tool_use", "{json}");
    let block = &json["content"][0];
    assert_eq!(block["type"], "tool_use", "{json}");
    assert_eq!(block["name"], "calculator");
    assert_eq!(block["input"], json!({"a": 1}));
}
