//! The run-time state of every upstream and deployment, built once at
//! startup beside the compiled tables and indexed by their dense ids:
//! per deployment its requests in flight, latency EWMA, circuit breaker and
//! last error; per upstream its maintenance flag and active-health verdict.
//! All atomics (README invariant 8): the request path reads and bumps them,
//! the health checker and the admin endpoints write the upstream flags, and
//! `/health/providers` and `/metrics` read a snapshot.
//!
//! Not here: choosing among deployments (`balance.rs`), the breaker's rules
//! (`breaker.rs`), one try's bookkeeping (`lease.rs`).

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use super::breaker::BreakerState;
use super::ewma::Ewma;
use super::retry::Fault;
use crate::table::{Config, Deployment, DeploymentId, UpstreamId};

/// Per-deployment and per-upstream state, parallel to the compiled tables.
pub struct Fleet {
    /// `DeploymentId(i)` is `deployments[i]`.
    deployments: Box<[DeploymentState]>,
    /// `UpstreamId(i)` is `upstreams[i]`.
    upstreams: Box<[UpstreamState]>,
}

/// One deployment's live state.
pub struct DeploymentState {
    pub in_flight: AtomicU32,
    /// Time to first byte (a whole answer's head, a stream's first event).
    pub latency: Ewma,
    pub breaker: BreakerState,
    last_error: LastError,
    /// The fleet's start, for millisecond timestamps ([`DeploymentState::ms`]).
    epoch: Instant,
}

/// One upstream's live state.
pub struct UpstreamState {
    maintenance: AtomicBool,
    /// [`Health`] as a byte; written only by the upstream's health checker.
    health: AtomicU8,
    /// Checks passed in a row, and failed in a row (one of them is 0).
    passes: AtomicU32,
    failures: AtomicU32,
    last_check: LastError,
    last_checked_ms: AtomicU64,
}

/// An upstream's active-health verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// No checks configured, or none finished yet: treated as healthy.
    Unknown = 0,
    Healthy = 1,
    Unhealthy = 2,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
        }
    }
}

/// The last fault seen and when (Unix milliseconds), packed in two atomics.
#[derive(Default)]
struct LastError {
    /// 0: none; else `kind << 16 | status`.
    fault: AtomicU64,
    at_ms: AtomicU64,
}

impl LastError {
    fn set(&self, fault: Fault) {
        let packed = match fault {
            Fault::Connect => 1 << 16,
            Fault::Timeout => 2 << 16,
            Fault::StreamCut => 3 << 16,
            Fault::Status(status) => 4 << 16 | u64::from(status),
        };
        self.fault.store(packed, Relaxed);
        self.at_ms.store(unix_ms(), Relaxed);
    }

    fn get(&self) -> Option<(Fault, u64)> {
        let packed = self.fault.load(Relaxed);
        let fault = match packed >> 16 {
            1 => Fault::Connect,
            2 => Fault::Timeout,
            3 => Fault::StreamCut,
            4 => Fault::Status(u16::try_from(packed & 0xffff).unwrap_or(0)),
            _ => return None,
        };
        Some((fault, self.at_ms.load(Relaxed)))
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Words for a fault in `/health/providers` and logs.
pub fn describe(fault: Fault) -> String {
    match fault {
        Fault::Connect => "connect error".to_owned(),
        Fault::Timeout => "timeout".to_owned(),
        Fault::StreamCut => "stream cut before its first event".to_owned(),
        Fault::Status(status) => format!("status {status}"),
    }
}

impl Fleet {
    pub fn new(config: &'static Config) -> Self {
        let epoch = Instant::now();
        let deployments = (0..config.deployment_count)
            .map(|_| DeploymentState {
                in_flight: AtomicU32::new(0),
                latency: Ewma::default(),
                breaker: BreakerState::new(epoch),
                last_error: LastError::default(),
                epoch,
            })
            .collect();
        let upstreams = config
            .upstreams
            .iter()
            .map(|_| UpstreamState {
                maintenance: AtomicBool::new(false),
                health: AtomicU8::new(Health::Unknown as u8),
                passes: AtomicU32::new(0),
                failures: AtomicU32::new(0),
                last_check: LastError::default(),
                last_checked_ms: AtomicU64::new(0),
            })
            .collect();
        Self {
            deployments,
            upstreams,
        }
    }

    pub fn deployment(&self, id: DeploymentId) -> Option<&DeploymentState> {
        self.deployments.get(usize::from(id.0))
    }

    pub fn upstream(&self, id: UpstreamId) -> Option<&UpstreamState> {
        self.upstreams.get(usize::from(id.0))
    }

    /// Whether new traffic may go to `deployment` now: its upstream not in
    /// maintenance nor unhealthy, and its breaker would admit a try (closed,
    /// open long enough to probe, or half-open with a probe slot free).
    pub fn available(
        &self,
        deployment: &Deployment,
        breaker: &crate::table::Breaker,
        now: Instant,
    ) -> bool {
        let upstream_ok = self
            .upstream(deployment.upstream)
            .is_some_and(UpstreamState::takes_traffic);
        upstream_ok
            && self
                .deployment(deployment.id)
                .is_some_and(|d| d.breaker.would_admit(breaker, now))
    }
}

impl DeploymentState {
    /// `now` in milliseconds since the fleet started (for the EWMA's decay).
    pub fn ms(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.epoch);
        since
            .as_secs()
            .saturating_mul(1000)
            .saturating_add(u64::from(since.subsec_millis()))
    }

    pub fn note_fault(&self, fault: Fault) {
        self.last_error.set(fault);
    }

    /// The last fault and its Unix time in ms.
    pub fn last_fault(&self) -> Option<(Fault, u64)> {
        self.last_error.get()
    }
}

impl UpstreamState {
    /// Not in maintenance and not failing its health checks.
    pub fn takes_traffic(&self) -> bool {
        !self.in_maintenance() && self.health() != Health::Unhealthy
    }

