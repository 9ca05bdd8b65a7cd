//! `kind: mcp` tools (issue 13): a real MCP server built on the official
//! Python SDK (`tests/python/mcp_server.py`, tools `add`, `slow`, `big`,
//! `fail`) is reached over streamable HTTP (config/test `calc`, pointed at
//! it through `GATEWAY_TEST_MCP_URL`) and over stdio (`calc_stdio`).
//! Arguments are validated before any call; timeouts, oversized results and
//! `isError` are told apart; a drifted pin disables its tool until a refresh
//! finds it matching again; a server that is down is reported; a drifted
//! `on_drift: fail` server (`strict`) stops startup.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::support::*;

const PYTHON_ENV: &str = "GATEWAY_TEST_PYTHON";

fn python() -> String {
    std::env::var(PYTHON_ENV)
        .unwrap_or_else(|_| format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR")))
}

/// The test MCP server over streamable HTTP; killed (and its drift file removed) on drop.
struct McpServer {
    child: Child,
    url: String,
    drift_file: std::path::PathBuf,
}

impl McpServer {
    fn start() -> Self {
        Self::start_on(0)
    }

    /// On `port` (0: an ephemeral one).
    fn start_on(port: u16) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let drift_file =
            std::env::temp_dir().join(format!("gateway-mcp-drift-{}-{n}", std::process::id()));
        let _ = std::fs::remove_file(&drift_file);
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/mcp_server.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg("--drift-file")
            .arg(&drift_file)
            .arg("--port")
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start tests/python/mcp_server.py (run scripts/test-deps for .venv)");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the MCP server printed no port within 30 s");
        let port = line
            .strip_prefix("port ")
            .expect("`port N`")
            .trim()
            .to_owned();
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            drift_file,
        }
    }

    /// Makes `add` list a changed schema (`true`) or the pinned one.
    fn drift(&self, on: bool) {
        if on {
            std::fs::write(&self.drift_file, b"drift").unwrap();
        } else {
            let _ = std::fs::remove_file(&self.drift_file);
        }
    }
}

impl Drop for McpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.drift_file);
    }
}

fn gateway_env(mcp_url: &str, stdio: bool) -> Vec<(&'static str, String)> {
    let mut env = standard_env("http://127.0.0.1:9/v1");
    env.push(("GATEWAY_TEST_MCP_URL", mcp_url.to_owned()));
    if stdio {
        env.push(("GATEWAY_TEST_MCP_STDIO", "1".to_owned()));
    }
    env
}

