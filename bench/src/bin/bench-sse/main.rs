//! bench-sse: the streaming load client. Runs `--streams` chat completion
//! streams over `--concurrency` keep-alive HTTP/1.1 connections (one per
//! worker, `TCP_NODELAY`, all opened before the first stream starts) and
//! prints one JSON report on stdout.
//!
//! Per stream it measures TTFT (request sent → first `data:` event with
//! non-empty `choices[0].delta.content`) and every gap between content
//! deltas, and verifies: status 200, `text/event-stream`, the expected delta
//! count, no `event: error`, `data: [DONE]` at the end, and content whose
//! SHA-256 equals the first good stream's. Latency figures cover good
//! streams only; a fast failure is a failure, not a fast stream.
//! It is not a general SSE client: it knows the OpenAI chunk shape only.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use gateway_bench::args::Args;
use gateway_bench::client::{self, Sender, Target};
use gateway_bench::error::or_exit;
use gateway_bench::sse::Parser;
use gateway_bench::stats::{Failures, MAX_REASONS, Object, hex, summary_ms};
use gateway_bench::{Failure, process};
use http::header::CONTENT_TYPE;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::Barrier;
use tokio::time::Instant;

use crate::verify::{Measured, StreamState};

mod verify;

const TOOL: &str = "bench-sse";
const USAGE: &str = "\
usage: bench-sse --url URL --body FILE [--key KEY] [--streams N] [--concurrency C]
                 [--expect-chunks N] [--chunk-gap-ms G] [--timeout-s S] [--threads T]
                 [--timeline FILE]

Streams chat completions and prints one JSON report; exit 1 if any stream failed.
  --url URL           full chat completions URL, e.g. http://127.0.0.1:8080/v1/chat/completions
  --body FILE         JSON request body with \"stream\": true (e.g. bench/bodies/s-stream.json)
  --key KEY           sent as `Authorization: Bearer KEY` (default: none)
  --streams N         streams in total (default 1)
  --concurrency C     concurrent streams = connections (default 1; raise `ulimit -n` first)
  --expect-chunks N   content deltas each stream must carry (default 20)
  --chunk-gap-ms G    the mock's gap; a gap > G + max(G, 50 ms) counts as a stall (default 10)
  --timeout-s S       bound on the whole run; unfinished streams fail (default 120)
  --threads T         client runtime threads; 1 = current_thread (default 1)
  --timeline FILE     also write `stream,delta,sent_ms,at_ms` per content delta of
                      every good stream (ms since the run started), for finding stalls";

struct Config {
    target: Target,
    body: Bytes,
    streams: usize,
    concurrency: usize,
    expect_chunks: usize,
    stall_after: Duration,
    timeout: Duration,
    timeline: Option<String>,
}

fn main() {
    let mut args = Args::from_env(TOOL, USAGE);
    let (config, threads) = or_exit(parse_flags(&mut args));
    or_exit(args.finish());
    let config: &'static Config = Box::leak(Box::new(config));
    let runtime = or_exit(process::runtime(TOOL, threads));
    let (report, failed) = runtime.block_on(run(config));
    process::print_line(&report.to_string());
    std::process::exit(i32::from(failed > 0));
}

fn parse_flags(args: &mut Args) -> Result<(Config, usize), Failure> {
    let url: String = args.required("--url", "http://127.0.0.1:8080/v1/chat/completions")?;
    let key: Option<String> = args.optional("--key", "gw-bench-key")?;
    let body_path: String = args.required("--body", "bench/bodies/s-stream.json")?;
    let gap = Duration::from_millis(args.at_most("--chunk-gap-ms", 10, 60_000)?);
    let config = Config {
        target: Target::parse(TOOL, &url, key.as_deref())?,
        body: process::read_body(TOOL, &body_path)?,
        streams: args.at_most("--streams", 1, 10_000_000)?,
        concurrency: args.at_most::<usize>("--concurrency", 1, 100_000)?.max(1),
        expect_chunks: args.or("--expect-chunks", 20)?,
        stall_after: gap + gap.max(Duration::from_millis(50)),
        timeout: Duration::from_secs(args.at_most("--timeout-s", 120, 86_400)?),
        timeline: args.optional("--timeline", "/tmp/timeline.csv")?,
    };
    Ok((config, args.at_most("--threads", 1, 1024)?))
}