    pub fn in_maintenance(&self) -> bool {
        self.maintenance.load(Relaxed)
    }

    /// Sets maintenance; returns the previous value.
    pub fn set_maintenance(&self, on: bool) -> bool {
        self.maintenance.swap(on, Relaxed)
    }

    pub fn health(&self) -> Health {
        match self.health.load(Relaxed) {
            1 => Health::Healthy,
            2 => Health::Unhealthy,
            _ => Health::Unknown,
        }
    }

    /// One finished health check; returns the new verdict when it changed.
    /// `healthy_after` passes in a row mark an unhealthy upstream healthy,
    /// `unhealthy_after` failures in a row mark it unhealthy; the first pass
    /// ends `Unknown` at once.
    pub fn record_check(
        &self,
        failure: Option<Fault>,
        healthy_after: u32,
        unhealthy_after: u32,
    ) -> Option<Health> {
        self.last_checked_ms.store(unix_ms(), Relaxed);
        let (same, other) = match failure {
            None => (&self.passes, &self.failures),
            Some(fault) => {
                self.last_check.set(fault);
                (&self.failures, &self.passes)
            }
        };
        other.store(0, Relaxed);
        let run = same.fetch_add(1, Relaxed).saturating_add(1);
        let next = match (self.health(), failure.is_none()) {
            (Health::Unknown, true) => Health::Healthy,
            (Health::Unhealthy, true) if run >= healthy_after => Health::Healthy,
            (Health::Unknown | Health::Healthy, false) if run >= unhealthy_after => {
                Health::Unhealthy
            }
            _ => return None,
        };
        self.health.store(next as u8, Relaxed);
        Some(next)
    }

    /// The last failed check and its Unix time in ms.
    pub fn last_check_fault(&self) -> Option<(Fault, u64)> {
        self.last_check.get()
    }

    /// Unix ms of the last finished check (0: none yet).
    pub fn last_checked_ms(&self) -> u64 {
        self.last_checked_ms.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> UpstreamState {
        UpstreamState {
            maintenance: AtomicBool::new(false),
            health: AtomicU8::new(0),
            passes: AtomicU32::new(0),
            failures: AtomicU32::new(0),
            last_check: LastError::default(),
            last_checked_ms: AtomicU64::new(0),
        }
    }

    #[test]
    fn health_flips_only_after_its_thresholds() {
        let up = state();
        assert_eq!(up.record_check(None, 2, 3), Some(Health::Healthy));
        assert_eq!(up.record_check(Some(Fault::Connect), 2, 3), None);
        assert_eq!(up.record_check(Some(Fault::Connect), 2, 3), None);
        assert_eq!(
            up.record_check(Some(Fault::Status(503)), 2, 3),
            Some(Health::Unhealthy)
        );
        assert!(!up.takes_traffic());
        assert_eq!(up.record_check(None, 2, 3), None);
        assert_eq!(up.record_check(None, 2, 3), Some(Health::Healthy));
        assert!(up.takes_traffic());
        assert!(matches!(
            up.last_check_fault(),
            Some((Fault::Status(503), _))
        ));
    }

    #[test]
    fn a_passing_check_resets_the_failure_streak() {
        let up = state();
        up.record_check(None, 1, 2);
        assert_eq!(up.record_check(Some(Fault::Timeout), 1, 2), None);
        assert_eq!(up.record_check(None, 1, 2), None);
        assert_eq!(up.record_check(Some(Fault::Timeout), 1, 2), None);
        assert_eq!(
            up.record_check(Some(Fault::Timeout), 1, 2),
            Some(Health::Unhealthy)
        );
        assert_eq!(up.record_check(None, 1, 2), Some(Health::Healthy));
    }

    #[test]
    fn first_failures_count_from_healthy() {
        let up = state();
        assert_eq!(up.record_check(Some(Fault::Connect), 1, 2), None);
        assert_eq!(
            up.record_check(Some(Fault::Connect), 1, 2),
            Some(Health::Unhealthy)
        );
        let strict = state();
        assert_eq!(
            strict.record_check(Some(Fault::Connect), 1, 1),
            Some(Health::Unhealthy)
        );
    }

    #[test]
    fn maintenance_stops_traffic() {
        let up = state();
        assert!(up.takes_traffic());
        assert!(!up.set_maintenance(true));
        assert!(!up.takes_traffic());
        assert!(up.set_maintenance(false));
        assert!(up.takes_traffic());
    }
}
