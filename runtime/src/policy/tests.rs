//! `Quotas` against hand-built tables: what a request takes, what a refusal
//! gives back, what settling does (no Redis here: `shared/tests.rs`).

use std::time::{Duration, Instant};

use super::Demand;
use crate::auth::Caller;
use crate::error::GatewayError;
use crate::table::*;
use crate::testing::{API_KEYS, AUTH, MODELS, SERVER, UPSTREAMS, resolve_model};

const EVERY: Applies = Applies {
    models: ModelAccess::All,
    teams: None,
    keys: None,
};
/// One unit back every 1000 s: nothing refills during a test.
const SLOW: u64 = 1_000_000_000_000;

static LIMITS: [Limit; 2] = [
    Limit {
        name: "a-requests",
        per: Per::Key,
        applies: EVERY,
        requests: Some(Rate {
            capacity: 2,
            emission_ns: SLOW,
        }),
        tokens: None,
        store: Store::Local,
        success_headers: true,
    },
    Limit {
        name: "b-tokens",
        per: Per::Global,
        applies: EVERY,
        requests: None,
        tokens: Some(Rate {
            capacity: 100,
            emission_ns: SLOW,
        }),
        store: Store::Local,
        success_headers: false,
    },
];

static CONFIG: Config = Config {
    environment: "unit",
    config_sha256: "0000000000000000000000000000000000000000000000000000000000000000",
    sources: &[],
    upstreams: &UPSTREAMS,
    models: &MODELS,
    deployment_count: 2,
    resolve_model,
    server: SERVER,
    auth: AUTH,
    quotas: crate::table::Quotas {
        replicas: 1,
        redis: None,
        limits: &LIMITS,
        budgets: &[],
    },
    tools: &[],
    mcp_servers: &[],
    agents: &[],
};

fn quotas() -> &'static super::Quotas {
    Box::leak(Box::new(super::Quotas::new(&CONFIG, None).unwrap()))
}

fn demand(tokens: u64) -> Demand {
    Demand {
        prompt_tokens: tokens,
        max_output_tokens: 0,
    }
}

#[tokio::test]
async fn a_refusal_by_a_later_limit_gives_back_the_request_unit() {
    let quotas = quotas();
    let caller = Caller::Key {
        index: 0,
        key: &API_KEYS[0],
    };
    let model = &MODELS[0];
    let now = Instant::now();
    let first = quotas.admit(&caller, model, demand(80), now).unwrap();
    // The tokens limit refuses the second request: its request unit comes back.
    let refused = quotas.admit(&caller, model, demand(80), now);
    assert!(matches!(refused, Err(GatewayError::RateLimited(l)) if l.limit == "b-tokens"));
    // The first one's answer used 10 tokens: 70 come back.
    first.settle(6, 4, 0);
    let second = quotas.admit(&caller, model, demand(80), now).unwrap();
    let lines = second.lines().expect("a-requests sends headers");
    assert_eq!(
        lines[0].map(|l| l.remaining),
        Some(0),
        "2 requests taken of 2"
    );
    assert!(lines[1].is_none(), "b-tokens sends no headers");
    let third = quotas.admit(&caller, model, demand(1), now + Duration::from_secs(1));
    assert!(matches!(third, Err(GatewayError::RateLimited(l)) if l.limit == "a-requests"));
    // A request that got no answer gives its tokens back (not its request unit).
    second.refund();
    let other = Caller::Admin;
    assert!(quotas.admit(&other, model, demand(90), now).is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_refused_request_is_admitted_once_the_paused_clock_refills_a_unit() {
    let quotas = quotas();
    let caller = Caller::Key {
        index: 0,
        key: &API_KEYS[0],
    };
    let model = &MODELS[1];
    let now = || tokio::time::Instant::now().into_std();
    for _ in 0..2 {
        quotas.admit(&caller, model, demand(1), now()).unwrap();
    }
    let refused = quotas.admit(&caller, model, demand(1), now());
    let Err(GatewayError::RateLimited(limited)) = refused else {
        panic!("the third request is refused");
    };
    assert_eq!(
        limited.retry_after_ms, 1_000_000,
        "one unit back per 1000 s"
    );
    // Just short of the refill: still refused; at it: admitted, and only one.
    tokio::time::advance(Duration::from_secs(999)).await;
    assert!(quotas.admit(&caller, model, demand(1), now()).is_err());
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(quotas.admit(&caller, model, demand(1), now()).is_ok());
    assert!(quotas.admit(&caller, model, demand(1), now()).is_err());
}