async fn invoke(gateway: &Gateway, tool: &str, arguments: &str) -> Reply {
    let auth = format!("Bearer {CLIENT_KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body = Bytes::from(format!(r#"{{"arguments":{arguments}}}"#));
    let path = format!("/v1/tools/{tool}/invoke");
    send(gateway.addr, "POST", &path, &headers, body).await
}

async fn refresh(gateway: &Gateway) -> Reply {
    let auth = format!("Bearer {ADMIN_KEY}");
    let headers = [("authorization", auth.as_str())];
    send(
        gateway.addr,
        "POST",
        "/tools/refresh",
        &headers,
        Bytes::new(),
    )
    .await
}

async fn listed(gateway: &Gateway) -> Vec<String> {
    let list = get(gateway.addr, "/v1/tools", Some(CLIENT_KEY))
        .await
        .json();
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The tool names `/mcp` `tools/list` shows the client key.
async fn mcp_listed(gateway: &Gateway) -> Vec<String> {
    let auth = format!("Bearer {CLIENT_KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
    let reply = send(gateway.addr, "POST", "/mcp", &headers, Bytes::from(body)).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    json["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{json}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The state of `server` (and of its tool `tool`) in a refresh report.
fn states(report: &serde_json::Value, server: &str, tool: &str) -> (String, String) {
    let servers = report["servers"].as_array().expect("servers");
    let s = servers.iter().find(|s| s["name"] == server).expect(server);
    let tools = s["tools"].as_array().expect("tools");
    let t = tools.iter().find(|t| t["name"] == tool).expect(tool);
    (
        s["state"].as_str().unwrap().to_owned(),
        t["state"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_tools_are_listed_and_called_over_http_and_stdio() {
    let server = McpServer::start();
    let gateway = Gateway::start(&gateway_env(&server.url, true));
    let names = listed(&gateway).await;
    for name in ["calc_add", "calc_stdio_add", "slow", "big", "calc_fail"] {
        assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
    }
    let list = get(gateway.addr, "/v1/tools", Some(CLIENT_KEY))
        .await
        .json();
    let add = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["function"]["name"] == "calc_add")
        .unwrap();
    assert_eq!(add["function"]["description"], "Add two integers.");
    assert_eq!(
        add["function"]["parameters"]["required"],
        serde_json::json!(["a", "b"])
    );

    for tool in ["calc_add", "calc_stdio_add"] {
        let sum = invoke(&gateway, tool, r#"{"a":2,"b":3}"#).await;
        assert_eq!(sum.status, 200, "{tool}: {}", sum.text());
        assert_eq!(
            sum.json()["result"],
            serde_json::json!({"sum": 5}),
            "{tool}"
        );
    }
    // Refused before any call: the server would have accepted a string.
    invoke(&gateway, "calc_add", r#"{"a":"2","b":3}"#)
        .await
        .assert_error(400, "invalid_tool_arguments");
    invoke(&gateway, "calc_add", r#"{"a":2}"#)
        .await
        .assert_error(400, "invalid_tool_arguments");
    invoke(&gateway, "slow", r#"{"seconds":20}"#)
        .await
        .assert_error(504, "tool_timeout");
    invoke(&gateway, "big", "{}")
        .await
        .assert_error(502, "tool_result_too_large");
    for tool in ["calc_fail", "calc_stdio_fail"] {
        let failed = invoke(&gateway, tool, "{}").await;
        failed.assert_error(422, "tool_failed");
        assert!(
            failed.text().contains("failed on purpose"),
            "{}",
            failed.text()
        );
    }
    // A stdio server that dies mid-call: that call fails, the next one
    // starts the server again and is answered.
    invoke(&gateway, "crash", "{}")
        .await
        .assert_error(502, "tool_unreachable");
    let again = invoke(&gateway, "calc_stdio_add", r#"{"a":1,"b":2}"#).await;
    assert_eq!(again.status, 200, "after a restart: {}", again.text());
    assert_eq!(again.json()["result"], serde_json::json!({"sum": 3}));
    let report = refresh(&gateway).await;
    assert_eq!(report.status, 200, "{}", report.text());
    let report = report.json();
    assert_eq!(
        states(&report, "calc", "calc_add"),
        ("ok".into(), "enabled".into())
    );
    let stdio = states(&report, "calc_stdio", "calc_stdio_add");
    assert_eq!(stdio, ("ok".into(), "enabled".into()));
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    for series in [
        r#"gateway_mcp_server_up{server="calc"} 1"#,
        r#"gateway_mcp_server_up{server="calc_stdio"} 1"#,
        r#"gateway_tool_enabled{tool="calc_add"} 1"#,
        r#"gateway_tool_invocations_total{tool="slow",outcome="timeout"} 1"#,
    ] {
        assert!(metrics.contains(series), "no {series}:\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_disables_a_tool_until_a_refresh_finds_its_pin_again() {
    let server = McpServer::start();
    let gateway = Gateway::start(&gateway_env(&server.url, false));
    let first = invoke(&gateway, "calc_add", r#"{"a":1,"b":1}"#).await;
    assert_eq!(first.status, 200, "{}", first.text());

    server.drift(true);
    let report = refresh(&gateway).await;
    assert_eq!(
        report.status,
        200,
        "on_drift: disable answers 200: {}",
        report.text()
    );
    let report = report.json();
    assert_eq!(
        states(&report, "calc", "calc_add"),
        ("drift".into(), "drift".into())
    );
    assert_eq!(
        states(&report, "calc", "slow"),
        ("drift".into(), "enabled".into())
    );
    let disabled = invoke(&gateway, "calc_add", r#"{"a":1,"b":1}"#).await;
    disabled.assert_error(503, "tool_unavailable");
    assert!(disabled.text().contains("re-pin"), "{}", disabled.text());
    let names = listed(&gateway).await;
    assert!(!names.iter().any(|n| n == "calc_add"), "{names:?}");
    assert!(names.iter().any(|n| n == "slow"), "{names:?}");
    let mcp = mcp_listed(&gateway).await;
    assert!(
        !mcp.iter().any(|n| n == "calc_add"),
        "/mcp lists it: {mcp:?}"
    );
    assert!(mcp.iter().any(|n| n == "slow"), "{mcp:?}");
    // An agent with the drifted tool is not ready and says why.
    let agents = agents_refresh(&gateway).await;
    let pinned = agent_state(&agents, "pinned");
    assert_eq!(pinned["state"], "unavailable", "{agents}");
    let detail = pinned["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("`calc_add` is disabled"), "{agents}");
    run_pinned(&gateway)
        .await
        .assert_error(503, "agent_unavailable");
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    let series = r#"gateway_tool_enabled{tool="calc_add"} 0"#;
    assert!(metrics.contains(series), "no {series}:\n{metrics}");
    let logs = gateway.wait_for_log("\"mcp.drift\"", Duration::from_secs(5));
    let line = logs.lines().find(|l| l.contains("\"mcp.drift\"")).unwrap();
    for field in [
        "\"server\":\"calc\"",
        "\"tool\":\"calc_add\"",
        "\"expected\":\"0003b23f6897cad89bacef9fdd831e97b6cb8d4e2c5d5a3349656978be740d81\"",
        "\"actual\":\"",
    ] {
        assert!(line.contains(field), "{field} not in {line}");
    }

    server.drift(false);
    let report = refresh(&gateway).await;
    assert_eq!(report.status, 200, "{}", report.text());
    assert_eq!(
        states(&report.json(), "calc", "calc_add"),
        ("ok".into(), "enabled".into())
    );
    let again = invoke(&gateway, "calc_add", r#"{"a":1,"b":1}"#).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert!(listed(&gateway).await.iter().any(|n| n == "calc_add"));
    assert!(mcp_listed(&gateway).await.iter().any(|n| n == "calc_add"));
    let agents = agents_refresh(&gateway).await;
    assert_eq!(agent_state(&agents, "pinned")["state"], "ready", "{agents}");
}

/// `POST /agents/refresh`'s answer.
async fn agents_refresh(gateway: &Gateway) -> serde_json::Value {
    let auth = format!("Bearer {ADMIN_KEY}");
    let headers = [("authorization", auth.as_str())];
    let reply = send(
        gateway.addr,
        "POST",
        "/agents/refresh",
        &headers,
        Bytes::new(),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

/// One agent's entry in a `POST /agents/refresh` answer.
fn agent_state(report: &serde_json::Value, name: &str) -> serde_json::Value {
    let agents = report["agents"].as_array().expect("agents");
    let found = agents.iter().find(|a| a["name"] == name);
    found
        .cloned()
        .unwrap_or_else(|| panic!("no agent {name}: {report}"))
}

/// One run of `agent/pinned` (config/test/agents.yaml: its one tool is `calc_add`).
async fn run_pinned(gateway: &Gateway) -> Reply {
    let body = r#"{"model":"agent/pinned","messages":[{"role":"user","content":"add 1 and 1"}]}"#;
    let auth = format!("Bearer {CLIENT_KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    send(
        gateway.addr,
        "POST",
        "/v1/chat/completions",
        &headers,
        Bytes::from(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_is_unreachable_not_drift() {
    // A loopback port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let gateway = Gateway::start(&gateway_env(&url, false));
    gateway.wait_for_log("\"mcp.unreachable\"", Duration::from_secs(5));
    invoke(&gateway, "calc_add", r#"{"a":1,"b":1}"#)
        .await
        .assert_error(502, "tool_unreachable");
    assert!(listed(&gateway).await.iter().any(|n| n == "calc_add"));
    let report = refresh(&gateway).await;
    assert_eq!(report.status, 200, "{}", report.text());
    let state = states(&report.json(), "calc", "calc_add");
    assert_eq!(state, ("unreachable".into(), "enabled".into()));
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    let series = r#"gateway_mcp_server_up{server="calc"} 0"#;
    assert!(metrics.contains(series), "no {series}:\n{metrics}");
    // Refresh needs the admin key.
    send(gateway.addr, "POST", "/tools/refresh", &[], Bytes::new())
        .await
        .assert_error(401, "admin_key_required");
}

#[test]
fn a_drifted_on_drift_fail_server_stops_startup() {
    let server = McpServer::start();
    server.drift(true);
    let mut env = standard_env("http://127.0.0.1:9/v1");
    env.push(("GATEWAY_TEST_MCP_STRICT_URL", server.url.clone()));
    env.push(("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:1".to_owned()));
    let mut command = Command::new(BIN);
    command
        .args(["--listen", "127.0.0.1:0"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GATEWAY_TEST_TOOL_TOKEN", TOOL_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in &env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("spawn gateway");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr);
            panic!("the gateway started despite a drifted `on_drift: fail` server: {stderr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("MCP server `strict` (on_drift: fail) drifted") && stderr.contains("`add`"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_on_an_on_drift_fail_server_at_refresh_answers_409() {
    let server = McpServer::start();
    let mut env = gateway_env(&server.url, false);
    env.push(("GATEWAY_TEST_MCP_STRICT_URL", server.url.clone()));
    let gateway = Gateway::start(&env);
    let ok = invoke(&gateway, "strict_add", r#"{"a":1,"b":2}"#).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    server.drift(true);
    let report = refresh(&gateway).await;
    assert_eq!(report.status, 409, "{}", report.text());
    let report = report.json();
    assert_eq!(report["error"]["code"], "tools_drift", "{report}");
    assert_eq!(
        states(&report, "strict", "strict_add"),
        ("drift".into(), "drift".into())
    );
    invoke(&gateway, "strict_add", r#"{"a":1,"b":2}"#)
        .await
        .assert_error(503, "tool_unavailable");
}

#[test]
fn mcp_pin_prints_the_pins_the_test_config_holds() {
    let server = McpServer::start();
    let env = [("GATEWAY_TEST_MCP_URL", server.url.clone())];
    let (status, stdout, stderr) = run_to_exit(&["mcp-pin", "calc"], &env);
    assert!(status.success(), "{stderr}");
    let config = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/test/tools.yaml"
    ))
    .unwrap();
    assert!(
        stdout.starts_with("    tools:\n      \"add\":\n"),
        "{stdout}"
    );
    for line in stdout.lines().filter(|l| l.contains("sha256: ")) {
        let hash = line.trim().trim_start_matches("sha256: ");
        assert!(
            config.contains(hash),
            "{hash} (printed) is not pinned in config/test"
        );
    }
    let (status, _, stderr) = run_to_exit(&["mcp-pin", "nope"], &[]);
    assert!(!status.success());
    assert!(stderr.contains("no MCP server `nope`"), "{stderr}");
}

/// A restarted server does not know the gateway's session (HTTP 404): the
/// gateway initializes a new session, verifies it, and the call succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_initialized_again() {
    let first = McpServer::start();
    let gateway = Gateway::start(&gateway_env(&first.url, false));
    let ok = invoke(&gateway, "calc_add", r#"{"a":1,"b":2}"#).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let port: u16 = first.url.rsplit(':').next().unwrap().parse().unwrap();
    drop(first);
    let _second = McpServer::start_on(port);
    let again = invoke(&gateway, "calc_add", r#"{"a":2,"b":2}"#).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["result"], serde_json::json!({"sum": 4}));
    gateway.wait_for_log("\"mcp.session_ended\"", Duration::from_secs(5));
}
