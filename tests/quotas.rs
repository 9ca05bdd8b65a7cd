//! Quotas (issue 12), black-box: local rate limits on requests and tokens
//! (429 with `Retry-After` and the rate-limit headers of each protocol),
//! token estimates settled from the real usage, budgets (402 once spent),
//! per-request bounds per model, and the metrics. The shared (Redis) store
//! is in `quotas_shared.rs`. Every quota of config/test/security.yaml
//! counts one `quota-*` model of upstreams.yaml, served by the built-in
//! mock (usage: a token per 4 bytes of `messages`, 4 completion tokens).

use bytes::Bytes;

use crate::support::*;

/// Chat completions for `model` as `key`, with `extra` JSON fields.
pub async fn chat_as(addr: std::net::SocketAddr, key: &str, model: &str, extra: &str) -> Reply {
    let bearer = format!("Bearer {key}");
    let body =
        format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hi"}}]{extra}}}"#);
    let headers = [("authorization", bearer.as_str())];
    send(
        addr,
        "POST",
        "/v1/chat/completions",
        &headers,
        Bytes::from(body),
    )
    .await
}

/// Anthropic Messages for `model` as `key` (in `x-api-key`).
async fn messages_as(gateway: &Gateway, key: &str, model: &str) -> Reply {
    let body = format!(
        r#"{{"model":"{model}","max_tokens":4,"messages":[{{"role":"user","content":"hi"}}]}}"#
    );
    let headers = [("x-api-key", key), ("anthropic-version", "2023-06-01")];
    send(
        gateway.addr,
        "POST",
        "/v1/messages",
        &headers,
        Bytes::from(body),
    )
    .await
}

fn header<'a>(reply: &'a Reply, name: &str) -> &'a str {
    reply
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header: {:?}", reply.headers))
}

