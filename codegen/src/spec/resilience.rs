//! How the gateway notices a failing upstream (issue 11): the circuit
//! breaker every deployment on an upstream gets, and active health checks,
//! as written under an upstream in upstreams.yaml.
//!
//! Types and defaults only: `check/resilience.rs` rejects a breaker that
//! could never or would always trip and a malformed health check; `lower/`
//! applies the defaults below.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::spec::values::DurationSpec;

/// Defaults applied by `lower/` when a key is absent (the docs below repeat them).
pub mod defaults {
    /// `breaker.enabled`.
    pub const ENABLED: bool = true;
    /// `breaker.consecutive_failures`.
    pub const CONSECUTIVE_FAILURES: u32 = 5;
    /// `breaker.error_ratio`.
    pub const ERROR_RATIO: f64 = 0.5;
    /// `breaker.window`.
    pub const WINDOW: &str = "60s";
    /// `breaker.min_requests`.
    pub const MIN_REQUESTS: u32 = 20;
    /// `breaker.open_for`.
    pub const OPEN_FOR: &str = "30s";
    /// `breaker.half_open_probes`.
    pub const HALF_OPEN_PROBES: u32 = 1;
    /// `health_check.interval`.
    pub const INTERVAL: &str = "10s";
    /// `health_check.timeout`.
    pub const CHECK_TIMEOUT: &str = "2s";
    /// `health_check.healthy_threshold`.
    pub const HEALTHY_THRESHOLD: u32 = 2;
    /// `health_check.unhealthy_threshold`.
    pub const UNHEALTHY_THRESHOLD: u32 = 3;
}

/// Circuit breaker settings for this upstream; each deployment on it keeps its own state. It opens on `consecutive_failures` upstream faults in a row, or on an `error_ratio` of faults over the last `window` once `min_requests` were seen there; stays open for `open_for`, then admits `half_open_probes` requests: all succeed -> closed, any fails -> open again. Only upstream faults count (connect errors, timeouts, 429, 5xx, cut streams), never client errors. From other gateways: `APP_CIRCUIT_BREAKER__FAILURE_THRESHOLD` is `consecutive_failures` and `APP_CIRCUIT_BREAKER__TIMEOUT_SECS` is `open_for` (as a duration: `30` -> `30s`); `circuitBreaker.threshold` is `consecutive_failures`, `circuitBreaker.timeout` is `open_for` and `circuitBreaker.halfOpenRequests` is `half_open_probes`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    /// `false` turns the breaker off: the upstream is never skipped for its faults (default true).
    #[schemars(extend("default" = defaults::ENABLED))]
    pub enabled: Option<bool>,
    /// Upstream faults in a row that open the breaker; 0 turns this trigger off (default 5). `APP_CIRCUIT_BREAKER__FAILURE_THRESHOLD` or `circuitBreaker.threshold` elsewhere.
    #[schemars(extend("default" = defaults::CONSECUTIVE_FAILURES))]
    pub consecutive_failures: Option<u32>,
    /// Fraction of requests over `window` that failed upstream at which the breaker opens, a number in 0..=1 such as 0.25 (default 0.5); 0 turns this trigger off. Kept to the nearest per mille.
    #[schemars(extend("default" = defaults::ERROR_RATIO))]
    pub error_ratio: Option<f64>,
    /// The sliding window `error_ratio` is judged over (default `60s`).
    #[schemars(extend("default" = defaults::WINDOW))]
    pub window: Option<DurationSpec>,
    /// Requests seen in `window` before `error_ratio` is judged (default 20).
    #[schemars(extend("default" = defaults::MIN_REQUESTS))]
    pub min_requests: Option<u32>,
    /// How long the breaker stays open before admitting probes (default `30s`). `APP_CIRCUIT_BREAKER__TIMEOUT_SECS` or `circuitBreaker.timeout` elsewhere.
    #[schemars(extend("default" = defaults::OPEN_FOR))]
    pub open_for: Option<DurationSpec>,
    /// Requests admitted while half-open, at least 1 (default 1). `circuitBreaker.halfOpenRequests` elsewhere.
    #[schemars(extend("default" = defaults::HALF_OPEN_PROBES))]
    pub half_open_probes: Option<u32>,
}

/// Active health checking: the gateway probes the upstream every `interval` and skips it while unhealthy. Set exactly one of `path` or `model`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckSpec {
    /// Time between two checks (default `10s`).
    #[schemars(extend("default" = defaults::INTERVAL))]
    pub interval: Option<DurationSpec>,
    /// Bound on one check, at most `interval` (default `2s`).
    #[schemars(extend("default" = defaults::CHECK_TIMEOUT))]
    pub timeout: Option<DurationSpec>,
    /// Check with `GET <base_url><path>`, e.g. `/models`; any 2xx passes. Starts with `/`.
    pub path: Option<String>,
    /// Check with a minimal generation (one token) for this upstream model name, in the upstream's own wire format; a 2xx passes.
    pub model: Option<String>,
    /// Checks passed in a row that mark an unhealthy upstream healthy again (default 2).
    #[schemars(extend("default" = defaults::HEALTHY_THRESHOLD))]
    pub healthy_threshold: Option<u32>,
    /// Checks failed in a row that mark a healthy upstream unhealthy (default 3).
    #[schemars(extend("default" = defaults::UNHEALTHY_THRESHOLD))]
    pub unhealthy_threshold: Option<u32>,
}
