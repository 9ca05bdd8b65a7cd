//! Test support: a loopback TCP proxy in front of a redis-server that can go
//! silent the way a vanished host does (sockets stay open, bytes go nowhere,
//! nothing is reset), to show the store replaces a connection that only ever
//! times out. Dropping it closes everything.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

pub(super) struct Proxy {
    port: u16,
    state: Arc<State>,
    task: JoinHandle<()>,
}

#[derive(Default)]
struct State {
    /// While set, new connections are accepted but silent forever.
    silent: AtomicBool,
    /// Bumped by `cut`: connections from an older generation stay silent.
    generation: AtomicU64,
}

impl Proxy {
    pub(super) async fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let state = Arc::new(State::default());
        let task = tokio::spawn(accept(listener, target, state.clone()));
        Proxy { port, state, task }
    }

    pub(super) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Every open connection goes silent, and new ones too until `heal`.
    pub(super) fn cut(&self) {
        self.state.silent.store(true, SeqCst);
        self.state.generation.fetch_add(1, SeqCst);
    }

    /// New connections pass again; the silenced ones stay silent.
    pub(super) fn heal(&self) {
        self.state.silent.store(false, SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(listener: TcpListener, target: u16, state: Arc<State>) {
    let mut connections = JoinSet::new();
    while let Ok((client, _)) = listener.accept().await {
        let generation = state.generation.load(SeqCst);
        let (client_read, client_write) = client.into_split();
        if state.silent.load(SeqCst) {
            connections.spawn(discard(client_read, client_write));
            continue;
        }
        let upstream = TcpStream::connect(("127.0.0.1", target))
            .await
            .expect("proxy to redis");
        let (upstream_read, upstream_write) = upstream.into_split();
        let live = Live {
            state: state.clone(),
            generation,
        };
        connections.spawn(pipe(client_read, upstream_write, live.clone()));
        connections.spawn(pipe(upstream_read, client_write, live));
    }
}

#[derive(Clone)]
struct Live {
    state: Arc<State>,
    generation: u64,
}

/// Copies while the connection's generation is current; then swallows.
async fn pipe(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin, live: Live) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n @ 1..) = from.read(&mut buf).await {
        if live.state.generation.load(SeqCst) == live.generation
            && to.write_all(&buf[..n]).await.is_err()
        {
            return;
        }
    }
}

/// Reads and drops everything; holds the write half so nothing is closed.
async fn discard(mut from: impl AsyncRead + Unpin, _keep_open: impl Send) {
    let mut buf = [0u8; 16 * 1024];
    while let Ok(1..) = from.read(&mut buf).await {}
}