fn start() -> Gateway {
    Gateway::start(&standard_env("http://127.0.0.1:9/v1"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_limit_refuses_the_fourth_request_per_key_in_each_shape() {
    let gateway = start();
    // key-requests: 3 per key, refilled one per 1000 s.
    for left in ["2", "1", "0"] {
        let reply = chat_as(gateway.addr, CLIENT_KEY, "quota-requests", "").await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(header(&reply, "x-ratelimit-limit-requests"), "3");
        assert_eq!(header(&reply, "x-ratelimit-remaining-requests"), left);
        assert!(header(&reply, "x-ratelimit-reset-requests").ends_with('s'));
    }
    let refused = chat_as(gateway.addr, CLIENT_KEY, "quota-requests", "").await;
    refused.assert_error(429, "rate_limit_exceeded");
    assert_eq!(refused.json()["error"]["type"], "requests");
    let retry_after: u64 = header(&refused, "retry-after").parse().unwrap();
    assert!((900..=1000).contains(&retry_after), "{retry_after}");
    let retry_ms: u64 = header(&refused, "retry-after-ms").parse().unwrap();
    assert!(
        retry_ms.div_ceil(1000) == retry_after,
        "{retry_ms} vs {retry_after}"
    );
    assert_eq!(header(&refused, "x-ratelimit-remaining-requests"), "0");

    // Another caller has its own bucket; an Anthropic client gets Anthropic's shape.
    for left in ["2", "1", "0"] {
        let reply = messages_as(&gateway, ADMIN_KEY, "quota-requests").await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(header(&reply, "anthropic-ratelimit-requests-limit"), "3");
        assert_eq!(
            header(&reply, "anthropic-ratelimit-requests-remaining"),
            left
        );
        let reset = header(&reply, "anthropic-ratelimit-requests-reset");
        assert!(reset.len() == 20 && reset.ends_with('Z'), "{reset}");
    }
    let refused = messages_as(&gateway, ADMIN_KEY, "quota-requests").await;
    assert_eq!(refused.status, 429, "{}", refused.text());
    let json = refused.json();
    assert_eq!(
        (json["type"].as_str(), json["error"]["type"].as_str()),
        (Some("error"), Some("rate_limit_error")),
        "{json}"
    );
    assert!(header(&refused, "retry-after").parse::<u64>().unwrap() >= 900);
    // Models without a limit are not counted.
    assert_eq!(
        chat_as(gateway.addr, CLIENT_KEY, "demo", "").await.status,
        200
    );
    // The key's compiled labels are in each of its request lines.
    gateway.wait_for_log(
        r#""key_metadata":"cost_center=4711,owner=gateway-tests""#,
        std::time::Duration::from_secs(5),
    );
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    assert!(
        metrics.contains(r#"gateway_rate_limited_total{limit="key-requests",unit="requests"} 2"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_limit_takes_the_estimate_up_front_and_settles_the_usage() {
    let gateway = start();
    // key-tokens: 1000 tokens per key. The body (~80 bytes: ~20 tokens)
    // plus max_tokens 900 are taken up front; the mock then reports 8 + 4.
    let first = chat_as(
        gateway.addr,
        CLIENT_KEY,
        "quota-tokens",
        r#","max_tokens":900"#,
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text());
    let left: u64 = header(&first, "x-ratelimit-remaining-tokens")
        .parse()
        .unwrap();
    assert!(
        (60..=90).contains(&left),
        "estimate taken up front: {left} left"
    );
    // Only the real usage (12 tokens) stays taken, so the same request fits again.
    let second = chat_as(
        gateway.addr,
        CLIENT_KEY,
        "quota-tokens",
        r#","max_tokens":900"#,
    )
    .await;
    assert_eq!(second.status, 200, "settled: {}", second.text());
    let left: u64 = header(&second, "x-ratelimit-remaining-tokens")
        .parse()
        .unwrap();
    assert!((50..=80).contains(&left), "{left}");
    // A stream settles from its usage chunk the same way.
    let stream = chat_as(
        gateway.addr,
        CLIENT_KEY,
        "quota-tokens",
        r#","max_tokens":900,"stream":true,"stream_options":{"include_usage":true}"#,
    )
    .await;
    assert_eq!(stream.status, 200, "{}", stream.text());
    assert!(stream.text().contains("[DONE]"));
    let after = chat_as(
        gateway.addr,
        CLIENT_KEY,
        "quota-tokens",
        r#","max_tokens":900"#,
    )
    .await;
    assert_eq!(after.status, 200, "stream settled: {}", after.text());
    // Asking for more than is left: 429 with the tokens type and headers.
    let refused = chat_as(
        gateway.addr,
        CLIENT_KEY,
        "quota-tokens",
        r#","max_tokens":990"#,
    )
    .await;
    refused.assert_error(429, "rate_limit_exceeded");
    assert_eq!(refused.json()["error"]["type"], "tokens");
    assert_eq!(header(&refused, "x-ratelimit-limit-tokens"), "1000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_is_spent_then_refused_with_402_in_each_shape() {
    let gateway = start();
    // key-daily: $0.05 per key and day at $1000 per million tokens, i.e.
    // 50 tokens; each request takes ~21 + 1 up front and costs 8 + 4.
    let mut admitted = 0;
    let mut refused = None;
    for _ in 0..20 {
        let reply = chat_as(
            gateway.addr,
            CLIENT_KEY,
            "quota-budget",
            r#","max_tokens":1"#,
        )
        .await;
        if reply.status == 200 {
            admitted += 1;
            continue;
        }
        refused = Some(reply);
        break;
    }
    let refused = refused.expect("the budget ends within 20 requests");
    refused.assert_error(402, "budget_exceeded");
    assert_eq!(refused.json()["error"]["type"], "insufficient_quota");
    // Real cost 12 tokens = $0.000012... each: spent while below $0.05.
    assert_eq!(
        admitted, 5,
        "50 tokens at 12 per request: the 5th crosses, the 6th is refused"
    );
    let anthropic = messages_as(&gateway, CLIENT_KEY, "quota-budget").await;
    assert_eq!(anthropic.status, 402, "{}", anthropic.text());
    assert_eq!(anthropic.json()["error"]["type"], "billing_error");
    let metrics = get(gateway.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    assert!(
        metrics.contains(
            r#"gateway_budget_remaining_usd{budget="key-daily",subject="test-client"} 0"#
        ),
        "{metrics}"
    );
    assert!(metrics.contains(r#"gateway_budget_exceeded_total{budget="key-daily"} 2"#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_bounds_messages_and_max_tokens_per_request() {
    let gateway = start();
    // quota-bounds: at most 2 messages and max_tokens 100.
    let ok = chat_as(
        gateway.addr,
        CLIENT_KEY,
        "quota-bounds",
        r#","max_tokens":100"#,
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    let extra = r#","max_completion_tokens":101"#;
    let too_many = chat_as(gateway.addr, CLIENT_KEY, "quota-bounds", extra).await;
    too_many.assert_error(400, "invalid_value");
    assert_eq!(too_many.json()["error"]["param"], "max_tokens");
    let three = r#"{"model":"quota-bounds","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"user","content":"c"}]}"#;
    let reply = chat(gateway.addr, three).await;
    reply.assert_error(400, "invalid_value");
    assert_eq!(reply.json()["error"]["param"], "messages");
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 messages")
    );
}
