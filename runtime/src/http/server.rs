//! The listener: accepts TCP connections (`TCP_NODELAY`) up to the
//! connection cap, backs off when `accept()` fails, and drains on
//! SIGTERM/SIGINT.
//!
//! Connection cap: `server.max_connections`, lowered at startup so that every
//! client connection can also hold an upstream connection within the
//! process's file-descriptor limit (`RLIMIT_NOFILE`); a connection over the cap
//! is closed as soon as it is accepted (no task, no buffer) and counted.
//!
//! Shutdown sequence: the signal flips `/ready` to 503; the listener keeps
//! accepting for `shutdown_delay` so load balancers see it; then it stops
//! accepting, asks every connection to close after its in-flight request
//! (HTTP/1 `Connection: close`, HTTP/2 GOAWAY), and waits up to
//! `drain_timeout` for in-flight requests and streams to finish. Streams
//! still open then end with an explicit error event (`drain.rs`) and get
//! [`DRAIN_GRACE`] to flush it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::conn::{self, Builders};
use crate::gateway::{Gateway, Lifecycle};
use crate::observe::metrics::ConnectionEvent;

/// After the drain timeout: time for the streams' final error events to go out.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// File descriptors kept for the listener, logs, upstream DNS and the like.
const RESERVED_FDS: u64 = 64;

/// Serves until a shutdown signal, then drains. Returns when done.
pub async fn serve(gateway: &'static Gateway, listener: TcpListener, address: SocketAddr) {
    let server = &gateway.config.server;
    let builders: &'static Builders = Box::leak(Box::new(Builders::new(server)));
    let open: &'static OpenConnections = Box::leak(Box::default());
    let capacity = capacity(server.max_connections, open_file_limit());
    let (stop_connections, connections_stop) = watch::channel(false);
    gateway.set_lifecycle(Lifecycle::Ready);
    tracing::info!(
        event = "server.listening",
        address = %address,
        max_connections = capacity,
        "listening on {address}"
    );

    let signal = shutdown_signal();
    tokio::pin!(signal);
    let mut accept_until: Option<Instant> = None;
    let mut backoff = Backoff::default();
    let mut refusals = RateLimitedLog::default();
    loop {
        let stop_accepting = async {
            match accept_until {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    backoff.succeeded();
                    if open.count() >= capacity {
                        gateway.metrics.record_connection(ConnectionEvent::RefusedAtCapacity);
                        refusals.note(|suppressed| tracing::warn!(
                            event = "server.connection_refused",
                            max_connections = capacity,
                            suppressed,
                            "connection closed at once: max_connections are open"
                        ));
                        drop(stream);
                        continue;
                    }
                    spawn_connection(gateway, builders, open, stream, connections_stop.clone());
                }
                Err(error) => {
                    gateway.metrics.record_accept_error();
                    let delay = backoff.failed();
                    backoff.log.note(|suppressed| tracing::error!(
                        event = "server.accept_failed",
                        %error,
                        retry_in_ms = delay.as_millis() as u64,
                        suppressed,
                        "accept() failed; backing off"
                    ));
                    tokio::time::sleep(delay).await;
                }
            },
            name = &mut signal, if accept_until.is_none() => {
                gateway.set_lifecycle(Lifecycle::Draining);
                tracing::info!(event = "server.draining", signal = name, shutdown_delay_ms = server.shutdown_delay.as_millis() as u64, "draining: /ready now answers 503");
                accept_until = Some(Instant::now() + server.shutdown_delay);
            }
            () = stop_accepting => break,
        }
    }
    drop(listener);
    drain(gateway, open, &stop_connections).await;
}

fn spawn_connection(
    gateway: &'static Gateway,
    builders: &'static Builders,
    open: &'static OpenConnections,
    stream: TcpStream,
    stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    gateway.metrics.record_connection(ConnectionEvent::Accepted);
    let entered = open.enter();
    tokio::spawn(async move {
        let _entered = entered;
        let _gauge = gateway.metrics.connection_open();
        conn::serve(gateway, builders, stream, stop).await;
    });
}

