//! The shared store against a real `redis-server` (started per test on a
//! loopback port by `server.rs`; `scripts/test-deps` installs it): the
//! script's semantics here, connecting, outages and URLs in
//! `tests/connection.rs`. No mocks; every wait is a bounded poll.

mod connection;

use std::time::Duration;

use redis::aio::MultiplexedConnection;

use super::server::RedisServer;
use super::{Adjust, Op, Outcome, SharedStore, StoreError};

const TIMEOUT: Duration = Duration::from_millis(200);
const SECOND: u64 = 1_000_000_000;
const HOUR: u64 = 3600 * SECOND;

/// A store that has made its first connection (polls `status().up`, 100 x 20 ms).
async fn connected(url: &str) -> SharedStore {
    let store = SharedStore::new(url, TIMEOUT).expect("valid URL");
    for _ in 0..100 {
        if store.status().up {
            return store;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no connection to {url} within 2 s: {:?}", store.status());
}

/// A plain connection, to look at what the script wrote.
async fn plain(server: &RedisServer) -> MultiplexedConnection {
    let client = redis::Client::open(server.url()).expect("client");
    client
        .get_multiplexed_async_connection()
        .await
        .expect("plain connection")
}

async fn query<T: redis::FromRedisValue>(con: &mut MultiplexedConnection, args: &[&str]) -> T {
    let mut cmd = redis::cmd(args[0]);
    cmd.arg(&args[1..]);
    cmd.query_async(con).await.expect("query")
}

fn gcra(key: &str, capacity: u64, emission_ns: u64, cost: u64) -> Op<'_> {
    Op::Gcra {
        key,
        capacity,
        emission_ns,
        cost,
    }
}

fn budget(key: &str, limit: u64, cost: u64) -> Op<'_> {
    Op::Budget {
        key,
        limit,
        cost,
        ttl_s: 3600,
    }
}

