"""The figures: one function per figure, each bounded in count and time,
each returning plain dicts for the JSON report.

Load tools run on the rig core; CPU and memory are read from /proc for the
arm's processes only (the mock and the client are not counted).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

from arms import Ctx, Running
from proc import RIG_CPU, Canary, http_post, make_realtime, run_json

BODIES = ["s", "m", "l", "xl", "t"]
# Arms that mint a fresh id per response: their bodies are compared by content
# (the correctness step), not byte for byte.
VARYING_BODIES = {"tensorzero", "litellm", "crabllm"}


def body_path(ctx: Ctx, name: str, run: Running | None = None) -> Path:
    """The request body `name`; rewritten once per arm whose model name differs."""
    path = ctx.root / "bench/bodies" / f"{name}.json"
    if run is None or run.model == "bench-model":
        return path
    doc = json.loads(path.read_text())
    doc["model"] = run.model
    rewritten = ctx.work / f"body-{run.arm}-{name}.json"
    rewritten.write_text(json.dumps(doc))
    return rewritten


def _content(payload: bytes) -> tuple:
    """What a client reads from a completion; compared across arms."""
    doc = json.loads(payload)
    choice = doc["choices"][0]
    return (choice["message"]["content"], choice.get("finish_reason"),
            doc.get("usage", {}).get("total_tokens"))


def correctness(ctx: Ctx, run: Running, reference: dict | None) -> dict:
    """One request per body and one stream: all 200 and equal in content to direct."""
    problems, seen = [], {}
    for name in BODIES:
        try:
            status, payload = http_post(run.port, run.chat_path,
                                        body_path(ctx, name, run).read_bytes(), run.headers)
        except OSError as error:
            problems.append(f"{name}: {error}")
            continue
        if status != 200:
            problems.append(f"{name}: status {status}: {payload[:200]!r}")
            continue
        try:
            seen[name] = list(_content(payload))
        except (ValueError, KeyError, IndexError) as error:
            problems.append(f"{name}: not a chat completion ({error})")
            continue
        if reference and reference.get(name) != seen[name]:
            problems.append(f"{name}: content differs from direct: {seen[name]} != {reference.get(name)}")
    stream = sse(ctx, run, streams=2, concurrency=1)
    seen["stream_sha256"] = stream.get("content_sha256")
    if stream.get("failed", 1) or stream.get("ok") != 2:
        problems.append(f"stream: {stream.get('failures') or stream}")
    elif reference and reference.get("stream_sha256") != seen["stream_sha256"]:
        problems.append("stream: content differs from direct")
    return {"ok": not problems, "problems": problems, "content": seen}


def seq(ctx: Ctx, run: Running, body: str, requests: int, warmup: int = 100,
        timeout: float = 120) -> dict:
    argv = [str(ctx.bins / "bench-seq"), "--url", run.url, "--body", str(body_path(ctx, body, run)),
            "--requests", str(requests), "--warmup", str(warmup)]
    if run.key:
        argv += ["--key", run.key]
    if run.arm in VARYING_BODIES:
        argv += ["--same-body", "no"]
    return run_json(argv, timeout=timeout)


def oha(ctx: Ctx, run: Running, body: str, extra: list[str], timeout: float) -> dict:
    """Runs oha against the arm, counting the arm's CPU over the run."""
    argv = [str(ctx.tools / "bin/oha"), "--no-tui", "--output-format", "json",
            "-m", "POST", "-T", "application/json", "-D", str(body_path(ctx, body, run)), *extra]
    for k, v in run.headers.items():
        argv += ["-H", f"{k}: {v}"]
    argv.append(run.url)
    cpu0 = run.proc.cpu_seconds() if run.proc else 0.0
    report = run_json(argv, cpu=RIG_CPU, timeout=timeout)
    cpu = (run.proc.cpu_seconds() if run.proc else 0.0) - cpu0
    statuses = report.get("statusCodeDistribution", {})
    ok = int(statuses.get("200", 0))
    total = sum(int(v) for v in statuses.values()) + len(report.get("errorDistribution", {}))
    summary = report.get("summary", {})
    pct = report.get("latencyPercentiles", {})
    return {
        "rps": summary.get("requestsPerSec"),
        "ok": ok,
        "non_200": total - ok,
        "errors": report.get("errorDistribution", {}),
        "statuses": statuses,
        "cpu_s": round(cpu, 3),
        "cpu_us_per_req": round(cpu / ok * 1e6, 2) if ok else None,
        "p50_ms": _ms(pct.get("p50")),
        "p99_ms": _ms(pct.get("p99")),
        "p999_ms": _ms(pct.get("p99.9")),
    }


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000, 4)


def saturation(ctx: Ctx, run: Running, body: str = "s", seconds: int = 10,
               concurrency: int = 32) -> dict:
    return oha(ctx, run, body, ["-c", str(concurrency), "-z", f"{seconds}s"], seconds + 60)


