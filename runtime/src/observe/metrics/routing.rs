//! Routing and resilience metrics: per-deployment try latency and time to
//! first byte, breaker transitions, retries, fallbacks, timeouts, failed
//! streams and requests no deployment could take, as dense atomic tables
//! indexed by compiled ids (deployments, models, upstreams); plus the
//! [`Live`] gauges the caller reads from its own state on scrape.
//! Exposition in `routing/render.rs`. Not here: the breaker, balancer and
//! fleet that decide (`upstream/`), the request and upstream-status series (`mod.rs`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::histogram::Histograms;
use super::render::{escape, header};
use super::{Metrics, zeroed};
use crate::table::{Config, DeploymentId, ModelId, UpstreamId};

mod render;

/// Why a request left its model for a fallback model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackReason {
    /// Every try at the model failed or none could be made.
    Exhausted = 0,
    /// An upstream said the prompt is too long for the context window.
    ContextWindow = 1,
}
const FALLBACK_LABELS: [&str; 2] = ["exhausted", "context_window"];

/// Which bound expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    Connect = 0,
    FirstByte = 1,
    Total = 2,
    StreamIdle = 3,
    /// The model's deadline over the whole request.
    Deadline = 4,
}
const TIMEOUT_LABELS: [&str; 5] = ["connect", "first_byte", "total", "stream_idle", "deadline"];

/// Why a streamed answer did not finish normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFailure {
    Truncated = 0,
    UpstreamError = 1,
    IdleTimeout = 2,
    TotalTimeout = 3,
    DrainTimeout = 4,
    ClientGone = 5,
}
const STREAM_FAILURE_LABELS: [&str; 6] = [
    "upstream_stream_truncated",
    "upstream_stream_error",
    "upstream_stream_idle_timeout",
    "upstream_stream_total_timeout",
    "drain_timeout",
    "client_disconnected",
];

/// Breaker states by the `u8` the breaker reports: 0 closed, 1 open, 2 half-open.
const BREAKER_LABELS: [&str; 3] = ["closed", "open", "half_open"];

/// State read on scrape, owned elsewhere: `upstreams[i]` is `UpstreamId(i)`,
/// `deployments[i]` is `DeploymentId(i)`; a missing entry renders no gauge.
#[derive(Clone, Copy, Debug)]
pub struct Live<'a> {
    pub upstreams: &'a [UpstreamGauge],
    pub deployments: &'a [DeploymentGauge],
}

#[derive(Clone, Copy, Debug, Default)]
pub struct UpstreamGauge {
    /// Serves at all (`false`: disabled at startup).
    pub enabled: bool,
    /// In maintenance: takes no new requests.
    pub maintenance: bool,
    /// 1 healthy, 0 unhealthy, -1 unknown or no health checks.
    pub health: i8,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct DeploymentGauge {
    /// Tries in flight at this deployment now.
    pub in_flight: u32,
    /// 0 closed, 1 open, 2 half-open.
    pub breaker: u8,
}

/// The routing tables, each sized once from the compiled config.
pub(super) struct Routing {
    /// `[deployment]` a try's whole exchange.
    request_duration: Histograms,
    /// `[deployment]` time to first byte.
    ttft: Histograms,
    /// `[deployment][to]`.
    breaker_transitions: Box<[AtomicU64]>,
    /// `[model]`.
    retries: Box<[AtomicU64]>,
    /// `[model][FallbackReason]`.
    fallbacks: Box<[AtomicU64]>,
    /// `[upstream][TimeoutKind]`.
    timeouts: Box<[AtomicU64]>,
    /// `[model][StreamFailure]`.
    stream_failures: Box<[AtomicU64]>,
    /// `[model]`.
    no_deployment: Box<[AtomicU64]>,
}

impl Routing {
    pub(super) fn new(config: &Config) -> Self {
        let deployments = usize::from(config.deployment_count);
        let models = config.models.len();
        Self {
            request_duration: Histograms::new(deployments),
            ttft: Histograms::new(deployments),
            breaker_transitions: zeroed(deployments * BREAKER_LABELS.len()),
            retries: zeroed(models),
            fallbacks: zeroed(models * FALLBACK_LABELS.len()),
            timeouts: zeroed(config.upstreams.len() * TIMEOUT_LABELS.len()),
            stream_failures: zeroed(models * STREAM_FAILURE_LABELS.len()),
            no_deployment: zeroed(models),
        }
    }
}

fn bump(table: &[AtomicU64], index: usize) {
    if let Some(counter) = table.get(index) {
        counter.fetch_add(1, Relaxed);
    }
}

impl Metrics {
    /// Time to first byte of a try: a whole answer's head, a stream's first event.
    pub fn record_ttft(&self, deployment: DeploymentId, elapsed: Duration) {
        self.routing.ttft.record(usize::from(deployment.0), elapsed);
    }

    /// A try's whole exchange (a stream to its end).
    pub fn record_upstream_latency(&self, deployment: DeploymentId, elapsed: Duration) {
        self.routing
            .request_duration
            .record(usize::from(deployment.0), elapsed);
    }

    /// A breaker entered state `to` (0 closed, 1 open, 2 half-open; others are ignored).
    pub fn record_breaker_transition(&self, deployment: DeploymentId, to: u8) {
        let to = usize::from(to);
        if to < BREAKER_LABELS.len() {
            let row = usize::from(deployment.0) * BREAKER_LABELS.len();
            bump(&self.routing.breaker_transitions, row + to);
        }
    }

    /// A retry at the same model.
    pub fn record_retry(&self, model: ModelId) {
        bump(&self.routing.retries, usize::from(model.0));
    }

    /// A request moved from model `from` to a fallback.
    pub fn record_fallback(&self, from: ModelId, reason: FallbackReason) {
        let index = usize::from(from.0) * FALLBACK_LABELS.len() + reason as usize;
        bump(&self.routing.fallbacks, index);
    }

    pub fn record_timeout(&self, upstream: UpstreamId, kind: TimeoutKind) {
        let index = usize::from(upstream.0) * TIMEOUT_LABELS.len() + kind as usize;
        bump(&self.routing.timeouts, index);
    }

    pub fn record_stream_failure(&self, model: ModelId, reason: StreamFailure) {
        let index = usize::from(model.0) * STREAM_FAILURE_LABELS.len() + reason as usize;
        bump(&self.routing.stream_failures, index);
    }

    /// Every deployment of the model (and of its fallbacks) was unavailable.
    pub fn record_no_deployment(&self, model: ModelId) {
        bump(&self.routing.no_deployment, usize::from(model.0));
    }
}
