//! Once a stream's first event reached the client nothing is retried: a
//! stream that breaks then ends with the protocol's explicit error event,
//! never a clean end. And one deadline bounds the whole request.

use std::time::{Duration, Instant};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_stream_cut_after_its_first_events_ends_with_an_error_event() {
    let rig = Rig::start().await;
    rig.a.script([Behaviour::StreamThenCut { events: 2 }]);
    let reply = rig.chat("primary", true).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let events = sse_events(&reply.text());
    assert_eq!(
        events.len(),
        3,
        "two events, then the error: {}",
        reply.text()
    );
    for (name, data) in &events[..2] {
        assert!(name.is_empty(), "{}", reply.text());
        let chunk: Value = serde_json::from_str(data).expect("chunk");
        assert_eq!(chunk["object"], "chat.completion.chunk", "{data}");
    }
    let (name, data) = &events[2];
    assert_eq!(name, "error", "{}", reply.text());
    let error: Value = serde_json::from_str(data).expect("error event JSON");
    let code = error["error"]["code"].as_str().unwrap_or_default();
    assert!(
        ["upstream_stream_error", "upstream_stream_truncated"].contains(&code),
        "{error}"
    );
    assert!(!reply.text().contains("[DONE]"), "{}", reply.text());
    assert_eq!(rig.a.count(), 1, "nothing retried after the first byte");
    assert_eq!(
        rig.anthropic.count() + rig.b.count(),
        0,
        "no fallback either"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messages_stream_cut_after_its_first_events_ends_with_an_anthropic_error_event() {
    let rig = Rig::start().await;
    rig.anthropic
        .script([Behaviour::StreamThenCut { events: 2 }]);
    let reply = rig.messages("claude-primary", true).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let events = sse_events(&reply.text());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["message_start", "content_block_start", "error"],
        "{}",
        reply.text()
    );
    let error: Value = serde_json::from_str(&events[2].1).expect("error event JSON");
    assert_eq!(error["type"], "error", "{error}");
    assert!(error["error"]["type"].is_string(), "{error}");
    assert!(error["error"]["message"].is_string(), "{error}");
    assert_eq!(
        rig.anthropic.count(),
        1,
        "nothing retried after the first byte"
    );
    assert_eq!(rig.b.count(), 0, "no fallback either");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_bounds_the_whole_request() {
    let rig = Rig::start().await;
    rig.a.set_default(Behaviour::Hang);
    let started = Instant::now();
    // Three tries of up to `total` 3 s each would take 9 s plus backoff;
    // the 9 s deadline cuts the last one short.
    let reply = rig.chat("deadline-bound", false).await;
    let elapsed = started.elapsed();
    assert_eq!(reply.status, 504, "{}", reply.text());
    let code = reply.json()["error"]["code"].clone();
    assert!(
        code == "deadline_exceeded" || code == "upstream_timeout",
        "{}",
        reply.text()
    );
    assert!(
        elapsed >= Duration::from_millis(8500) && elapsed < Duration::from_millis(10_500),
        "answered after {elapsed:?}"
    );
    assert_eq!(rig.a.models(), ["slow"; 3], "every attempt was made");
}
