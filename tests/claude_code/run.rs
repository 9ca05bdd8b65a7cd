//! Running Claude Code headless (`claude -p`) against a base URL: the pinned
//! npm package `scripts/test-deps` installs under `.tools/claude-code/`, in a
//! scratch HOME and working directory, with every non-essential network
//! call (telemetry, error reports, auto-update) switched off by its
//! documented variables, and bounded by [`CLAUDE_LIMIT`]. Also a readable
//! summary of what it sent, for assertion messages.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::AnthropicRecorded;

/// The `claude` the test setup installs.
pub const CLAUDE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/.tools/claude-code/node_modules/.bin/claude"
);

/// Upper bound on one `claude -p` run.
pub const CLAUDE_LIMIT: Duration = Duration::from_secs(120);

/// How Claude Code presents its key.
#[derive(Clone, Copy, Debug)]
pub enum Auth {
    /// `ANTHROPIC_API_KEY`: sent as `x-api-key`.
    ApiKey,
    /// `ANTHROPIC_AUTH_TOKEN`: sent as `Authorization: Bearer`.
    Bearer,
}

/// One `claude -p` invocation.
pub struct Claude<'a> {
    pub base_url: &'a str,
    pub key: &'a str,
    pub auth: Auth,
    pub model: &'a str,
    /// Tools it may run without asking (`--allowedTools`).
    pub allowed_tools: &'a [&'a str],
}

/// What a run did.
#[derive(Debug)]
pub struct ClaudeRun {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// The scratch working directory (removed when the run is dropped).
    pub workdir: PathBuf,
}

impl Drop for ClaudeRun {
    fn drop(&mut self) {
        if let Some(scratch) = self.workdir.parent() {
            let _ = std::fs::remove_dir_all(scratch);
        }
    }
}

impl std::fmt::Display for ClaudeRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?} after {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }
}

static SCRATCH: AtomicUsize = AtomicUsize::new(0);

impl Claude<'_> {
    /// Runs `claude -p PROMPT` to its exit (killed at [`CLAUDE_LIMIT`]).
    pub async fn run(&self, prompt: &str) -> ClaudeRun {
        let scratch = std::env::temp_dir().join(format!(
            "gateway-claude-{}-{}",
            std::process::id(),
            SCRATCH.fetch_add(1, Ordering::SeqCst)
        ));
        let (home, workdir) = (scratch.join("home"), scratch.join("work"));
        std::fs::create_dir_all(&home).expect("scratch home");
        std::fs::create_dir_all(&workdir).expect("scratch workdir");
        let key_variable = match self.auth {
            Auth::ApiKey => "ANTHROPIC_API_KEY",
            Auth::Bearer => "ANTHROPIC_AUTH_TOKEN",
        };
        let mut command = tokio::process::Command::new(CLAUDE);
        command
            .args([
                "-p",
                prompt,
                "--model",
                self.model,
                "--output-format",
                "text",
            ])
            .args(if self.allowed_tools.is_empty() {
                vec![]
            } else {
                vec!["--allowedTools"]
            })
            .args(self.allowed_tools)
            .current_dir(&workdir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("CLAUDE_CONFIG_DIR", home.join(".claude"))
            .env("SHELL", "/bin/bash")
            .env("ANTHROPIC_BASE_URL", self.base_url)
            .env(key_variable, self.key)
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .env("DISABLE_AUTOUPDATER", "1")
            .env("DISABLE_TELEMETRY", "1")
            .env("DISABLE_ERROR_REPORTING", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let child = command.spawn().unwrap_or_else(|e| {
            panic!("cannot run {CLAUDE} ({e}); run `scripts/test-deps` (the README's test command does)")
        });
        let output = tokio::time::timeout(CLAUDE_LIMIT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("claude -p {prompt:?} did not exit within {CLAUDE_LIMIT:?}"))
            .expect("claude output");
        ClaudeRun {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed: started.elapsed(),
            workdir,
        }
    }
}

/// One line per request: method, path and query, the `anthropic-*` and
/// auth headers (values of keys masked), and the body's top-level keys with
/// message and tool counts.
pub fn describe(requests: &[AnthropicRecorded]) -> String {
    let mut lines = Vec::new();
    for request in requests {
        let headers: Vec<String> = request
            .headers
            .iter()
            .map(|(name, value)| {
                let value = value.to_str().unwrap_or("<bytes>");
                let masked = matches!(name.as_str(), "x-api-key" | "authorization");
                format!("{name}: {}", if masked { "<key>" } else { value })
            })
            .collect();
        let body = request.json();
        let keys: Vec<&str> = body
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let count = |field: &str| body[field].as_array().map_or(0, Vec::len);
        lines.push(format!(
            "{} {} ({} bytes; keys {keys:?}; {} messages; {} tools; model {}; stream {})\n    {}",
            request.method,
            request.uri,
            request.body.len(),
            count("messages"),
            count("tools"),
            body["model"],
            body["stream"],
            headers.join("\n    ")
        ));
    }
    lines.join("\n")
}

/// The names of the tools a request declared.
pub fn tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(String::from))
        .collect()
}
