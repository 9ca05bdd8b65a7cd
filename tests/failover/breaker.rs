//! Taking deployments out of rotation and back: the per-deployment circuit
//! breaker (open after 3 consecutive faults, a probe after 2 s), priority
//! levels, and the active health check of `flaky-b`.

use std::time::{Duration, Instant};

use super::*;

/// The labels of `primary`'s one deployment.
const PRIMARY_A: &str = r#"model="primary",upstream="flaky-a",upstream_model="primary-upstream""#;

/// `primary` has one deployment (flaky-a) and falls back to `backup-anthropic`,
/// so every request reaches flaky-a while its breaker admits, and every
/// request is answered. (`pair` would do too, but its p2c balancer sends
/// sequential traffic only to the deployment with the lower latency average.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_on_consecutive_faults_and_closes_after_a_probe() {
    let rig = Rig::start().await;
    rig.a.set_default(Behaviour::Status(503));
    for _ in 0..3 {
        assert_eq!(
            chat_text(&rig.chat("primary", false).await),
            "served by claude-backup"
        );
    }
    let opened = rig.a.hits()[2].at;
    let entry = rig.deployment("flaky-a", "primary").await;
    assert_eq!(entry["breaker"], "open", "{entry}");
    assert_eq!(entry["available"], false, "{entry}");
    assert!(entry["last_error"].is_string(), "{entry}");
    let other = rig.deployment("flaky-a", "pair").await;
    assert_eq!(
        other["breaker"], "closed",
        "breakers are per deployment: {other}"
    );
    let state = format!("gateway_breaker_state{{{PRIMARY_A}}}");
    let transitions =
        |to: &str| format!("gateway_breaker_transitions_total{{{PRIMARY_A},to=\"{to}\"}}");
    assert_eq!(rig.metric(&state).await, Some(1.0));
    assert_eq!(rig.metric(&transitions("open")).await, Some(1.0));

    // While open (2 s) nothing reaches flaky-a: the fallback serves at once.
    for _ in 0..5 {
        assert_eq!(
            chat_text(&rig.chat("primary", false).await),
            "served by claude-backup"
        );
    }
    assert!(
        opened.elapsed() < Duration::from_secs(2),
        "the checks took too long"
    );
    assert_eq!(
        rig.a.count(),
        3,
        "requests reached an open breaker's deployment"
    );

    // After open_for one probe is admitted; it succeeds and closes the breaker.
    rig.a.set_default(Behaviour::Ok);
    let limit = Duration::from_secs(5);
    let served = eventually("a probe reaches flaky-a", limit, || async {
        let text = chat_text(&rig.chat("primary", false).await);
        (rig.a.count() > 3).then_some(text)
    })
    .await;
    assert_eq!(served, "served by primary-upstream");
    let probe = rig.a.hits()[3].at;
    assert!(
        probe - opened >= Duration::from_millis(1900),
        "probe after {:?}",
        probe - opened
    );
    assert_eq!(
        rig.deployment("flaky-a", "primary").await["breaker"],
        "closed"
    );
    assert_eq!(rig.metric(&state).await, Some(0.0));
    assert_eq!(rig.metric(&transitions("half_open")).await, Some(1.0));
    assert_eq!(rig.metric(&transitions("closed")).await, Some(1.0));
    assert_eq!(
        chat_text(&rig.chat("primary", false).await),
        "served by primary-upstream"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiered_traffic_stays_on_priority_zero_until_its_breaker_opens() {
    let rig = Rig::start().await;
    for _ in 0..5 {
        let reply = rig.chat("tiered", false).await;
        assert_eq!(chat_text(&reply), "served by tier-primary");
    }
    assert_eq!(rig.b.count(), 0, "priority 1 idles while priority 0 serves");

    rig.a.set_default(Behaviour::Status(503));
    let limit = Duration::from_secs(5);
    eventually("flaky-a's tiered breaker opens", limit, || async {
        let _ = rig.chat("tiered", false).await;
        let entry = rig.deployment("flaky-a", "tiered").await;
        (entry["breaker"] == "open").then_some(())
    })
    .await;
    let before = rig.a.count();
    for _ in 0..5 {
        let reply = rig.chat("tiered", false).await;
        assert_eq!(chat_text(&reply), "served by tier-backup");
    }
    assert_eq!(
        rig.a.count(),
        before,
        "an open breaker takes priority 0 out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_health_check_takes_an_upstream_out_of_rotation() {
    let rig = Rig::start().await;
    let health = |providers: Value| providers["providers"]["flaky-b"]["health"].clone();
    eventually(
        "flaky-b's first health check passes",
        Duration::from_secs(3),
        || async { (health(rig.providers().await)["status"] == "healthy").then_some(()) },
    )
    .await;

    rig.b.set_healthy(false);
    let started = Instant::now();
    let unhealthy = eventually(
        "flaky-b turns unhealthy",
        Duration::from_secs(4),
        || async {
            let health = health(rig.providers().await);
            (health["status"] == "unhealthy").then_some(health)
        },
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_millis(3500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(unhealthy["checks"], true, "{unhealthy}");
    assert!(unhealthy["last_error"].is_string(), "{unhealthy}");
    assert!(unhealthy["last_error_at"].is_string(), "{unhealthy}");
    let before = rig.b.count();
    for model in ["pair", "pair", "pair", "tiered", "pair", "pair"] {
        let reply = rig.chat(model, false).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    assert_eq!(
        rig.b.count(),
        before,
        "an unhealthy upstream gets no traffic"
    );

    rig.b.set_healthy(true);
    eventually(
        "flaky-b is healthy again",
        Duration::from_secs(4),
        || async { (health(rig.providers().await)["status"] == "healthy").then_some(()) },
    )
    .await;
    eventually(
        "pair traffic reaches flaky-b again",
        Duration::from_secs(5),
        || async {
            let _ = rig.chat("pair", false).await;
            (rig.b.count() > before).then_some(())
        },
    )
    .await;
    assert!(rig.b.probes() >= 4, "probes: {}", rig.b.probes());
}

/// A retry goes to a deployment this request has not tried, even at a lower
/// priority: one failure at priority 0 does not fail the request while
/// priority 1 is healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_moves_to_an_untried_lower_priority() {
    let rig = Rig::start().await;
    rig.a.script([Behaviour::Status(503)]);
    let reply = rig.chat("tiered", false).await;
    assert_eq!(chat_text(&reply), "served by tier-backup");
    assert_eq!((rig.a.count(), rig.b.count()), (1, 1));
    // The next request starts at priority 0 again.
    let reply = rig.chat("tiered", false).await;
    assert_eq!(chat_text(&reply), "served by tier-primary");
}

/// Sequential (never concurrent) requests to `pair` spread over both
/// deployments: P2C ties on in-flight requests go to the weighted first draw,
/// not to whichever deployment answered fastest once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2c_spreads_sequential_traffic_over_equal_deployments() {
    let rig = Rig::start().await;
    for _ in 0..40 {
        let reply = rig.chat("pair", false).await;
        assert!(chat_text(&reply).starts_with("served by pair-"));
    }
    let (a, b) = (rig.a.count(), rig.b.count());
    assert_eq!(a + b, 40);
    // 1:1 weights: a side below 5 of 40 has probability 2e-7 (binomial);
    // the old sticky tie-break gave 39:1 or 40:0 every time.
    assert!(a >= 5 && b >= 5, "a {a}, b {b}");
}
