//! Routing and resilience (issue 11), black box: the built `test` binary
//! against fault-injecting upstreams (`support/faulty.rs`) standing in for
//! paid providers. Each test starts its own gateway and upstreams on
//! ephemeral loopback ports; every wait is bounded.
//!
//! Timings rely on config/test/upstreams.yaml: `flaky-a`, `flaky-b` and
//! `flaky-anthropic` have `timeout` connect 1 s, first_byte 1 s, total 3 s,
//! stream_idle 1 s, and a breaker that opens after 3 consecutive faults for
//! 2 s with one half-open probe; `flaky-b` is health-checked every 1 s
//! (`GET /v1/models`, unhealthy after 2 failures, healthy after 1 pass).
//! Models: `pair` (a `pair-a` + b `pair-b`, p2c, 2 attempts, retry_after_max
//! 2 s), `tiered` (a `tier-primary` priority 0, b `tier-backup` priority
//! 1), `primary` (a, fallbacks [backup-anthropic], context-window fallbacks
//! [long-context]), `backup-anthropic` (anthropic `claude-backup`),
//! `long-context` (b), `claude-primary` (anthropic, fallbacks
//! [pair-chat-fallback] on b `fallback-b`), `deadline-bound` (a `slow`, 3
//! attempts, deadline 9 s), `chat-only` (built-in mock, chat only).
//!
//! - `failover/before_first_byte.rs`: failover to another deployment or
//!   model (across protocols, on context-window errors), Retry-After, and
//!   client errors returned as they are.
//! - `failover/after_first_byte.rs`: broken streams end with the protocol's
//!   error event and are never retried; the request deadline.
//! - `failover/breaker.rs`: the circuit breaker, priorities, health checks.
//! - `failover/admin.rs`: maintenance, refresh, `/health/providers`, `/ready`.
//! - `failover/sdk.rs`: the official OpenAI SDK sees only successes.

mod admin;
mod after_first_byte;
mod before_first_byte;
mod breaker;
mod sdk;

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::faulty::{Behaviour, FaultyUpstream, Wire};
use crate::support::*;

/// A gateway with `flaky-a`, `flaky-b` (OpenAI) and `flaky-anthropic` on
/// their own fault-injecting upstreams.
pub struct Rig {
    pub a: FaultyUpstream,
    pub b: FaultyUpstream,
    pub anthropic: FaultyUpstream,
    pub gateway: Gateway,
}

impl Rig {
    /// Every upstream with its own script (empty, default `Ok`).
    pub async fn start() -> Self {
        let a = FaultyUpstream::start(Wire::OpenAi).await;
        let b = FaultyUpstream::start(Wire::OpenAi).await;
        Self::with(a, b).await
    }

    /// `flaky-a` and `flaky-b` take behaviours from one script: the first
    /// request to reach either gets the first behaviour, whichever the
    /// balancer picked.
    pub async fn shared() -> Self {
        let a = FaultyUpstream::start(Wire::OpenAi).await;
        let b = FaultyUpstream::sharing_script_with(Wire::OpenAi, &a).await;
        Self::with(a, b).await
    }

    async fn with(a: FaultyUpstream, b: FaultyUpstream) -> Self {
        let anthropic = FaultyUpstream::start(Wire::Anthropic).await;
        // `local` is never used here: it points at a, which records it if it were.
        let mut env = standard_env(&a.base_url());
        env.push(("GATEWAY_TEST_FLAKY_A_URL", a.base_url()));
        env.push(("GATEWAY_TEST_FLAKY_B_URL", b.base_url()));
        env.push(("GATEWAY_TEST_FLAKY_ANTHROPIC_URL", anthropic.base_url()));
        let gateway = Gateway::start(&env);
        Self {
            a,
            b,
            anthropic,
            gateway,
        }
    }

    /// `POST /v1/chat/completions` for `model`.
    pub async fn chat(&self, model: &str, stream: bool) -> Reply {
        chat(self.gateway.addr, &chat_body(model, stream).to_string()).await
    }

    /// `POST /v1/messages` for `model`, as Anthropic clients send it.
    pub async fn messages(&self, model: &str, stream: bool) -> Reply {
        let body = json!({"model": model, "max_tokens": 64, "stream": stream,
                          "messages": [{"role": "user", "content": "hello"}]});
        let headers = [
            ("x-api-key", CLIENT_KEY),
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ];
        send(
            self.gateway.addr,
            "POST",
            "/v1/messages",
            &headers,
            body.to_string(),
        )
        .await
    }

