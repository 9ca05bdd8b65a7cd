//! Test support: a throwaway `redis-server` on 127.0.0.1 with an ephemeral
//! port, no persistence, killed on drop; it can be stopped and restarted on
//! the same port. Every wait is bounded. (tests/support/redis.rs is the same
//! launcher for the black-box tests.)

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// PING attempts while waiting for a start, and the pause between them.
const PINGS: usize = 100;
const PING_PAUSE: Duration = Duration::from_millis(20);

pub(super) struct RedisServer {
    child: Option<Child>,
    port: u16,
}

impl RedisServer {
    /// Starts on a free port (a new one if it was taken meanwhile, 3 tries).
    pub(super) fn start() -> RedisServer {
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
    pub(super) fn start_on(port: u16) -> RedisServer {
        let child =
            spawn(port).unwrap_or_else(|| panic!("redis-server did not start on port {port}"));
        RedisServer {
            child: Some(child),
            port,
        }
    }

    pub(super) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub(super) fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL: like a crash; its data is gone).
    pub(super) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops (if running) and starts again on the same port, empty.
    pub(super) fn restart(&mut self) {
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

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port the kernel just handed out (free now; `spawn` copes if it is not later).
pub(super) fn free_port() -> u16 {
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
