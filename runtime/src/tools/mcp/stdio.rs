//! MCP over stdio: the server is a child process (argv from the config,
//! `kill_on_drop`, the gateway's working directory) speaking newline-
//! delimited JSON-RPC on stdin/stdout; its stderr lines are logged at WARN.
//! One task owns the child and multiplexes concurrent requests by id
//! (channels, no locks); when the child dies every waiting request fails
//! with `LinkError::Gone` and the server's task starts a new one on the next
//! call. Names only `tools` (through `super`).

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde_json::Value;
use std::os::fd::OwnedFd;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use tokio::net::unix::pipe;
use tokio::sync::{mpsc, oneshot};

use super::LinkError;
use super::rpc;
use crate::table::STDIO_BASE_ENV;

/// A running child.
pub struct StdioLink {
    tx: mpsc::Sender<Outgoing>,
    next_id: AtomicU64,
}

enum Outgoing {
    Request {
        id: u64,
        line: String,
        reply: oneshot::Sender<Result<Value, LinkError>>,
    },
    Notify(String),
}

type Pending = Vec<(u64, oneshot::Sender<Result<Value, LinkError>>)>;

impl StdioLink {
    /// Starts `command` (argv) and its owning task. The child sees only
    /// [`STDIO_BASE_ENV`] and the variables `env` names, never the rest of
    /// the gateway's environment (its upstream keys).
    pub fn spawn(
        server: &'static str,
        command: &[&str],
        env: &[&str],
        max_bytes: u64,
    ) -> Result<Self, LinkError> {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| LinkError::Unreachable("the command is empty".to_owned()))?;
        let visible = STDIO_BASE_ENV.iter().chain(env);
        // `std::process` and tokio's unix pipes rather than `tokio::process`:
        // its child reaper runs on every park of the runtime, which every
        // request would pay for even when no stdio server is configured.
        let mut child = std::process::Command::new(program)
            .args(args)
            .env_clear()
            .envs(visible.filter_map(|name| std::env::var_os(name).map(|value| (name, value))))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                LinkError::Unreachable(format!("`{program}` could not be started: {e}"))
            })?;
        let pipes = pipes(&mut child);
        let child = Reaped(Some(child));
        let (stdin, stdout, stderr) = pipes.map_err(|e| {
            LinkError::Unreachable(format!("the pipes of `{program}` are not usable: {e}"))
        })?;
        if let Some(stderr) = stderr {
            tokio::spawn(log_stderr(server, stderr));
        }
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            run(stdin, stdout, rx, max_bytes).await;
            drop(child);
        });
        Ok(Self::over(tx))
    }

    fn over(tx: mpsc::Sender<Outgoing>) -> Self {
        Self {
            tx,
            next_id: AtomicU64::new(1),
        }
    }

    /// One request; its answer (`Gone` when the child is dead).
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, LinkError> {
        let id = self.next_id.fetch_add(1, Relaxed);
        let line = rpc::request(id, method, params).to_string();
        let (reply, answer) = oneshot::channel();
        let message = Outgoing::Request { id, line, reply };
        self.tx.send(message).await.map_err(|_| LinkError::Gone)?;
        answer.await.map_err(|_| LinkError::Gone)?
    }

    /// One notification.
    pub async fn notify(&self, method: &str) -> Result<(), LinkError> {
        let line = rpc::notification(method).to_string();
        self.tx
            .send(Outgoing::Notify(line))
            .await
            .map_err(|_| LinkError::Gone)
    }
}

/// Owns the pipes: writes requests, routes answers by id, ends (failing
/// every waiting request) when the child closes stdout or all links are gone.
async fn run<W, R>(mut stdin: W, stdout: R, mut rx: mpsc::Receiver<Outgoing>, max_bytes: u64)
where
    W: AsyncWrite + Unpin,
    R: AsyncRead + Unpin,
{
    let mut reader = BufReader::new(stdout);
    let mut pending: Pending = Vec::new();
    let mut line = Vec::new();
    loop {
        let mut limited = (&mut reader).take(max_bytes + 1);
        tokio::select! {
            message = rx.recv() => {
                let Some(message) = message else { break };
                let text = match message {
                    Outgoing::Request { id, line, reply } => {
                        pending.push((id, reply));
                        line
                    }
                    Outgoing::Notify(line) => line,
                };
                let written = stdin.write_all(text.as_bytes()).await;
                let written = match written {
                    Ok(()) => stdin.write_all(b"\n").await,
                    Err(e) => Err(e),
                };
                if written.is_err() || stdin.flush().await.is_err() {
                    break;
                }
            }
            read = limited.read_until(b'\n', &mut line) => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line.len() as u64 > max_bytes => {
                        fail_all(&mut pending, || LinkError::TooLarge);
                        return;
                    }
                    Ok(_) if !line.ends_with(b"\n") => continue,
                    Ok(_) => {
                        route(&line, &mut pending);
                        line.clear();
                    }
                }
            }
        }
    }
    fail_all(&mut pending, || LinkError::Gone);
}

