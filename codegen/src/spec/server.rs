//! The `server` section of security.yaml: listener, request limits and drain timings.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::spec::values::{DurationSpec, SizeSpec};

/// Defaults applied by `lower/` when a key is absent (the docs below repeat them).
pub mod defaults {
    /// `listen`.
    pub const LISTEN: &str = "127.0.0.1:8080";
    /// `max_request_body`.
    pub const MAX_REQUEST_BODY: &str = "4MiB";
    /// `header_read_timeout`.
    pub const HEADER_READ_TIMEOUT: &str = "10s";
    /// `body_read_timeout`.
    pub const BODY_READ_TIMEOUT: &str = "30s";
    /// `shutdown_delay`.
    pub const SHUTDOWN_DELAY: &str = "0s";
    /// `drain_timeout`.
    pub const DRAIN_TIMEOUT: &str = "30s";
}

/// Listener and request limits.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// Default listen address `ip:port` (default `127.0.0.1:8080`; port 0 picks a free port).
    pub listen: Option<String>,
    /// Largest request body, e.g. `4MiB`, `64KiB`, `10MB` (default `4MiB`, at most `1GiB`).
    pub max_request_body: Option<SizeSpec>,
    /// How long to wait for a request head (default `10s`).
    pub header_read_timeout: Option<DurationSpec>,
    /// How long to wait for a whole request body (default `30s`).
    pub body_read_timeout: Option<DurationSpec>,
    /// After SIGTERM, how long `/ready` reports 503 before draining (default `0s`).
    pub shutdown_delay: Option<DurationSpec>,
    /// Bound on in-flight requests finishing during shutdown (default `30s`).
    pub drain_timeout: Option<DurationSpec>,
}