/// Runs every stream; returns the report and the failed count.
async fn run(config: &'static Config) -> (Object, u64) {
    let start = Instant::now();
    let deadline = start + config.timeout;
    let next = Arc::new(AtomicUsize::new(0));
    let count = config.concurrency.min(config.streams);
    let all_connected = Arc::new(Barrier::new(count));
    let workers: Vec<_> = (0..count)
        .map(|_| {
            let (next, all_connected) = (Arc::clone(&next), Arc::clone(&all_connected));
            tokio::spawn(worker(config, next, all_connected, deadline))
        })
        .collect();
    let mut outcomes: Vec<Option<Result<Measured, String>>> =
        (0..config.streams).map(|_| None).collect();
    for worker in workers {
        // A worker cannot panic (panics are denied); a join error leaves its
        // streams unrecorded, and they are reported as not finished.
        for (index, outcome) in worker.await.unwrap_or_default() {
            if let Some(slot) = outcomes.get_mut(index) {
                *slot = Some(outcome);
            }
        }
    }
    if let Some(path) = &config.timeline {
        write_timeline(path, start, &outcomes);
    }
    report(config, outcomes, start, start.elapsed())
}

/// `stream,delta,sent_ms,at_ms` for every content delta of every finished
/// stream; a failure to write is said on stderr and does not fail the run.
fn write_timeline(path: &str, start: Instant, outcomes: &[Option<Result<Measured, String>>]) {
    use std::fmt::Write as _;
    let ms = |t: Instant| t.duration_since(start).as_secs_f64() * 1000.0;
    let mut text = String::from("stream,delta,sent_ms,at_ms\n");
    for (index, outcome) in outcomes.iter().enumerate() {
        if let Some(Ok(m)) = outcome {
            for (delta, at) in m.arrivals.iter().enumerate() {
                let _ = writeln!(
                    text,
                    "{index},{},{:.3},{:.3}",
                    delta + 1,
                    ms(m.sent),
                    ms(*at)
                );
            }
        }
    }
    if let Err(error) = std::fs::write(path, text) {
        eprintln!("{TOOL}: cannot write --timeline {path} ({error}); the report is still printed");
    }
}

/// Connects, waits until every worker has, then takes stream numbers from
/// `next` until all are taken or time is up. Connecting first keeps the
/// connection storm out of the first streams' TTFT.
async fn worker(
    config: &'static Config,
    next: Arc<AtomicUsize>,
    all_connected: Arc<Barrier>,
    deadline: Instant,
) -> Vec<(usize, Result<Measured, String>)> {
    // A failed connect is retried, and reported, by the first stream.
    let mut connection = client::connect(&config.target, client::CONNECT_TIMEOUT)
        .await
        .ok();
    let _ = tokio::time::timeout_at(deadline, all_connected.wait()).await;
    let mut done = Vec::new();
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        if index >= config.streams || Instant::now() >= deadline {
            return done;
        }
        let outcome = match tokio::time::timeout_at(deadline, stream(config, &mut connection)).await
        {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "run timeout: --timeout-s {} reached mid-stream",
                config.timeout.as_secs()
            )),
        };
        if outcome.is_err() {
            // The connection may be mid-body or broken: start clean.
            connection = None;
        }
        done.push((index, outcome));
    }
}

/// One stream, measured and verified.
async fn stream(config: &Config, connection: &mut Option<Sender>) -> Result<Measured, String> {
    let sender = client::ready(&config.target, connection).await?;
    let request = config.target.request(Method::POST, config.body.clone());
    let sent = Instant::now();
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    if status != StatusCode::OK {
        let body = client::read_body(response.into_body())
            .await
            .unwrap_or_default();
        return Err(format!("status {status}: {}", client::excerpt(&body, 200)));
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("text/event-stream") {
        return Err(format!(
            "content-type {content_type:?}, expected text/event-stream"
        ));
    }
    let mut body = response.into_body();
    let mut state = StreamState::new(sent, config.expect_chunks);
    let mut parser = Parser::default();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| format!("stream broke after {} deltas: {e}", state.deltas))?;
        let now = Instant::now();
        if let Ok(data) = frame.into_data() {
            parser.feed(&data, |event| state.on_event(event, now));
        }
    }
    if parser.has_pending() {
        state.fail("stream ended in the middle of an event".to_string());
    }
    state.finish(config.expect_chunks)
}

