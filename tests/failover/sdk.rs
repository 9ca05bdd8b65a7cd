//! The official OpenAI and Anthropic Python SDKs, their own retries off, see
//! only successes while the first try of every request fails (503s and
//! resets alternating, at whichever deployment the balancer picked): the
//! gateway retries before the first byte, at the other deployment or, once
//! the faults opened that one's breaker, at the same one. The Anthropic SDK
//! goes through `/v1/messages`, translated for the OpenAI-format deployments.

use std::process::Command;

use super::*;

const OPENAI_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/failover/openai_sdk_failover.py"
);

const ANTHROPIC_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/failover/anthropic_sdk_failover.py"
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_sdk_sees_only_successes_while_a_deployment_fails() {
    sdk_sees_only_successes(OPENAI_SCRIPT, "/v1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_anthropic_sdk_sees_only_successes_while_a_deployment_fails() {
    // The Anthropic SDK appends `/v1/messages` itself.
    sdk_sees_only_successes(ANTHROPIC_SCRIPT, "").await;
}

async fn sdk_sees_only_successes(sdk_script: &'static str, base_path: &str) {
    let rig = Rig::shared().await;
    // Ten calls, one after the other: each meets a fault, then an answer.
    let faults = [Behaviour::Status(503), Behaviour::Reset];
    let script = faults
        .iter()
        .cycle()
        .take(10)
        .flat_map(|f| [f.clone(), Behaviour::Ok]);
    rig.a.script(script.collect::<Vec<_>>());
    let python = std::env::var("GATEWAY_TEST_PYTHON")
        .unwrap_or_else(|_| format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR")));
    let base_url = rig.gateway.url(base_path);
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(sdk_script)
            .env("GATEWAY_BASE_URL", base_url)
            .env("GATEWAY_API_KEY", CLIENT_KEY)
            .env("GATEWAY_MODEL", "pair")
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("cannot run the SDK's Python ({e}); run `scripts/test-deps` (the README's test command does)"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "SDK calls failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let report: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|_| panic!("no JSON report\nstdout: {stdout}\nstderr: {stderr}"));
    let mut hits = [rig.a.hits(), rig.b.hits()].concat();
    hits.sort_by_key(|h| h.at);
    assert_eq!(hits.len(), 20, "two tries per call: {hits:?}");
    let answers = report["answers"].as_array().expect("answers");
    assert_eq!(answers.len(), 10, "{report}");
    for (call, (answer, tries)) in answers.iter().zip(hits.chunks(2)).enumerate() {
        assert_ne!(tries[0].behaviour, Behaviour::Ok, "call {call}: {tries:?}");
        assert_eq!(
            answer,
            &json!(format!("served by {}", tries[1].model)),
            "call {call}"
        );
        assert_eq!(tries[1].stream, call % 2 == 1, "call {call}");
    }
}
