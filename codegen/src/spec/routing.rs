//! How a public model is served (issue 11): its deployments, how one is
//! chosen, when a request is tried again, and which ingress endpoints serve
//! it, as written in upstreams.yaml `models`.
//!
//! Types and defaults only: ranges and the rules between keys are checked in
//! `check/routing.rs`, `check/retry.rs` and `check/fallbacks.rs`; `lower/`
//! applies the defaults below.

use core::ops::RangeInclusive;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::values::{DurationSpec, RetryOnSpec};

/// Defaults applied by `lower/` when a key is absent (the docs below repeat them).
pub mod defaults {
    use super::{BalanceSpec, EndpointSpec};

    /// A deployment's `weight`.
    pub const WEIGHT: u64 = 1;
    /// A deployment's `priority`.
    pub const PRIORITY: u64 = 0;
    /// `balance`.
    pub const BALANCE: BalanceSpec = BalanceSpec::P2c;
    /// `endpoints`.
    pub const ENDPOINTS: &[EndpointSpec] = &[EndpointSpec::ChatCompletions, EndpointSpec::Messages];
    /// `retry.attempts`.
    pub const ATTEMPTS: u64 = 2;
    /// `retry.on`, as it would be written.
    pub const RETRY_ON: &[&str] = &["connect_error", "timeout", "429", "5xx"];
    /// `retry.backoff`.
    pub const BACKOFF: &str = "250ms";
    /// `retry.backoff_max`.
    pub const BACKOFF_MAX: &str = "5s";
    /// `retry.retry_after_max`.
    pub const RETRY_AFTER_MAX: &str = "30s";
}

/// The values a deployment's `weight` may take.
pub const WEIGHT_RANGE: RangeInclusive<u64> = 0..=1_000_000;
/// The values a deployment's `priority` may take.
pub const PRIORITY_RANGE: RangeInclusive<u64> = 0..=255;
/// The values `retry.attempts` may take.
pub const ATTEMPTS_RANGE: RangeInclusive<u64> = 1..=10;

/// One place a model is served.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeploymentSpec {
    /// Name of an entry under `upstreams`.
    pub upstream: String,
    /// Model name sent to this upstream (defaults to the public name).
    pub model: Option<String>,
    /// Relative share of traffic among the deployments of the same priority, an integer in 0..=1000000 (default 1). Weight 0 takes a deployment out of rotation; at least one deployment of each priority needs a weight above 0.
    #[schemars(extend("default" = defaults::WEIGHT))]
    pub weight: Option<u64>,
    /// 0..=255, 0 first (default 0): a higher number is used only while every deployment of the lower numbers is unavailable (breaker open, unhealthy or in maintenance).
    #[schemars(extend("default" = defaults::PRIORITY))]
    pub priority: Option<u64>,
}

/// How a deployment is chosen among the available ones of one priority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BalanceSpec {
    // Random, proportional to weight. (Plain comments: doc comments on
    // variants would turn the schema's `enum` into a `oneOf`.)
    Weighted,
    // Power of two choices by requests in flight.
    P2c,
    // Power of two choices by latency EWMA x (in flight + 1).
    P2cEwma,
}

/// An ingress endpoint family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndpointSpec {
    // `POST /v1/chat/completions`.
    ChatCompletions,
    // `POST /v1/messages` and `/v1/messages/count_tokens`.
    Messages,
}

/// When and how a request for this model is tried again (at this model, before its `fallbacks`).
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Tries at this model, the first included, an integer in 1..=10 (default 2; 1 = no retry). Each try may go to another deployment.
    #[schemars(extend("default" = defaults::ATTEMPTS))]
    pub attempts: Option<u64>,
    /// What is retried (default `[connect_error, timeout, 429, 5xx]`): `connect_error` (the upstream could not be reached), `timeout` (a try timed out before its first byte), `5xx` (every status 500..=599), or a status: 408, 429 or 500..=599. Client errors (other 4xx) are never retried.
    pub on: Option<Vec<RetryOnSpec>>,
    /// Base of the full-jitter exponential backoff: before retry n the gateway waits a random time in [0, min(`backoff_max`, `backoff` x 2^(n-1))] (default `250ms`).
    #[schemars(extend("default" = defaults::BACKOFF))]
    pub backoff: Option<DurationSpec>,
    /// Cap on one backoff wait (default `5s`).
    #[schemars(extend("default" = defaults::BACKOFF_MAX))]
    pub backoff_max: Option<DurationSpec>,
    /// An upstream `Retry-After` up to this long is waited out before the retry; a longer one moves on at once (default `30s`).
    #[schemars(extend("default" = defaults::RETRY_AFTER_MAX))]
    pub retry_after_max: Option<DurationSpec>,
}
