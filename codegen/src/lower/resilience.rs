//! Lowering an upstream's `breaker` and `health_check`: defaults applied
//! (constants in `spec/resilience.rs`), durations in milliseconds, the
//! error ratio as per mille, the probe as a `GET` path or a model.

use crate::diag::FileKind::Upstreams as F;
use crate::diag::ptr;
use crate::ir::{Breaker, HealthCheck, HealthProbe};
use crate::lower::Cx;
use crate::parse;
use crate::spec::resilience::defaults as d;
use crate::spec::{BreakerSpec, HealthCheckSpec};

/// The breaker of upstream `name`.
pub(crate) fn breaker(name: &str, b: &BreakerSpec, cx: &mut Cx<'_>) -> Option<Breaker> {
    let at = |key: &str| ptr(&["upstreams", name, "breaker", key]);
    let window_ms = cx.value_or(F, &at("window"), b.window.as_ref(), d::WINDOW);
    let open_for_ms = cx.value_or(F, &at("open_for"), b.open_for.as_ref(), d::OPEN_FOR);
    let ratio = b.error_ratio.unwrap_or(d::ERROR_RATIO);
    let permille = parse::permille(ratio)
        .map_err(|_| cx.internal(F, &at("error_ratio")))
        .ok();
    Some(Breaker {
        enabled: b.enabled.unwrap_or(d::ENABLED),
        consecutive_failures: b.consecutive_failures.unwrap_or(d::CONSECUTIVE_FAILURES),
        error_ratio_permille: permille?,
        window_ms: window_ms?,
        min_requests: b.min_requests.unwrap_or(d::MIN_REQUESTS),
        open_for_ms: open_for_ms?,
        half_open_probes: b.half_open_probes.unwrap_or(d::HALF_OPEN_PROBES),
    })
}

/// The health check of upstream `name` (`Some(None)` when it has none).
pub(crate) fn health_check(
    name: &str,
    h: Option<&HealthCheckSpec>,
    cx: &mut Cx<'_>,
) -> Option<Option<HealthCheck>> {
    let Some(h) = h else {
        return Some(None);
    };
    let at = |key: &str| ptr(&["upstreams", name, "health_check", key]);
    let interval_ms = cx.value_or(F, &at("interval"), h.interval.as_ref(), d::INTERVAL);
    let timeout_ms = cx.value_or(F, &at("timeout"), h.timeout.as_ref(), d::CHECK_TIMEOUT);
    let probe = match (&h.path, &h.model) {
        (Some(path), None) => HealthProbe::Get(path.clone()),
        (None, Some(model)) => HealthProbe::Minimal(model.clone()),
        _ => {
            cx.internal(F, &ptr(&["upstreams", name, "health_check"]));
            return None;
        }
    };
    Some(Some(HealthCheck {
        interval_ms: interval_ms?,
        timeout_ms: timeout_ms?,
        probe,
        healthy_threshold: h.healthy_threshold.unwrap_or(d::HEALTHY_THRESHOLD),
        unhealthy_threshold: h.unhealthy_threshold.unwrap_or(d::UNHEALTHY_THRESHOLD),
    }))
}
