"""bench/ci-guard: the CI performance guard, stable on a noisy 2-core VM.

1. Instructions per request (callgrind, deterministic to ~1%) of our gateway
   (release, `config/bench`: auth + metrics on, logs at warn) and of the hyper
   floor proxy, both built and measured in this run; fails when
   ours / floor exceeds `max_ratio` in bench/guard.json. The same gateway
   process then measures model `bench-pair` (two deployments: balancing,
   breaker, retry), printed beside `ours` and not gated (bench/run's
   `ours-pair` arm is the published figure).
2. A short streaming smoke through our gateway: fails on a buffered stream
   (content arrives at the end, gaps collapse) or on a delayed-ACK tail
   (~40 ms added to the first byte), compared with the mock directly.

No wall-clock figure gates except the 40 ms / buffering checks, whose
margins are an order of magnitude wider than the noise they have to ignore.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import arms as arms_mod  # noqa: E402
import callgrind  # noqa: E402
from proc import RIG_CPU, SUT_CPU, Proc, free_port, run_json, wait_ready  # noqa: E402

ROOT = HERE.parent.parent
REQUESTS = 1000
WARMUP = 200
STREAM_CHUNKS = 8
STREAM_GAP_MS = 50


def say(message: str) -> None:
    print(f"[ci-guard] {message}", flush=True)


def build(target: Path) -> Path:
    env = {**os.environ, "GATEWAY_ENV": "bench"}
    for args in (["-p", "gateway-bench"], ["-p", "gateway"]):
        done = subprocess.run(["cargo", "build", "--release", "--locked", *args], cwd=ROOT,
                              env=env)
        if done.returncode != 0:
            raise SystemExit(f"[ci-guard] error: release build {' '.join(args)} failed")
    return target / "release"


def streaming_smoke(bins: Path, work: Path) -> list[str]:
    """Returns the problems found (empty when the stream passes through unbuffered)."""
    port = free_port()
    mock = Proc("mock-stream", [str(bins / "bench-mock"), "--listen", f"127.0.0.1:{port}",
                                "--chunks", str(STREAM_CHUNKS), "--chunk-gap-ms",
                                str(STREAM_GAP_MS)], RIG_CPU, log=work / "guard-mock.log")
    ours_port = free_port()
    ctx = arms_mod.Ctx(root=ROOT, work=work, tools=ROOT / "bench/.tools", bins=bins,
                       mock_port=port)
    ours = Proc("ours", [str(bins / "gateway")], SUT_CPU, env=arms_mod.ours_env(ctx, ours_port),
                log=work / "guard-ours.log")
    problems = []
    try:
        wait_ready(mock, port, "/health", 20)
        wait_ready(ours, ours_port, "/health", 20)
        body = ROOT / "bench/bodies/s-stream.json"
        common = ["--body", str(body), "--streams", "6", "--concurrency", "2",
                  "--expect-chunks", str(STREAM_CHUNKS), "--chunk-gap-ms", str(STREAM_GAP_MS),
                  "--timeout-s", "60"]
        direct = run_json([str(bins / "bench-sse"), "--url",
                           f"http://127.0.0.1:{port}/v1/chat/completions", *common])
        proxied = run_json([str(bins / "bench-sse"), "--url",
                            f"http://127.0.0.1:{ours_port}/v1/chat/completions",
                            "--key", arms_mod.OURS_KEY, *common])
        say(f"stream direct:  ttft p50 {direct['ttft_ms']['p50']} ms, gap p50 "
            f"{direct['gap_ms']['p50']} ms, ok {direct['ok']}/{direct['streams']}")
        say(f"stream gateway: ttft p50 {proxied['ttft_ms']['p50']} ms, gap p50 "
            f"{proxied['gap_ms']['p50']} ms, ok {proxied['ok']}/{proxied['streams']}, "
            f"stalls {proxied['stalls']}")
        if proxied["failed"] or proxied["ok"] != proxied["streams"]:
            problems.append(f"streams failed through the gateway: {proxied['failures']}")
        if proxied.get("content_sha256") != direct.get("content_sha256"):
            problems.append("streamed content differs from direct")
        added_ttft = proxied["ttft_ms"]["p50"] - direct["ttft_ms"]["p50"]
        if added_ttft >= 30:
            problems.append(f"first byte {added_ttft:.1f} ms later than direct (p50): a "
                            "delayed-ACK (40 ms) tail or buffering; check TCP_NODELAY and "
                            "per-event writes")
        if proxied["gap_ms"]["p50"] < STREAM_GAP_MS / 2:
            problems.append(f"inter-chunk gap p50 {proxied['gap_ms']['p50']} ms for a "
                            f"{STREAM_GAP_MS} ms paced stream: the gateway buffers the stream")
    finally:
        ours.stop()
        mock.stop()
    return problems


def redis_latency(bins: Path, work: Path) -> None:
    """Reports (not gated) the latency a Redis-backed limit adds: the same
    gateway, concurrency 1, model `bench-model` (a local limit) then
    `bench-redis` (a limit in Redis on loopback: one script call per
    request). Skipped with a note when redis-server is not installed."""
    import shutil
    if shutil.which("redis-server") is None:
        say("redis    latency not measured: redis-server not found (scripts/test-deps installs it)")
        return
    redis_port, mock_port, ours_port = free_port(), free_port(), free_port()
    redis = Proc("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                           "--save", "", "--appendonly", "no"], RIG_CPU, log=work / "redis.log")
    mock = Proc("mock-redis", [str(bins / "bench-mock"), "--listen", f"127.0.0.1:{mock_port}"],
                RIG_CPU, log=work / "mock-redis.log")
    ctx = arms_mod.Ctx(root=ROOT, work=work, tools=ROOT / "bench/.tools", bins=bins,
                       mock_port=mock_port)
    env = {**arms_mod.ours_env(ctx, ours_port),
           "GATEWAY_BENCH_REDIS_URL": f"redis://127.0.0.1:{redis_port}"}
    ours = Proc("ours-redis", [str(bins / "gateway")], SUT_CPU, env=env,
                log=work / "ours-redis.log")
    try:
        wait_ready(mock, mock_port, "/health", 20)
        wait_ready(ours, ours_port, "/health", 20)
        p50 = {}
        for model in (arms_mod.BODY_MODEL, arms_mod.REDIS_MODEL):
            report = run_json([str(bins / "bench-seq"), "--url",
                               f"http://127.0.0.1:{ours_port}/v1/chat/completions",
                               "--body", str(arms_mod.body_for_model(work, "s", model)),
                               "--key", arms_mod.OURS_KEY, "--requests", "2000",
                               "--warmup", "200"])
            p50[model] = report["latency_us"]["p50"]
        added = p50[arms_mod.REDIS_MODEL] - p50[arms_mod.BODY_MODEL]
        say(f"redis    latency p50 {p50[arms_mod.REDIS_MODEL]} us with a Redis limit vs "
            f"{p50[arms_mod.BODY_MODEL]} us local: {added:+.0f} us per request (loopback, "
            "one script call; not gated)")
    except Exception as error:  # reported, never fails the guard
        say(f"redis    latency not measured: {type(error).__name__}: {error}")
    finally:
        ours.stop()
        mock.stop()
        redis.stop()


def main(argv: list[str]) -> int:
    guard = json.loads((ROOT / "bench/guard.json").read_text())
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    bins = target / "release" if "--no-build" in argv else build(target)
    work = ROOT / "bench/.work/ci-guard"
    work.mkdir(parents=True, exist_ok=True)
    mock_port = free_port()
    mock = Proc("mock", [str(bins / "bench-mock"), "--listen", f"127.0.0.1:{mock_port}"],
                RIG_CPU, log=work / "mock.log")
    body = ROOT / "bench/bodies/s.json"
    results = {}
    try:
        wait_ready(mock, mock_port, "/health", 20)
        ctx = arms_mod.Ctx(root=ROOT, work=work, tools=ROOT / "bench/.tools", bins=bins,
                           mock_port=mock_port)
        for name in ("floor", "ours"):
            port = free_port()
            if name == "floor":
                argv_, env, key = ([str(bins / "bench-floor"), "--listen", f"127.0.0.1:{port}",
                                    "--upstream", ctx.mock_base], {}, None)
            else:
                argv_, env, key = [str(bins / "gateway")], arms_mod.ours_env(ctx, port), arms_mod.OURS_KEY
            also = ([("ours-pair", arms_mod.body_for_model(work, "s", arms_mod.PAIR_MODEL))]
                    if name == "ours" else [])
            results[name] = callgrind.measure(
                name, argv_, env, port, "/health", work, bins / "bench-seq",
                f"http://127.0.0.1:{port}/v1/chat/completions", body, key,
                requests=REQUESTS, warmup=WARMUP, also=also)
            say(f"{name:<6} {results[name]['per_request']:>8} instructions/request "
                f"({REQUESTS} requests, body S)")
        pair = results["ours"]["also"]["ours-pair"]
        if "failed" in pair:
            say(f"pair   not measured (model {arms_mod.PAIR_MODEL}; not gated): {pair['failed']}")
        else:
            pair_n, ours_n = pair["per_request"], results["ours"]["per_request"]
            say(f"pair   {pair_n:>8} instructions/request (model {arms_mod.PAIR_MODEL}, two "
                f"deployments, same process after ours; {(pair_n - ours_n) / ours_n * 100:+.1f}% "
                "vs ours; not gated)")
    finally:
        mock.stop()
    if results["floor"]["body_sha256"] != results["ours"]["body_sha256"]:
        say("error: the gateway's response body differs from the floor's (same mock)")
        return 1
    ratio = results["ours"]["per_request"] / results["floor"]["per_request"]
    bound = guard["max_ratio"]
    say(f"ratio ours / floor = {ratio:.3f} (bound {bound}, target {guard['target_ratio']})")
    failed = False
    if ratio > bound:
        say(f"error: instructions per request regressed: {ratio:.3f} x floor > {bound}; "
            "profile with `callgrind_annotate` on bench/.work/ci-guard/callgrind.ours.out.*")
        failed = True
    problems = streaming_smoke(bins, work)
    redis_latency(bins, work)
    for problem in problems:
        say(f"error: {problem}")
    if failed or problems:
        return 1
    say("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
