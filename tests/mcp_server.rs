//! The gateway's MCP server (`POST /mcp`, issue 13): the official `mcp`
//! Python SDK client lists and calls the caller's tools, and the raw
//! protocol edges (JSON-RPC errors, notifications, methods, versions, auth).
//! Test config: `test-client` may use every tool; `restricted-client`'s team
//! only `current_time` (config/test/security.yaml, config/test/tools.yaml).

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use serde_json::json;

use crate::support::*;

/// Published on purpose, test environment only (config/test/security.yaml).
const RESTRICTED_KEY: &str = "gw-test-restricted-key";

async fn post(gateway: &Gateway, key: Option<&str>, extra: &[(&str, &str)], body: &str) -> Reply {
    let auth = key.map(|key| format!("Bearer {key}"));
    let mut headers = vec![
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    if let Some(auth) = &auth {
        headers.push(("authorization", auth.as_str()));
    }
    headers.extend_from_slice(extra);
    send(
        gateway.addr,
        "POST",
        "/mcp",
        &headers,
        Bytes::from(body.to_owned()),
    )
    .await
}

/// A JSON-RPC error answer: its HTTP status and code.
fn assert_rpc_error(reply: &Reply, status: u16, code: i64) -> serde_json::Value {
    assert_eq!(reply.status, status, "{}", reply.text());
    let json = reply.json();
    assert_eq!(json["jsonrpc"], "2.0", "{json}");
    assert_eq!(json["error"]["code"], code, "{json}");
    assert!(json["error"]["message"].is_string(), "{json}");
    json
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_python_mcp_client_sees_only_its_tools() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let python = std::env::var("GATEWAY_TEST_PYTHON")
        .unwrap_or_else(|_| format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR")));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/mcp_client.py");
    let url = gateway.url("/mcp");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(script)
            .env("GATEWAY_MCP_URL", url)
            .env("GATEWAY_API_KEY", CLIENT_KEY)
            .env("GATEWAY_RESTRICTED_KEY", RESTRICTED_KEY)
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot run the MCP client test's Python ({e}); run `scripts/test-deps` (the README's test command does)"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "MCP client script failed\nstdout: {stdout}\nstderr: {stderr}\ngateway logs: {}",
        gateway.logs()
    );
    // Each check once per mode: "auto" (2026-07-28) and "legacy" (handshake).
    for line in ["list ok", "call ok", "schema violation ok", "restricted ok"] {
        assert_eq!(stdout.matches(line).count(), 2, "{line:?} in {stdout}");
    }
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    for series in [
        r#"gateway_mcp_requests_total{method="server/discover",outcome="ok"} 2"#,
        r#"gateway_mcp_requests_total{method="initialize",outcome="ok"} 2"#,
        r#"gateway_mcp_requests_total{method="tools/list",outcome="ok"} 4"#,
        r#"gateway_mcp_requests_total{method="tools/call",outcome="ok"} 4"#,
        r#"gateway_mcp_requests_total{method="tools/call",outcome="tool_error"} 2"#,
        r#"gateway_mcp_requests_total{method="tools/call",outcome="error"} 2"#,
        r#"gateway_tool_invocations_total{tool="calculator",outcome="forbidden"} 2"#,
    ] {
        assert!(metrics.contains(series), "no {series}:\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_protocol_edges() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let key = Some(CLIENT_KEY);

    // The classic handshake: the client's version is echoed when supported.
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#;
    let reply = post(&gateway, key, &[], init).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.headers["content-type"], "application/json");
    let json = reply.json();
    assert_eq!(json["id"], 1);
    assert_eq!(json["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(
        json["result"]["capabilities"],
        json!({"tools": {"listChanged": false}})
    );
    assert_eq!(json["result"]["serverInfo"]["name"], "gateway");
    // An unknown version is answered with the latest handshake one.
    for asked in ["2099-01-01", "2026-07-28"] {
        let other = init.replace("2025-06-18", asked);
        let json = post(&gateway, key, &[], &other).await.json();
        assert_eq!(json["result"]["protocolVersion"], "2025-11-25");
    }
    assert!(
        json.get("resultType").is_none(),
        "no 2026-07-28 fields on the handshake: {json}"
    );
    let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let version = [("mcp-protocol-version", "2025-06-18")];
    let reply = post(&gateway, key, &version, initialized).await;
    assert_eq!(reply.status, 202, "{}", reply.text());
    assert!(reply.body.is_empty());
    let ping = r#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#;
    let json = post(&gateway, key, &version, ping).await.json();
    assert_eq!(json, json!({"jsonrpc": "2.0", "id": "p", "result": {}}));
    let list = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
    let restricted = post(&gateway, Some(RESTRICTED_KEY), &version, list).await;
    let tools = &restricted.json()["result"]["tools"];
    assert_eq!(tools.as_array().map(Vec::len), Some(1), "{tools}");
    assert_eq!(tools[0]["name"], "current_time");
    assert!(tools[0]["inputSchema"].is_object(), "{tools}");

    // tools/call: success, a tool failure as a result, unknown = forbidden.
    let call = |tool: &str, arguments: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments}}}}}"#
        )
    };
    let ok = post(
        &gateway,
        key,
        &version,
        &call("calculator", r#"{"operation":"add","a":1,"b":2}"#),
    )
    .await;
    let result = &ok.json()["result"];
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"], json!({"value": 3.0}));
    assert_eq!(result["content"][0]["type"], "text");
    let zero = call("calculator", r#"{"operation":"divide","a":1,"b":0}"#);
    let failed = post(&gateway, key, &version, &zero).await;
    assert_eq!(failed.status, 200);
    assert_eq!(
        failed.json()["result"]["isError"],
        true,
        "{}",
        failed.text()
    );
    let unknown = post(&gateway, key, &version, &call("web_search", "{}")).await;
    let unknown = assert_rpc_error(&unknown, 200, -32602);
    let add = call("calculator", r#"{"operation":"add","a":1,"b":2}"#);
    let forbidden = post(&gateway, Some(RESTRICTED_KEY), &version, &add).await;
    let forbidden = assert_rpc_error(&forbidden, 200, -32602);
    assert_eq!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .replace("web_search", "calculator"),
        forbidden["error"]["message"]
    );

    // JSON-RPC errors.
    assert_rpc_error(&post(&gateway, key, &[], "{not json").await, 400, -32700);
    let unknown_method = r#"{"jsonrpc":"2.0","id":4,"method":"resources/list"}"#;
    let json = assert_rpc_error(&post(&gateway, key, &[], unknown_method).await, 200, -32601);
    assert_eq!(json["id"], 4);
    let batch = format!("[{ping}]");
    let json = assert_rpc_error(&post(&gateway, key, &[], &batch).await, 400, -32600);
    assert!(
        json["error"]["message"].as_str().unwrap().contains("batch"),
        "{json}"
    );
    assert_rpc_error(
        &post(&gateway, key, &[], r#"{"id":1,"method":"ping"}"#).await,
        400,
        -32600,
    );
    assert_rpc_error(&post(&gateway, key, &[], "42").await, 400, -32600);

    // 2026-07-28 single exchanges: discover, cache hints, error statuses.
    let modern = [("mcp-protocol-version", "2026-07-28")];
    let discover = r#"{"jsonrpc":"2.0","id":5,"method":"server/discover","params":{}}"#;
    let json = post(&gateway, key, &modern, discover).await.json();
    let result = &json["result"];
    assert_eq!(result["supportedVersions"][0], "2026-07-28", "{json}");
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["ttlMs"], 0);
    assert_eq!(result["cacheScope"], "private");
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "gateway"
    );
    let json = post(&gateway, key, &modern, list).await.json();
    assert_eq!(json["result"]["resultType"], "complete", "{json}");
    // 5 local tools and the 7 MCP tools config/test imports (tests/mcp_tools.rs).
    assert_eq!(json["result"]["tools"].as_array().map(Vec::len), Some(13));
    let reply = post(&gateway, key, &modern, &call("web_search", "{}")).await;
    assert_rpc_error(&reply, 400, -32602);
    assert_rpc_error(
        &post(&gateway, key, &modern, unknown_method).await,
        404,
        -32601,
    );

    // Headers: an unsupported version names the supported ones; a foreign Origin is refused.
    let future = [("mcp-protocol-version", "2099-01-01")];
    let json = assert_rpc_error(&post(&gateway, key, &future, ping).await, 400, -32022);
    assert_eq!(
        json["error"]["data"]["supported"],
        json!(["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"])
    );
    let foreign = [("origin", "http://evil.example")];
    assert_eq!(post(&gateway, key, &foreign, ping).await.status, 403);
    let local = [("origin", "http://localhost:6274")];
    assert_eq!(post(&gateway, key, &local, ping).await.status, 200);

    // HTTP: no key, GET, DELETE.
    post(&gateway, None, &[], ping)
        .await
        .assert_error(401, "missing_api_key");
    let get_reply = get(gateway.addr, "/mcp", Some(CLIENT_KEY)).await;
    assert_eq!(get_reply.status, 405, "{}", get_reply.text());
    assert_eq!(get_reply.headers["allow"], "POST");
    let delete = send(gateway.addr, "DELETE", "/mcp", &[], Bytes::new()).await;
    assert_eq!(delete.status, 405);

    // Every call goes through the one `tool.invoke` line, marked as MCP.
    let needle = r#""outcome":"forbidden""#;
    let logs = gateway.wait_for_log(needle, Duration::from_secs(5));
    let line = logs.lines().find(|l| l.contains(needle)).unwrap();
    for field in [
        r#""event":"tool.invoke""#,
        r#""tool":"calculator""#,
        r#""caller":"restricted-client""#,
        r#""via":"mcp""#,
    ] {
        assert!(line.contains(field), "no {field} in {line}");
    }
    let completed = logs
        .lines()
        .find(|l| l.contains(r#""event":"request.completed""#) && l.contains(r#""path":"/mcp""#));
    assert!(
        completed.is_some(),
        "no request.completed for /mcp:\n{logs}"
    );
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    for series in [
        r#"gateway_mcp_requests_total{method="notification",outcome="ok"} 1"#,
        r#"gateway_mcp_requests_total{method="other",outcome="rejected"}"#,
        r#"gateway_mcp_requests_total{method="other",outcome="error"} 2"#,
        r#"route="mcp""#,
    ] {
        assert!(metrics.contains(series), "no {series}:\n{metrics}");
    }
}
