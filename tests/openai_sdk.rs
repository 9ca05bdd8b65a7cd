//! The official `openai` Python SDK against the gateway, streaming and not.
//!
//! The SDK is installed from PyPI into `.venv` by `scripts/test-deps`; the
//! README's test command exports its interpreter as `GATEWAY_TEST_PYTHON`.

use std::process::Command;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_openai_python_sdk_chat_and_stream() {
    let upstream = MockUpstream::start().await;
    let gateway = Gateway::start(&standard_env(&upstream.base_url()));
    let python = std::env::var("GATEWAY_TEST_PYTHON")
        .unwrap_or_else(|_| format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR")));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/openai_sdk.py");
    let base_url = gateway.url("/v1");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&python).arg(script).env("GATEWAY_BASE_URL", base_url).env("GATEWAY_API_KEY", CLIENT_KEY).output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot run the SDK test's Python ({e}); run `scripts/test-deps` (the README's test command does)"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "SDK script failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stdout.contains("non-streaming ok")
            && stdout.contains("streaming ok")
            && stdout.contains("errors ok"),
        "{stdout}"
    );
}
