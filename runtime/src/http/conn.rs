//! One client connection, from accept to close: the protocol is detected
//! within `first_byte_timeout` (a connection that sends nothing, or stops
//! inside the HTTP/2 preface, is closed), then HTTP/1.1 or h2c is served by
//! hyper on the wrapped socket ([`ConnIo`]). HTTP/2 connections get keep-alive
//! pings and are closed after `idle_timeout` without a request; every
//! connection closes gracefully (after its in-flight answers) on shutdown.
//!
//! Not here: accepting and the connection cap (`server.rs`), requests (`router.rs`).

use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response, Version};
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::conn_state::{ConnState, Tracked};
use super::io::{ConnIo, PREFACE_LEN};
use crate::gateway::Gateway;
use crate::observe::metrics::{ConnectionEvent, Route};
use crate::table::Server;

const H2_PREFACE: &[u8; PREFACE_LEN] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// After an idle HTTP/2 connection's GOAWAY: how long before it is dropped.
const IDLE_CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// The protocol builders, configured once from the compiled `server` settings.
pub struct Builders {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
}

impl Builders {
    pub fn new(server: &Server) -> Self {
        let head_limit = usize::try_from(server.max_header_bytes).unwrap_or(usize::MAX);
        let mut http1 = http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(server.header_read_timeout)
            // The library's read buffer bounds the head: larger gets its 431,
            // which the socket wrapper turns into JSON. Its minimum is 8 KiB.
            .max_buf_size(head_limit.max(8192));
        let mut http2 = http2::Builder::new(TokioExecutor::new());
        http2
            .timer(TokioTimer::new())
            .keep_alive_interval(server.h2_keepalive_interval)
            .keep_alive_timeout(server.h2_keepalive_timeout)
            // Twice the limit: heads between the two get the gateway's JSON 431
            // (`router.rs`), only larger ones the protocol's own refusal.
            .max_header_list_size(u32::try_from(head_limit.saturating_mul(2)).unwrap_or(u32::MAX));
        Self { http1, http2 }
    }
}

/// Runs a hyper connection until it ends; on shutdown or idleness it is asked
/// to close gracefully and then run to its end. Evaluates to "closed for idleness".
macro_rules! drive {
    ($connection:expr, $shutdown:expr, $idle:expr) => {{
        let connection = $connection;
        let mut shutdown = $shutdown;
        let idle = $idle;
        tokio::pin!(connection, idle);
        let closing = tokio::select! {
            _ = connection.as_mut() => None,
            _ = shutdown.wait_for(|stop| *stop) => Some(false),
            () = idle.as_mut() => Some(true),
        };
        if let Some(idle) = closing {
            connection.as_mut().graceful_shutdown();
            if idle {
                // No stream is open: the client gets a moment to see the
                // GOAWAY (and answer its PING), then the connection is dropped.
                let _ = tokio::time::timeout(IDLE_CLOSE_GRACE, connection).await;
            } else {
                let _ = connection.await;
            }
        }
        closing == Some(true)
    }};
}

/// Serves one accepted connection to its end.
pub async fn serve(
    gateway: &'static Gateway,
    builders: &'static Builders,
    mut stream: TcpStream,
    shutdown: watch::Receiver<bool>,
) {
    let server = &gateway.config.server;
    let metrics = &gateway.metrics;
    let detected = tokio::time::timeout(server.first_byte_timeout, detect(&mut stream)).await;
    let (bytes, is_h2) = match detected {
        Ok(Some(found)) => found,
        // Closed (or broken) before a request began: nothing to answer.
        Ok(None) => return,
        Err(_) => {
            metrics.record_connection(ConnectionEvent::FirstByteTimeout);
            tracing::debug!(
                event = "connection.first_byte_timeout",
                timeout_ms = server.first_byte_timeout.as_millis() as u64
            );
            return;
        }
    };
    let state = Arc::new(ConnState::default());
    let io = ConnIo::new(
        stream,
        bytes,
        !is_h2,
        Arc::clone(&state),
        &gateway.request_ids,
    );
    let io = TokioIo::new(io);
    let service = {
        let state = Arc::clone(&state);
        service_fn(move |request| answer(gateway, Arc::clone(&state), request, is_h2))
    };
    if is_h2 {
        let connection = builders.http2.serve_connection(io, service);
        let idle = state.idle_for(server.idle_timeout);
        if drive!(connection, shutdown, idle) {
            metrics.record_connection(ConnectionEvent::IdleTimeout);
        }
    } else {
        let connection = builders.http1.serve_connection(io, service);
        let _ = drive!(connection, shutdown, std::future::pending::<()>());
    }
    if let Some(status) = state.rejected() {
        metrics.record_connection(ConnectionEvent::MalformedHead);
        metrics.record_request(Route::Other, None, status, std::time::Duration::ZERO);
        tracing::info!(
            event = "request.rejected",
            status,
            reason = "malformed request head, answered before routing"
        );
    }
}

/// One request on this connection: tracks its answer for the socket wrapper
/// and the idle watcher. The tracking starts when the library hands the
/// request over, not when the returned future is first polled: the library
/// may read the client's end of input in between, and must then see a
/// request in progress.
fn answer(
    gateway: &'static Gateway,
    state: Arc<ConnState>,
    request: Request<Incoming>,
    is_h2: bool,
) -> impl std::future::Future<Output = Result<Response<Tracked>, Infallible>> {
    let answering = state.begin(request.version() == Version::HTTP_11, is_h2);
    async move {
        let response = super::router::handle(gateway, &state, request).await?;
        Ok(response.map(|body| Tracked::new(body, answering)))
    }
}

/// Reads until the bytes either cannot be the HTTP/2 preface (HTTP/1) or are
/// all of it (h2c): the bytes read, their count, and "is h2c". `None` when the
/// client closes first or the read fails.
async fn detect(stream: &mut TcpStream) -> Option<(([u8; PREFACE_LEN], usize), bool)> {
    let mut buf = [0u8; PREFACE_LEN];
    let mut len = 0;
    loop {
        let n = stream.read(buf.get_mut(len..)?).await.ok()?;
        if n == 0 {
            return None;
        }
        len += n;
        if H2_PREFACE.get(..len) != buf.get(..len) {
            return Some(((buf, len), false));
        }
        if len == PREFACE_LEN {
            return Some(((buf, len), true));
        }
    }
}