/// Runs `ops` and compares (allowed, remaining) per op.
async fn check(store: &SharedStore, ops: &[Op<'_>], expect: &[(bool, u64)]) -> Vec<Outcome> {
    let outcomes = store.check(ops).await.expect("check");
    let got: Vec<(bool, u64)> = outcomes.iter().map(|o| (o.allowed, o.remaining)).collect();
    assert_eq!(got, expect, "ops {ops:?}: {outcomes:?}");
    outcomes
}

#[tokio::test]
async fn gcra_admits_capacity_then_denies_with_retry_after() {
    let server = RedisServer::start();
    let store = connected(&server.url()).await;
    for left in (0..5).rev() {
        let [o] = check(&store, &[gcra("g", 5, SECOND, 1)], &[(true, left)]).await[..] else {
            unreachable!()
        };
        assert_eq!(o.retry_after_ns, 0);
        assert!(
            o.reset_ns > (4 - left) * SECOND && o.reset_ns <= (5 - left) * SECOND,
            "{o:?}"
        );
    }
    let [o] = check(&store, &[gcra("g", 5, SECOND, 1)], &[(false, 0)]).await[..] else {
        unreachable!()
    };
    assert!(o.retry_after_ns > 0 && o.retry_after_ns <= SECOND, "{o:?}");
    assert!(
        o.reset_ns > 4 * SECOND && o.reset_ns <= 5 * SECOND,
        "as if nothing were committed: {o:?}"
    );
}

#[tokio::test]
async fn gcra_cost_above_one_and_cost_zero_reads() {
    let server = RedisServer::start();
    let store = connected(&server.url()).await;
    let mut con = plain(&server).await;
    check(&store, &[gcra("absent", 10, HOUR, 0)], &[(true, 10)]).await;
    assert_eq!(
        query::<i64>(&mut con, &["EXISTS", "absent"]).await,
        0,
        "a read writes nothing"
    );
    check(&store, &[gcra("g", 10, HOUR, 4)], &[(true, 6)]).await;
    check(&store, &[gcra("g", 10, HOUR, 0)], &[(true, 6)]).await;
    let [o] = check(&store, &[gcra("g", 10, HOUR, 7)], &[(false, 0)]).await[..] else {
        unreachable!()
    };
    assert!(
        o.retry_after_ns > HOUR - 10 * SECOND && o.retry_after_ns <= HOUR,
        "one unit short: {o:?}"
    );
    check(&store, &[gcra("g", 10, HOUR, 6)], &[(true, 0)]).await;
    check(&store, &[gcra("g", 10, HOUR, 1)], &[(false, 0)]).await;
}

#[tokio::test]
async fn all_or_nothing_commits_none_when_one_op_denies() {
    let server = RedisServer::start();
    let store = connected(&server.url()).await;
    let mut con = plain(&server).await;
    let ops = [
        gcra("a", 10, HOUR, 1),
        budget("b", 100, 50),
        gcra("tight", 1, HOUR, 2),
    ];
    let out = check(&store, &ops, &[(true, 10), (true, 100), (false, 0)]).await;
    assert_eq!(out[0].reset_ns, 0, "reported as not committed: {out:?}");
    check(
        &store,
        &[gcra("a", 10, HOUR, 0), budget("b", 100, 0)],
        &[(true, 10), (true, 100)],
    )
    .await;
    assert_eq!(
        query::<i64>(&mut con, &["EXISTS", "a", "b", "tight"]).await,
        0
    );
    // A key named twice sees the first op's effect within the call.
    check(
        &store,
        &[gcra("k", 2, HOUR, 1), gcra("k", 2, HOUR, 1)],
        &[(true, 1), (true, 0)],
    )
    .await;
    check(&store, &[gcra("k", 2, HOUR, 1)], &[(false, 0)]).await;
}

#[tokio::test]
async fn budget_admits_below_limit_and_the_crossing_request() {
    let server = RedisServer::start();
    let store = connected(&server.url()).await;
    let mut con = plain(&server).await;
    for (cost, allowed, remaining) in [(60, true, 40), (0, true, 40), (60, true, 0), (1, false, 0)]
    {
        let out = check(&store, &[budget("usd", 100, cost)], &[(allowed, remaining)]).await;
        assert_eq!((out[0].reset_ns, out[0].retry_after_ns), (0, 0));
    }
    assert_eq!(
        query::<i64>(&mut con, &["GET", "usd"]).await,
        120,
        "overspend is one request"
    );
}

#[tokio::test]
async fn settle_refunds_and_charges() {
    let server = RedisServer::start();
    let store = connected(&server.url()).await;
    let mut con = plain(&server).await;
    let refund = |key, delta| Adjust::Gcra {
        key,
        emission_ns: HOUR,
        delta,
    };
    check(&store, &[gcra("g", 5, HOUR, 3)], &[(true, 2)]).await;
    store.settle(&[refund("g", -1)]).await.expect("settle");
    check(&store, &[gcra("g", 5, HOUR, 0)], &[(true, 3)]).await;
    store.settle(&[refund("g", -10)]).await.expect("settle");
    let out = check(&store, &[gcra("g", 5, HOUR, 0)], &[(true, 5)]).await;
    assert_eq!(out[0].reset_ns, 0, "a refund stops at a full bucket");
    store.settle(&[refund("g", 2)]).await.expect("settle");
    check(&store, &[gcra("g", 5, HOUR, 0)], &[(true, 3)]).await;
    store.settle(&[refund("absent", 2)]).await.expect("settle");
    assert_eq!(query::<i64>(&mut con, &["EXISTS", "absent"]).await, 0);

    let usd = |key, delta| Adjust::Budget {
        key,
        delta,
        ttl_s: 60,
    };
    check(&store, &[budget("usd", 100, 50)], &[(true, 50)]).await;
    for (delta, spent) in [(-20, 30), (15, 45), (-100, 0)] {
        store.settle(&[usd("usd", delta)]).await.expect("settle");
        assert_eq!(
            query::<i64>(&mut con, &["GET", "usd"]).await,
            spent,
            "after {delta}"
        );
    }
    store
        .settle(&[usd("new-refund", -5), usd("new-charge", 7)])
        .await
        .expect("settle");
    assert_eq!(
        query::<i64>(&mut con, &["EXISTS", "new-refund"]).await,
        0,
        "no credit"
    );
    assert_eq!(query::<i64>(&mut con, &["GET", "new-charge"]).await, 7);
    let ttl = query::<i64>(&mut con, &["TTL", "new-charge"]).await;
    assert!((1..=60).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn keys_expire() {
    let server = RedisServer::start();
    let store = connected(&server.url()).await;
    let mut con = plain(&server).await;
    let ops = [
        gcra("g", 10, SECOND, 3),
        Op::Budget {
            key: "usd",
            limit: 10,
            cost: 1,
            ttl_s: 90,
        },
    ];
    check(&store, &ops, &[(true, 7), (true, 9)]).await;
    let pttl = query::<i64>(&mut con, &["PTTL", "g"]).await;
    assert!(
        (3000..=4000).contains(&pttl),
        "3 s to full + 1 s: {pttl} ms"
    );
    let ttl = query::<i64>(&mut con, &["TTL", "usd"]).await;
    assert!((1..=90).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn a_key_holding_something_else_is_a_script_error_and_writes_nothing() {
    let server = RedisServer::start();
    let store = connected(&server.url()).await;
    let mut con = plain(&server).await;
    query::<()>(&mut con, &["SET", "text", "hello"]).await;
    let ops = [budget("b", 10, 1), gcra("text", 10, SECOND, 1)];
    match store.check(&ops).await {
        Err(StoreError::Script(text)) => {
            assert!(text.contains("does not hold a GCRA state"), "{text}")
        }
        other => panic!("expected a script error, got {other:?}"),
    }
    assert_eq!(query::<i64>(&mut con, &["EXISTS", "b"]).await, 0);
    let status = store.status();
    assert!(
        !status.up && status.errors == 1,
        "the last operation failed: {status:?}"
    );
    assert!(
        status
            .last_error
            .is_some_and(|e| e.contains("does not hold a GCRA state"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_admit_exactly_capacity() {
    let server = RedisServer::start();
    let url = server.url();
    let stores = [
        connected(&url).await,
        connected(&url).await,
        connected(&url).await,
    ];
    let stores = std::sync::Arc::new(stores);
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..30 {
        let stores = stores.clone();
        tasks.spawn(async move {
            let mut admitted = 0u32;
            for _ in 0..50 {
                let store = &stores[task % 3];
                let out = store
                    .check(&[gcra("shared", 1000, HOUR, 1)])
                    .await
                    .expect("check");
                admitted += u32::from(out[0].allowed);
            }
            admitted
        });
    }
    let admitted: u32 = tasks.join_all().await.into_iter().sum();
    assert_eq!(admitted, 1000, "1500 attempts over three connections");
}

#[tokio::test]
async fn nanoseconds_and_large_amounts_are_exact() {
    let server = RedisServer::start();
    let store = connected(&server.url()).await;
    let mut con = plain(&server).await;
    // A fresh bucket starts at now: reset is exactly cost x emission.
    let out = check(&store, &[gcra("ns", 10, SECOND + 1, 3)], &[(true, 7)]).await;
    assert_eq!(out[0].reset_ns, 3 * (SECOND + 1));
    let tat: String = query(&mut con, &["GET", "ns"]).await;
    let (seconds, nanos) = tat.split_once('.').expect("<seconds>.<nanoseconds>");
    assert!(seconds.len() >= 10 && nanos.len() == 9, "{tat}");
    let big = 1_000_000_000_000_000;
    check(&store, &[budget("usd", 4 * big, big)], &[(true, 3 * big)]).await;
    let usd = |delta| Adjust::Budget {
        key: "usd",
        delta,
        ttl_s: 60,
    };
    store
        .settle(&[usd(2 * 10i64.pow(15))])
        .await
        .expect("settle");
    assert_eq!(
        query::<i64>(&mut con, &["GET", "usd"]).await,
        3 * 10i64.pow(15)
    );
}