def fixed_rate(ctx: Ctx, run: Running, rate: int, seconds: int = 10) -> dict:
    """Open loop at `rate` req/s with latency correction (coordinated omission)."""
    result = oha(ctx, run, "s", ["-c", "64", "-q", str(rate), "-z", f"{seconds}s",
                                 "--latency-correction"], seconds + 60)
    result["rate"] = rate
    return result


def sse(ctx: Ctx, run: Running, streams: int, concurrency: int, timeout_s: int = 120,
        chunks: int = 20, gap_ms: int = 10, realtime: bool = False,
        timeline: Path | None = None) -> dict:
    argv = [str(ctx.bins / "bench-sse"), "--url", run.url,
            "--body", str(body_path(ctx, "s-stream", run)), "--streams", str(streams),
            "--concurrency", str(concurrency), "--expect-chunks", str(chunks),
            "--chunk-gap-ms", str(gap_ms), "--timeout-s", str(timeout_s)]
    if run.key:
        argv += ["--key", run.key]
    if timeline:
        argv += ["--timeline", str(timeline)]
    return run_json(argv, timeout=timeout_s + 30, realtime=realtime)


def sse_with_rss(ctx: Ctx, run: Running, concurrency: int, gap_ms: int,
                 timeline: Path | None = None) -> dict:
    """`concurrency` simultaneous streams, the arm and the client at real-time
    priority (proc.RT_PRIORITY; the mock is started so); the arm's peak RSS is
    its VmHWM, reset just before (and sampled every 20 ms as a cross-check
    where the kernel cannot reset it)."""
    exact, realtime = False, None
    if run.proc:
        realtime = make_realtime(run.proc.pids())
        exact = run.proc.reset_hwm()
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            if run.proc:
                peak[0] = max(peak[0], run.proc.rss_kib())
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    canary = Canary()
    started = time.monotonic()
    kept = timeline is not None
    timeline = timeline or ctx.work / f"timeline-{run.arm}-{concurrency}.tmp.csv"
    try:
        result = sse(ctx, run, streams=concurrency, concurrency=concurrency, timeout_s=90,
                     gap_ms=gap_ms, realtime=True, timeline=timeline)
    finally:
        done.set()
        sampler.join(timeout=2)
        pauses = canary.stop(started)
    # Stalls while a core was taken from all of us are the machine's, not the
    # arm's: kept in the figure, counted apart (see proc.Canary).
    result["machine_pauses"] = pauses
    result["stalls_in_machine_pauses"] = stalls_in_pauses(
        timeline, pauses, result.get("stall_threshold_ms") or 0)
    if not kept:
        timeline.unlink(missing_ok=True)
    if run.proc and exact:
        peak[0] = max(peak[0], run.proc.hwm_kib())
    result["rss_peak_kib"] = peak[0]
    result["rss_peak_exact"] = exact
    result["arm_realtime"] = realtime
    result["concurrency"] = concurrency
    return result


def stalls_in_pauses(timeline: Path, pauses: list[dict], threshold_ms: float) -> int:
    """Stalls (gaps over `threshold_ms`, from a bench-sse --timeline) that
    overlap a machine pause (times from the figure's start; the client starts
    a few ms after it, which the overlap test tolerates by padding 20 ms)."""
    if not pauses or not threshold_ms or not timeline.exists():
        return 0
    windows = [(p["at_s"] * 1000 - 20, p["at_s"] * 1000 + p["ms"] + 20) for p in pauses]
    last: dict[str, float] = {}
    count = 0
    with open(timeline) as rows:
        next(rows, None)
        for row in rows:
            stream, _delta, _sent, at = row.rstrip().split(",")
            now = float(at)
            before = last.get(stream)
            last[stream] = now
            if before is not None and now - before > threshold_ms:
                count += any(lo <= now and before <= hi for lo, hi in windows)
    return count


def idle_connections(ctx: Ctx, run: Running, count: int = 1000) -> dict:
    """RSS of the arm while `count` keep-alive connections sit idle on it."""
    health = {"litellm": "/health/liveliness", "tensorzero": "/openai/v1/models"}.get(
        run.arm, "/health")
    argv = ["taskset", "-c", RIG_CPU, str(ctx.bins / "bench-idle"),
            "--url", f"http://127.0.0.1:{run.port}{health}",
            "--connections", str(count), "--hold-s", "60"]
    if run.key:
        argv += ["--key", run.key]
    holder = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        line = b""
        deadline = time.monotonic() + 60
        while b"holding" not in line and time.monotonic() < deadline:
            line = holder.stdout.readline()
            if not line:
                break
        if b"holding" not in line:
            return {"ok": False, "error": holder.stderr.read(600).decode(errors="replace")}
        time.sleep(0.5)
        rss = run.proc.rss_kib() if run.proc else 0
        return {"ok": True, "connections": count, "rss_kib": rss}
    finally:
        holder.stdin.close()
        try:
            holder.wait(timeout=10)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait(timeout=5)