/// Checks content equality, then gathers the figures of the good streams.
fn report(
    config: &Config,
    outcomes: Vec<Option<Result<Measured, String>>>,
    start: Instant,
    wall: Duration,
) -> (Object, u64) {
    let reference = outcomes.iter().find_map(|o| match o {
        Some(Ok(m)) => Some(m.digest),
        _ => None,
    });
    let (mut ttft, mut gaps, mut ok, mut stalls) = (Vec::new(), Vec::new(), 0_u64, 0_u64);
    let (mut stalled_streams, mut stall_examples) = (0_u64, Vec::new());
    let mut failures = Failures::default();
    let stall_us = u64::try_from(config.stall_after.as_micros()).unwrap_or(u64::MAX);
    for (index, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Some(Ok(m)) if Some(m.digest) == reference => {
                ok += 1;
                ttft.push(m.ttft_us);
                let before = stalls;
                for (at, &gap) in m.gaps_us.iter().enumerate() {
                    if gap <= stall_us {
                        continue;
                    }
                    stalls += 1;
                    if stall_examples.len() < MAX_REASONS {
                        // Gap `at` ends at content delta `at + 2` (delta 1 is the TTFT).
                        let arrived = m
                            .arrivals
                            .get(at + 1)
                            .map_or(0.0, |t| t.duration_since(start).as_secs_f64() * 1000.0);
                        stall_examples.push(format!(
                            "stream {index}: delta {} arrived {:.1} ms after the previous, {arrived:.1} ms into the run",
                            at + 2,
                            gap as f64 / 1000.0
                        ));
                    }
                }
                stalled_streams += u64::from(stalls > before);
                gaps.extend(m.gaps_us);
            }
            Some(Ok(m)) => failures.add(format!(
                "stream {index}: content sha256 {} differs from the first good stream's",
                hex(&m.digest)
            )),
            Some(Err(reason)) => failures.add(format!("stream {index}: {reason}")),
            None => failures.add(format!(
                "stream {index}: not started before --timeout-s {}",
                config.timeout.as_secs()
            )),
        }
    }
    let report = Object::default()
        .field("streams", config.streams)
        .field("concurrency", config.concurrency)
        .field("ok", ok)
        .field("failed", failures.count)
        .field("failures", &failures.reasons)
        .field(
            "ttft_ms",
            summary_ms(
                &mut ttft,
                &[("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("max", 100.0)],
            ),
        )
        .field(
            "gap_ms",
            summary_ms(&mut gaps, &[("p50", 50.0), ("p99", 99.0), ("max", 100.0)]),
        )
        .field("stalls", stalls)
        .field("stalled_streams", stalled_streams)
        .field("stall_examples", &stall_examples)
        .field(
            "stall_threshold_ms",
            config.stall_after.as_secs_f64() * 1000.0,
        )
        .field("content_sha256", reference.map(|d| hex(&d)))
        .field("wall_s", (wall.as_secs_f64() * 1000.0).round() / 1000.0);
    (report, failures.count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(streams: usize) -> Config {
        Config {
            target: Target::parse("t", "http://127.0.0.1:1/", None).unwrap(),
            body: Bytes::new(),
            streams,
            concurrency: 1,
            expect_chunks: 2,
            stall_after: Duration::from_millis(60),
            timeout: Duration::from_secs(1),
            timeline: None,
        }
    }

    #[test]
    fn report_counts_stalls_and_content_mismatches() {
        let start = Instant::now();
        let measured = |gaps_us: Vec<u64>, digest: u8| Measured {
            ttft_us: 500,
            arrivals: (0..=gaps_us.len() as u64)
                .map(|i| start + Duration::from_millis(i * 10))
                .collect(),
            gaps_us,
            digest: [digest; 32],
            sent: start,
        };
        let outcomes = vec![
            Some(Ok(measured(vec![10_000, 61_000], 1))),
            Some(Ok(measured(vec![60_000], 2))),
            Some(Err("boom".to_string())),
            None,
        ];
        let (report, failed) = report(&config(4), outcomes, start, Duration::from_millis(1500));
        let report: serde_json::Value = serde_json::from_str(&report.to_string()).unwrap();
        assert_eq!(failed, 3);
        assert_eq!(
            (report["ok"].as_u64(), report["stalls"].as_u64()),
            (Some(1), Some(1))
        );
        assert_eq!(report["stalled_streams"].as_u64(), Some(1));
        assert_eq!(
            report["stall_examples"][0],
            "stream 0: delta 3 arrived 61.0 ms after the previous, 20.0 ms into the run"
        );
        assert_eq!(report["content_sha256"], hex(&[1; 32]));
        assert_eq!(report["gap_ms"]["max"], 61.0);
        let reasons: Vec<&str> = report["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert!(reasons[0].starts_with("stream 1: content sha256"));
        assert_eq!(
            reasons[1..],
            [
                "stream 2: boom",
                "stream 3: not started before --timeout-s 1"
            ]
        );
    }
}