/// Asks every connection to close, waits `drain_timeout`, then ends open streams explicitly.
async fn drain(gateway: &Gateway, open: &OpenConnections, stop: &watch::Sender<bool>) {
    let server = &gateway.config.server;
    tracing::info!(
        event = "server.stopped_accepting",
        open_connections = open.count()
    );
    let _ = stop.send(true);
    if tokio::time::timeout(server.drain_timeout, open.all_closed())
        .await
        .is_ok()
    {
        tracing::info!(event = "server.drained", "all connections finished");
        return;
    }
    tracing::warn!(
        event = "server.drain_timeout",
        drain_timeout_ms = server.drain_timeout.as_millis() as u64,
        open_connections = open.count(),
        "drain timeout reached; ending open streams with an error event"
    );
    gateway.drain.expire();
    let _ = tokio::time::timeout(DRAIN_GRACE, open.all_closed()).await;
}

/// The effective connection cap: configured, and at most what the file
/// limit allows when each connection may also hold an upstream connection.
fn capacity(configured: u32, open_file_limit: Option<u64>) -> usize {
    let configured = usize::try_from(configured).unwrap_or(usize::MAX);
    let Some(limit) = open_file_limit else {
        return configured;
    };
    let by_files = usize::try_from(limit.saturating_sub(RESERVED_FDS) / 2).unwrap_or(usize::MAX);
    if by_files < configured {
        tracing::info!(
            event = "server.max_connections_lowered",
            configured,
            effective = by_files.max(1),
            open_file_limit = limit,
            "max_connections lowered to fit the open-file limit (each connection may need an upstream one); raise it with `ulimit -n` or LimitNOFILE="
        );
    }
    configured.min(by_files).max(1)
}

/// The soft `RLIMIT_NOFILE`, from `/proc/self/limits` (Linux).
fn open_file_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.get("Max open files".len()..)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Open client connections, and a wake-up when the last one closes.
#[derive(Default)]
struct OpenConnections {
    count: AtomicUsize,
    closed: Notify,
}

impl OpenConnections {
    fn count(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }

    fn enter(&'static self) -> Entered {
        self.count.fetch_add(1, Ordering::AcqRel);
        Entered(self)
    }

    async fn all_closed(&self) {
        loop {
            let closed = self.closed.notified();
            if self.count() == 0 {
                return;
            }
            closed.await;
        }
    }
}

struct Entered(&'static OpenConnections);

impl Drop for Entered {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.closed.notify_waiters();
        }
    }
}

/// Exponential back-off after `accept()` errors (5 ms doubling to 500 ms):
/// out of file descriptors, retrying at once spins a core and starves the
/// connections that could free them.
#[derive(Default)]
struct Backoff {
    failures: u32,
    log: RateLimitedLog,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_millis(500);

    fn failed(&mut self) -> Duration {
        let delay = Self::FIRST
            .saturating_mul(1 << self.failures.min(16))
            .min(Self::MAX);
        self.failures = self.failures.saturating_add(1);
        delay
    }

    fn succeeded(&mut self) {
        self.failures = 0;
    }
}

/// Logs at most once a second, saying how many were suppressed since.
#[derive(Default)]
struct RateLimitedLog {
    last: Option<Instant>,
    suppressed: u64,
}

impl RateLimitedLog {
    fn note(&mut self, log: impl FnOnce(u64)) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < Duration::from_secs(1))
        {
            self.suppressed += 1;
            return;
        }
        log(self.suppressed);
        self.suppressed = 0;
        self.last = Some(now);
    }
}

/// Resolves with the signal's name on SIGTERM or SIGINT.
async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!(
            event = "server.signal_setup_failed",
            "cannot install signal handlers; stop with SIGKILL"
        );
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_fits_the_file_limit() {
        assert_eq!(capacity(10_000, None), 10_000);
        assert_eq!(capacity(10_000, Some(1_048_576)), 10_000);
        assert_eq!(capacity(10_000, Some(256)), 96);
        assert_eq!(capacity(50, Some(256)), 50);
        assert_eq!(capacity(10, Some(10)), 1);
    }

    #[test]
    fn backoff_doubles_to_a_cap_and_resets() {
        let mut backoff = Backoff::default();
        let delays: Vec<_> = (0..10).map(|_| backoff.failed().as_millis()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 320, 500, 500, 500]);
        backoff.succeeded();
        assert_eq!(backoff.failed(), Duration::from_millis(5));
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limited_log_counts_what_it_suppressed() {
        let mut log = RateLimitedLog::default();
        let mut seen = Vec::new();
        for _ in 0..5 {
            log.note(|suppressed| seen.push(suppressed));
            tokio::time::advance(Duration::from_millis(300)).await;
        }
        assert_eq!(seen, [0, 3]);
    }

    #[test]
    fn reads_the_open_file_limit() {
        assert!(open_file_limit().is_some_and(|n| n > 0));
    }
}