    /// An admin request (`key`: the admin key, or none).
    pub async fn admin(&self, method: &str, path: &str, key: Option<&str>) -> Reply {
        let auth = key.map(|k| format!("Bearer {k}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        send(
            self.gateway.addr,
            method,
            path,
            &headers,
            bytes::Bytes::new(),
        )
        .await
    }

    /// `GET /health/providers` with the admin key, as JSON.
    pub async fn providers(&self) -> Value {
        let reply = get(self.gateway.addr, "/health/providers", Some(ADMIN_KEY)).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    }

    /// The `/health/providers` entry of `model`'s deployment on `upstream`.
    pub async fn deployment(&self, upstream: &str, model: &str) -> Value {
        let providers = self.providers().await;
        providers["providers"][upstream]["deployments"]
            .as_array()
            .and_then(|list| list.iter().find(|d| d["model"] == model).cloned())
            .unwrap_or_else(|| panic!("no deployment of {model} on {upstream}: {providers:#}"))
    }

    /// The value of one `/metrics` series (`name{labels}`), if rendered.
    pub async fn metric(&self, series: &str) -> Option<f64> {
        let text = get(self.gateway.addr, "/metrics", Some(ADMIN_KEY))
            .await
            .text();
        text.lines().find_map(|line| {
            line.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
    }
}

/// Opens a streamed chat request for `model`: the 200 head checked, the body unread.
pub async fn open_chat_stream(rig: &Rig, model: &str) -> hyper::body::Incoming {
    let auth = format!("Bearer {CLIENT_KEY}");
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    let body = chat_body(model, true).to_string();
    let response = open(
        rig.gateway.addr,
        "POST",
        "/v1/chat/completions",
        &headers,
        body,
    )
    .await;
    assert_eq!(response.status(), 200);
    response.into_body()
}

/// `first` and the rest of a streaming body, as text.
pub async fn read_to_end(body: &mut hyper::body::Incoming, first: bytes::Bytes) -> String {
    let mut received = first.to_vec();
    while let Some(data) = next_data(body).await {
        received.extend_from_slice(&data);
    }
    String::from_utf8_lossy(&received).into_owned()
}

pub fn chat_body(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hello"}]})
}

/// The events of an SSE body: (event name, or "" when unnamed; data).
pub fn sse_events(body: &str) -> Vec<(String, String)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut name = String::new();
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_string();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.strip_prefix(' ').unwrap_or(value));
                }
            }
            (!data.is_empty()).then(|| (name, data.join("\n")))
        })
        .collect()
}

/// The assistant text of a chat completion answer, JSON or SSE.
pub fn chat_text(reply: &Reply) -> String {
    if !is_sse(reply) {
        let json = reply.json();
        return json["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or_else(|| panic!("no message content: {json}"))
            .to_string();
    }
    sse_events(&reply.text())
        .iter()
        .filter(|(name, data)| name.is_empty() && data != "[DONE]")
        .filter_map(|(_, data)| {
            let chunk: Value = serde_json::from_str(data).ok()?;
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

/// The text of an Anthropic Messages answer, JSON or SSE.
pub fn messages_text(reply: &Reply) -> String {
    if !is_sse(reply) {
        let json = reply.json();
        assert_eq!(json["type"], "message", "{json}");
        return json["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("no text block: {json}"))
            .to_string();
    }
    sse_events(&reply.text())
        .iter()
        .filter(|(name, _)| name == "content_block_delta")
        .filter_map(|(_, data)| {
            let event: Value = serde_json::from_str(data).ok()?;
            event["delta"]["text"].as_str().map(str::to_string)
        })
        .collect()
}

fn is_sse(reply: &Reply) -> bool {
    reply
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// Asserts a complete chat stream: `[DONE]` last, no error event.
pub fn assert_complete_chat_stream(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(is_sse(reply), "not a stream: {:?}", reply.headers);
    let events = sse_events(&reply.text());
    assert!(
        events.iter().all(|(name, _)| name != "error"),
        "{}",
        reply.text()
    );
    assert_eq!(
        events.last().map(|(_, data)| data.as_str()),
        Some("[DONE]"),
        "{}",
        reply.text()
    );
}

/// Asserts a complete Anthropic stream: `message_start` first, `message_stop` last, no error.
pub fn assert_complete_messages_stream(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let names: Vec<String> = sse_events(&reply.text())
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names.first().map(String::as_str),
        Some("message_start"),
        "{names:?}"
    );
    assert_eq!(
        names.last().map(String::as_str),
        Some("message_stop"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n == "error"), "{}", reply.text());
}

/// Polls `check` every 50 ms until it returns `Some`, at most `limit`;
/// panics with `what` when it never does.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
