//! Test support: a throwaway `redis-server` on 127.0.0.1 with an ephemeral
//! port, no persistence, killed on drop; it can be stopped and restarted on
//! the same port, and answers plain commands for assertions. Every wait is
//! bounded. `scripts/test-deps` installs redis-server. The one launcher for
//! both the black-box tests and the store's unit tests (the runtime
//! includes this file by path as `policy::shared::server`).

#![allow(
    dead_code,
    reason = "shared by two test suites, each of which uses a part"
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// PING attempts while waiting for a start, and the pause between them.
const PINGS: usize = 100;
const PING_PAUSE: Duration = Duration::from_millis(20);

/// A running redis-server; killed on drop.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
}

impl RedisServer {
    /// Starts on a free port (a new one if it was taken meanwhile, 3 tries).
    pub fn start() -> RedisServer {
        for _ in 0..3 {
            let port = free_port();
            if let Some(child) = spawn(port) {
                return RedisServer {
                    child: Some(child),
                    port,
                };
            }
        }
        panic!("redis-server did not start on a free port in 3 tries");
    }

    /// Starts on `port` (for a store created before its server).
    pub fn start_on(port: u16) -> RedisServer {
        let child =
            spawn(port).unwrap_or_else(|| panic!("redis-server did not start on port {port}"));
        RedisServer {
            child: Some(child),
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL: like a crash; its data is gone).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops (if running) and starts again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        for _ in 0..3 {
            if let Some(child) = spawn(self.port) {
                self.child = Some(child);
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("redis-server did not restart on port {}", self.port);
    }
}

impl RedisServer {
    /// One command (inline protocol, no spaces inside arguments); the raw reply.
    pub fn command(&self, words: &[&str]) -> String {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut stream =
            TcpStream::connect_timeout(&addr, Duration::from_secs(1)).expect("connect to redis");
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("read timeout");
        stream
            .write_all(format!("{}\r\n", words.join(" ")).as_bytes())
            .expect("send command");
        let mut reply = Vec::new();
        let mut buffer = [0u8; 4096];
        // A reply ends with CRLF; bounded by the read timeout and a size cap.
        while reply.len() < 1 << 20 {
            let n = stream.read(&mut buffer).unwrap_or(0);
            reply.extend_from_slice(&buffer[..n]);
            if n == 0 || complete(&reply) {
                break;
            }
        }
        String::from_utf8_lossy(&reply).into_owned()
    }

    /// An integer stored at `key` (0 when absent).
    pub fn get_integer(&self, key: &str) -> i64 {
        let reply = self.command(&["GET", key]);
        reply
            .lines()
            .nth(1)
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Keys matching a glob pattern.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let reply = self.command(&["KEYS", pattern]);
        let lines: Vec<&str> = reply.lines().collect();
        lines
            .iter()
            .skip(1)
            .filter(|line| !line.starts_with('$'))
            .map(|line| line.to_string())
            .collect()
    }
}

/// Whether a RESP reply is whole (simple: the last line ends and any array's items are in).
fn complete(reply: &[u8]) -> bool {
    let text = String::from_utf8_lossy(reply);
    if !text.ends_with("\r\n") {
        return false;
    }
    match text.strip_prefix('*') {
        Some(rest) => {
            let count: usize = rest
                .lines()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            text.lines().count() > count * 2
        }
        None if text.starts_with('$') && !text.starts_with("$-1") => text.lines().count() >= 2,
        None => true,
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port the kernel just handed out (free now; `spawn` copes if it is not later).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// The running server once it answers PING; None if it exited (port taken).
fn spawn(port: u16) -> Option<Child> {
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| match error.kind() {
            std::io::ErrorKind::NotFound => panic!("redis-server not found: run scripts/test-deps"),
            _ => panic!("cannot start redis-server: {error}"),
        });
    for _ in 0..PINGS {
        if child.try_wait().expect("redis-server status").is_some() {
            return None;
        }
        if ping(port) {
            return Some(child);
        }
        std::thread::sleep(PING_PAUSE);
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("redis-server on port {port} did not answer PING within {PINGS} x {PING_PAUSE:?}");
}

fn ping(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}
