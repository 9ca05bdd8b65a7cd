//! The shared quota store (issue 12), black-box: three gateway processes
//! (the `deployment.replicas: 3` of config/test/security.yaml) share a rate
//! limit and a budget through a real `redis-server` on a loopback port,
//! under concurrent load; then Redis is stopped and each quota follows its
//! compiled `on_store_error` (`shared-requests`: closed, `shared-open`:
//! open), `/health` says so, and a restarted Redis is used again.

use std::time::Duration;

use crate::quotas::chat_as;
use crate::support::redis::RedisServer;
use crate::support::*;

fn replicas(redis: &RedisServer) -> Vec<Gateway> {
    let mut env = standard_env("http://127.0.0.1:9/v1");
    env.push(("GATEWAY_TEST_REDIS_URL", redis.url()));
    (0..3).map(|_| Gateway::start(&env)).collect()
}

/// `count` requests for `model`, spread over the gateways, `parallel` at a
/// time (each wave at once); the statuses in order.
async fn load(
    gateways: &[Gateway],
    model: &str,
    extra: &str,
    count: usize,
    parallel: usize,
) -> Vec<u16> {
    let mut statuses = Vec::with_capacity(count);
    let indexes: Vec<usize> = (0..count).collect();
    for wave in indexes.chunks(parallel) {
        let mut calls = tokio::task::JoinSet::new();
        for &i in wave {
            let addr = gateways[i % gateways.len()].addr;
            let (model, extra) = (model.to_owned(), extra.to_owned());
            calls.spawn(async move { (i, chat_as(addr, CLIENT_KEY, &model, &extra).await.status) });
        }
        let mut done: Vec<(usize, u16)> = calls.join_all().await;
        done.sort();
        statuses.extend(done.into_iter().map(|(_, status)| status));
    }
    statuses
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_gateways_share_a_limit_and_a_budget_exactly_through_redis() {
    let redis = RedisServer::start();
    let gateways = replicas(&redis);
    // shared-requests: 200 in all (global), refilled one per 1000 s.
    let statuses = load(&gateways, "quota-shared", "", 300, 30).await;
    assert_eq!(
        count(&statuses, 200),
        200,
        "exactly the limit is admitted: {statuses:?}"
    );
    assert_eq!(count(&statuses, 429), 100, "{statuses:?}");

    // shared-monthly: $0.01 per key and month at $100 per million tokens
    // (100 µ$ a token); a request takes ~22 + 4 tokens up front (2600 µ$)
    // and really costs 8 + 4 (1200 µ$).
    let statuses = load(
        &gateways,
        "quota-shared-budget",
        r#","max_tokens":4"#,
        60,
        12,
    )
    .await;
    let admitted = count(&statuses, 200);
    assert_eq!(admitted + count(&statuses, 402), 60, "{statuses:?}");
    // Settling happens after each answer: wait (bounded) until Redis holds the real cost.
    let key = redis
        .keys("gw:test:budget:shared-monthly:*")
        .into_iter()
        .next()
        .expect("the budget's key in Redis");
    let mut spent = 0;
    for _ in 0..50 {
        spent = redis.get_integer(&key);
        if spent == admitted as i64 * 1200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        spent,
        admitted as i64 * 1200,
        "every admitted request settled to its real cost"
    );
    assert!(spent >= 10_000, "the budget was used up: {spent}");
    assert!(
        spent <= 10_000 + 2_600,
        "overspent by at most one request's estimate: {spent}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_redis_follows_each_quota_s_compiled_choice() {
    let mut redis = RedisServer::start();
    let gateways = replicas(&redis);
    let first = &gateways[0];
    assert_eq!(
        chat_as(first.addr, CLIENT_KEY, "quota-shared", "")
            .await
            .status,
        200
    );
    let health = get(first.addr, "/health", None).await.json();
    assert_eq!(health["quota_store"]["up"], true, "{health}");
    assert_eq!(
        health["quota_store"]["on_store_error"]["limits"]["shared-requests"],
        "closed"
    );
    assert_eq!(
        health["quota_store"]["on_store_error"]["limits"]["shared-open"],
        "open"
    );

    redis.stop();
    // Fail closed: 503 in the caller's shape, saying why.
    let closed = chat_as(first.addr, CLIENT_KEY, "quota-shared", "").await;
    closed.assert_error(503, "quota_store_unavailable");
    // Fail open: admitted uncounted (more than its 2 per key).
    for _ in 0..4 {
        let open = chat_as(first.addr, CLIENT_KEY, "quota-shared-open", "").await;
        assert_eq!(open.status, 200, "{}", open.text());
    }
    let health = get(first.addr, "/health", None).await.json();
    assert_eq!(health["quota_store"]["up"], false, "{health}");
    assert!(health["quota_store"]["last_error"].is_string(), "{health}");
    let metrics = get(first.addr, "/metrics", Some(ADMIN_KEY)).await.text();
    assert!(
        metrics.contains(r#"gateway_quota_store_errors_total{outcome="refused"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"gateway_quota_store_errors_total{outcome="admitted"} 4"#),
        "{metrics}"
    );
    assert!(metrics.contains("gateway_quota_store_up 0"), "{metrics}");

    // Back: each replica reconnects (bounded) and counts again; an empty
    // Redis, so the open limit's 2 per key apply from zero.
    redis.restart();
    for gateway in &gateways {
        let mut status = 0;
        for _ in 0..50 {
            status = chat_as(gateway.addr, CLIENT_KEY, "quota-shared", "")
                .await
                .status;
            if status == 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status, 200, "the store is used again after a restart");
    }
    let statuses = load(&gateways, "quota-shared-open", "", 4, 1).await;
    assert_eq!(statuses, [200, 200, 429, 429]);
}
