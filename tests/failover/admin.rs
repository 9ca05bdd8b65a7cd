//! The operator's view and levers: maintenance on and off (tries in flight
//! finish), the admin key, `POST /upstreams/refresh`, `/health/providers` and `/ready`.

use super::*;

const MAINTENANCE_A: &str = "/upstreams/flaky-a/maintenance";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_in_flight_finishes_when_its_upstream_enters_maintenance() {
    let rig = Rig::start().await;
    rig.a.script([Behaviour::Gated]);
    let mut stream = open_chat_stream(&rig, "tiered").await;
    let first = next_data(&mut stream).await.expect("the first event");

    let reply = rig.admin("POST", MAINTENANCE_A, Some(ADMIN_KEY)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["upstream"], "flaky-a", "{json}");
    assert_eq!(json["maintenance"], true, "{json}");
    assert_eq!(json["in_flight"], 1, "the stream is in flight: {json}");

    rig.a.release();
    let text = read_to_end(&mut stream, first).await;
    assert!(text.ends_with("data: [DONE]\n\n"), "it finished: {text}");
    assert!(!text.contains("event: error"), "{text}");
    assert!(text.contains("tier-primary"), "{text}");
    let reply = rig.chat("tiered", false).await;
    assert_eq!(chat_text(&reply), "served by tier-backup");
    assert_eq!(rig.a.count(), 1, "only the stream begun before maintenance");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_moves_traffic_away_until_it_ends() {
    let rig = Rig::start().await;
    let reply = rig.admin("POST", MAINTENANCE_A, Some(ADMIN_KEY)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["in_flight"], 0, "{}", reply.text());
    for model in ["pair"; 10] {
        assert_eq!(chat_text(&rig.chat(model, false).await), "served by pair-b");
    }
    let reply = rig.chat("tiered", false).await;
    assert_eq!(chat_text(&reply), "served by tier-backup");
    assert_eq!(
        rig.a.count(),
        0,
        "no try reaches an upstream in maintenance"
    );
    let providers = &rig.providers().await["providers"];
    assert_eq!(providers["flaky-a"]["maintenance"], true, "{providers:#}");
    assert_eq!(providers["flaky-b"]["maintenance"], false, "{providers:#}");
    let gauge = r#"gateway_upstream_maintenance{upstream="flaky-a"}"#;
    assert_eq!(rig.metric(gauge).await, Some(1.0));

    let reply = rig.admin("DELETE", MAINTENANCE_A, Some(ADMIN_KEY)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["maintenance"], false, "{}", reply.text());
    let reply = rig.chat("tiered", false).await;
    assert_eq!(
        chat_text(&reply),
        "served by tier-primary",
        "traffic returns"
    );
    assert_eq!(rig.metric(gauge).await, Some(0.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_endpoints_need_the_admin_key_and_a_known_upstream() {
    let rig = Rig::start().await;
    for (method, path) in [
        ("POST", MAINTENANCE_A),
        ("DELETE", MAINTENANCE_A),
        ("POST", "/upstreams/refresh"),
    ] {
        rig.admin(method, path, None)
            .await
            .assert_error(401, "admin_key_required");
        let reply = rig.admin(method, path, Some(CLIENT_KEY)).await;
        assert_eq!(
            reply.status,
            401,
            "{method} {path} with a client key: {}",
            reply.text()
        );
    }
    let unknown = "/upstreams/no-such-upstream/maintenance";
    rig.admin("POST", unknown, Some(ADMIN_KEY))
        .await
        .assert_error(404, "upstream_not_found");
    assert_eq!(
        rig.providers().await["providers"]["flaky-a"]["maintenance"],
        false
    );

    let reply = rig
        .admin("POST", "/upstreams/refresh", Some(ADMIN_KEY))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    let providers = rig.providers().await;
    let upstreams = providers["providers"]
        .as_object()
        .expect("providers object");
    let secrets = json["secrets"].as_array().expect("secrets list");
    assert_eq!(
        secrets.len(),
        upstreams.len(),
        "one entry per upstream: {json:#}"
    );
    for entry in secrets {
        let name = entry["upstream"].as_str().expect("upstream name");
        assert!(upstreams.contains_key(name), "{entry}");
        assert!(entry["secret"].is_string(), "{entry}");
    }
    let structural = json["structural_changes"].as_str().unwrap_or_default();
    assert!(structural.contains("build"), "{json:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_providers_describes_every_upstream_and_deployment() {
    let rig = Rig::start().await;
    let _ = rig.chat("pair", false).await;
    let providers = rig.providers().await;
    check_shape(&providers);
    // `cloud` is optional and has no key here: disabled, so `cloud-model` has no deployment.
    let cloud = &providers["providers"]["cloud"];
    assert_eq!(cloud["enabled"], false, "{cloud}");
    assert!(cloud["disabled_reason"].is_string(), "{cloud}");
    let stranded = providers["models_without_deployment"]
        .as_array()
        .expect("list");
    assert!(stranded.contains(&json!("cloud-model")), "{providers:#}");
    assert_eq!(
        providers["status"], "down",
        "some model has no deployment: {providers:#}"
    );
    let flaky_b = &providers["providers"]["flaky-b"];
    assert_eq!(flaky_b["kind"], "openai", "{flaky_b}");
    assert_eq!(flaky_b["health"]["checks"], true, "{flaky_b}");
    assert_eq!(
        providers["providers"]["flaky-anthropic"]["kind"],
        "anthropic"
    );
    assert_eq!(providers["providers"]["flaky-a"]["health"]["checks"], false);
    let tiered_b = rig.deployment("flaky-b", "tiered").await;
    assert_eq!(
        (
            tiered_b["upstream_model"].clone(),
            tiered_b["priority"].clone()
        ),
        (json!("tier-backup"), json!(1))
    );

    for upstream in ["flaky-a", "flaky-b"] {
        let path = format!("/upstreams/{upstream}/maintenance");
        assert_eq!(rig.admin("POST", &path, Some(ADMIN_KEY)).await.status, 200);
    }
    let providers = rig.providers().await;
    let stranded = providers["models_without_deployment"]
        .as_array()
        .expect("list");
    for model in [
        "pair",
        "tiered",
        "primary",
        "long-context",
        "deadline-bound",
    ] {
        assert!(stranded.contains(&json!(model)), "{model}: {providers:#}");
    }
    rig.chat("pair", false)
        .await
        .assert_error(503, "no_deployment_available");
    let reply = rig.chat("primary", false).await;
    assert_eq!(
        chat_text(&reply),
        "served by claude-backup",
        "its fallback still serves"
    );
    let ready = get(rig.gateway.addr, "/ready", None).await;
    assert_eq!(
        ready.status,
        200,
        "other routes still serve: {}",
        ready.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_is_served_only_on_its_endpoints() {
    let rig = Rig::start().await;
    let reply = rig.messages("chat-only", false).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["type"], "error", "Anthropic shape: {json}");
    assert_eq!(json["error"]["type"], "invalid_request_error", "{json}");
    let message = json["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("chat-only") && message.contains("not served"),
        "{json}"
    );
    assert_eq!(rig.chat("chat-only", false).await.status, 200);
}

/// Every field of the documented `/health/providers` shape, with its type.
fn check_shape(providers: &Value) {
    assert!(["ok", "degraded", "down"].contains(&providers["status"].as_str().unwrap_or_default()));
    assert!(providers["timestamp"].is_string(), "{providers:#}");
    assert!(
        providers["models_without_deployment"].is_array(),
        "{providers:#}"
    );
    let upstreams = providers["providers"]
        .as_object()
        .expect("providers object");
    for name in ["flaky-a", "flaky-b", "flaky-anthropic", "local", "mock"] {
        assert!(upstreams.contains_key(name), "{name}: {providers:#}");
    }
    for (name, entry) in upstreams {
        assert!(entry["kind"].is_string(), "{name}: {entry}");
        assert!(entry["enabled"].is_boolean(), "{name}: {entry}");
        assert!(
            entry["disabled_reason"].is_string() || entry["disabled_reason"].is_null(),
            "{name}: {entry}"
        );
        assert!(entry["maintenance"].is_boolean(), "{name}: {entry}");
        let health = &entry["health"];
        for key in [
            "status",
            "checks",
            "last_checked_at",
            "last_error",
            "last_error_at",
        ] {
            assert!(health.get(key).is_some(), "{name}.health.{key}: {entry}");
        }
        for deployment in entry["deployments"].as_array().expect("deployments") {
            check_deployment(name, deployment);
        }
    }
    let pair_a = upstreams["flaky-a"]["deployments"]
        .as_array()
        .and_then(|l| l.iter().find(|d| d["model"] == "pair"));
    let pair_a = pair_a.expect("pair on flaky-a");
    assert_eq!(pair_a["upstream_model"], "pair-a", "{pair_a}");
    assert_eq!(pair_a["weight"], 1, "{pair_a}");
}

fn check_deployment(upstream: &str, deployment: &Value) {
    let fields = [
        ("model", deployment["model"].is_string()),
        ("upstream_model", deployment["upstream_model"].is_string()),
        ("priority", deployment["priority"].is_u64()),
        ("weight", deployment["weight"].is_u64()),
        ("available", deployment["available"].is_boolean()),
        (
            "breaker",
            ["closed", "open", "half_open"]
                .contains(&deployment["breaker"].as_str().unwrap_or_default()),
        ),
        ("in_flight", deployment["in_flight"].is_u64()),
        (
            "ewma_latency_ms",
            deployment["ewma_latency_ms"].is_number() || deployment["ewma_latency_ms"].is_null(),
        ),
        ("last_error", deployment.get("last_error").is_some()),
        ("last_error_at", deployment.get("last_error_at").is_some()),
    ];
    for (field, ok) in fields {
        assert!(ok, "{upstream}: deployment field {field}: {deployment}");
    }
}

/// The secret file `rotating` names (config/test/upstreams.yaml).
const ROTATING_KEY_FILE: &str = "/tmp/gateway-test-rotating-key";

/// A file secret rotated in place takes effect with `POST /upstreams/refresh`,
/// no restart: requests before carry the old key, requests after the new
/// one; an environment secret says it needs a restart; a file that went
/// missing keeps the key in use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_rotates_a_file_secret_without_a_restart() {
    std::fs::write(ROTATING_KEY_FILE, "rotating-key-one\n").expect("write the key file");
    let upstream = MockUpstream::start().await;
    let mut env = standard_env(&upstream.base_url());
    env.push(("GATEWAY_TEST_ROTATING_URL", upstream.base_url()));
    let gateway = Gateway::start(&env);
    let body = r#"{"model":"rotating-model","messages":[{"role":"user","content":"hi"}]}"#;
    assert_eq!(chat(gateway.addr, body).await.status, 200);

    std::fs::write(ROTATING_KEY_FILE, "rotating-key-two\n").expect("rotate the key file");
    assert_eq!(chat(gateway.addr, body).await.status, 200);
    let admin = format!("Bearer {ADMIN_KEY}");
    let headers = [("authorization", admin.as_str())];
    let refresh = |headers| {
        send(
            gateway.addr,
            "POST",
            "/upstreams/refresh",
            headers,
            bytes::Bytes::new(),
        )
    };
    let reply = refresh(&headers).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    let status_of = |json: &Value, name: &str| {
        json["secrets"]
            .as_array()
            .and_then(|list| list.iter().find(|e| e["upstream"] == name))
            .map(|e| e["secret"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(status_of(&json, "rotating"), "reloaded", "{json:#}");
    assert!(
        status_of(&json, "local").contains("restart"),
        "an environment secret: {json:#}"
    );
    assert_eq!(chat(gateway.addr, body).await.status, 200);

    std::fs::remove_file(ROTATING_KEY_FILE).expect("remove the key file");
    let json = refresh(&headers).await.json();
    assert!(
        status_of(&json, "rotating").starts_with("kept the secret in use"),
        "{json:#}"
    );
    assert_eq!(chat(gateway.addr, body).await.status, 200);

    let keys: Vec<String> = upstream
        .requests()
        .iter()
        .map(|r| {
            r.headers["authorization"]
                .to_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        keys,
        [
            "Bearer rotating-key-one",
            "Bearer rotating-key-one",
            "Bearer rotating-key-two",
            "Bearer rotating-key-two"
        ],
        "the file is read at startup and by refresh, never in between"
    );
}
