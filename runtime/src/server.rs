//! The listener: accepts TCP connections (`TCP_NODELAY`), serves HTTP/1.1
//! and h2c on each, and drains on SIGTERM/SIGINT.
//!
//! Shutdown sequence: the signal flips `/ready` to 503; the listener keeps
//! accepting for `shutdown_delay` so load balancers see it; then it stops
//! accepting, asks every connection to close after its in-flight request
//! (HTTP/1 `Connection: close`, HTTP/2 GOAWAY), and waits up to
//! `drain_timeout` for in-flight requests and streams to finish.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::auth::ConnectionAuth;
use crate::gateway::{Gateway, Lifecycle};

/// Largest request head (request line + headers) accepted; larger gets 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Serves until a shutdown signal, then drains. Returns when done.
pub async fn serve(gateway: &'static Gateway, listener: TcpListener, address: SocketAddr) {
    let server = &gateway.config.server;
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(server.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    gateway.set_lifecycle(Lifecycle::Ready);
    tracing::info!(event = "server.listening", address = %address, "listening on {address}");

    let signal = shutdown_signal();
    tokio::pin!(signal);
    let mut accept_until: Option<tokio::time::Instant> = None;
    loop {
        let stop_accepting = async {
            match accept_until {
                Some(deadline) => tokio::time::sleep_until(deadline).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let connection_auth = Arc::new(ConnectionAuth::default());
                let service = service_fn(move |request| {
                    crate::service::handle(gateway, Arc::clone(&connection_auth), request)
                });
                let connection = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                let watched = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = watched.await;
                });
            }
            name = &mut signal, if accept_until.is_none() => {
                gateway.set_lifecycle(Lifecycle::Draining);
                tracing::info!(event = "server.draining", signal = name, shutdown_delay_ms = server.shutdown_delay.as_millis() as u64, "draining: /ready now answers 503");
                accept_until = Some(tokio::time::Instant::now() + server.shutdown_delay);
            }
            () = stop_accepting => break,
        }
    }
    drop(listener);
    let open = graceful.count();
    tracing::info!(event = "server.stopped_accepting", open_connections = open);
    match tokio::time::timeout(server.drain_timeout, graceful.shutdown()).await {
        Ok(()) => tracing::info!(event = "server.drained", "all connections finished"),
        Err(_) => tracing::warn!(
            event = "server.drain_timeout",
            drain_timeout_ms = server.drain_timeout.as_millis() as u64,
            "drain timeout reached; closing remaining connections"
        ),
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
