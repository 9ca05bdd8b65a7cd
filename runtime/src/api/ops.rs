//! Operational endpoints: `/health`, `/healthz`, `/ready`, `/version`,
//! `/metrics`.
//!
//! These read the gateway state only; none of them touches an upstream.

use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderValue, Response, StatusCode, header};
use serde_json::json;

use crate::body::ResponseBody;
use crate::build_info;
use crate::gateway::{Gateway, Lifecycle};
use crate::observe::metrics::Live;

pub fn json_response(status: StatusCode, body: impl Into<bytes::Bytes>) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `GET /health`: status, timestamp, uptime, and the provenance of [`version`].
pub fn health(gateway: &Gateway) -> Response<ResponseBody> {
    let disabled: Vec<&str> = gateway.disabled_upstreams().map(|(name, _)| name).collect();
    let status = match (gateway.lifecycle(), disabled.is_empty()) {
        (Lifecycle::Draining, _) => "draining",
        (_, false) => "degraded",
        _ => "healthy",
    };
    let config = gateway.config;
    let build = build_info::get();
    let body = json!({
        "status": status,
        "timestamp": rfc3339(SystemTime::now()),
        "version": build.version,
        "uptime_seconds": gateway.started.elapsed().as_secs(),
        "started_at": rfc3339(gateway.started_at),
        "environment": config.environment,
        "config_sha256": config.config_sha256,
        "git_revision": build.git_revision,
        "rustc": build.rustc,
        "models": config.models.len(),
        "disabled_upstreams": disabled,
        "quota_store": gateway.quotas.health(),
    });
    json_response(StatusCode::OK, body.to_string())
}

/// `GET /ready`: 200 while any route can serve (listing disabled
/// upstreams); 503 while draining, or when no deployment of any model can
/// take traffic (every breaker open, every upstream in maintenance or
/// unhealthy or disabled).
pub fn ready(gateway: &Gateway) -> Response<ResponseBody> {
    let disabled: Vec<_> = gateway
        .disabled_upstreams()
        .map(|(name, reason)| json!({ "upstream": name, "reason": reason }))
        .collect();
    let (status, word) = match gateway.lifecycle() {
        Lifecycle::Draining => (StatusCode::SERVICE_UNAVAILABLE, "draining"),
        Lifecycle::Ready if gateway.any_route_serves() => (StatusCode::OK, "ready"),
        Lifecycle::Ready => (StatusCode::SERVICE_UNAVAILABLE, "no_route_can_serve"),
    };
    json_response(
        status,
        json!({ "status": word, "disabled_upstreams": disabled }).to_string(),
    )
}

/// `GET /version`: what this binary is (crate version, environment, config
/// digest, git revision, rustc) and the config files it was compiled from.
pub fn version(gateway: &Gateway) -> Response<ResponseBody> {
    let config = gateway.config;
    let build = build_info::get();
    let body = json!({
        "version": build.version,
        "environment": config.environment,
        "config_sha256": config.config_sha256,
        "git_revision": build.git_revision,
        "rustc": build.rustc,
        "sources": config.sources,
    });
    json_response(StatusCode::OK, body.to_string())
}

/// `GET /healthz`: liveness, plain text.
pub fn healthz() -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::full("ok\n"));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// `GET /metrics`: Prometheus text exposition.
pub fn metrics(gateway: &Gateway) -> Response<ResponseBody> {
    let (upstreams, deployments) = gateway.gauges();
    let live = Live {
        upstreams: &upstreams,
        deployments: &deployments,
    };
    let mut text = gateway.metrics.render(&live, gateway.started.elapsed());
    gateway.quotas.render_metrics(&mut text);
    gateway
        .tools
        .mcp
        .render_metrics(gateway.config.tools, &mut text);
    let mut response = Response::new(ResponseBody::full(text));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// An instant as RFC 3339 UTC, whole seconds (`calendar.rs` does the arithmetic).
pub fn rfc3339(time: SystemTime) -> String {
    crate::calendar::rfc3339(time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_392_000 + 3_723)),
            "2026-11-23T01:02:03Z"
        );
    }
}
