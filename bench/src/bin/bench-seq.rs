//! bench-seq: the sequential client. Sends requests strictly one after
//! another on one keep-alive HTTP/1.1 connection (`TCP_NODELAY`) and prints
//! one JSON report: latency percentiles and whether every response was a
//! 200 with a body byte-identical to the first.
//!
//! Used for concurrency-1 latency and to drive a server running under
//! callgrind (`--requests 0 --warmup W` only warms it). Not a load
//! generator: there is never more than one request in flight.

use std::time::Duration;

use bytes::Bytes;
use gateway_bench::args::Args;
use gateway_bench::client::{self, Sender, Target};
use gateway_bench::error::or_exit;
use gateway_bench::stats::{Failures, Object, hex, summary_us};
use gateway_bench::{Failure, process};
use http::{Method, StatusCode};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

const TOOL: &str = "bench-seq";
const USAGE: &str = "\
usage: bench-seq --url URL [--body FILE] [--key KEY] [--requests N] [--warmup W]
                 [--method GET|POST] [--request-timeout-s S] [--same-body yes|no]

Sends W + N requests one at a time and prints one JSON report; exit 1 if any failed.
  --url URL               full URL, e.g. http://127.0.0.1:8080/v1/chat/completions
  --body FILE             JSON request body (e.g. bench/bodies/s.json); needed for POST
  --key KEY               sent as `Authorization: Bearer KEY` (default: none)
  --requests N            measured requests (default 1000; 0 = only warm up)
  --warmup W              unmeasured requests first, still checked (default 100)
  --method GET|POST       default POST with --body, GET without
  --request-timeout-s S   bound on each request, body included (default 30)
  --same-body yes|no      require every body byte-identical to the first (default yes)";

struct Config {
    target: Target,
    method: Method,
    body: Bytes,
    requests: usize,
    warmup: usize,
    timeout: Duration,
    /// Whether every body must equal the first (off for servers minting ids).
    same_body: bool,
}

fn main() {
    let mut args = Args::from_env(TOOL, USAGE);
    let config = or_exit(parse_flags(&mut args));
    or_exit(args.finish());
    let runtime = or_exit(process::runtime(TOOL, 1));
    let (report, failed) = runtime.block_on(run(&config));
    process::print_line(&report.to_string());
    std::process::exit(i32::from(failed > 0));
}

fn parse_flags(args: &mut Args) -> Result<Config, Failure> {
    let url: String = args.required("--url", "http://127.0.0.1:8080/v1/chat/completions")?;
    let key: Option<String> = args.optional("--key", "gw-bench-key")?;
    let body_path: Option<String> = args.optional("--body", "bench/bodies/s.json")?;
    let body = match &body_path {
        Some(path) => process::read_body(TOOL, path)?,
        None => Bytes::new(),
    };
    let default_method = if body_path.is_some() { "POST" } else { "GET" };
    let method: String = args.or("--method", default_method.to_string())?;
    let method = match method.as_str() {
        "GET" if body_path.is_none() => Method::GET,
        "POST" if body_path.is_some() => Method::POST,
        _ => {
            return Err(Failure::new(
                format!(
                    "{TOOL}: --method {method} with{} --body",
                    if body_path.is_some() { "" } else { "out" }
                ),
                "use POST with a --body file, or GET without one",
            ));
        }
    };
    Ok(Config {
        target: Target::parse(TOOL, &url, key.as_deref())?,
        method,
        body,
        requests: args.at_most("--requests", 1000, 100_000_000)?,
        warmup: args.at_most("--warmup", 100, 100_000_000)?,
        timeout: Duration::from_secs(args.at_most("--request-timeout-s", 30, 86_400)?),
        same_body: match args.or("--same-body", "yes".to_string())?.as_str() {
            "yes" => true,
            "no" => false,
            other => {
                return Err(Failure::new(
                    format!("{TOOL}: --same-body {other}"),
                    "use `--same-body yes` (every body byte-identical to the first) or `no` \
                     (for servers that put a fresh id in every response)",
                ));
            }
        },
    })
}

/// Runs warm-up then measured requests; returns the report and the failed count.
async fn run(config: &Config) -> (Object, u64) {
    let start = Instant::now();
    let mut connection: Option<Sender> = None;
    let mut first_body: Option<Bytes> = None;
    let mut latencies = Vec::with_capacity(config.requests.min(1 << 20));
    let mut failures = Failures::default();
    let mut ok = 0_u64;
    for i in 0..config.warmup + config.requests {
        let measured = i >= config.warmup;
        let label = if measured {
            format!("request {}", i - config.warmup)
        } else {
            format!("warm-up {i}")
        };
        let sent = Instant::now();
        let outcome =
            match tokio::time::timeout(config.timeout, request(config, &mut connection)).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!(
                    "no full response within --request-timeout-s {}",
                    config.timeout.as_secs()
                )),
            };
        let elapsed = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
        let checked = outcome.and_then(|body| match &first_body {
            None => {
                first_body = Some(body);
                Ok(())
            }
            Some(first) if !config.same_body || *first == body => Ok(()),
            Some(first) => Err(format!(
                "body differs from the first ({} vs {} bytes)",
                body.len(),
                first.len()
            )),
        });
        match checked {
            Ok(()) if measured => {
                ok += 1;
                latencies.push(elapsed);
            }
            Ok(()) => {}
            Err(reason) => {
                // The connection may be mid-response: start clean.
                connection = None;
                failures.add(format!("{label}: {reason}"));
            }
        }
    }
    let points = [
        ("p50", 50.0),
        ("p90", 90.0),
        ("p99", 99.0),
        ("p999", 99.9),
        ("max", 100.0),
    ];
    let report = Object::default()
        .field("requests", config.requests)
        .field("warmup", config.warmup)
        .field("ok", ok)
        .field("failed", failures.count)
        .field("failures", &failures.reasons)
        .field("latency_us", summary_us(&mut latencies, &points))
        .field("body_sha256", first_body.map(|b| hex(&Sha256::digest(&b))))
        .field(
            "wall_s",
            (start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        );
    (report, failures.count)
}

/// One request; its body when the status is 200.
async fn request(config: &Config, connection: &mut Option<Sender>) -> Result<Bytes, String> {
    let sender = client::ready(&config.target, connection).await?;
    let request = config
        .target
        .request(config.method.clone(), config.body.clone());
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let body = client::read_body(response.into_body()).await?;
    if status != StatusCode::OK {
        return Err(format!("status {status}: {}", client::excerpt(&body, 200)));
    }
    Ok(body)
}
