//! Spawning the `gateway` binary on `127.0.0.1:0` and reading its
//! `listening on` log line; its stdout is kept for log assertions.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_gateway");

/// A running gateway process; killed on drop.
pub struct Gateway {
    pub child: Child,
    pub addr: SocketAddr,
    pub logs: Arc<Mutex<Vec<String>>>,
}

/// Environment every gateway under test gets: the upstream secrets and the mock's URL.
pub fn standard_env(upstream_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GATEWAY_TEST_UPSTREAM_URL", upstream_url.to_string()),
        ("GATEWAY_TEST_UPSTREAM_KEY", super::UPSTREAM_KEY.to_string()),
        ("GATEWAY_TEST_SECOND_KEY", super::SECOND_KEY.to_string()),
        (
            "GATEWAY_TEST_ANTHROPIC_KEY",
            super::ANTHROPIC_KEY.to_string(),
        ),
    ]
}

/// [`standard_env`] with the `anthropic` upstream pointed at `anthropic_url`.
pub fn anthropic_env(upstream_url: &str, anthropic_url: &str) -> Vec<(&'static str, String)> {
    let mut env = standard_env(upstream_url);
    env.push(("GATEWAY_TEST_ANTHROPIC_URL", anthropic_url.to_string()));
    env
}

/// Asserts the binary was compiled from config/test, with the fix in the message.
pub fn assert_test_environment() {
    let output = Command::new(BIN)
        .arg("--version")
        .output()
        .expect("run gateway --version");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("(environment test,"),
        "the integration tests need the gateway built for config/test; run the README's test command \
         (`scripts/test`, which runs `GATEWAY_ENV=test cargo test`). `gateway --version` said: {text}"
    );
}

impl Gateway {
    /// Starts the gateway with exactly `env` (plus PATH) and waits for `listening on`.
    pub fn start(env: &[(&str, String)]) -> Self {
        let mut command = Command::new(BIN);
        command.args(["--listen", "127.0.0.1:0"]);
        Self::spawn(command, env)
    }

    /// Like [`Gateway::start`], with the open-file limit (`RLIMIT_NOFILE`) lowered to `nofile`.
    pub fn start_with_file_limit(env: &[(&str, String)], nofile: u32) -> Self {
        let mut command = Command::new("sh");
        command.args([
            "-c",
            &format!("ulimit -n {nofile} && exec \"$0\" \"$@\""),
            BIN,
            "--listen",
            "127.0.0.1:0",
        ]);
        Self::spawn(command, env)
    }

    fn spawn(mut command: Command, env: &[(&str, String)]) -> Self {
        assert_test_environment();
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GATEWAY_LOG_LEVEL", "info")
            // The quota tests' Redis; unless a test starts one, nothing
            // listens here and shared quotas follow their on_store_error.
            .env("GATEWAY_TEST_REDIS_URL", "redis://127.0.0.1:1")
            // The header secret of the test config's http tools (required at startup).
            .env("GATEWAY_TEST_TOOL_TOKEN", TOOL_TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("spawn gateway");
        let stdout = child.stdout.take().expect("stdout");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on ") {
                    let rest = &line[at + "listening on ".len()..];
                    let addr: String = rest
                        .chars()
                        .take_while(|c| !matches!(c, '"' | ' '))
                        .collect();
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(addr) => addr.parse().expect("listening address"),
            Err(_) => {
                let _ = child.kill();
                let output = child.wait_with_output().expect("gateway output");
                panic!(
                    "gateway did not log `listening on` within 20 s; stderr: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        };
        Self { child, addr, logs }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// CPU time (user + system) the process has used, from `/proc/<pid>/stat`.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("read /proc/<pid>/stat");
        // Fields after the `(comm)`: state is field 3, utime 14 and stime 15.
        let after = &stat[stat.rfind(')').expect("comm") + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // USER_HZ is 100 on Linux.
        Duration::from_millis(ticks * 10)
    }

    /// Waits (bounded) until the logs contain `needle`.
    pub fn wait_for_log(&self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let logs = self.logs();
            if logs.contains(needle) {
                return logs;
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle} within {limit:?}: {logs}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits (bounded) for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "gateway did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of `GATEWAY_TEST_TOOL_TOKEN`, the http tools' `authorization` header.
pub const TOOL_TOKEN: &str = "Bearer tool-token-for-tests-0123456789";

/// Runs the binary to completion with `env` and `args`; returns (status, stdout, stderr).
pub fn run_to_exit(args: &[&str], env: &[(&str, String)]) -> (ExitStatus, String, String) {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GATEWAY_TEST_TOOL_TOKEN", TOOL_TOKEN);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run gateway");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
