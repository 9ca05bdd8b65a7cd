//! A half-closed HTTP/1.1 client, told apart from one that left.
//!
//! HTTP/1.1 lets a client shut down its sending side once its request is
//! complete and still read the answer; a client that closes its socket
//! entirely looks the same from here (an end of input). So while a request
//! is being answered, the end of input is held back from the HTTP library
//! (which would otherwise drop the request) and, if no answer has started,
//! the client is sent a `100 Continue` interim answer, which every HTTP/1.1
//! client must accept and skip (RFC 9110 §15.2). A client that only
//! half-closed reads it and later gets its answer; the kernel of one that
//! left answers it with a reset, which the next check turns into an error:
//! the request is dropped (its upstream call cancelled) and logged as 499.
//! HTTP/1.0 clients get no probe (1xx is not allowed for them): they are answered.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Sleep;

use super::conn_state::Probe;

/// The interim answer used as a probe.
pub const PROBE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// After the end of input, before probing: lets the library flush anything it buffered.
const PROBE_DELAY: Duration = Duration::from_millis(10);

/// Checks for a reset after the probe (a round trip, then a few more).
const CHECKS: [Duration; 4] = [
    Duration::from_millis(50),
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(5),
];

/// What the socket wrapper should do now.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    SendProbe,
    Check,
}

/// State of a held end of input.
#[derive(Default)]
pub struct HeldEof {
    held: bool,
    probed: bool,
    checks_done: usize,
    timer: Option<Pin<Box<Sleep>>>,
}

impl HeldEof {
    pub fn is_held(&self) -> bool {
        self.held
    }

    pub fn hold(&mut self) {
        self.held = true;
        self.timer = Some(Box::pin(tokio::time::sleep(PROBE_DELAY)));
    }

    /// The next step when its timer fires; pending for good once there is none
    /// (the library reads again when the answer is out, and then sees the end).
    pub fn poll(&mut self, cx: &mut Context<'_>, probe: Probe) -> Poll<Step> {
        let Some(timer) = self.timer.as_mut() else {
            return Poll::Pending;
        };
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.timer = None;
        match (self.probed, probe) {
            (true, _) => Poll::Ready(Step::Check),
            (false, Probe::Allowed) => Poll::Ready(Step::SendProbe),
            // The request body is still being read: look again shortly.
            (false, Probe::NotYet) => {
                self.arm(cx, Some(PROBE_DELAY));
                Poll::Pending
            }
            // An answer has started (its writes fail if the client left) or HTTP/1.0.
            (false, Probe::Never) => Poll::Pending,
        }
    }

    pub fn probe_sent(&mut self, cx: &mut Context<'_>) {
        self.probed = true;
        self.arm(cx, CHECKS.first().copied());
    }

    pub fn checked(&mut self, cx: &mut Context<'_>) {
        self.checks_done += 1;
        self.arm(cx, CHECKS.get(self.checks_done).copied());
    }

    fn arm(&mut self, cx: &mut Context<'_>, delay: Option<Duration>) {
        self.timer = delay.map(|d| Box::pin(tokio::time::sleep(d)));
        if let Some(timer) = self.timer.as_mut() {
            // Registers the waker.
            let _ = timer.as_mut().poll(cx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn step(eof: &mut HeldEof, allowed: bool) -> Option<Step> {
        let probe = if allowed {
            Probe::Allowed
        } else {
            Probe::Never
        };
        let waited = tokio::time::timeout(
            Duration::from_secs(60),
            std::future::poll_fn(|cx| eof.poll(cx, probe)),
        );
        waited.await.ok()
    }

    #[tokio::test(start_paused = true)]
    async fn probes_once_then_checks_a_bounded_number_of_times() {
        let mut eof = HeldEof::default();
        eof.hold();
        assert_eq!(step(&mut eof, true).await, Some(Step::SendProbe));
        std::future::poll_fn(|cx| {
            eof.probe_sent(cx);
            Poll::Ready(())
        })
        .await;
        for _ in 0..CHECKS.len() {
            assert_eq!(step(&mut eof, true).await, Some(Step::Check));
            std::future::poll_fn(|cx| {
                eof.checked(cx);
                Poll::Ready(())
            })
            .await;
        }
        assert_eq!(step(&mut eof, true).await, None, "no more checks");
    }

    #[tokio::test(start_paused = true)]
    async fn no_probe_once_an_answer_started() {
        let mut eof = HeldEof::default();
        eof.hold();
        assert_eq!(step(&mut eof, false).await, None);
    }
}
