//! What the compiled tables carry for routing and resilience (issue 11):
//! the names and values `config/test` gives the integration tests, the
//! defaults every model gets, deployment order and ids, and the bench pair.

use gateway_codegen::ir::{Balance, HealthProbe, Ir, Model, Upstream};

use crate::common;

fn ir(env: &str) -> Ir {
    let dir = common::workspace().join("config").join(env);
    match gateway_codegen::analyze(&common::input(&dir, env)) {
        Ok(analysis) => analysis.ir,
        Err(report) => panic!("config/{env}:\n{}", report.render()),
    }
}

fn model<'a>(ir: &'a Ir, name: &str) -> &'a Model {
    ir.models.iter().find(|m| m.name == name).unwrap()
}

fn upstream<'a>(ir: &'a Ir, name: &str) -> &'a Upstream {
    ir.upstreams.iter().find(|u| u.name == name).unwrap()
}

/// (upstream name, upstream model, weight, priority) of each deployment, in table order.
fn deployments<'a>(ir: &'a Ir, m: &'a Model) -> Vec<(&'a str, &'a str, u32, u8)> {
    m.deployments
        .iter()
        .map(|d| {
            let u = &ir.upstreams[usize::from(d.upstream.0)];
            (
                u.name.as_str(),
                d.upstream_model.as_str(),
                d.weight,
                d.priority,
            )
        })
        .collect()
}

fn names<'a>(ir: &'a Ir, ids: &[gateway_codegen::ir::ModelId]) -> Vec<&'a str> {
    ids.iter()
        .map(|id| ir.models[usize::from(id.0)].name.as_str())
        .collect()
}

#[test]
fn the_test_environment_has_what_the_routing_tests_expect() {
    let ir = ir("test");
    for name in ["flaky-a", "flaky-b", "flaky-anthropic"] {
        let u = upstream(&ir, name);
        let t = (u.connect_ms, u.first_byte_ms, u.total_ms, u.stream_idle_ms);
        assert_eq!(t, (1000, 1000, 3000, 1000), "{name}");
        let b = &u.breaker;
        assert!(b.enabled, "{name}");
        assert_eq!((b.consecutive_failures, b.error_ratio_permille), (3, 0));
        assert_eq!((b.open_for_ms, b.half_open_probes), (2000, 1), "{name}");
    }
    let check = upstream(&ir, "flaky-b").health_check.as_ref().unwrap();
    assert_eq!((check.interval_ms, check.timeout_ms), (1000, 500));
    assert_eq!(check.probe, HealthProbe::Get("/models".to_owned()));
    assert_eq!((check.healthy_threshold, check.unhealthy_threshold), (1, 2));
    assert!(upstream(&ir, "flaky-a").health_check.is_none());

    let pair = model(&ir, "pair");
    let expect = [("flaky-a", "pair-a", 1, 0), ("flaky-b", "pair-b", 1, 0)];
    assert_eq!(deployments(&ir, pair), expect);
    assert_eq!(pair.balance, Balance::P2c);
    let r = &pair.retry;
    assert_eq!(
        (r.attempts, r.backoff_base_ms, r.backoff_max_ms),
        (2, 10, 50)
    );
    assert_eq!((r.retry_after_max_ms, pair.deadline_ms), (2000, 8000));

    let tiered = model(&ir, "tiered");
    let expect = [
        ("flaky-a", "tier-primary", 1, 0),
        ("flaky-b", "tier-backup", 1, 1),
    ];
    assert_eq!(deployments(&ir, tiered), expect);

    let primary = model(&ir, "primary");
    assert_eq!(names(&ir, &primary.fallbacks), ["backup-anthropic"]);
    assert_eq!(
        names(&ir, &primary.context_window_fallbacks),
        ["long-context"]
    );
    assert_eq!((primary.retry.attempts, primary.deadline_ms), (1, 8000));
    let claude = model(&ir, "claude-primary");
    assert_eq!(names(&ir, &claude.fallbacks), ["pair-chat-fallback"]);
    for (name, upstream, upstream_model) in [
        ("backup-anthropic", "flaky-anthropic", "claude-backup"),
        ("long-context", "flaky-b", "long-context-upstream"),
        (
            "claude-primary",
            "flaky-anthropic",
            "claude-primary-upstream",
        ),
        ("pair-chat-fallback", "flaky-b", "fallback-b"),
        ("deadline-bound", "flaky-a", "slow"),
    ] {
        let m = model(&ir, name);
        assert_eq!(
            deployments(&ir, m),
            [(upstream, upstream_model, 1, 0)],
            "{name}"
        );
    }
    let bound = model(&ir, "deadline-bound");
    assert_eq!((bound.retry.attempts, bound.deadline_ms), (3, 9000));
    let chat_only = model(&ir, "chat-only").endpoints;
    assert!(chat_only.chat && !chat_only.messages);
}

