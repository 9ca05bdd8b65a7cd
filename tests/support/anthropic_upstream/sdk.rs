//! Running `tests/python/anthropic_sdk.py` (the official `anthropic` and
//! `openai` Python SDKs, installed into `.venv` by `scripts/test-deps`) from
//! a test: its drive modes against a base URL, and its `validate` mode, which
//! parses what a test captured (bodies, single events, whole SSE streams)
//! with the SDKs' own response types, strictly. Every run is bounded.

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

/// The SDK rig script.
pub const SDK_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/anthropic_sdk.py");

/// Upper bound on one run of the script.
pub const SDK_LIMIT: Duration = Duration::from_secs(90);

/// The Python that has the SDKs: `GATEWAY_TEST_PYTHON` (set by `scripts/test`), else `.venv`.
pub fn sdk_python() -> String {
    std::env::var("GATEWAY_TEST_PYTHON")
        .unwrap_or_else(|_| format!("{}/.venv/bin/python", env!("CARGO_MANIFEST_DIR")))
}

/// What one run of the script did.
#[derive(Debug)]
pub struct SdkRun {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl SdkRun {
    /// The script's report: its last stdout line, as JSON.
    pub fn report(&self) -> Value {
        let line = self.stdout.lines().last().unwrap_or_default();
        serde_json::from_str(line)
            .unwrap_or_else(|_| panic!("the SDK script printed no JSON report\n{self}"))
    }

    /// Panics with the whole output unless the script succeeded.
    pub fn assert_ok(&self) -> Value {
        assert!(self.success, "the SDK script failed\n{self}");
        self.report()
    }
}

impl std::fmt::Display for SdkRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

/// Runs the script with `args`, feeding `stdin`, within [`SDK_LIMIT`].
pub async fn run_sdk_script(args: &[&str], stdin: &str) -> SdkRun {
    let python = sdk_python();
    let mut child = tokio::process::Command::new(&python)
        .arg(SDK_SCRIPT)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} ({e}); run `scripts/test-deps` (the README's test command does)"));
    let mut input = child.stdin.take().expect("stdin");
    let stdin = stdin.to_string();
    tokio::spawn(async move {
        let _ = input.write_all(stdin.as_bytes()).await;
    });
    let output = tokio::time::timeout(SDK_LIMIT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("the SDK script did not finish within {SDK_LIMIT:?}: {args:?}"))
        .expect("SDK script output");
    SdkRun {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// One thing to check against the SDK types: `kind` is one of
/// `anthropic.message`, `anthropic.event`, `anthropic.sse` (a whole stream
/// body: every event parsed, event names, block order and indexes, ending),
/// `anthropic.count_tokens`, `anthropic.error`, `anthropic.models`,
/// `openai.chat_completion`, `openai.chunk`, `openai.sse` (every chunk,
/// tool-call deltas, `[DONE]` last), `openai.error`.
pub fn sdk_item(kind: &str, data: impl Into<Value>) -> Value {
    json!({"kind": kind, "data": data.into()})
}

/// A captured body as an item: parsed JSON for bodies and events, the raw
/// text for `*.sse` kinds.
pub fn sdk_item_bytes(kind: &str, body: &[u8]) -> Value {
    let text = String::from_utf8_lossy(body).into_owned();
    if kind.ends_with(".sse") {
        sdk_item(kind, text)
    } else {
        sdk_item(
            kind,
            serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// Checks every item with the SDK types and returns the script's report:
/// `ok`, `errors` (`item` numbered from 1, `kind`, `error`) and `results`,
/// one per item in order (a summary, or `{"error": ...}`).
pub async fn sdk_type_report(items: &[Value]) -> Value {
    let input: String = items.iter().map(|item| format!("{item}\n")).collect();
    let run = run_sdk_script(&["validate"], &input).await;
    let report = run.report();
    assert!(
        report["checked"].as_u64() == Some(items.len() as u64),
        "the checker did not check every item\n{run}"
    );
    report
}

/// Checks every item with the SDK types; `Err` holds the report of what did
/// not parse.
pub async fn check_sdk_types(items: &[Value]) -> Result<Value, String> {
    let report = sdk_type_report(items).await;
    if report["ok"] == true {
        Ok(report)
    } else {
        Err(format!("{report:#}"))
    }
}
