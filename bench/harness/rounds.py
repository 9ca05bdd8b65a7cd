"""One round: every arm in turn, every wall-clock figure, ratios computed
against the floor and nginx of the same round.

An arm that fails to start or errors is recorded as failed with its reason,
never as fast, and the round goes on.
"""

from __future__ import annotations

import time
import traceback

import arms as arms_mod
import measure
from arms import Ctx

SAT_SECONDS = 8
BODY_SAT_SECONDS = 3
FIXED_RATE = 1000
STREAM_CONCURRENCY = [64, 256, 1024]
SLOW_GAP_MS = 50


def seq_requests_for(latency_ms: float, budget_s: float = 4.0, cap: int = 10000) -> int:
    return max(50, min(cap, int(budget_s * 1000 / max(latency_ms, 0.01))))


def run_arm(ctx: Ctx, slow_ctx: Ctx, arm: str, reference: dict | None, last_round: bool,
            quick: bool) -> dict:
    fig: dict = {"arm": arm}
    run = None
    try:
        run = arms_mod.start(arm, ctx)
        fig["config"] = run.config_text
        fig["startup_ms"] = round(run.startup_s * 1000, 2) if run.startup_s is not None else None
        if run.proc:
            fig["rss_idle_kib"] = run.proc.rss_kib()
        fig["correctness"] = measure.correctness(ctx, run, reference)
        if not fig["correctness"]["ok"]:
            fig["failed"] = "correctness: " + "; ".join(fig["correctness"]["problems"][:3])
            return fig
        probe = measure.seq(ctx, run, "s", requests=20, warmup=20)
        if probe.get("failed"):
            fig["failed"] = f"sequential requests failed: {probe.get('failures')}"
            return fig
        if run.proc:
            fig["rss_warm_kib"] = run.proc.rss_kib()
        n = seq_requests_for(probe["latency_us"]["p50"] / 1000, 2.0 if quick else 5.0)
        fig["c1"] = measure.seq(ctx, run, "s", requests=n, warmup=100)
        fig["saturation"] = {"s": measure.saturation(ctx, run, "s", 3 if quick else SAT_SECONDS)}
        if run.proc:
            fig["rss_peak_kib"] = run.proc.hwm_kib()
        for body in ([] if quick else ["m", "l", "xl", "t"]):
            fig["saturation"][body] = measure.saturation(ctx, run, body, BODY_SAT_SECONDS)
        sat_rps = fig["saturation"]["s"]["rps"] or 0
        if sat_rps >= FIXED_RATE * 1.2:
            fig["fixed_rate"] = measure.fixed_rate(ctx, run, FIXED_RATE, 3 if quick else 10)
        else:
            fig["fixed_rate"] = {"rate": FIXED_RATE, "skipped":
                                 f"saturation is {sat_rps:.0f} req/s, below {FIXED_RATE * 1.2:.0f}"}
        fig["sse"] = measure.sse(ctx, run, streams=20 if quick else 60, concurrency=2)
        if run.proc:
            fig["idle_1000"] = measure.idle_connections(ctx, run, 1000)
            fig["rss_hwm_kib"] = run.proc.hwm_kib()
            if last_round:
                time.sleep(2 if quick else 10)
                fig["rss_after_load_kib"] = run.proc.rss_kib()
        # Many concurrent streams run against a second mock pacing 50 ms gaps:
        # 1,024 streams at 10 ms would be 100k events/s, which the rig core
        # cannot generate (measured: the mock alone falls behind).
        run.stop()
        run = arms_mod.start(arm, slow_ctx)
        fig["streams"] = streams_figures(slow_ctx, run, STREAM_CONCURRENCY[:1] if quick
                                         else STREAM_CONCURRENCY)
    except Exception as error:  # an arm's failure is data, not a crash of the run
        fig["failed"] = f"{type(error).__name__}: {error}"
        fig["traceback"] = traceback.format_exc(limit=4)
        if run and run.proc:
            fig["log_tail"] = run.proc.log_tail()
    finally:
        if run:
            run.stop()
    return fig


def streams_figures(slow_ctx: Ctx, run, concurrencies: list[int],
                    timeline_prefix: str = "") -> list[dict]:
    """The many-streams figures on a freshly started arm, in order (64, 256,
    1,024: the pool of upstream connections grows from one to the next)."""
    figures = []
    for c in concurrencies:
        timeline = (slow_ctx.work / f"{timeline_prefix}-{c}.csv") if timeline_prefix else None
        fig = measure.sse_with_rss(slow_ctx, run, c, gap_ms=SLOW_GAP_MS, timeline=timeline)
        if run.proc:
            fig["rss_after_kib"] = run.proc.rss_kib()
        figures.append(fig)
    return figures


def run_streams_round(slow_ctx: Ctx, arm_names: list[str], index: int, log) -> dict:
    """`bench/run --only streams`: the many-streams figures alone, each arm
    started fresh; per-delta timelines (bench-sse --timeline) kept in the work
    dir for finding where stalls happen."""
    results: dict = {}
    for arm in arm_names:
        started = time.monotonic()
        run = None
        try:
            run = arms_mod.start(arm, slow_ctx)
            results[arm] = {"arm": arm, "config": run.config_text,
                            "rss_idle_kib": run.proc.rss_kib() if run.proc else None,
                            "streams": streams_figures(slow_ctx, run, STREAM_CONCURRENCY,
                                                       f"timeline-{index}-{arm}")}
        except Exception as error:  # an arm's failure is data, not a crash of the run
            results[arm] = {"arm": arm, "failed": f"{type(error).__name__}: {error}"}
        finally:
            if run:
                run.stop()
        figs = results[arm].get("streams", [])
        log(f"streams round {index}: {arm:<10} {time.monotonic() - started:5.1f}s  " + "  ".join(
            f"{f.get('concurrency')}: stalls {f.get('stalls')} failed {f.get('failed')} "
            f"RSS {f.get('rss_peak_kib', 0) / 1024:.1f} MiB" for f in figs)
            + f"  {results[arm].get('failed', '')}")
    return results


def run_round(ctx: Ctx, slow_ctx: Ctx, arm_names: list[str], index: int, last: bool, quick: bool,
              log) -> dict:
    results: dict = {}
    reference = None
    for arm in arm_names:
        started = time.monotonic()
        fig = run_arm(ctx, slow_ctx, arm, reference, last, quick)
        if arm == "direct" and "failed" not in fig:
            reference = fig["correctness"]["content"]
        results[arm] = fig
        status = fig.get("failed", "ok")
        sat = fig.get("saturation", {}).get("s", {}).get("rps")
        log(f"round {index}: {arm:<10} {time.monotonic() - started:6.1f}s  "
            f"sat={sat and round(sat)} req/s  {status}")
    return results
