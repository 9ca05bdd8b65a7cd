//! Claude Code (npm `@anthropic-ai/claude-code`, pinned in
//! `scripts/test-deps`) run headless against the Anthropic mock directly:
//! a text turn, a turn where the model thinks and calls Claude Code's `Bash`
//! tool and the next turn answers from the tool's output (the signed thinking
//! block sent back intact), and a model id Claude Code does not know. Proves the rig (the
//! mock speaks what Claude Code needs, Claude Code runs here without a
//! network); the same helper points it at the gateway.

mod run;

use run::{Auth, Claude, describe, tool_names};

use serde_json::Value;

use crate::support::*;

const KEY: &str = "sk-ant-claude-code-mock-key";
/// A model Claude Code 2.1.332 knows and sends budgeted thinking to.
const BUDGET_MODEL: &str = "claude-haiku-4-5";
/// A newer model: adaptive thinking, `output_config`, mid-conversation system messages.
const ADAPTIVE_MODEL: &str = "claude-sonnet-5";

fn claude<'a>(mock: &'a str, model: &'a str, allowed_tools: &'a [&'a str]) -> Claude<'a> {
    Claude {
        base_url: mock,
        key: KEY,
        auth: Auth::ApiKey,
        model,
        allowed_tools,
    }
}

/// The `POST /v1/messages` bodies whose last user message carries `needle`
/// (Claude Code may make side requests besides the conversation's, and may
/// put a system message after the user's).
fn conversation(mock: &AnthropicUpstream, needle: &str) -> Vec<Value> {
    let last_user = |body: &Value| {
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        messages
            .into_iter()
            .rev()
            .find(|m| m["role"] == "user")
            .unwrap_or_default()
    };
    mock.messages()
        .iter()
        .map(AnthropicRecorded::json)
        .filter(|body| last_user(body).to_string().contains(needle))
        .collect()
}

/// Runs `claude -p prompt` against a fresh mock; asserts exit 0, `expected`
/// in its output and nothing refused by the mock. Returns the mock.
async fn scenario(
    auth: Auth,
    model: &str,
    tools: &[&str],
    prompt: &str,
    expected: &str,
) -> AnthropicUpstream {
    let mock = AnthropicUpstream::start_with_key(KEY).await;
    let base_url = mock.base_url();
    let run = Claude {
        auth,
        ..claude(&base_url, model, tools)
    }
    .run(prompt)
    .await;
    let sent = describe(&mock.requests());
    eprintln!("claude -p {prompt:?} --model {model}: {run}\nrequests:\n{sent}");
    assert_eq!(run.code, Some(0), "{run}\n{sent}");
    assert!(
        run.stdout.contains(expected),
        "expected {expected:?}\n{run}\n{sent}"
    );
    assert_eq!(
        mock.rejected(),
        Vec::<String>::new(),
        "the mock refused a Claude Code request (Claude Code retries silently)\n{sent}"
    );
    mock
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_answers_a_text_turn_from_the_anthropic_mock() {
    let mock = scenario(
        Auth::Bearer,
        BUDGET_MODEL,
        &[],
        "text",
        ANTHROPIC_TEXT_REPLY,
    )
    .await;
    let request = mock.messages().into_iter().next().unwrap();
    assert_eq!(request.uri, "/v1/messages?beta=true");
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    let body = request.json();
    assert_eq!(body["stream"], true, "Claude Code streams");
    assert_eq!(body["thinking"]["type"], "enabled", "{}", body["thinking"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_runs_bash_and_answers_from_its_output() {
    // The model thinks, then calls Bash; Claude Code runs it and sends the
    // output back with the signed thinking block, which the mock verifies.
    let prompt =
        r#"thinking+tool:Bash:{"command":"echo marker-123","description":"Print a marker"}"#;
    let mock = scenario(
        Auth::ApiKey,
        ADAPTIVE_MODEL,
        &["Bash"],
        prompt,
        "the tool said: marker-123",
    )
    .await;
    let request = mock.messages().into_iter().next().unwrap();
    assert_eq!(
        request.header("x-api-key"),
        Some(KEY),
        "ANTHROPIC_API_KEY is sent as x-api-key"
    );
    let first = &conversation(&mock, "echo marker-123")[0];
    assert!(tool_names(first).contains(&"Bash".to_string()), "{first}");
    let second = &conversation(&mock, "tool_result")[0];
    let messages = second["messages"].as_array().unwrap();
    let answer = messages.iter().rposition(|m| m["role"] == "user").unwrap();
    let result = messages[answer].to_string();
    assert!(
        result.contains("marker-123") && result.contains("toolu_mock_"),
        "{result}"
    );
    let thinking = &messages[answer - 1]["content"][0];
    assert_eq!(
        thinking["type"], "thinking",
        "the thinking block went back: {thinking}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_with_a_model_id_it_does_not_know() {
    // What a gateway's own model names get: `output_config` and adaptive thinking.
    let mock = scenario(
        Auth::ApiKey,
        "gateway-model",
        &[],
        "text",
        ANTHROPIC_TEXT_REPLY,
    )
    .await;
    let body = mock.messages()[0].json();
    assert_eq!(body["model"], "gateway-model");
    assert!(
        body["output_config"].is_object() && body["thinking"]["type"] == "adaptive",
        "{}",
        describe(&mock.requests())
    );
}

/// Claude Code through the gateway: `ANTHROPIC_BASE_URL` is the gateway,
/// which serves `claude` from the Anthropic mock (passthrough) and `echo`
/// from the OpenAI-format mock (translated both ways). Each run includes a
/// turn where the model calls Claude Code's Bash tool and the next turn
/// answers from its output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_works_through_the_gateway_against_both_upstream_formats() {
    let openai = MockUpstream::start().await;
    let anthropic = AnthropicUpstream::start_with_key(ANTHROPIC_KEY).await;
    let anthropic_url = format!("{}/v1", anthropic.base_url());
    let gateway = Gateway::start(&anthropic_env(&openai.base_url(), &anthropic_url));
    let base_url = format!("http://{}", gateway.addr);
    let bash = r#"tool:Bash:{"command":"echo marker-456","description":"Print a marker"}"#;
    for (model, prompt, expected) in [
        ("claude", "text", ANTHROPIC_TEXT_REPLY),
        ("claude", bash, "the tool said: marker-456"),
        ("echo", bash, "marker-456"),
    ] {
        let run = Claude {
            base_url: &base_url,
            key: CLIENT_KEY,
            auth: Auth::ApiKey,
            model,
            allowed_tools: &["Bash"],
        }
        .run(prompt)
        .await;
        let logs = gateway.logs();
        let translated: Vec<String> = openai
            .requests()
            .iter()
            .map(|r| {
                let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
                let messages = body["messages"].as_array().cloned().unwrap_or_default();
                let tail = &messages[messages.len().saturating_sub(2)..];
                serde_json::to_string(tail)
                    .unwrap_or_default()
                    .chars()
                    .rev()
                    .take(2000)
                    .collect::<String>()
                    .chars()
                    .rev()
                    .collect()
            })
            .collect();
        assert_eq!(run.code, Some(0), "model {model}: {run}\ngateway:\n{logs}");
        assert!(
            run.stdout.contains(expected),
            "model {model}: expected {expected:?}\n{run}\ngateway:\n{logs}\nOpenAI-format upstream got:\n{translated:#?}"
        );
    }
    assert_eq!(
        anthropic.rejected(),
        Vec::<String>::new(),
        "the gateway sent nothing the Anthropic API refuses\n{}",
        describe(&anthropic.requests())
    );
    let turns = conversation(&anthropic, "tool_result");
    assert!(!turns.is_empty(), "{}", describe(&anthropic.requests()));
    // The OpenAI-format upstream got a tool call's result back as a `tool` message.
    let translated = openai.requests();
    assert!(
        translated.iter().any(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
            body["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["role"] == "tool"))
        }),
        "no tool result reached the OpenAI-format upstream"
    );
}
