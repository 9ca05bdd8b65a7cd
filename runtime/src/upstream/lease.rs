//! One try at one deployment, from its admission to its verdict: counts it
//! in flight, times its first byte and its whole exchange, and settles the
//! breaker once with the try's result (a stream's relay settles when the
//! stream ends). Dropped unsettled (the client left, the future was
//! cancelled), it settles as neutral: nothing counted, a half-open probe
//! slot freed.

use std::sync::atomic::Ordering::Relaxed;

use tokio::time::Instant;

use super::breaker::{Admission, BreakerPhase, Transition, TryResult};
use super::fleet::{DeploymentState, describe};
use super::retry::{Fault, counts_against_breaker};
use crate::observe::metrics::Metrics;
use crate::table::{Balance, Deployment, Model, Upstream};

/// A try in progress at one deployment.
pub struct Lease {
    pub model: &'static Model,
    pub deployment: &'static Deployment,
    pub upstream: &'static Upstream,
    state: &'static DeploymentState,
    metrics: &'static Metrics,
    admission: Admission,
    started: Instant,
    /// When the first byte came; a whole answer is settled at that moment
    /// (it was read whole before), which saves reading the clock again.
    first_byte_at: Option<Instant>,
    settled: bool,
}

impl Lease {
    /// Starts a try the breaker admitted, at `started` (the first try of a
    /// request starts when the request's deadline was set, so the two agree).
    pub fn start(
        (model, deployment, upstream): (&'static Model, &'static Deployment, &'static Upstream),
        state: &'static DeploymentState,
        metrics: &'static Metrics,
        (admission, started): (Admission, Instant),
    ) -> Self {
        state.in_flight.fetch_add(1, Relaxed);
        Self {
            model,
            deployment,
            upstream,
            state,
            metrics,
            admission,
            started,
            first_byte_at: None,
            settled: false,
        }
    }

    /// When the try began.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// The first byte of a successful answer arrived (a whole answer's head,
    /// or a stream's first event): the latency the balancer weighs and the
    /// TTFT histogram. Error answers are not timed: a fast 503 must not make
    /// a failing deployment look attractive.
    pub fn first_byte(&mut self) {
        let now = Instant::now();
        self.first_byte_at = Some(now);
        let elapsed = now - self.started;
        if self.model.balance == Balance::P2cEwma {
            // Only that policy reads the decayed figure, so only it pays for the timestamp.
            self.state.latency.observe_at(elapsed, self.state.ms(now));
        } else {
            self.state.latency.observe(elapsed);
        }
        self.metrics.record_ttft(self.deployment.id, elapsed);
    }

    /// The try's verdict: a success, an upstream fault (only faults that say
    /// something about the upstream move the breaker), or neither.
    pub fn settle(mut self, result: Result<(), Fault>) {
        self.finish(result, None);
    }

    /// [`Lease::settle`] for a whole answer, at the moment its first byte
    /// came (a stream settles when it ends: [`Lease::settle`]).
    pub fn settle_whole(mut self, result: Result<(), Fault>) {
        let at = self.first_byte_at;
        self.finish(result, at);
    }

    /// Settles once; `at`: the settling moment when already known (else the clock is read).
    fn finish(&mut self, result: Result<(), Fault>, at: Option<Instant>) {
        if self.settled {
            return;
        }
        self.settled = true;
        let verdict = match result {
            Ok(()) => TryResult::Success,
            // A client error says nothing about the upstream: not its last error either.
            Err(fault) if counts_against_breaker(fault) => {
                self.state.note_fault(fault);
                TryResult::Fault
            }
            Err(_) => TryResult::Neutral,
        };
        self.settle_as(verdict, result.err(), at);
    }

    fn settle_as(&mut self, verdict: TryResult, fault: Option<Fault>, at: Option<Instant>) {
        let breaker = &self.upstream.breaker;
        let now = at.unwrap_or_else(Instant::now);
        if verdict != TryResult::Neutral {
            self.metrics
                .record_upstream_latency(self.deployment.id, now - self.started);
        }
        let transition = self
            .state
            .breaker
            .record(breaker, now, self.admission, verdict);
        if let Some(transition) = transition {
            let route = (self.model, self.deployment, self.upstream);
            log_transition(self.metrics, route, transition, fault);
        }
    }
}

/// Logs and counts a breaker's change of phase (`fault`: the one that tripped it).
pub fn log_transition(
    metrics: &Metrics,
    (model, deployment, upstream): (&Model, &Deployment, &Upstream),
    transition: Transition,
    fault: Option<Fault>,
) {
    metrics.record_breaker_transition(deployment.id, transition.to as u8);
    let (from, to) = (phase_label(transition.from), phase_label(transition.to));
    let last_error = fault.map(describe).unwrap_or_default();
    tracing::warn!(
        event = "breaker.transition",
        model = model.name,
        upstream = upstream.name,
        upstream_model = deployment.upstream_model,
        from,
        to,
        last_error,
    );
}

/// The phase as `/health/providers` and the logs spell it.
pub fn phase_label(phase: BreakerPhase) -> &'static str {
    match phase {
        BreakerPhase::Closed => "closed",
        BreakerPhase::Open => "open",
        BreakerPhase::HalfOpen => "half_open",
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.settled {
            self.settled = true;
            self.settle_as(TryResult::Neutral, None, None);
        }
        self.state.in_flight.fetch_sub(1, Relaxed);
    }
}
