//! bench-idle: holds idle keep-alive connections open, for measuring a
//! server's memory per idle connection.
//!
//! Opens `--connections` HTTP/1.1 connections, sends one GET on each and
//! reads the response (so each is a live keep-alive connection inside the
//! server, not a half-open socket), prints `holding N`, then holds them for
//! `--hold-s` seconds, until stdin closes, or until SIGTERM/SIGINT. It sends
//! nothing while holding.

use std::time::Duration;

use bytes::Bytes;
use gateway_bench::args::Args;
use gateway_bench::client::{self, CONNECT_TIMEOUT, Sender, Target};
use gateway_bench::error::or_exit;
use gateway_bench::stats::Failures;
use gateway_bench::{Failure, process};
use http::{Method, StatusCode};
use tokio::io::AsyncReadExt;
use tokio::task::JoinSet;

const TOOL: &str = "bench-idle";
const USAGE: &str = "\
usage: bench-idle --url URL [--key KEY] [--connections N] [--hold-s S]

Opens N keep-alive connections (one GET each), prints `holding N`, then holds them
for S seconds or until stdin closes (keep stdin open: a pipe, not /dev/null).
Exit 1 (without holding) if fewer than N connections succeeded.
  --url URL          a GET URL, e.g. http://127.0.0.1:8080/health
  --key KEY          sent as `Authorization: Bearer KEY` (default: none)
  --connections N    connections to open (default 1000; raise `ulimit -n` first)
  --hold-s S         how long to hold them (default 60)";

/// Connections being opened at once: enough to be quick, few enough not to
/// overflow the server's accept backlog.
const OPENING_AT_ONCE: usize = 64;
/// Bound on the GET each connection sends.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn main() {
    let mut args = Args::from_env(TOOL, USAGE);
    let (target, connections, hold) = or_exit(parse_flags(&mut args));
    or_exit(args.finish());
    let runtime = or_exit(process::runtime(TOOL, 1));
    std::process::exit(runtime.block_on(run(target, connections, hold)));
}

fn parse_flags(args: &mut Args) -> Result<(Target, usize, Duration), Failure> {
    let url: String = args.required("--url", "http://127.0.0.1:8080/health")?;
    let key: Option<String> = args.optional("--key", "gw-bench-key")?;
    let target = Target::parse(TOOL, &url, key.as_deref())?;
    Ok((
        target,
        args.at_most("--connections", 1000, 1_000_000)?,
        Duration::from_secs(args.at_most("--hold-s", 60, 30 * 86_400)?),
    ))
}

async fn run(target: Target, wanted: usize, hold: Duration) -> i32 {
    let (open, failures) = open_all(&target, wanted).await;
    if open.len() < wanted {
        eprintln!(
            "{TOOL}: opened {} of {wanted} connections; {} failed:",
            open.len(),
            failures.count
        );
        for reason in &failures.reasons {
            eprintln!("  {reason}");
        }
        return 1;
    }
    process::print_line(&format!("holding {}", open.len()));
    tokio::select! {
        () = tokio::time::sleep(hold) => {}
        () = stdin_closed() => {}
        () = process::shutdown_signal(TOOL) => {}
    }
    let still_open = open.iter().filter(|sender| !sender.is_closed()).count();
    if still_open < open.len() {
        eprintln!(
            "{TOOL}: {still_open} of {} connections were still open at the end (the server closed the rest)",
            open.len()
        );
    }
    0
}

/// Opens `wanted` connections, at most [`OPENING_AT_ONCE`] at a time.
async fn open_all(target: &Target, wanted: usize) -> (Vec<Sender>, Failures) {
    let mut open = Vec::with_capacity(wanted);
    let mut failures = Failures::default();
    let mut opening = JoinSet::new();
    let mut started = 0;
    while started < wanted || !opening.is_empty() {
        while started < wanted && opening.len() < OPENING_AT_ONCE {
            let target = target.clone();
            opening.spawn(async move { open_one(&target).await });
            started += 1;
        }
        match opening.join_next().await {
            Some(Ok(Ok(sender))) => open.push(sender),
            Some(Ok(Err(reason))) => failures.add(reason),
            Some(Err(error)) => failures.add(format!("connection task ended: {error}")),
            None => {}
        }
    }
    (open, failures)
}

/// One connection with one GET answered 200.
async fn open_one(target: &Target) -> Result<Sender, String> {
    let mut sender = client::connect(target, CONNECT_TIMEOUT).await?;
    let exchange = async {
        let request = target.request(Method::GET, Bytes::new());
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("GET failed: {e}"))?;
        let status = response.status();
        let body = client::read_body(response.into_body()).await?;
        if status != StatusCode::OK {
            return Err(format!(
                "GET answered {status}: {}",
                client::excerpt(&body, 200)
            ));
        }
        Ok(())
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
        Ok(Ok(())) => Ok(sender),
        Ok(Err(reason)) => Err(reason),
        Err(_) => Err(format!("GET not answered within {REQUEST_TIMEOUT:?}")),
    }
}

/// Resolves when stdin reaches end of file or fails.
async fn stdin_closed() {
    let mut stdin = tokio::io::stdin();
    let mut buffer = [0_u8; 256];
    while let Ok(read) = stdin.read(&mut buffer).await {
        if read == 0 {
            return;
        }
    }
}
