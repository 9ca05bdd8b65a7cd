//! Compiled model access (issue 12): a key restricted to some models (by
//! its own `models` patterns and its team's) is denied the others with a
//! 403 in the caller's protocol shape, sees only its models in
//! `/v1/models`, and `gateway access` prints the matrix. Test config:
//! `restricted-client` (key `gw-test-restricted-key`, team `restricted-team`)
//! may use `echo` and `claude` only.

use crate::support::*;

/// Published on purpose, test environment only (config/test/security.yaml).
const RESTRICTED_KEY: &str = "gw-test-restricted-key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_key_reaches_only_its_models() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let bearer = format!("Bearer {RESTRICTED_KEY}");
    let auth = [("authorization", bearer.as_str())];
    let chat_as = |model: &str| {
        bytes::Bytes::from(format!(
            r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}]}}"#
        ))
    };
    let allowed = send(
        gateway.addr,
        "POST",
        "/v1/chat/completions",
        &auth,
        chat_as("echo"),
    )
    .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    // The request line names the caller's team.
    gateway.wait_for_log(
        r#""team":"restricted-team""#,
        std::time::Duration::from_secs(5),
    );
    let denied = send(
        gateway.addr,
        "POST",
        "/v1/chat/completions",
        &auth,
        chat_as("demo"),
    )
    .await;
    denied.assert_error(403, "model_not_allowed");
    assert_eq!(denied.json()["error"]["type"], "permission_error");

    // Anthropic clients get Anthropic's shape.
    let anthropic = [
        ("x-api-key", RESTRICTED_KEY),
        ("anthropic-version", "2023-06-01"),
    ];
    let body = r#"{"model":"demo","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#;
    let reply = send(
        gateway.addr,
        "POST",
        "/v1/messages",
        &anthropic,
        bytes::Bytes::from(body),
    )
    .await;
    assert_eq!(reply.status, 403, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["type"], "error", "{json}");
    assert_eq!(json["error"]["type"], "permission_error", "{json}");

    // The model list shows what the key may use, in both shapes; others are not found.
    let ids = |json: &serde_json::Value| -> Vec<String> {
        json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = send(
        gateway.addr,
        "GET",
        "/v1/models",
        &auth,
        bytes::Bytes::new(),
    )
    .await;
    // `agent/assistant` runs on `echo` and is in restricted-team's `agents` (tests/agent_runs.rs).
    assert_eq!(ids(&list.json()), ["claude", "echo", "agent/assistant"]);
    let list = send(
        gateway.addr,
        "GET",
        "/v1/models",
        &anthropic,
        bytes::Bytes::new(),
    )
    .await;
    assert_eq!(ids(&list.json()), ["claude", "echo"]);
    send(
        gateway.addr,
        "GET",
        "/v1/models/demo",
        &auth,
        bytes::Bytes::new(),
    )
    .await
    .assert_error(404, "model_not_found");
    let everything = get(gateway.addr, "/v1/models", Some(CLIENT_KEY))
        .await
        .json();
    assert!(
        ids(&everything).len() > 2,
        "an unrestricted key sees every model"
    );

    assert_eq!(
        upstream.requests().len(),
        1,
        "denied requests never reach an upstream"
    );
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    assert!(
        metrics.contains(r#"gateway_auth_failures_total{reason="model_not_allowed"} 2"#),
        "{metrics}"
    );
}

#[test]
fn gateway_access_prints_the_compiled_matrix() {
    let (status, stdout, stderr) = run_to_exit(&["access"], &[]);
    assert!(status.success(), "{stderr}");
    let rows: Vec<String> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for row in [
        // Keys in their compiled order (by digest), the admin key first.
        // Then a key from a key file, without a team and with each team,
        // then each JWT scope.
        "MODEL admin restricted-client (restricted-team) test-client key-file key-file:restricted-team scope:chat scope:claude",
        "echo yes yes yes yes yes yes -",
        "claude yes yes yes yes yes - yes",
        "demo yes - yes yes yes yes -",
        "claude-primary yes - yes yes yes - yes",
    ] {
        assert!(rows.iter().any(|r| r == row), "no row `{row}`:\n{stdout}");
    }
}
