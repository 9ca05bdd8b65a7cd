//! The API surface against a mock upstream: passthrough fidelity, auth,
//! models, health, metrics, request ids, h2c, and no secrets in logs.

use crate::support::*;

const BODY_WITH_UNKNOWN_FIELDS: &str = r#"{"model": "echo", "messages":[{"role":"user","content":"json"}], "temperature":0.25, "x_vendor_field":{"nested":[1,2.50,"é"]}, "tools":[]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_rewrites_model_only_and_keeps_everything_else() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let reply = send(
        gateway.addr,
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", &format!("Bearer {CLIENT_KEY}")),
            ("x-request-id", "trace-abc-1"),
            ("cookie", "session=1"),
        ],
        BODY_WITH_UNKNOWN_FIELDS,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.body,
        JSON_REPLY.as_bytes(),
        "the upstream body comes back byte for byte"
    );
    assert_eq!(reply.headers["x-request-id"], "trace-abc-1");
    assert_eq!(
        reply.headers["x-upstream-marker"], "yes",
        "upstream headers are passed on"
    );

    let recorded = upstream.requests();
    assert_eq!(recorded.len(), 1);
    let expected =
        BODY_WITH_UNKNOWN_FIELDS.replace(r#""model": "echo""#, r#""model": "upstream-echo-model""#);
    assert_eq!(
        recorded[0].body,
        expected.as_bytes(),
        "only the model value changes, every other byte is kept"
    );
    let headers = &recorded[0].headers;
    assert_eq!(
        headers["authorization"],
        format!("Bearer {UPSTREAM_KEY}"),
        "the upstream key replaces the client's"
    );
    assert_eq!(headers["x-request-id"], "trace-abc-1");
    assert!(
        !headers.contains_key("cookie"),
        "client cookies are not forwarded"
    );

    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    assert!(
        metrics.contains(
            r#"gateway_requests_total{route="chat_completions",model="echo",status="200"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"gateway_upstream_requests_total{upstream="local",status="200"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"gateway_tokens_total{model="echo",direction="prompt"} 11"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"gateway_tokens_total{model="echo",direction="completion"} 22"#),
        "{metrics}"
    );

    // The request's log line is written once its answer has gone out, which
    // may be just after the client read it: wait for it (bounded).
    let logs = gateway.wait_for_log("trace-abc-1", std::time::Duration::from_secs(5));
    assert!(logs.contains(r#""event":"request.completed""#), "{logs}");
    for secret in [UPSTREAM_KEY, SECOND_KEY, CLIENT_KEY, ADMIN_KEY] {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
        assert!(
            !metrics.contains(secret),
            "a secret leaked into the metrics"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_requires_a_configured_key() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let body = r#"{"model":"demo","messages":[{"role":"user","content":"hi"}]}"#;
    let no_key = send(gateway.addr, "POST", "/v1/chat/completions", &[], body).await;
    no_key.assert_error(401, "missing_api_key");
    let wrong = send(
        gateway.addr,
        "POST",
        "/v1/chat/completions",
        &[("authorization", "Bearer nope")],
        body,
    )
    .await;
    wrong.assert_error(401, "invalid_api_key");
    assert!(
        !wrong.text().contains("nope"),
        "the presented key is not echoed"
    );
    let admin = send(
        gateway.addr,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &format!("Bearer {ADMIN_KEY}"))],
        body,
    )
    .await;
    assert_eq!(admin.status, 200, "the admin key is accepted on the API");
    assert_eq!(chat(gateway.addr, body).await.status, 200);
    get(gateway.addr, "/v1/models", None)
        .await
        .assert_error(401, "missing_api_key");
    get(gateway.addr, "/metrics", Some(CLIENT_KEY))
        .await
        .assert_error(401, "admin_key_required");
    assert!(
        upstream.requests().is_empty(),
        "rejected requests never reach an upstream"
    );
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    for (reason, count) in [
        ("missing_key", 2),
        ("invalid_key", 1),
        ("admin_key_required", 1),
        ("model_not_allowed", 0),
    ] {
        let line = format!("gateway_auth_failures_total{{reason=\"{reason}\"}} {count}");
        assert!(metrics.contains(&line), "{line}\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_health_ready_version() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let models = get(gateway.addr, "/v1/models", Some(CLIENT_KEY))
        .await
        .json();
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "backup-anthropic",
            "chat-only",
            "claude",
            "claude-primary",
            "cloud-model",
            "deadline-bound",
            "demo",
            "down",
            "echo",
            "endless",
            "long-context",
            "pair",
            "pair-chat-fallback",
            "primary",
            "quota-bounds",
            "quota-budget",
            "quota-requests",
            "quota-shared",
            "quota-shared-budget",
            "quota-shared-open",
            "quota-tokens",
            "rotating-model",
            "secured-model",
            "slow-stream",
            "tiered",
            // The agents of config/test/agents.yaml (tests/agent_runs.rs).
            "agent/arithmetic",
            "agent/assistant",
            "agent/frugal",
            "agent/guarded",
            "agent/hasty",
            "agent/mocked",
            "agent/offline",
            "agent/pinned"
        ]
    );
    assert_eq!(models["data"][3]["object"], "model");
    let one = get(gateway.addr, "/v1/models/echo", Some(CLIENT_KEY))
        .await
        .json();
    assert_eq!(one["owned_by"], "local");
    get(gateway.addr, "/v1/models/nope", Some(CLIENT_KEY))
        .await
        .assert_error(404, "model_not_found");

    let health = get(gateway.addr, "/health", None).await.json();
    assert_eq!(
        health["status"], "degraded",
        "the optional `cloud` upstream is disabled: {health}"
    );
    assert_eq!(health["environment"], "test");
    assert_eq!(health["config_sha256"].as_str().unwrap().len(), 64);
    assert!(health["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(health["uptime_seconds"].is_u64() && health["version"].is_string());

    let ready = get(gateway.addr, "/ready", None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["disabled_upstreams"][0]["upstream"], "cloud");
    assert!(
        ready.text().contains("GATEWAY_TEST_OPTIONAL_KEY"),
        "/ready says why: {}",
        ready.text()
    );
    assert_eq!(get(gateway.addr, "/healthz", None).await.text(), "ok\n");
    let version = get(gateway.addr, "/version", None).await.json();
    assert_eq!(version["config_sha256"], health["config_sha256"]);
    assert_eq!(version["environment"], "test");
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(version["git_revision"], env!("GATEWAY_GIT_REVISION"));
    assert_eq!(version["rustc"], env!("GATEWAY_RUSTC_VERSION"));
    assert!(version["rustc"].as_str().unwrap().starts_with("1."));
    for field in ["version", "git_revision", "rustc"] {
        assert_eq!(
            health[field], version[field],
            "/health and /version agree on {field}"
        );
    }
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    let build_info = format!(
        "gateway_build_info{{version=\"{}\",environment=\"test\",config_sha256=\"{}\",git_revision=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        version["config_sha256"].as_str().unwrap(),
        env!("GATEWAY_GIT_REVISION")
    );
    assert!(metrics.contains(&build_info), "{metrics}");
    assert!(
        gateway
            .logs()
            .contains(r#""event":"startup.upstream_disabled""#),
        "the log says so too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_requests_are_served() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let auth = format!("Bearer {CLIENT_KEY}");
    let reply = send_h2(
        gateway.addr,
        "/v1/chat/completions",
        &[("authorization", &auth)],
        r#"{"model":"echo","messages":[{"role":"user","content":"json"}]}"#,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.body, JSON_REPLY.as_bytes());
}
