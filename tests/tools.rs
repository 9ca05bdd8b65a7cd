//! The compiled tool registry (issue 13, builtin tools): `GET /v1/tools`
//! lists what the caller may use, `POST /v1/tools/{name}/invoke` validates
//! the arguments against the compiled schema and runs the builtin, and every
//! call is logged (`tool.invoke`) and counted
//! (`gateway_tool_invocations_total`). Test config: `test-client` may use
//! every tool; `restricted-client`'s team only `current_time`
//! (config/test/security.yaml, config/test/tools.yaml).

use std::time::Duration;

use bytes::Bytes;

use crate::support::*;

/// Published on purpose, test environment only (config/test/security.yaml).
const RESTRICTED_KEY: &str = "gw-test-restricted-key";

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

/// The tool names of a `GET /v1/tools` answer.
fn names(json: &serde_json::Value) -> Vec<String> {
    json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["type"], "function", "{t}");
            t["function"]["name"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn invoke(gateway: &Gateway, key: &str, tool: &str, body: &str) -> Reply {
    let auth = bearer(key);
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let path = format!("/v1/tools/{tool}/invoke");
    send(
        gateway.addr,
        "POST",
        &path,
        &headers,
        Bytes::from(body.to_owned()),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_keys_list_different_tools() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let all = get(gateway.addr, "/v1/tools", Some(CLIENT_KEY)).await;
    assert_eq!(all.status, 200, "{}", all.text());
    let json = all.json();
    assert_eq!(json["object"], "list");
    // The MCP tools of config/test (tests/mcp_tools.rs) are listed too:
    // their servers are unreachable here, which does not disable them.
    assert_eq!(
        names(&json),
        [
            "big",
            "calc_add",
            "calc_fail",
            "calc_stdio_add",
            "calc_stdio_fail",
            "calculator",
            "crash",
            "create_item",
            "current_time",
            "lookup_item",
            "slow",
            "small_sum",
            "strict_add"
        ]
    );
    let by_name = |name: &str| {
        json["data"]
            .as_array()
            .and_then(|tools| tools.iter().find(|t| t["function"]["name"] == name))
            .map(|t| t["function"].clone())
            .unwrap_or_default()
    };
    let calculator = &by_name("calculator");
    assert_eq!(calculator["parameters"]["type"], "object", "{calculator}");
    assert_eq!(
        calculator["parameters"]["required"],
        serde_json::json!(["operation", "a", "b"])
    );
    let small_sum = &by_name("small_sum")["parameters"]["properties"]["a"];
    assert_eq!(
        small_sum["type"], "integer",
        "the configured, narrowed schema"
    );

    let restricted = get(gateway.addr, "/v1/tools", Some(RESTRICTED_KEY)).await;
    assert_eq!(names(&restricted.json()), ["current_time"]);
    get(gateway.addr, "/v1/tools", None)
        .await
        .assert_error(401, "missing_api_key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_validates_runs_logs_and_counts() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let ok = invoke(
        &gateway,
        CLIENT_KEY,
        "calculator",
        r#"{"arguments":{"operation":"multiply","a":6,"b":7}}"#,
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(
        ok.json(),
        serde_json::json!({"tool": "calculator", "result": {"value": 42.0}})
    );
    let now = invoke(
        &gateway,
        RESTRICTED_KEY,
        "current_time",
        r#"{"arguments":{}}"#,
    )
    .await;
    assert_eq!(now.status, 200, "{}", now.text());
    let utc = now.json()["result"]["utc"].as_str().unwrap().to_owned();
    assert!(utc.len() == 20 && utc.ends_with('Z'), "{utc}");

    // Arguments outside the compiled schema: 400 naming the path; nothing runs.
    let bad = invoke(
        &gateway,
        CLIENT_KEY,
        "small_sum",
        r#"{"arguments":{"operation":"add","a":1,"b":101}}"#,
    )
    .await;
    bad.assert_error(400, "invalid_tool_arguments");
    let message = bad.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("`arguments.b` must be at most 100"),
        "{message}"
    );
    let missing = invoke(
        &gateway,
        CLIENT_KEY,
        "calculator",
        r#"{"arguments":{"a":1,"b":2}}"#,
    )
    .await;
    missing.assert_error(400, "invalid_tool_arguments");
    assert!(
        missing.text().contains("arguments.operation"),
        "{}",
        missing.text()
    );
    invoke(&gateway, CLIENT_KEY, "calculator", "not json")
        .await
        .assert_error(400, "invalid_tool_arguments");
    let zero = r#"{"arguments":{"operation":"divide","a":1,"b":0}}"#;
    invoke(&gateway, CLIENT_KEY, "calculator", zero)
        .await
        .assert_error(422, "tool_failed");

    // Unknown and forbidden tools look the same.
    let unknown = invoke(&gateway, CLIENT_KEY, "web_search", r#"{"arguments":{}}"#).await;
    unknown.assert_error(404, "tool_not_found");
    let call = r#"{"arguments":{"operation":"add","a":1,"b":2}}"#;
    let forbidden = invoke(&gateway, RESTRICTED_KEY, "calculator", call).await;
    forbidden.assert_error(404, "tool_not_found");
    assert_eq!(
        unknown.json()["error"]["message"]
            .as_str()
            .unwrap()
            .replace("web_search", "calculator"),
        forbidden.json()["error"]["message"]
    );

    let needle = r#""outcome":"forbidden""#;
    let logs = gateway.wait_for_log(needle, Duration::from_secs(5));
    let line = logs.lines().find(|l| l.contains(needle)).unwrap();
    for field in [
        r#""event":"tool.invoke""#,
        r#""tool":"calculator""#,
        r#""caller":"restricted-client""#,
        r#""request_id":""#,
        r#""duration_ms":"#,
    ] {
        assert!(line.contains(field), "no {field} in {line}");
    }
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    for series in [
        r#"gateway_tool_invocations_total{tool="calculator",outcome="ok"} 1"#,
        r#"gateway_tool_invocations_total{tool="calculator",outcome="invalid_arguments"} 2"#,
        r#"gateway_tool_invocations_total{tool="calculator",outcome="failed"} 1"#,
        r#"gateway_tool_invocations_total{tool="calculator",outcome="forbidden"} 1"#,
        r#"gateway_tool_invocations_total{tool="current_time",outcome="ok"} 1"#,
        r#"gateway_tool_invocations_total{tool="small_sum",outcome="invalid_arguments"} 1"#,
    ] {
        assert!(metrics.contains(series), "no {series}:\n{metrics}");
    }
    assert!(
        upstream.requests().is_empty(),
        "tools never reach an upstream"
    );
}

#[test]
fn gateway_access_prints_tool_rows() {
    let (status, stdout, stderr) = run_to_exit(&["access"], &[]);
    assert!(status.success(), "{stderr}");
    let rows: Vec<String> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for row in [
        "TOOL admin restricted-client (restricted-team) test-client key-file key-file:restricted-team scope:chat scope:claude",
        "calculator yes - yes yes - yes yes",
        "current_time yes yes yes yes yes yes yes",
    ] {
        assert!(rows.iter().any(|r| r == row), "no row `{row}`:\n{stdout}");
    }
}
