//! `GET /health/providers`: every upstream and each deployment on it, as
//! routing sees them now: enabled or disabled (and why), maintenance,
//! active-health verdict and last failed check, and per deployment its
//! breaker state, availability, requests in flight, latency EWMA and last
//! error with its time. `providers` is keyed by upstream name, so
//! `jq '.providers.<name>'` reads one (as peer gateways' runbooks do).
//!
//! `status`: `ok` when every deployment can take traffic, `degraded` when
//! some cannot but every model still has one, `down` when some model has
//! none (its requests go to fallbacks or get a 503). Reads state only.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{Response, StatusCode};
use serde_json::{Map, Value, json};

use super::ops::{json_response, rfc3339};
use crate::body::ResponseBody;
use crate::gateway::Gateway;
use crate::table::{Upstream, UpstreamKind};
use crate::upstream::Target;
use crate::upstream::fleet::describe;
use crate::upstream::lease::phase_label;

/// `GET /health/providers`.
pub fn providers(gateway: &Gateway) -> Response<ResponseBody> {
    let now = tokio::time::Instant::now();
    let config = gateway.config;
    let mut providers = Map::new();
    for (upstream, target) in config.upstreams.iter().zip(gateway.targets.iter()) {
        providers.insert(
            upstream.name.to_owned(),
            provider(gateway, upstream, target),
        );
    }
    let mut unavailable = 0usize;
    for (model, deployment) in config.deployments() {
        let available = gateway.deployment_available(deployment, now);
        if let Some(Value::Object(entry)) =
            providers.get_mut(config.upstream(deployment.upstream).map_or("", |u| u.name))
            && let Some(Value::Array(list)) = entry.get_mut("deployments")
        {
            list.push(deployment_json(
                gateway,
                (model.name, deployment),
                available,
                now,
            ));
        }
        unavailable += usize::from(!available);
    }
    let stranded: Vec<&str> = config
        .models
        .iter()
        .filter(|m| {
            !m.deployments
                .iter()
                .any(|d| gateway.deployment_available(d, now))
        })
        .map(|m| m.name)
        .collect();
    let status = match (unavailable, stranded.is_empty()) {
        (0, _) => "ok",
        (_, true) => "degraded",
        (_, false) => "down",
    };
    let body = json!({
        "status": status,
        "timestamp": rfc3339(SystemTime::now()),
        "models_without_deployment": stranded,
        "providers": providers,
    });
    json_response(StatusCode::OK, body.to_string())
}

fn provider(gateway: &Gateway, upstream: &Upstream, target: &Target) -> Value {
    let state = gateway.fleet.upstream(upstream.id);
    let kind = match upstream.kind {
        UpstreamKind::OpenAi { .. } => "openai",
        UpstreamKind::Anthropic { .. } => "anthropic",
        UpstreamKind::Mock(_) => "mock",
    };
    let disabled = match target {
        Target::Disabled(reason) => Some(reason.as_str()),
        _ => None,
    };
    let last_check_fault = state.and_then(|s| s.last_check_fault());
    let checked = state.map_or(0, |s| s.last_checked_ms());
    json!({
        "kind": kind,
        "enabled": disabled.is_none(),
        "disabled_reason": disabled,
        "maintenance": state.is_some_and(|s| s.in_maintenance()),
        "health": {
            "status": state.map_or("unknown", |s| s.health().label()),
            "checks": upstream.health_check.is_some(),
            "last_checked_at": (checked > 0).then(|| at(checked)),
            "last_error": last_check_fault.map(|(fault, _)| describe(fault)),
            "last_error_at": last_check_fault.map(|(_, ms)| at(ms)),
        },
        "deployments": [],
    })
}

fn deployment_json(
    gateway: &Gateway,
    (model, deployment): (&str, &crate::table::Deployment),
    available: bool,
    now: tokio::time::Instant,
) -> Value {
    let state = gateway.fleet.deployment(deployment.id);
    let breaker = gateway
        .config
        .upstream(deployment.upstream)
        .map(|u| &u.breaker);
    let phase = match (state, breaker) {
        (Some(state), Some(breaker)) => phase_label(state.breaker.phase(breaker, now)),
        _ => "closed",
    };
    let last = state.and_then(|s| s.last_fault());
    let ewma_micros = state.map_or(0, |s| s.latency.get());
    json!({
        "model": model,
        "upstream_model": deployment.upstream_model,
        "priority": deployment.priority,
        "weight": deployment.weight,
        "available": available,
        "breaker": phase,
        "in_flight": state.map_or(0, |s| s.in_flight.load(Relaxed)),
        "ewma_latency_ms": (ewma_micros > 0).then(|| ewma_micros as f64 / 1000.0),
        "last_error": last.map(|(fault, _)| describe(fault)),
        "last_error_at": last.map(|(_, ms)| at(ms)),
    })
}

/// Unix milliseconds as RFC 3339.
fn at(ms: u64) -> String {
    rfc3339(UNIX_EPOCH + Duration::from_millis(ms))
}