/// Hands an answer to the request waiting for its id; anything else is ignored.
fn route(line: &[u8], pending: &mut Pending) {
    let Ok(message) = serde_json::from_slice::<Value>(line) else {
        return;
    };
    let Some(id) = message.get("id").and_then(Value::as_u64) else {
        return;
    };
    let Some(at) = pending.iter().position(|(p, _)| *p == id) else {
        return;
    };
    if let Some(answer) = rpc::answer_to(message, id) {
        let (_, reply) = pending.swap_remove(at);
        let _ = reply.send(Ok(answer));
    }
}

fn fail_all(pending: &mut Pending, error: impl Fn() -> LinkError) {
    for (_, reply) in pending.drain(..) {
        let _ = reply.send(Err(error()));
    }
}

/// A stdio server's process: killed and reaped when its link ends (or the
/// runtime drops the task), so neither a server nor a zombie outlives it.
struct Reaped(Option<std::process::Child>);

/// The child's stdin, stdout and stderr as non-blocking tokio pipes.
type Pipes = (pipe::Sender, pipe::Receiver, Option<pipe::Receiver>);

/// Takes the child's pipes (so they close when the link ends).
fn pipes(child: &mut std::process::Child) -> std::io::Result<Pipes> {
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(std::io::Error::other("the child has no pipes"));
    };
    let stdin = pipe::Sender::from_owned_fd(OwnedFd::from(stdin))?;
    let stdout = pipe::Receiver::from_owned_fd(OwnedFd::from(stdout))?;
    let stderr = match child.stderr.take() {
        Some(stderr) => Some(pipe::Receiver::from_owned_fd(OwnedFd::from(stderr))?),
        None => None,
    };
    Ok((stdin, stdout, stderr))
}

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            // Reaping may wait a moment for the kill: off the runtime's threads.
            std::thread::spawn(move || child.wait());
        }
    }
}

/// The child's stderr, a line at a time (each capped), at WARN.
async fn log_stderr(server: &'static str, stderr: pipe::Receiver) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        line.clear();
        match (&mut reader).take(4096).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => tracing::warn!(
                event = "mcp.stderr",
                server,
                line = %String::from_utf8_lossy(&line).trim_end()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::sync::mpsc;

    use super::{LinkError, StdioLink, run};

    /// Two concurrent requests answered in reverse order each get their own
    /// answer; a notification from the server in between is ignored; when
    /// the "child" closes its stdout, a waiting request fails with `Gone`.
    #[tokio::test]
    async fn multiplexes_by_id() {
        let (gateway_in, child_out) = tokio::io::duplex(4096);
        let (child_in, gateway_out) = tokio::io::duplex(4096);
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(run(gateway_out, gateway_in, rx, 1024));
        let link = StdioLink::over(tx);
        let child = tokio::spawn(async move {
            let mut lines = BufReader::new(child_in).lines();
            let mut out = child_out;
            let mut ids = Vec::new();
            for _ in 0..2 {
                let line = lines.next_line().await.unwrap().unwrap();
                let request: Value = serde_json::from_str(&line).unwrap();
                ids.push((request["id"].as_u64().unwrap(), request["method"].clone()));
            }
            out.write_all(b"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n")
                .await
                .unwrap();
            for (id, method) in ids.into_iter().rev() {
                let answer = json!({"jsonrpc":"2.0","id":id,"result":{"method":method}});
                out.write_all(format!("{answer}\n").as_bytes())
                    .await
                    .unwrap();
            }
            let _ = lines.next_line().await;
        });
        let (a, b) = tokio::join!(
            link.request("first", json!({})),
            link.request("second", json!({}))
        );
        assert_eq!(a.unwrap()["result"]["method"], "first");
        assert_eq!(b.unwrap()["result"]["method"], "second");
        let third = tokio::spawn(async move { link.request("third", json!({})).await });
        child.await.unwrap();
        assert!(matches!(third.await.unwrap(), Err(LinkError::Gone)));
    }
}
