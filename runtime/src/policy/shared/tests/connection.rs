//! The shared store's connection against a real `redis-server`: the first
//! connection made in the background, an outage and the recovery, a
//! connection that only times out, URLs. Every wait is a bounded poll.

use std::time::{Duration, Instant};

use super::super::proxy::Proxy;
use super::super::server::{RedisServer, free_port};
use super::{HOUR, SECOND, TIMEOUT, check, connected, gcra};
use crate::policy::shared::{SharedStore, StoreError};

/// Scheduling delay allowed beyond the timeout on a busy 2-core machine.
const SLACK: Duration = Duration::from_millis(250);

#[tokio::test]
async fn outage_errors_within_the_timeout_and_recovers() {
    let mut server = RedisServer::start();
    let store = connected(&server.url()).await;
    check(&store, &[gcra("g", 5, HOUR, 1)], &[(true, 4)]).await;
    server.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let error = store
            .check(&[gcra("g", 5, HOUR, 1)])
            .await
            .expect_err("Redis is down");
        assert!(
            started.elapsed() < TIMEOUT + SLACK,
            "{error} took {:?}",
            started.elapsed()
        );
        assert!(
            matches!(error, StoreError::Timeout | StoreError::Unreachable(_)),
            "{error:?}"
        );
    }
    let down = store.status();
    assert!(
        !down.up && down.errors >= 3 && down.last_error_at.is_some(),
        "{down:?}"
    );
    assert!(
        down.last_error
            .as_deref()
            .is_some_and(|e| e.contains(store.address())),
        "{down:?}"
    );
    server.restart();
    let mut recovered = None;
    for attempt in 0..50 {
        if let Ok(out) = store.check(&[gcra("g", 5, HOUR, 1)]).await {
            recovered = Some((attempt, out));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, out) = recovered.expect("the store reconnects within 50 tries");
    assert_eq!(out[0].remaining, 4, "the restarted server is empty");
    assert!(store.status().up);
}

/// A peer that vanishes without a reset never fails the connection, it only
/// times out: after a few timeouts the store starts a new one.
#[tokio::test]
async fn a_connection_that_only_times_out_is_replaced() {
    let server = RedisServer::start();
    let proxy = Proxy::start(server.port()).await;
    let store = connected(&proxy.url()).await;
    check(&store, &[gcra("g", 5, HOUR, 1)], &[(true, 4)]).await;
    proxy.cut();
    for _ in 0..3 {
        let started = Instant::now();
        let error = store
            .check(&[gcra("g", 5, HOUR, 1)])
            .await
            .expect_err("silent");
        assert!(started.elapsed() < TIMEOUT + SLACK, "{error}");
    }
    proxy.heal();
    for _ in 0..50 {
        if let Ok(out) = store.check(&[gcra("g", 5, HOUR, 1)]).await {
            assert_eq!(out[0].remaining, 3, "the same server, one more unit taken");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("still silent after 50 tries: {:?}", store.status());
}

#[tokio::test]
async fn connects_in_the_background_when_redis_comes_later() {
    let port = free_port();
    let store = SharedStore::new(&format!("redis://127.0.0.1:{port}"), TIMEOUT).expect("valid URL");
    let started = Instant::now();
    match store.check(&[gcra("g", 1, SECOND, 1)]).await {
        Err(StoreError::Unreachable(text)) => {
            assert!(
                text.starts_with(&format!("not connected yet: 127.0.0.1:{port}")),
                "{text}"
            );
        }
        other => panic!("expected not connected yet, got {other:?}"),
    }
    assert!(started.elapsed() < TIMEOUT / 2, "answers at once");
    assert!(!store.status().up);
    let _server = RedisServer::start_on(port);
    for _ in 0..100 {
        if store.check(&[gcra("g", 1, SECOND, 1)]).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not connected within 100 tries: {:?}", store.status());
}

#[tokio::test]
async fn urls_are_checked_and_never_leak_the_password() {
    let store = SharedStore::new("redis://:s3cret@127.0.0.1:7/0", TIMEOUT).expect("valid URL");
    assert_eq!(store.address(), "127.0.0.1:7");
    for (url, expect) in [
        ("127.0.0.1:6379", "no scheme"),
        ("http://:s3cret@h:1", "scheme `http` is not redis"),
        ("rediss://:s3cret@h:1", "TLS"),
        ("redis://:s3cret@", "not a valid URL"),
        ("redis://:s3cret@h:1/x", "Invalid database number"),
        ("redis://:s3cret@0.0.0.0:1", "wildcard"),
        ("unix+s3cret://x", "the scheme is not redis"),
    ] {
        let Err(StoreError::Unreachable(text)) = SharedStore::new(url, TIMEOUT) else {
            panic!("{url} was accepted");
        };
        assert!(
            text.contains(expect) && !text.contains("s3cret"),
            "{url}: {text}"
        );
    }
}

#[test]
fn check_is_send() {
    fn send<T: Send>(_: T) {}
    let store: Option<&SharedStore> = None;
    if let Some(store) = store {
        send(store.check(&[]));
        send(store.settle(&[]));
    }
}
