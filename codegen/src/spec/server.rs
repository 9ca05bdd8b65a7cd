//! The `server` section of security.yaml: listener, connection and request
//! limits, client timeouts, drain timings and the maintenance file.

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
    /// `max_connections`.
    pub const MAX_CONNECTIONS: u32 = 10_000;
    /// `first_byte_timeout`.
    pub const FIRST_BYTE_TIMEOUT: &str = "10s";
    /// `idle_timeout`.
    pub const IDLE_TIMEOUT: &str = "60s";
    /// `h2_keepalive_interval`.
    pub const H2_KEEPALIVE_INTERVAL: &str = "20s";
    /// `h2_keepalive_timeout`.
    pub const H2_KEEPALIVE_TIMEOUT: &str = "10s";
    /// `max_header_bytes`.
    pub const MAX_HEADER_BYTES: &str = "64KiB";
}

/// Listener and request limits.
#[derive(Clone, Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// Default listen address `ip:port` (default `127.0.0.1:8080`; port 0 picks a free port).
    #[schemars(extend("default" = defaults::LISTEN))]
    pub listen: Option<String>,
    /// Largest request body, e.g. `4MiB`, `64KiB`, `10MB` (default `4MiB`, at most `1GiB`).
    #[schemars(extend("default" = defaults::MAX_REQUEST_BODY))]
    pub max_request_body: Option<SizeSpec>,
    /// How long to wait for a request head (default `10s`).
    #[schemars(extend("default" = defaults::HEADER_READ_TIMEOUT))]
    pub header_read_timeout: Option<DurationSpec>,
    /// How long to wait for a whole request body (default `30s`).
    #[schemars(extend("default" = defaults::BODY_READ_TIMEOUT))]
    pub body_read_timeout: Option<DurationSpec>,
    /// After SIGTERM, how long `/ready` reports 503 before draining (default `0s`).
    #[schemars(extend("default" = defaults::SHUTDOWN_DELAY))]
    pub shutdown_delay: Option<DurationSpec>,
    /// Bound on in-flight requests finishing during shutdown (default `30s`).
    #[schemars(extend("default" = defaults::DRAIN_TIMEOUT))]
    pub drain_timeout: Option<DurationSpec>,
    /// Most client connections open at once; one more is closed as soon as it is accepted (default 10000; lowered at startup to fit the open-file limit).
    #[schemars(extend("default" = defaults::MAX_CONNECTIONS))]
    pub max_connections: Option<u32>,
    /// From accepting a connection to its first request byte (and the end of the HTTP/2 preface); a silent connection is closed (default `10s`).
    #[schemars(extend("default" = defaults::FIRST_BYTE_TIMEOUT))]
    pub first_byte_timeout: Option<DurationSpec>,
    /// An HTTP/2 connection with no request in progress for this long gets `GOAWAY` and is closed (default `60s`; idle HTTP/1 connections follow `header_read_timeout`).
    #[schemars(extend("default" = defaults::IDLE_TIMEOUT))]
    pub idle_timeout: Option<DurationSpec>,
    /// HTTP/2 keep-alive: send a `PING` after this much silence from the client (default `20s`).
    #[schemars(extend("default" = defaults::H2_KEEPALIVE_INTERVAL))]
    pub h2_keepalive_interval: Option<DurationSpec>,
    /// HTTP/2 keep-alive: close the connection when a `PING` is not answered within this (default `10s`).
    #[schemars(extend("default" = defaults::H2_KEEPALIVE_TIMEOUT))]
    pub h2_keepalive_timeout: Option<DurationSpec>,
    /// Largest request head (request line and headers), e.g. `64KiB`, `16KiB`; a larger head gets 431 (default `64KiB`, at most `1MiB`).
    #[schemars(extend("default" = defaults::MAX_HEADER_BYTES))]
    pub max_header_bytes: Option<SizeSpec>,
    /// Absolute path of the file listing upstreams in maintenance, one name per line: read at startup and on `POST /upstreams/refresh`, rewritten by the maintenance endpoints, so the state survives a restart. An upstream in maintenance gets no traffic. Absent: maintenance state lives in memory only.
    pub maintenance_file: Option<String>,
}

impl ServerSpec {
    /// Every duration key with its value (if written) and its default, in declaration order.
    pub fn durations(&self) -> [(&'static str, Option<&DurationSpec>, &'static str); 8] {
        use defaults as d;
        [
            (
                "header_read_timeout",
                self.header_read_timeout.as_ref(),
                d::HEADER_READ_TIMEOUT,
            ),
            (
                "body_read_timeout",
                self.body_read_timeout.as_ref(),
                d::BODY_READ_TIMEOUT,
            ),
            (
                "shutdown_delay",
                self.shutdown_delay.as_ref(),
                d::SHUTDOWN_DELAY,
            ),
            (
                "drain_timeout",
                self.drain_timeout.as_ref(),
                d::DRAIN_TIMEOUT,
            ),
            (
                "first_byte_timeout",
                self.first_byte_timeout.as_ref(),
                d::FIRST_BYTE_TIMEOUT,
            ),
            ("idle_timeout", self.idle_timeout.as_ref(), d::IDLE_TIMEOUT),
            (
                "h2_keepalive_interval",
                self.h2_keepalive_interval.as_ref(),
                d::H2_KEEPALIVE_INTERVAL,
            ),
            (
                "h2_keepalive_timeout",
                self.h2_keepalive_timeout.as_ref(),
                d::H2_KEEPALIVE_TIMEOUT,
            ),
        ]
    }
}
