//! `kind: http` tools (issue 13): the gateway calls a loopback tool server
//! started here (config/test/tools.yaml `lookup_item` GET and `create_item`
//! POST, pointed at it through `GATEWAY_TEST_TOOL_URL`, whose host the
//! tools' `allow_hosts` names) with the header secret from the environment;
//! arguments outside the schema never reach it; a slow server times out, an
//! oversized answer is refused, a non-2xx answer fails the call, a server
//! that is down is reported; an override outside `allow_hosts` stops startup.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::support::*;

/// What the tool server saw: method, path and query, `authorization`, body.
type Seen = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// A loopback tool server; the item id picks the answer.
async fn tool_server() -> (SocketAddr, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request| answer(request, record.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, seen)
}

async fn answer(
    request: Request<hyper::body::Incoming>,
    seen: Seen,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = request.method().to_string();
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let auth = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    seen.lock()
        .unwrap()
        .push((method, target.clone(), auth, body.clone()));
    let reply = |status: u16, text: String| {
        Ok(Response::builder()
            .status(status)
            .body(Full::new(Bytes::from(text)))
            .unwrap())
    };
    let id = target
        .trim_start_matches("/v1/items/")
        .split('?')
        .next()
        .unwrap_or("")
        .to_owned();
    match id.as_str() {
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            reply(200, "{}".into())
        }
        "big" => reply(200, format!("{{\"blob\":\"{}\"}}", "x".repeat(2048))),
        "missing" => reply(404, r#"{"error":"no such item"}"#.into()),
        "words" => reply(200, "plain words".into()),
        "/v1/items" => reply(201, format!("{{\"created\":{body}}}")),
        _ => reply(
            200,
            serde_json::json!({ "id": id, "target": target }).to_string(),
        ),
    }
}

async fn invoke(gateway: &Gateway, tool: &str, arguments: &str) -> Reply {
    let auth = format!("Bearer {CLIENT_KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body = Bytes::from(format!(r#"{{"arguments":{arguments}}}"#));
    send(
        gateway.addr,
        "POST",
        &format!("/v1/tools/{tool}/invoke"),
        &headers,
        body,
    )
    .await
}

fn start(upstream: &MockUpstream, tool_url: String) -> Gateway {
    let mut env = standard_env(&upstream.base_url());
    env.push(("GATEWAY_TEST_TOOL_URL", tool_url));
    Gateway::start(&env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_tools_call_the_allowed_server_with_the_secret() {
    let upstream = MockUpstream::start().await;
    let (addr, seen) = tool_server().await;
    let gateway = start(&upstream, format!("http://127.0.0.1:{}", addr.port()));

    // GET: the placeholder encoded as one path segment, the rest in the query.
    let got = invoke(
        &gateway,
        "lookup_item",
        r#"{"id":"a b/../@evil.com","fields":"name"}"#,
    )
    .await;
    assert_eq!(got.status, 200, "{}", got.text());
    let json = got.json();
    assert_eq!(json["tool"], "lookup_item");
    assert_eq!(json["result"]["id"], "a%20b%2F..%2F%40evil.com");
    let (method, target, auth, _) = seen.lock().unwrap()[0].clone();
    assert_eq!(method, "GET");
    assert_eq!(target, "/v1/items/a%20b%2F..%2F%40evil.com?fields=name");
    assert_eq!(
        auth, TOOL_TOKEN,
        "the header secret reaches the tool server"
    );

    // POST: the arguments as a JSON body; a text answer becomes {"text"}.
    let created = invoke(&gateway, "create_item", r#"{"name":"pen","count":2}"#).await;
    assert_eq!(created.status, 200, "{}", created.text());
    assert_eq!(
        created.json()["result"],
        serde_json::json!({"created": {"count": 2, "name": "pen"}})
    );
    let words = invoke(&gateway, "lookup_item", r#"{"id":"words"}"#).await;
    assert_eq!(
        words.json()["result"],
        serde_json::json!({"text": "plain words"})
    );
    let calls = seen.lock().unwrap().len();

    // Arguments outside the schema never reach the server.
    for bad in [
        r#"{"id":"x","fields":"every"}"#,
        r#"{"id":"x","host":"evil.com"}"#,
        r#"{"fields":"all"}"#,
    ] {
        invoke(&gateway, "lookup_item", bad)
            .await
            .assert_error(400, "invalid_tool_arguments");
    }
    let too_many = invoke(&gateway, "create_item", r#"{"name":"pen","count":11}"#).await;
    too_many.assert_error(400, "invalid_tool_arguments");
    assert_eq!(
        seen.lock().unwrap().len(),
        calls,
        "no invalid call reached the server"
    );

    let logs = gateway.wait_for_log(r#""tool":"create_item""#, Duration::from_secs(5));
    assert!(logs.contains(r#""event":"tool.invoke""#), "{logs}");
    assert!(
        !logs.contains("tool-token-for-tests"),
        "the secret is never logged"
    );
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    for series in [
        r#"gateway_tool_invocations_total{tool="lookup_item",outcome="ok"} 2"#,
        r#"gateway_tool_invocations_total{tool="lookup_item",outcome="invalid_arguments"} 3"#,
        r#"gateway_tool_invocations_total{tool="create_item",outcome="ok"} 1"#,
    ] {
        assert!(metrics.contains(series), "no {series}:\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_tool_failures_are_told_apart() {
    let upstream = MockUpstream::start().await;
    let (addr, _) = tool_server().await;
    let gateway = start(&upstream, format!("http://127.0.0.1:{}", addr.port()));

    let slow = invoke(&gateway, "lookup_item", r#"{"id":"slow"}"#).await;
    slow.assert_error(504, "tool_timeout");
    let big = invoke(&gateway, "lookup_item", r#"{"id":"big"}"#).await;
    big.assert_error(502, "tool_result_too_large");
    assert!(big.text().contains("1024 bytes"), "{}", big.text());
    let missing = invoke(&gateway, "lookup_item", r#"{"id":"missing"}"#).await;
    missing.assert_error(422, "tool_failed");
    assert!(missing.text().contains("HTTP 404"), "{}", missing.text());

    // A server that is down: a port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let down = start(&upstream, format!("http://127.0.0.1:{port}"));
    invoke(&down, "lookup_item", r#"{"id":"x"}"#)
        .await
        .assert_error(502, "tool_unreachable");

    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    for series in [
        r#"gateway_tool_invocations_total{tool="lookup_item",outcome="timeout"} 1"#,
        r#"gateway_tool_invocations_total{tool="lookup_item",outcome="too_large"} 1"#,
        r#"gateway_tool_invocations_total{tool="lookup_item",outcome="failed"} 1"#,
    ] {
        assert!(metrics.contains(series), "no {series}:\n{metrics}");
    }
    let metrics = get(down.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    let series = r#"gateway_tool_invocations_total{tool="lookup_item",outcome="upstream_error"} 1"#;
    assert!(metrics.contains(series), "no {series}:\n{metrics}");
}

#[test]
fn an_override_outside_allow_hosts_stops_startup() {
    let mut env = standard_env("http://127.0.0.1:1");
    env.push(("GATEWAY_TEST_TOOL_URL", "http://localhost:9".to_owned()));
    env.push(("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:1".to_owned()));
    let (status, stdout, stderr) = run_to_exit(&[], &env);
    assert!(!status.success());
    let out = format!("{stdout}{stderr}");
    assert!(
        out.contains("`GATEWAY_TEST_TOOL_URL`") && out.contains("allow_hosts"),
        "{out}"
    );
}
