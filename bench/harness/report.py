"""The report: per-round figures reduced to medians, ratios to the floor and
to nginx taken within each round, the targets of ../shared/perf-method.md
stated as met or missed, written as bench/results/<date>.json, a Markdown
table next to it, and BENCHMARKS.md (with bench/findings.md, the hand-written
analysis, included verbatim).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

MIB = 1024
RIG_LIMIT = 0.70


def get(d: dict, *path, default=None):
    for key in path:
        if isinstance(d, dict) and key in d:
            d = d[key]
        elif isinstance(d, list) and isinstance(key, int) and key < len(d):
            d = d[key]
        else:
            return default
    return d


def median(values):
    values = [v for v in values if isinstance(v, (int, float))]
    return round(statistics.median(values), 4) if values else None


def per_round(results: dict, arm: str, *path):
    return [get(r, arm, *path) for r in results["rounds"] if "failed" not in r.get(arm, {"failed": 1})]


def added(results: dict, arm: str, *path):
    """Median over rounds of (arm - direct) for the same round."""
    diffs = []
    for r in results["rounds"]:
        a, d = get(r, arm, *path), get(r, "direct", *path)
        if isinstance(a, (int, float)) and isinstance(d, (int, float)) and "failed" not in r.get(arm, {}):
            diffs.append(a - d)
    return median(diffs)


def ratio(results: dict, arm: str, base: str, *path):
    vals = []
    for r in results["rounds"]:
        a, b = get(r, arm, *path), get(r, base, *path)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
            if "failed" not in r.get(arm, {}) and "failed" not in r.get(base, {}):
                vals.append(a / b)
    return median(vals)


def summarize(results: dict) -> dict:
    arms = list(results["rounds"][0].keys()) if results["rounds"] else []
    summary: dict = {}
    for arm in arms:
        failures = [r[arm]["failed"] for r in results["rounds"] if "failed" in r.get(arm, {})]
        s: dict = {"failed_rounds": len(failures), "failures": failures[:3]}
        s["sat_rps"] = median(per_round(results, arm, "saturation", "s", "rps"))
        s["sat_rps_to_floor"] = ratio(results, arm, "floor", "saturation", "s", "rps")
        s["sat_rps_to_nginx"] = ratio(results, arm, "nginx", "saturation", "s", "rps")
        s["cpu_us_per_req"] = median(per_round(results, arm, "saturation", "s", "cpu_us_per_req"))
        s["cpu_to_floor"] = ratio(results, arm, "floor", "saturation", "s", "cpu_us_per_req")
        s["cpu_to_nginx"] = ratio(results, arm, "nginx", "saturation", "s", "cpu_us_per_req")
        direct = median(per_round(results, "direct", "saturation", "s", "rps"))
        s["rig_limited"] = bool(arm != "direct" and s["sat_rps"] and direct
                                and s["sat_rps"] >= RIG_LIMIT * direct)
        for body in ["m", "l", "xl", "t"]:
            s[f"sat_rps_{body}"] = median(per_round(results, arm, "saturation", body, "rps"))
            s[f"cpu_us_per_req_{body}"] = median(per_round(results, arm, "saturation", body,
                                                           "cpu_us_per_req"))
            s[f"sat_rps_{body}_to_floor"] = ratio(results, arm, "floor", "saturation", body, "rps")
        s["c1_p50_us"] = median(per_round(results, arm, "c1", "latency_us", "p50"))
        s["c1_p99_us"] = median(per_round(results, arm, "c1", "latency_us", "p99"))
        s["c1_added_p50_us"] = added(results, arm, "c1", "latency_us", "p50")
        s["c1_added_p99_us"] = added(results, arm, "c1", "latency_us", "p99")
        s["rate1k_added_p50_ms"] = added(results, arm, "fixed_rate", "p50_ms")
        s["rate1k_added_p99_ms"] = added(results, arm, "fixed_rate", "p99_ms")
        s["rate1k_skipped"] = get(results["rounds"][0], arm, "fixed_rate", "skipped")
        s["ttft_p50_ms"] = median(per_round(results, arm, "sse", "ttft_ms", "p50"))
        s["ttft_added_p50_ms"] = added(results, arm, "sse", "ttft_ms", "p50")
        s["ttft_added_p99_ms"] = added(results, arm, "sse", "ttft_ms", "p99")
        s["ttft_max_ms"] = max([v for v in per_round(results, arm, "sse", "ttft_ms", "max")
                                if isinstance(v, (int, float))], default=None)
        s["gap_added_p50_ms"] = added(results, arm, "sse", "gap_ms", "p50")
        s["gap_max_ms"] = max([v for v in per_round(results, arm, "sse", "gap_ms", "max")
                               if isinstance(v, (int, float))], default=None)
        for i, c in enumerate([64, 256, 1024]):
            s[f"streams_{c}_failed"] = median(per_round(results, arm, "streams", i, "failed"))
            # Stalls: the most in any round (one stalled round is a finding, not noise to median away).
            s[f"streams_{c}_stalls"] = max([v for v in per_round(results, arm, "streams", i, "stalls")
                                            if isinstance(v, (int, float))], default=None)
            s[f"streams_{c}_rss_mib"] = _mib(median(per_round(results, arm, "streams", i,
                                                              "rss_peak_kib")))
            s[f"streams_{c}_ttft_p99_ms"] = median(per_round(results, arm, "streams", i,
                                                             "ttft_ms", "p99"))
        s["rss_idle_mib"] = _mib(median(per_round(results, arm, "rss_idle_kib")))
        s["rss_warm_mib"] = _mib(median(per_round(results, arm, "rss_warm_kib")))
        s["rss_peak_sat_mib"] = _mib(median(per_round(results, arm, "rss_peak_kib")))
        s["rss_hwm_mib"] = _mib(median(per_round(results, arm, "rss_hwm_kib")))
        s["rss_idle_1000_mib"] = _mib(median(per_round(results, arm, "idle_1000", "rss_kib")))
        s["rss_after_load_mib"] = _mib(median(per_round(results, arm, "rss_after_load_kib")))
        s["startup_ms"] = median(per_round(results, arm, "startup_ms"))
        cg = results.get("callgrind", {}).get(arm, {})
        s["instructions_per_req"] = cg.get("per_request")
        floor_cg = get(results, "callgrind", "floor", "per_request")
        nginx_cg = get(results, "callgrind", "nginx", "per_request")
        if s["instructions_per_req"] and floor_cg:
            s["instructions_to_floor"] = round(s["instructions_per_req"] / floor_cg, 3)
        if s["instructions_per_req"] and nginx_cg:
            s["instructions_to_nginx"] = round(s["instructions_per_req"] / nginx_cg, 3)
        summary[arm] = s
    return summary


def _mib(kib):
    return None if kib is None else round(kib / MIB, 1)


def targets(results: dict, summary: dict, partial: dict | None = None) -> list[dict]:
    """The perf-method targets for ours. `partial` holds the newest `--only`
    runs ({"streams": results, "soak": results, "callgrind": results}) newer
    than this full run; their figures replace the full run's, the row naming
    the run they are from."""
    partial = partial or {}
    ours = summary.get("ours", {})
    cg = results.get("callgrind", {})
    cg_note = ""
    if get(partial, "callgrind", "callgrind"):
        cg = partial["callgrind"]["callgrind"]
        cg_note = f"run {partial['callgrind']['started']}"
    build = results.get("build", {})
    rows = []

    def row(name, target, value, met, note=""):
        rows.append({"figure": name, "target": target, "value": value,
                     "met": None if met is None else bool(met), "note": note})

    r = ours.get("sat_rps_to_floor")
    row("saturation req/s on one core", ">= 0.75 x hyper floor", r and f"{r:.2f} x floor",
        None if r is None else r >= 0.75,
        "rig-limited" if ours.get("rig_limited") else "")
    ours_cg, floor_cg = get(cg, "ours", "per_request"), get(cg, "floor", "per_request")
    i = round(ours_cg / floor_cg, 3) if ours_cg and floor_cg else None
    row("instructions per request (auth, team ACL, local limit, metrics on; body S)", "<= 1.5 x hyper floor",
        i and f"{i:.2f} x floor ({ours_cg} vs {floor_cg})", None if i is None else i <= 1.5,
        cg_note)
    v = ours.get("c1_added_p99_us")
    row("added p99 at concurrency 1", "<= 100 us", v is not None and f"{v:.0f} us",
        None if v is None else v <= 100)
    p50, p99 = ours.get("rate1k_added_p50_ms"), ours.get("rate1k_added_p99_ms")
    row("added p50 / p99 at 1,000 req/s", "<= 0.10 / 0.30 ms",
        p50 is not None and f"{p50:.3f} / {p99:.3f} ms",
        None if p50 is None or p99 is None else (p50 <= 0.10 and p99 <= 0.30))
    t, tmax = ours.get("ttft_added_p50_ms"), ours.get("ttft_max_ms")
    row("added TTFT p50, no 40 ms tail", "<= 0.15 ms, max < 40 ms",
        t is not None and f"{t:.3f} ms (max TTFT {tmax} ms)",
        None if t is None else (t <= 0.15 and (tmax or 0) < 40))
    idle, peak = ours.get("rss_idle_mib"), ours.get("streams_1024_rss_mib")
    stalls = [ours.get(f"streams_{c}_stalls") for c in (64, 256, 1024)]
    failed = [ours.get(f"streams_{c}_failed") for c in (64, 256, 1024)]
    note = ""
    if partial.get("streams"):
        alone = streams_summary(partial["streams"]).get("ours", {})
        if alone:
            peak = alone.get(1024, {}).get("rss_peak_mib")
            # The arm's own stalls: those in a machine pause (proc.Canary) are the VM's.
            stalls = [alone.get(c, {}).get("arm_stalls_max") for c in (64, 256, 1024)]
            failed = [alone.get(c, {}).get("failed_max") for c in (64, 256, 1024)]
            note = f"peak and stalls from run {partial['streams']['started']}"
    row("RSS idle / peak with 1,024 concurrent streams", "<= 10 MiB / <= 48 MiB",
        idle is not None and f"{idle} / {peak} MiB",
        None if idle is None or peak is None else (idle <= 10 and peak <= 48), note)
    known = [v for v in stalls + failed if v is not None]
    row("streams: stalls (outside machine pauses) and failures at 64 / 256 / 1,024", "0",
        known and ("stalls " + " / ".join(_fmt("{:.0f}", v) for v in stalls)
                   + ", failed " + " / ".join(_fmt("{:.0f}", v) for v in failed)),
        None if len(known) < len(stalls + failed) else not any(known), note)
    soaked = (partial.get("soak") or results).get("soak", {}).get("ours")
    if soaked:
        v = soaked.get("verdict", {})
        value = (f"requests {_series(v.get('requests_rss_mib'))}; after rounds "
                 f"{_series(v.get('rounds_after_mib'))}; peaks {_series(v.get('rounds_peak_mib'))} MiB; "
                 f"stalls {v.get('stalls')} ({v.get('stalls_in_machine_pauses', 0)} in machine pauses)")
        note = f"run {partial['soak']['started']}" if partial.get("soak") else ""
        row(f"soak: {soaked['requests']:,} requests, then {soaked['stream_rounds']} rounds of "
            f"{soaked['streams']:,} streams", "RSS levels off (each series: last within 2% of "
            "the one before)", value, v.get("levels_off"), note)
        row("soak: peak RSS over its rounds of 1,024 streams", "<= 48 MiB",
            v.get("peak_max_mib") is not None and f"{v['peak_max_mib']} MiB",
            v.get("peak_meets_target"), note)
    else:
        row("soak: 1,000,000 requests, then rounds of 1,024 streams",
            "RSS levels off (each series: last within 2% of the one before)", None, None)
        row("soak: peak RSS over its rounds of 1,024 streams", "<= 48 MiB", None, None)
    s = ours.get("startup_ms")
    row("startup to ready", "<= 20 ms", s is not None and f"{s:.1f} ms",
        None if s is None else s <= 20)
    b = build.get("binary_bytes")
    row("stripped binary", "<= 12 MB", b and f"{b / 1e6:.2f} MB", None if not b else b <= 12e6)
    m10, m10k = get(cg, "ours-models-10", "per_request"), get(cg, "ours-models-10000", "per_request")
    if m10 and m10k:
        delta = (m10k - m10) / m10
        row("routing cost, 10 vs 10,000 models", "instructions/request within 5%",
            f"{m10} vs {m10k} ({delta * 100:+.1f}%)", abs(delta) <= 0.05, cg_note)
    else:
        row("routing cost, 10 vs 10,000 models", "instructions/request within 5%", None, None)
    pair = get(cg, "ours-pair", "per_request")
    if pair and ours_cg:
        delta = (pair - ours_cg) / ours_cg
        row("two deployments vs one (balancing + breaker)", "instructions/request within 3%",
            f"{pair} vs {ours_cg} ({delta * 100:+.1f}%)", abs(delta) <= 0.03, cg_note)
    else:
        row("two deployments vs one (balancing + breaker)", "instructions/request within 3%",
            None, None)
    return rows


COLUMNS = [
    ("sat req/s (S)", "sat_rps", "{:.0f}"),
    ("x floor", "sat_rps_to_floor", "{:.2f}"),
    ("x nginx", "sat_rps_to_nginx", "{:.2f}"),
    ("CPU us/req", "cpu_us_per_req", "{:.1f}"),
    ("CPU x floor", "cpu_to_floor", "{:.2f}"),
    ("instr/req", "instructions_per_req", "{}"),
    ("instr x floor", "instructions_to_floor", "{:.2f}"),
    ("c1 added p50 us", "c1_added_p50_us", "{:.0f}"),
    ("c1 added p99 us", "c1_added_p99_us", "{:.0f}"),
    ("1k/s added p50 ms", "rate1k_added_p50_ms", "{:.3f}"),
    ("1k/s added p99 ms", "rate1k_added_p99_ms", "{:.3f}"),
    ("TTFT added p50 ms", "ttft_added_p50_ms", "{:.3f}"),
    ("gap added p50 ms", "gap_added_p50_ms", "{:.3f}"),
    ("RSS idle MiB", "rss_idle_mib", "{}"),
    ("RSS peak sat MiB", "rss_peak_sat_mib", "{}"),
    ("RSS 1k idle conns MiB", "rss_idle_1000_mib", "{}"),
    ("RSS after load MiB", "rss_after_load_mib", "{}"),
    ("startup ms", "startup_ms", "{:.1f}"),
]

STREAM_COLUMNS = [
    (f"{c} streams: failed / stalls (most in a round) / RSS MiB / TTFT p99 ms", c)
    for c in (64, 256, 1024)
]

BODY_COLUMNS = [(f"sat req/s {b.upper()} (x floor)", b) for b in ["m", "l", "xl", "t"]]


def _series(values) -> str:
    if not values:
        return "-"
    if len(values) <= 4:
        return " -> ".join(f"{v}" for v in values)
    return f"{values[0]} -> {values[1]} ... {values[-2]} -> {values[-1]}"


def streams_summary(run: dict) -> dict:
    """{arm: {concurrency: figures}} over the rounds of a `--only streams` run."""
    out: dict = {}
    for r in run.get("streams_rounds", []):
        for arm, fig in r.items():
            for f in fig.get("streams", []):
                slot = out.setdefault(arm, {}).setdefault(f.get("concurrency"), [])
                slot.append(f)
    summary: dict = {}
    for arm, by_c in out.items():
        for c, figs in by_c.items():
            def values(*path):
                return [v for v in (get(f, *path) for f in figs) if isinstance(v, (int, float))]
            summary.setdefault(arm, {})[c] = {
                "rounds": len(figs),
                "failed_max": max(values("failed"), default=None),
                "stalls_max": max(values("stalls"), default=None),
                "stalls_total": sum(values("stalls")),
                "stalls_in_pauses": sum(values("stalls_in_machine_pauses")),
                "arm_stalls_max": max((f["stalls"] - (f.get("stalls_in_machine_pauses") or 0)
                                       for f in figs if isinstance(f.get("stalls"), int)),
                                      default=None),
                "pauses": sum(len(f.get("machine_pauses", [])) for f in figs),
                "rss_peak_mib": _mib(median(values("rss_peak_kib"))),
                "rss_peak_max_mib": _mib(max(values("rss_peak_kib"), default=None)),
                "ttft_p99_ms": median(values("ttft_ms", "p99")),
                "ttft_max_ms": max(values("ttft_ms", "max"), default=None),
                "gap_max_ms": max(values("gap_ms", "max"), default=None),
            }
    return summary


def streams_table(run: dict) -> str:
    summary = streams_summary(run)
    lines = ["| arm | streams | rounds | failed (most) | stalls (most / all rounds) | "
             "of which in machine pauses (pauses seen) | RSS peak MiB (median / max) | "
             "TTFT p99 / max ms | longest gap ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for arm, by_c in summary.items():
        for c, s in sorted(by_c.items()):
            lines.append(
                f"| {arm} | {c} | {s['rounds']} | {_fmt('{:.0f}', s['failed_max'])} | "
                f"{_fmt('{:.0f}', s['stalls_max'])} / {s['stalls_total']:.0f} | "
                f"{s['stalls_in_pauses']:.0f} ({s['pauses']}) | "
                f"{_fmt('{}', s['rss_peak_mib'])} / {_fmt('{}', s['rss_peak_max_mib'])} | "
                f"{_fmt('{:.1f}', s['ttft_p99_ms'])} / {_fmt('{:.1f}', s['ttft_max_ms'])} | "
                f"{_fmt('{:.1f}', s['gap_max_ms'])} |")
    return "\n".join(lines) + "\n"


def soak_table(soaks: dict) -> str:
    lines = ["| arm | RSS start | after each 100k requests (MiB) | 1,024-stream rounds: peak (MiB) | "
             "after each round (MiB) | levels off | peak max | stalls / failed streams / non-200 "
             "|",
             "|---|---|---|---|---|---|---|---|"]
    for arm, s in soaks.items():
        v = s.get("verdict", {})
        if "failed" in s:
            lines.append(f"| {arm} | failed: {s['failed']} |  |  |  |  |  |  |")
            continue
        yes = {True: "yes", False: "NO", None: "-"}
        lines.append(
            f"| {arm} | {s.get('rss_start_kib', 0) / 1024:.1f} | "
            f"{', '.join(str(x) for x in v.get('requests_rss_mib', []))} | "
            f"{', '.join(str(x) for x in v.get('rounds_peak_mib', []))} | "
            f"{', '.join(str(x) for x in v.get('rounds_after_mib', []))} | "
            f"{yes[v.get('levels_off')]} (requests {yes[v.get('requests_level_off')]}, after "
            f"{yes[v.get('after_level_off')]}, peak {yes[v.get('peak_level_off')]}) | "
            f"{v.get('peak_max_mib')} MiB | {v.get('stalls')} ({v.get('stalls_in_machine_pauses', 0)} "
            f"in machine pauses) / {v.get('stream_failures')} / "
            f"{v.get('non_200')} |")
    return "\n".join(lines) + "\n"


def _fmt(fmt: str, value) -> str:
    if value is None:
        return "-"
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def table(summary: dict) -> str:
    arms = list(summary)
    lines = ["| figure | " + " | ".join(arms) + " |", "|---" * (len(arms) + 1) + "|"]
    for title, key, fmt in COLUMNS:
        lines.append(f"| {title} | " + " | ".join(_fmt(fmt, summary[a].get(key)) for a in arms) + " |")
    for title, body in BODY_COLUMNS:
        cells = []
        for a in arms:
            rps, r = summary[a].get(f"sat_rps_{body}"), summary[a].get(f"sat_rps_{body}_to_floor")
            cells.append("-" if rps is None else f"{rps:.0f} ({_fmt('{:.2f}', r)})")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    for title, c in STREAM_COLUMNS:
        cells = []
        for a in arms:
            s = summary[a]
            cells.append(f"{_fmt('{:.0f}', s.get(f'streams_{c}_failed'))} / "
                         f"{_fmt('{:.0f}', s.get(f'streams_{c}_stalls'))} / "
                         f"{_fmt('{}', s.get(f'streams_{c}_rss_mib'))} / "
                         f"{_fmt('{:.1f}', s.get(f'streams_{c}_ttft_p99_ms'))}")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    lines.append("| rig-limited | " + " | ".join(
        "yes" if summary[a].get("rig_limited") else "no" for a in arms) + " |")
    lines.append("| failed rounds | " + " | ".join(
        str(summary[a].get("failed_rounds")) for a in arms) + " |")
    return "\n".join(lines) + "\n"


def targets_table(rows: list[dict]) -> str:
    lines = ["| figure | target | ours | verdict |", "|---|---|---|---|"]
    for r in rows:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[r["met"]]
        if r["note"]:
            verdict += f" ({r['note']})"
        lines.append(f"| {r['figure']} | {r['target']} | {r['value'] or '-'} | {verdict} |")
    return "\n".join(lines) + "\n"


def write_partial(root: Path, results: dict, log) -> list[Path]:
    """A `--only` run: its own JSON + Markdown, then BENCHMARKS.md rendered
    again from the last full run with the newest partial runs."""
    quick = bool(get(results, "args", "quick")) or bool(get(results, "args", "no_publish"))
    out_dir = Path(results["work"]) if quick else root / "bench/results"
    out_dir.mkdir(parents=True, exist_ok=True)
    name = results["started"]
    json_path, md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
    for r in results.get("streams_rounds", []):
        for fig in r.values():
            fig.pop("config", None)
    json_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    md_path.write_text(partial_md(results))
    if quick:
        return [json_path, md_path]
    return [json_path, md_path, render_benchmarks(root)]


def partial_md(results: dict) -> str:
    versions = get(results, "install", "versions", default={}) or {}
    changed = get(results, "build", "tree_changed_during_build")
    head = (f"# Benchmark {results['started']} (`--only {results['only']}`)\n\n"
            f"Gateway revision {versions.get('gateway_git_revision')}"
            f"{_dirty(versions)}; {_machine(results.get('machine') or {})}.\n\n"
            + ("**The gateway's sources changed while it was built: these binaries match no "
               "single revision.**\n\n" if changed else ""))
    if results["only"] == "soak":
        return head + soak_table(results.get("soak", {}))
    if results["only"] == "callgrind":
        return head + callgrind_table(results.get("callgrind", {}))
    return head + streams_table(results)


CALLGRIND_ARMS = {
    "floor": "hyper 1.x floor proxy",
    "nginx": "nginx 1.22, one process",
    "crabllm": "crabllm 0.0.25",
    "ours": "config/bench, model `bench-model` (one deployment)",
    "ours-pair": "same binary, model `bench-pair` (two deployments, p2c, breaker, retry)",
    "ours-models-10": "generated config, 10 models",
    "ours-models-10000": "generated config, 10,000 models",
}


def callgrind_table(cg: dict) -> str:
    """Instructions per request of each arm of one run, with ratios to the
    floor and to `ours` from that run."""
    floor, ours = get(cg, "floor", "per_request"), get(cg, "ours", "per_request")
    lines = ["| arm | what | requests | body bytes | instructions/request | x floor | vs ours |",
             "|---|---|---|---|---|---|---|"]
    order = list(CALLGRIND_ARMS)
    for arm, r in sorted(cg.items(), key=lambda kv: (order.index(kv[0]) if kv[0] in order
                                                      else len(order), kv[0])):
        if "failed" in r:
            lines.append(f"| {arm} | failed: {r['failed']} |  |  |  |  |  |")
            continue
        n = r.get("per_request")
        lines.append(
            f"| {arm} | {CALLGRIND_ARMS.get(arm, '')} | {r.get('requests')} | "
            f"{_fmt('{}', r.get('body_bytes'))} | {n} | "
            f"{_fmt('{:.3f}', n / floor if n and floor else None)} | "
            f"{'-' if not (n and ours) or not arm.startswith('ours-') else f'{(n - ours) / ours * 100:+.1f}%'} |")
    shas = {r.get("body_sha256") for r in cg.values() if "failed" not in r}
    lines.append("")
    lines.append("Every arm's 2xx answers: " + (
        "byte-identical across arms (the mock's 540-byte completion)." if len(shas) == 1
        else f"{len(shas)} different answer digests across arms (see the JSON)."))
    return "\n".join(lines) + "\n"


def _machine(m: dict) -> str:
    return (f"{m.get('cpu')} ({m.get('cores')} cores), {m.get('mem_gib')} GiB, "
            f"kernel {m.get('kernel')}")


def _dirty(versions: dict) -> str:
    dirty = versions.get("gateway_tree_dirty")
    return f" plus {dirty} uncommitted file(s) in the tree it was built from" if dirty else ""


def _newest(root: Path, suffix: str) -> Path | None:
    found = sorted(p for p in (root / "bench/results").glob("*.json")
                   if (p.stem.endswith(suffix) if suffix else p.stem[-1] == "Z"))
    return found[-1] if found else None


def render_benchmarks(root: Path) -> Path:
    """BENCHMARKS.md from the newest full run and the newest `--only` runs after it."""
    full_path = _newest(root, "")
    if full_path is None:
        raise RuntimeError("no full run in bench/results to render BENCHMARKS.md from")
    results = json.loads(full_path.read_text())
    partial = {}
    for only in ("soak", "streams", "callgrind"):
        path = _newest(root, f"-{only}")
        if path and path.stem > full_path.stem:
            partial[only] = json.loads(path.read_text())
            partial[only]["path"] = path
    summary = summarize(results)
    rows = targets(results, summary, partial)
    bench_md = root / "BENCHMARKS.md"
    bench_md.write_text(benchmarks_md(root, results, summary, rows, full_path,
                                      full_path.with_suffix(".md"), partial))
    return bench_md


def write(root: Path, results: dict, log) -> list[Path]:
    if results.get("only"):
        return write_partial(root, results, log)
    summary = summarize(results)
    rows = targets(results, summary)
    results["summary"] = summary
    results["targets"] = rows
    quick = bool(get(results, "args", "quick")) or bool(get(results, "args", "no_publish"))
    # A --quick run checks the rig; it never replaces the published figures.
    out_dir = Path(results["work"]) if quick else root / "bench/results"
    out_dir.mkdir(parents=True, exist_ok=True)
    name = results["started"]
    json_path = out_dir / f"{name}.json"
    md_path = out_dir / f"{name}.md"
    results["configs"] = {}
    for r in results["rounds"]:
        for arm, fig in r.items():
            text = fig.pop("config", None)
            if text and arm not in results["configs"]:
                results["configs"][arm] = text
    json_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    md = f"# Benchmark {name}\n\n" + targets_table(rows) + "\n" + table(summary)
    if results.get("soak"):
        md += "\n## Soak\n\n" + soak_table(results["soak"])
    md_path.write_text(md)
    bench_md = out_dir / "BENCHMARKS.md" if quick else root / "BENCHMARKS.md"
    bench_md.write_text(benchmarks_md(root, results, summary, rows, json_path, md_path))
    return [json_path, md_path, bench_md]


def benchmarks_md(root: Path, results: dict, summary: dict, rows: list[dict],
                  json_path: Path, md_path: Path, partial: dict | None = None) -> str:
    partial = partial or {}
    machine = results.get("machine", {})
    install = results.get("install") or {}
    if "rustc" in install:  # runs with --skip-install before 2026-11-30 stored the versions flat
        install = {"versions": install}
    versions = install.get("versions") or {}
    build = results.get("build", {})
    install_failures = {k: v for k, v in install.items() if k != "versions"}
    configs = results.get("configs", {})
    findings = (root / "bench/findings.md")
    parts = [
        "# Benchmarks\n",
        "Generated by `bench/run` (do not edit by hand; the analysis comes from "
        "`bench/findings.md`). Method: `../shared/perf-method.md`; tools: `bench/README.md`.\n",
        f"Run `{results['started']}`: {len(results['rounds'])} round(s), arms interleaved, "
        "median of rounds, every ratio taken within one round. "
        f"Raw data: `{_rel(json_path, root)}`, table: `{_rel(md_path, root)}`.\n",
        "## Machine and versions\n",
        f"- CPU: {machine.get('cpu')} ({machine.get('cores')} cores), {machine.get('mem_gib')} GiB, "
        f"kernel {machine.get('kernel')}. Everything in one `unshare -n` namespace (only `lo`); "
        "the system under test alone on CPU 1 (`taskset`), load generator and mock on CPU 0.",
    ]
    parts += [f"- {k}: {v}" for k, v in versions.items()]
    if install_failures:
        parts.append("- install problems: " + "; ".join(f"{k}: {v}" for k, v in install_failures.items()))
    parts += [
        f"- our binary (`config/bench`, release, stripped): {build.get('binary_bytes')} bytes; "
        f"one-line YAML edit to new release binary: {build.get('config_edit_to_binary_s')} s\n",
        "## Targets\n", targets_table(rows),
        "## All figures (medians; `added` = arm minus direct in the same round)\n",
        table(summary),
        "Failures, if any, per arm: " + ("; ".join(
            f"{a}: {s['failures']}" for a, s in summary.items() if s["failures"]) or "none") + "\n",
    ]
    if partial.get("streams"):
        run = partial["streams"]
        v = get(run, "install", "versions", default={}) or {}
        parts += [f"## Many concurrent streams alone (run `{run['started']}`)\n",
                  f"`bench/run --only streams`, {len(run.get('streams_rounds', []))} round(s), each "
                  "arm started fresh per round; 20 deltas 50 ms apart; a stall is a gap over "
                  "100 ms. Arm and client at real-time priority (SCHED_RR 1). Gateway revision "
                  f"{v.get('gateway_git_revision')}{_dirty(v)}. Raw data: "
                  f"`{_rel(run['path'], root)}`.\n", streams_table(run)]
    if partial.get("callgrind"):
        run = partial["callgrind"]
        v = get(run, "install", "versions", default={}) or {}
        parts += [f"## Instructions per request alone (run `{run['started']}`)\n",
                  "`bench/run --only callgrind`: each arm started fresh under "
                  f"`valgrind --tool=callgrind`, {_first(run, 'warmup')} warm-up requests, then "
                  f"{_first(run, 'requests')} sequential "
                  "requests (body S) counted. The targets above take their instruction "
                  "figures from this run; the table of all figures keeps the full run's. "
                  f"Gateway revision {v.get('gateway_git_revision')}{_dirty(v)}. Raw data: "
                  f"`{_rel(run['path'], root)}`.\n", callgrind_table(run["callgrind"])]
    soak_run = partial.get("soak") or (results if results.get("soak") else None)
    if soak_run:
        v = get(soak_run, "install", "versions", default={}) or {}
        source = (f"run `{soak_run['started']}`, raw data `{_rel(soak_run['path'], root)}`"
                  if "path" in soak_run else "this run")
        one = next(iter(soak_run["soak"].values()), {})
        parts += [f"## Soak ({source})\n",
                  f"One process per arm: {one.get('requests', 0):,} requests (body S, "
                  f"`oha -c 32`, {one.get('batch', 0):,} per batch), then "
                  f"{one.get('stream_rounds')} rounds of {one.get('streams', 0):,} concurrent "
                  "streams (the 1,024-stream figure, repeated); RSS after each batch, each "
                  "round's peak (VmHWM reset before it) and RSS 2 s after it; the stream rounds "
                  "at real-time priority, as the streams figures. Levels off: last "
                  "value within 2% of the one before, for all three series. Gateway revision "
                  f"{v.get('gateway_git_revision')}{_dirty(v)}.\n",
                  soak_table(soak_run["soak"])]
    if findings.exists():
        parts += ["## Findings\n", findings.read_text()]
    parts.append("## Exact configs\n")
    for arm, text in configs.items():
        parts.append(f"### {arm}\n\n```\n{text.rstrip()}\n```\n")
    return "\n".join(parts) + "\n"


def _first(run: dict, key: str):
    """`key` of the first measured arm of a `--only callgrind` run."""
    return next((r[key] for r in run.get("callgrind", {}).values() if key in r), None)


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