#[test]
fn defaults_and_ids() {
    let ir = ir("test");
    let demo = model(&ir, "demo");
    let r = &demo.retry;
    assert_eq!(r.attempts, 2);
    assert!(r.on_connect_error && r.on_timeout);
    let mut statuses = vec![429];
    statuses.extend(500..=599);
    assert_eq!(r.statuses, statuses);
    assert_eq!(
        (r.backoff_base_ms, r.backoff_max_ms, r.retry_after_max_ms),
        (250, 5000, 30_000)
    );
    assert_eq!(demo.balance, Balance::P2c);
    assert!(demo.endpoints.chat && demo.endpoints.messages);
    // 2 tries x the mock's default total 300s + 1 x backoff_max 5s.
    assert_eq!(demo.deadline_ms, 605_000);
    // `local` sets total 1500ms and no first_byte: the default 60s is capped at total.
    let local = upstream(&ir, "local");
    assert_eq!((local.first_byte_ms, local.total_ms), (1500, 1500));
    let b = &upstream(&ir, "mock").breaker;
    let breaker = (
        b.enabled,
        b.consecutive_failures,
        b.error_ratio_permille,
        b.window_ms,
    );
    assert_eq!(breaker, (true, 5, 500, 60_000));
    assert_eq!(
        (b.min_requests, b.open_for_ms, b.half_open_probes),
        (20, 30_000, 1)
    );
    // Deployment ids are dense in walking order: models by id, deployments in order.
    let ids: Vec<u16> = ir
        .models
        .iter()
        .flat_map(|m| m.deployments.iter().map(|d| d.id.0))
        .collect();
    let dense: Vec<u16> = (0..ir.deployment_count).collect();
    assert_eq!(ids, dense);
    for m in &ir.models {
        let priorities: Vec<u8> = m.deployments.iter().map(|d| d.priority).collect();
        assert!(priorities.is_sorted(), "{}: sorted by priority", m.name);
    }
}

#[test]
fn the_bench_pair_is_two_equal_deployments_on_one_mock() {
    use gateway_codegen::ir::{SecretRef, UpstreamKind};
    let ir = ir("bench");
    let pair = model(&ir, "bench-pair");
    let expect = [("mock", "mock-gpt", 1, 0), ("mock-b", "mock-gpt", 1, 0)];
    assert_eq!(deployments(&ir, pair), expect);
    assert_eq!(pair.balance, Balance::P2c);
    let wiring = |name: &str| {
        let u = upstream(&ir, name);
        let env = match &u.kind {
            UpstreamKind::OpenAi { base_url_env, .. } => base_url_env.clone(),
            _ => None,
        };
        let key = match &u.api_key {
            Some(SecretRef::Env(v)) => Some(v.clone()),
            _ => None,
        };
        (env, key, u.breaker.clone())
    };
    assert_eq!(wiring("mock"), wiring("mock-b"));
    assert_eq!(wiring("mock").0.as_deref(), Some("BENCH_UPSTREAM_URL"));
}
