"""bench/run: the whole benchmark in one command.

Phases: install (registries) -> build (release) -> measure (inside a network
namespace with only `lo`, re-executing this file under `unshare -n`) -> report
(bench/results/<date>.json, .md, and BENCHMARKS.md).

    bench/run                 # full run, 3 rounds
    bench/run --rounds 5
    bench/run --quick         # 1 short round, for checking the rig itself
    bench/run --arms direct,floor,nginx,ours
    bench/run --only soak     # the soak figure alone (ours, floor, nginx)
    bench/run --only streams --rounds 5 --arms floor,nginx,ours
                              # the 64/256/1,024-stream figures alone
    bench/run --only callgrind --arms floor,ours
                              # instructions per request alone (callgrind: ours,
                              # ours-pair, the 10 / 10,000-model variants, floor)

A run with --only writes bench/results/<date>-<figure>.json + .md and renders
BENCHMARKS.md again from the last full run plus the newest partial runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import arms as arms_mod  # noqa: E402
import callgrind  # noqa: E402
import install  # noqa: E402
import report  # noqa: E402
import rounds  # noqa: E402
import soak  # noqa: E402
from arms import Ctx  # noqa: E402
from proc import RIG_CPU, Proc, free_port, wait_ready  # noqa: E402

ROOT = HERE.parent.parent


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--arms", default=",".join(arms_mod.ALL_ARMS))
    parser.add_argument("--skip-install", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--no-publish", action="store_true",
                        help="write the report into the work dir only (as --quick does)")
    parser.add_argument("--bins", default="",
                        help="measure the release binaries in this directory (bench-* tools and "
                             "gateway-bench) instead of building")
    parser.add_argument("--only", default="", choices=["", "soak", "streams", "callgrind"],
                        help="measure one figure alone (see above)")
    parser.add_argument("--soak-requests", type=int, default=soak.REQUESTS)
    parser.add_argument("--soak-rounds", type=int, default=soak.STREAM_ROUNDS)
    parser.add_argument("--render", action="store_true",
                        help="only render BENCHMARKS.md again from bench/results (and findings.md)")
    parser.add_argument("--phase", default="all", choices=["all", "measure"])
    parser.add_argument("--work", default="")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.phase == "measure":
        return measure_phase(args)
    if args.render:
        log(f"rendered {report.render_benchmarks(ROOT).relative_to(ROOT)}")
        return 0
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    if args.only:
        stamp += f"-{args.only}"
    work = ROOT / "bench/.work" / stamp
    work.mkdir(parents=True, exist_ok=True)
    tools = ROOT / "bench/.tools"
    state: dict = {"started": stamp, "args": vars(args)}
    if not args.skip_install:
        state["install"] = install.install_all(ROOT, tools, work, log, peers=not args.only)
    else:
        state["install"] = {"versions": install.versions(ROOT, tools)}
    if args.bins:
        bins = Path(args.bins).resolve()
        state["build"] = {"binary_bytes": (bins / "gateway-bench").stat().st_size,
                          "prebuilt": str(bins)}
        (work / "bin").symlink_to(bins)
    elif not args.skip_build:
        import build
        before = install.tree_fingerprint(ROOT)
        state["build"] = build.build_all(ROOT, work, work / "bin", log,
                                         variants=args.only in ("", "callgrind"),
                                         edit_timing=not args.only)
        if install.tree_fingerprint(ROOT) != before:
            state["build"]["tree_changed_during_build"] = True
            log("warning: the gateway's sources changed while it was built (someone edited "
                "or committed); the binaries match no single revision: run again")
    else:
        previous = sorted((ROOT / "bench/.work").glob("*/state.json"))
        prior = json.loads(previous[-1].read_text()) if previous else {}
        state["build"] = prior.get("build", {})
        prior_bins = Path(prior.get("bins", work / "bin"))
        (work / "bin").symlink_to(prior_bins)
    state["bins"] = str((work / "bin").resolve())
    (work / "state.json").write_text(json.dumps(state, indent=1))
    log("measuring inside a network namespace (unshare -n, loopback only)")
    cmd = ["unshare", "-n", "--", "sh", "-c",
           'ip link set lo up && ulimit -n $(ulimit -Hn) && exec "$@"', "sh",
           sys.executable, __file__, "--phase", "measure", "--work", str(work),
           "--rounds", str(args.rounds), "--arms", args.arms,
           "--soak-requests", str(args.soak_requests), "--soak-rounds", str(args.soak_rounds)]
    cmd += (["--quick"] if args.quick else []) + (["--only", args.only] if args.only else [])
    done = subprocess.run(cmd)
    if done.returncode != 0:
        log(f"measure phase failed (exit {done.returncode})")
        return done.returncode
    results = json.loads((work / "measured.json").read_text())
    results.update(state)
    results["work"] = str(work)
    paths = report.write(ROOT, results, log)
    log("wrote " + ", ".join(str(p.relative_to(ROOT)) for p in paths))
    return 0


def measure_phase(args: argparse.Namespace) -> int:
    work = Path(args.work)
    state = json.loads((work / "state.json").read_text())
    bins = Path(state["bins"])
    mock_port = free_port()
    mock = Proc("mock", [str(bins / "bench-mock"), "--listen", f"127.0.0.1:{mock_port}",
                         "--chunks", "20", "--chunk-gap-ms", "10"], RIG_CPU,
                log=work / "mock.log")
    slow_port = free_port()
    slow_mock = Proc("mock-50ms", [str(bins / "bench-mock"), "--listen", f"127.0.0.1:{slow_port}",
                                   "--chunks", "20", "--chunk-gap-ms", str(rounds.SLOW_GAP_MS)],
                     RIG_CPU, log=work / "mock-50ms.log", realtime=True)
    wait_ready(mock, mock_port, "/health", 20)
    wait_ready(slow_mock, slow_port, "/health", 20)
    ctx = Ctx(root=ROOT, work=work, tools=ROOT / "bench/.tools", bins=bins, mock_port=mock_port)
    slow_ctx = Ctx(root=ROOT, work=work, tools=ctx.tools, bins=bins, mock_port=slow_port)
    names = [a for a in args.arms.split(",") if a]
    if "direct" not in names:
        names.insert(0, "direct")
    out: dict = {"rounds": [], "callgrind": {}, "machine": machine()}
    try:
        if args.only == "streams":
            out["only"] = "streams"
            out["streams_rounds"] = [rounds.run_streams_round(slow_ctx, names, index, log)
                                     for index in range(1, args.rounds + 1)]
        elif args.only == "callgrind":
            # Instruction counts do not depend on what else the machine runs:
            # no timed figure, so builds beside it cannot skew this run.
            out["only"] = "callgrind"
            out["callgrind"] = callgrind_phase(ctx, names, args.quick)
        elif args.only != "soak":
            total = 1 if args.quick else args.rounds
            for index in range(1, total + 1):
                last = index == total
                out["rounds"].append(rounds.run_round(ctx, slow_ctx, names, index, last,
                                                      args.quick, log))
                (work / "measured.json").write_text(json.dumps(out, indent=1))
            out["callgrind"] = callgrind_phase(ctx, names, args.quick)
        if args.only in ("", "soak"):
            if args.only:
                out["only"] = "soak"
            out["soak"] = soak_phase(slow_ctx, names, args)
    finally:
        mock.stop()
        slow_mock.stop()
    (work / "measured.json").write_text(json.dumps(out, indent=1))
    return 0


def soak_phase(slow_ctx: Ctx, names: list[str], args: argparse.Namespace) -> dict:
    """The soak figure (soak.py) for ours and the yardsticks: a quick run soaks
    100,000 requests and 3 stream rounds, to check the rig only."""
    requests = min(args.soak_requests, 100_000) if args.quick else args.soak_requests
    stream_rounds = min(args.soak_rounds, 3) if args.quick else args.soak_rounds
    results = {}
    for arm in [a for a in ("ours", "floor", "nginx") if a in names]:
        started = time.monotonic()
        results[arm] = soak.soak(slow_ctx, arm, rounds.SLOW_GAP_MS, log, requests=requests,
                                 stream_rounds=stream_rounds)
        v = results[arm]["verdict"]
        log(f"soak: {arm:<6} {time.monotonic() - started:5.0f}s  levels off: {v['levels_off']}  "
            f"peak max {v['peak_max_mib']} MiB  stalls {v['stalls']}  "
            f"{results[arm].get('failed', '')}")
    return results


def callgrind_phase(ctx: Ctx, names: list[str], quick: bool) -> dict:
    """Instructions per request for each arm that can run under valgrind, body
    S. `ours-pair` is `ours` (same binary, same body bytes but the model name)
    asking for `bench-pair`, the model with two deployments."""
    results: dict = {}
    body = arms_mod.body_for_model(ctx.work, "s", arms_mod.BODY_MODEL)
    pair_body = arms_mod.body_for_model(ctx.work, "s", arms_mod.PAIR_MODEL)
    requests = 300 if quick else 2000
    specs = []
    if "floor" in names:
        specs.append(("floor", lambda p: ([str(ctx.bins / "bench-floor"), "--listen",
                                           f"127.0.0.1:{p}", "--upstream", ctx.mock_base], {}),
                      None, "/health", body))
    if "nginx" in names:
        def nginx_argv(p):
            prefix = ctx.work / "nginx-callgrind"
            conf = prefix / "nginx.conf"
            conf.parent.mkdir(parents=True, exist_ok=True)
            conf.write_text(arms_mod.nginx_conf(ctx, p, prefix, single_process=True))
            return ["/usr/sbin/nginx", "-p", str(prefix), "-c", str(conf)], {}
        specs.append(("nginx", nginx_argv, None, "/health", body))
    if "ours" in names:
        def ours_argv(binary):
            return lambda p: ([str(binary)], arms_mod.ours_env(ctx, p))
        specs.append(("ours", ours_argv(ctx.bins / "gateway-bench"), arms_mod.OURS_KEY,
                      "/health", body))
        specs.append(("ours-pair", ours_argv(ctx.bins / "gateway-bench"), arms_mod.OURS_KEY,
                      "/health", pair_body))
        for variant in ["models-10", "models-10000"]:
            binary = ctx.bins / f"gateway-bench-{variant}"
            if binary.exists():
                specs.append((f"ours-{variant}", ours_argv(binary), arms_mod.OURS_KEY,
                              "/health", body))
    if "crabllm" in names and (ctx.tools / "bin/crabllm").exists():
        def crab_argv(p):
            conf = ctx.work / "crabllm-callgrind.toml"
            conf.write_text(arms_mod.crabllm_conf(ctx, p))
            return [str(ctx.tools / "bin/crabllm"), "serve", "--config", str(conf)], {
                "TOKIO_WORKER_THREADS": "1", "RUST_LOG": "warn"}
        specs.append(("crabllm", crab_argv, arms_mod.CRABLLM_KEY, "/health", body))
    for name, make, key, health, arm_body in specs:
        port = free_port()
        argv, env = make(port)
        started = time.monotonic()
        try:
            results[name] = callgrind.measure(
                name, argv, env, port, health, ctx.work, ctx.bins / "bench-seq",
                f"http://127.0.0.1:{port}/v1/chat/completions", arm_body, key,
                requests=requests, warmup=200 if quick else 500)
            results[name]["body_bytes"] = arm_body.stat().st_size
            log(f"callgrind: {name:<18} {results[name]['per_request']:>9} instructions/request "
                f"({time.monotonic() - started:.0f}s)")
        except Exception as error:  # reported as failed, the phase goes on
            results[name] = {"failed": f"{type(error).__name__}: {error}"}
            log(f"callgrind: {name} failed: {error}")
    return results


def machine() -> dict:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": os.uname().release,
            "mem_gib": round(int(mem) / 1024 / 1024, 1)}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
