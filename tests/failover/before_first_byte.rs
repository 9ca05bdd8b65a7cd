//! Failover while nothing has reached the client: to the model's other
//! deployment, to fallback models (across protocols, and on context-window
//! errors), with `Retry-After` honoured up to `retry_after_max`; client
//! errors are returned as they are, never retried.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use super::*;

/// `pair` with the first request to reach either deployment meeting
/// `fault`: the client gets a whole answer from the other deployment, after
/// exactly two upstream requests.
async fn check_other_deployment_serves(fault: Behaviour, stream: bool) {
    let rig = Rig::shared().await;
    rig.a.script([fault.clone()]);
    let reply = rig.chat("pair", stream).await;
    let case = format!("{fault:?}, stream {stream}");
    assert_eq!(reply.status, 200, "{case}: {}", reply.text());
    let mut hits = [rig.a.hits(), rig.b.hits()].concat();
    hits.sort_by_key(|h| h.at);
    let models: BTreeSet<&str> = hits.iter().map(|h| h.model.as_str()).collect();
    assert_eq!(hits.len(), 2, "{case}: {hits:?}");
    assert_eq!(
        models,
        BTreeSet::from(["pair-a", "pair-b"]),
        "{case}: one try at each"
    );
    assert_eq!(hits[0].behaviour, fault, "{case}");
    assert!(hits.iter().all(|h| h.stream == stream), "{case}: {hits:?}");
    assert_eq!(
        chat_text(&reply),
        format!("served by {}", hits[1].model),
        "{case}"
    );
    if stream {
        assert_complete_chat_stream(&reply);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_fails_over_to_the_other_deployment_before_the_first_byte() {
    let cases = [
        (Behaviour::Status(503), false),
        (Behaviour::Reset, false),
        (Behaviour::Status(503), true),
        (Behaviour::Reset, true),
        (Behaviour::EmptyStream, true),
        // Past `first_byte` (1 s) without a head: a timeout, failed over too.
        (Behaviour::SlowHead(Duration::from_millis(1500)), true),
    ];
    for (fault, stream) in cases {
        check_other_deployment_serves(fault, stream).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_fall_back_to_an_openai_format_model() {
    let rig = Rig::start().await;
    rig.anthropic
        .script([Behaviour::Status(529), Behaviour::Status(503)]);
    let plain = rig.messages("claude-primary", false).await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert_eq!(messages_text(&plain), "served by fallback-b");
    let streamed = rig.messages("claude-primary", true).await;
    assert_complete_messages_stream(&streamed);
    assert_eq!(messages_text(&streamed), "served by fallback-b");
    assert_eq!(rig.anthropic.models(), ["claude-primary-upstream"; 2]);
    assert!(
        rig.anthropic
            .hits()
            .iter()
            .all(|h| h.path == "/v1/messages")
    );
    assert_eq!(rig.b.models(), ["fallback-b"; 2]);
    assert!(
        rig.b
            .hits()
            .iter()
            .all(|h| h.path == "/v1/chat/completions")
    );
    assert_eq!(rig.a.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_falls_back_to_an_anthropic_format_model() {
    let rig = Rig::start().await;
    rig.a.script([Behaviour::Status(503), Behaviour::Reset]);
    let plain = rig.chat("primary", false).await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert_eq!(
        plain.json()["object"],
        "chat.completion",
        "{}",
        plain.text()
    );
    assert_eq!(chat_text(&plain), "served by claude-backup");
    let streamed = rig.chat("primary", true).await;
    assert_complete_chat_stream(&streamed);
    assert_eq!(chat_text(&streamed), "served by claude-backup");
    assert_eq!(rig.a.models(), ["primary-upstream"; 2]);
    assert_eq!(rig.anthropic.models(), ["claude-backup"; 2]);
    assert!(
        rig.anthropic
            .hits()
            .iter()
            .all(|h| h.path == "/v1/messages")
    );
    assert_eq!(
        rig.b.count(),
        0,
        "long-context is only for context-window errors"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_window_errors_fall_back_and_other_client_errors_are_returned_as_is() {
    let rig = Rig::start().await;
    rig.a.script([Behaviour::ContextTooLong]);
    let reply = rig.chat("primary", false).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(chat_text(&reply), "served by long-context-upstream");
    assert_eq!(rig.b.models(), ["long-context-upstream"]);
    assert_eq!(rig.anthropic.count(), 0, "not the ordinary fallback");

    rig.a.script([Behaviour::Status(400)]);
    let reply = rig.chat("primary", false).await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    let error = &reply.json()["error"];
    assert_eq!(
        error["code"], "invalid_value",
        "the upstream's own body: {error}"
    );
    assert_eq!(error["param"], "temperature", "{error}");
    assert_eq!(rig.a.count(), 2, "one try for the 400, never retried");
    assert_eq!(rig.b.count(), 1);
    assert_eq!(
        rig.anthropic.count(),
        0,
        "a client error is no reason to fall back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_up_to_its_cap() {
    let rig = Rig::start().await;
    // Above retry_after_max (2 s): the gateway moves to the other deployment at once.
    for upstream in [&rig.a, &rig.b] {
        upstream.set_default(Behaviour::Status429 { retry_after: "60" });
    }
    let started = Instant::now();
    let reply = rig.chat("pair", false).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_rate_limited(&rig, &reply, 2);

    // Within the cap: the second try waits at least what was asked.
    for upstream in [&rig.a, &rig.b] {
        upstream.set_default(Behaviour::Status429 { retry_after: "1" });
    }
    let reply = rig.chat("pair", false).await;
    assert_rate_limited(&rig, &reply, 4);
    let mut hits = [rig.a.hits(), rig.b.hits()].concat();
    hits.sort_by_key(|h| h.at);
    let gap = hits[3].at - hits[2].at;
    assert!(
        gap >= Duration::from_millis(900),
        "second try after {gap:?}"
    );
    assert!(gap < Duration::from_secs(2), "second try after {gap:?}");
}

/// The final answer is the upstream's 429 with its body, after `total` tries
/// so far, each request's two at different deployments.
fn assert_rate_limited(rig: &Rig, reply: &Reply, total: usize) {
    assert_eq!(reply.status, 429, "{}", reply.text());
    assert_eq!(
        reply.json()["error"]["code"],
        "rate_limit_exceeded",
        "{}",
        reply.text()
    );
    let mut hits = [rig.a.hits(), rig.b.hits()].concat();
    hits.sort_by_key(|h| h.at);
    assert_eq!(hits.len(), total, "{hits:?}");
    assert_ne!(hits[total - 2].model, hits[total - 1].model, "{hits:?}");
}
