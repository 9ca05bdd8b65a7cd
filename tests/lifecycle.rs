//! Process lifecycle: CLI, missing secrets at startup, graceful drain of an
//! in-flight stream on SIGTERM.

use std::time::Duration;

use crate::support::*;

#[test]
fn version_and_routes_print_the_compiled_config() {
    assert_test_environment();
    let (status, stdout, _) = run_to_exit(&["--version"], &[]);
    assert!(status.success());
    assert!(
        stdout.starts_with("gateway ") && stdout.contains("config sha256 "),
        "{stdout}"
    );
    let provenance = format!(
        ", git revision {}, rustc {})\n",
        env!("GATEWAY_GIT_REVISION"),
        env!("GATEWAY_RUSTC_VERSION")
    );
    assert!(stdout.ends_with(&provenance), "{stdout}");
    let (status, stdout, _) = run_to_exit(&["routes"], &[]);
    assert!(status.success());
    // Cells separated by runs of spaces; model x protocol -> passthrough / translated.
    let rows: Vec<String> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    for row in [
        "MODEL UPSTREAM KIND UPSTREAM MODEL CHAT MESSAGES MAX_TOKENS PRIORITY WEIGHT FALLBACKS",
        "echo local openai upstream-echo-model passthrough translated - 0 1 -",
        "claude anthropic anthropic claude-upstream-model translated passthrough 4096 0 1 -",
        "demo mock mock demo passthrough translated - 0 1 -",
    ] {
        assert!(rows.iter().any(|r| r == row), "no row `{row}`:\n{stdout}");
    }
    let (status, _, stderr) = run_to_exit(&["--frobnicate"], &[]);
    assert_eq!(status.code(), Some(2));
    assert!(
        stderr.contains("unknown argument `--frobnicate`"),
        "{stderr}"
    );
}

#[test]
fn missing_secrets_stop_startup_with_the_full_list() {
    assert_test_environment();
    let (status, stdout, stderr) = run_to_exit(&["--listen", "127.0.0.1:0"], &[]);
    assert_eq!(status.code(), Some(2), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stderr.contains("GATEWAY_TEST_UPSTREAM_KEY"), "{stderr}");
    assert!(
        stderr.contains("GATEWAY_TEST_SECOND_KEY"),
        "every missing secret is listed: {stderr}"
    );
    assert!(
        !stderr.contains("GATEWAY_TEST_OPTIONAL_KEY"),
        "optional upstreams are disabled, not fatal: {stderr}"
    );
    assert!(!stdout.contains("listening on"));
}

#[test]
fn bad_listen_address_is_a_clear_error() {
    assert_test_environment();
    let mut env = standard_env("http://127.0.0.1:9/v1");
    env.push(("GATEWAY_LISTEN", "localhost-8080".to_string()));
    let (status, _, stderr) = run_to_exit(&[], &env);
    assert_eq!(status.code(), Some(2));
    assert!(
        stderr.contains("listen address `localhost-8080`"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_an_in_flight_stream_then_exits_zero() {
    let upstream = MockUpstream::start().await;
    let mut gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let auth = format!("Bearer {CLIENT_KEY}");
    let body =
        r#"{"model":"slow-stream","stream":true,"messages":[{"role":"user","content":"hi"}]}"#;
    let response = open(
        gateway.addr,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &auth)],
        body,
    )
    .await;
    assert_eq!(response.status(), 200);
    let mut stream = response.into_body();
    let first = next_data(&mut stream).await.expect("first event");
    assert!(first.starts_with(b"data: "));

    gateway.signal("TERM");
    // During shutdown_delay (1 s in config/test) the listener still accepts and /ready says 503.
    let mut saw_draining = false;
    for _ in 0..50 {
        let ready = get(gateway.addr, "/ready", None).await;
        if ready.status == 503 {
            assert_eq!(ready.json()["status"], "draining");
            saw_draining = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(saw_draining, "/ready never turned 503 after SIGTERM");

    let mut rest = first.to_vec();
    while let Some(data) = next_data(&mut stream).await {
        rest.extend_from_slice(&data);
    }
    let text = String::from_utf8(rest).unwrap();
    assert!(
        text.ends_with("data: [DONE]\n\n"),
        "the in-flight stream finished: {text}"
    );
    let status = gateway.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0));
    let logs = gateway.logs();
    assert!(
        logs.contains(r#""event":"server.draining""#)
            && logs.contains(r#""event":"server.drained""#),
        "{logs}"
    );
}
