"""The soak figure: does a long-lived process's memory level off?

One process of the arm, started once, in front of the 50 ms-gap mock (its
non-streaming answers are immediate, so one upstream serves both phases):

1. requests: 1,000,000 non-streaming requests (body S) in batches of 100,000
   (`oha -n 100000 -c 32`, new connections each batch), the arm's RSS after
   each batch;
2. streams: 8 rounds of 1,024 concurrent streams (bench-sse, exactly as the
   1,024-stream figure: 20 deltas 50 ms apart), each round's peak RSS (VmHWM
   reset before the round) and the RSS 2 s after it (pooled upstream
   connections still open: the steady state a next burst starts from).

Levels off (../shared/perf-method.md: "last round within 2% of the one
before"): the last sample of a series within LEVEL_TOLERANCE of the sample
before it. Reported for the requests series, the after-round series and the
peak series; the soak levels off when all three do. Every stream round also
reports its failures and stalls (a stall is a gap > 100 ms, bench-sse).

The request phase runs at normal priority (only RSS is read from it); the
stream rounds run at real-time priority like the streams figure (proc.py).
"""

from __future__ import annotations

import time

import arms as arms_mod
import measure
from arms import Ctx

REQUESTS = 1_000_000
BATCH = 100_000
STREAM_ROUNDS = 8
STREAMS = 1024
SETTLE_S = 2.0
LEVEL_TOLERANCE = 0.02
PEAK_TARGET_MIB = 48.0


def levels_off(series: list[float], tolerance: float = LEVEL_TOLERANCE) -> bool | None:
    """The last value within `tolerance` (relative) of the one before; None if < 2 values."""
    if len(series) < 2 or not series[-2]:
        return None
    return abs(series[-1] - series[-2]) <= tolerance * series[-2]


def soak(ctx: Ctx, arm: str, gap_ms: int, log, requests: int = REQUESTS, batch: int = BATCH,
         stream_rounds: int = STREAM_ROUNDS, streams: int = STREAMS) -> dict:
    """The soak of one arm against the mock in `ctx` (the 50 ms-gap one)."""
    out: dict = {"arm": arm, "requests": requests, "batch": batch,
                 "stream_rounds": stream_rounds, "streams": streams, "gap_ms": gap_ms}
    run = arms_mod.start(arm, ctx)
    try:
        if not run.proc:
            raise RuntimeError(f"{arm} has no process to measure")
        out["rss_start_kib"] = run.proc.rss_kib()
        started = time.monotonic()
        batches = []
        done = 0
        while done < requests:
            n = min(batch, requests - done)
            result = measure.oha(ctx, run, "s", ["-n", str(n), "-c", "32"], timeout=600)
            done += n
            batches.append({"requests": done, "rss_kib": run.proc.rss_kib(),
                            "ok": result["ok"], "non_200": result["non_200"],
                            "errors": result["errors"], "rps": result["rps"],
                            "cpu_us_per_req": result["cpu_us_per_req"]})
        out["request_batches"] = batches
        out["request_s"] = round(time.monotonic() - started, 1)
        out["rss_after_requests_kib"] = run.proc.rss_kib()
        out["rss_hwm_requests_kib"] = run.proc.hwm_kib()
        log(f"soak: {arm}: {done} requests in {out['request_s']} s, RSS "
            + " ".join(f"{b['rss_kib'] / 1024:.1f}" for b in batches) + " MiB")
        rounds = []
        for index in range(stream_rounds):
            fig = measure.sse_with_rss(ctx, run, streams, gap_ms=gap_ms)
            time.sleep(SETTLE_S)
            rounds.append({"round": index + 1, "ok": fig.get("ok"), "failed": fig.get("failed"),
                           "failures": fig.get("failures", [])[:3], "stalls": fig.get("stalls"),
                           "stalled_streams": fig.get("stalled_streams"),
                           "stalls_in_machine_pauses": fig.get("stalls_in_machine_pauses", 0),
                           "machine_pauses": fig.get("machine_pauses", []),
                           "stall_examples": fig.get("stall_examples", [])[:3],
                           "ttft_p99_ms": measure_get(fig, "ttft_ms", "p99"),
                           "gap_max_ms": measure_get(fig, "gap_ms", "max"),
                           "rss_peak_kib": fig.get("rss_peak_kib"),
                           "rss_after_kib": run.proc.rss_kib()})
        out["stream_rounds_figures"] = rounds
        log(f"soak: {arm}: {stream_rounds} rounds of {streams} streams, peak "
            + " ".join(f"{r['rss_peak_kib'] / 1024:.1f}" for r in rounds) + " MiB, after "
            + " ".join(f"{r['rss_after_kib'] / 1024:.1f}" for r in rounds) + " MiB, stalls "
            + " ".join(str(r["stalls"]) for r in rounds))
    except Exception as error:  # the soak of one arm failing is data
        out["failed"] = f"{type(error).__name__}: {error}"
        if run.proc:
            out["log_tail"] = run.proc.log_tail()
    finally:
        run.stop()
    out["verdict"] = verdict(out)
    return out


def measure_get(d: dict, *path):
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def verdict(out: dict) -> dict:
    """Levels off / peak target / clean streams, from the raw series."""
    mib = [b["rss_kib"] / 1024 for b in out.get("request_batches", [])]
    rounds = out.get("stream_rounds_figures", [])
    after = [r["rss_after_kib"] / 1024 for r in rounds]
    peak = [r["rss_peak_kib"] / 1024 for r in rounds if r.get("rss_peak_kib")]
    v = {
        "requests_rss_mib": [round(x, 1) for x in mib],
        "rounds_after_mib": [round(x, 1) for x in after],
        "rounds_peak_mib": [round(x, 1) for x in peak],
        "requests_level_off": levels_off(mib),
        "after_level_off": levels_off(after),
        "peak_level_off": levels_off(peak),
        "peak_max_mib": round(max(peak), 1) if peak else None,
        "non_200": sum(b.get("non_200", 0) for b in out.get("request_batches", [])),
        "stream_failures": sum(r.get("failed") or 0 for r in rounds),
        "stalls": sum(r.get("stalls") or 0 for r in rounds),
        "stalls_in_machine_pauses": sum(r.get("stalls_in_machine_pauses") or 0 for r in rounds),
    }
    v["peak_meets_target"] = None if v["peak_max_mib"] is None else v["peak_max_mib"] <= PEAK_TARGET_MIB
    flags = [v["requests_level_off"], v["after_level_off"], v["peak_level_off"]]
    v["levels_off"] = None if "failed" in out or None in flags else all(flags)
    return v
