//! Process plumbing the tools share: building the tokio runtime, binding
//! the listener and announcing it (`listening on ADDR`), reading request
//! bodies from files, and SIGTERM/SIGINT.

use std::io::Write;
use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::error::Failure;

/// A current_thread runtime for `threads == 1`, else a multi-thread one.
pub fn runtime(tool: &str, threads: usize) -> Result<tokio::runtime::Runtime, Failure> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    builder.enable_all().build().map_err(|error| {
        Failure::new(
            format!("{tool}: cannot start the tokio runtime ({error})"),
            "check the process limits (threads, memory, file descriptors)",
        )
    })
}

/// Accept queue length asked of `listen(2)` (the kernel caps it at
/// `net.core.somaxconn`, 4096 by default). `TcpListener::bind` asks for 128,
/// which a burst of 1,024 connections overflows: the kernel then drops the
/// handshake's last ACK or the SYN (`ListenOverflows` in `nstat`) and the
/// client waits for a 1 s retransmission.
pub const LISTEN_BACKLOG: u32 = 4096;

/// Binds `addr` (`SO_REUSEADDR`, backlog [`LISTEN_BACKLOG`]) and prints
/// `listening on <bound address>` as the first stdout line (flushed), so a
/// caller can pass port 0 and read the port.
pub async fn listen(tool: &str, addr: SocketAddr) -> Result<TcpListener, Failure> {
    let bind = || {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(LISTEN_BACKLOG)
    };
    let listener = bind().map_err(|error| {
        Failure::new(
            format!("{tool}: cannot listen on {addr} ({error})"),
            "pick a free address, e.g. `--listen 127.0.0.1:0` for any free port",
        )
    })?;
    let bound = listener.local_addr().map_err(|error| {
        Failure::new(
            format!("{tool}: bound {addr} but cannot read the address back ({error})"),
            "retry; this is an OS-level problem",
        )
    })?;
    let mut stdout = std::io::stdout().lock();
    // If stdout is gone nobody can learn the port; keep serving anyway.
    let _ = writeln!(stdout, "listening on {bound}");
    let _ = stdout.flush();
    Ok(listener)
}

/// Reads a request body file (the `--body` flag).
pub fn read_body(tool: &str, path: &str) -> Result<bytes::Bytes, Failure> {
    std::fs::read(path)
        .map(bytes::Bytes::from)
        .map_err(|error| {
            Failure::new(
                format!("{tool}: cannot read --body {path} ({error})"),
                "pass a JSON request body file, e.g. `--body bench/bodies/s.json`",
            )
        })
}

/// Resolves on SIGTERM or SIGINT. If the handlers cannot be installed the
/// tool runs until SIGKILL (said once on stderr).
pub async fn shutdown_signal(tool: &str) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        eprintln!("{tool}: cannot install SIGTERM/SIGINT handlers; stop it with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// Writes one line to stdout and flushes (a report or a status line).
pub fn print_line(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}
