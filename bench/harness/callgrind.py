"""Instructions per request under callgrind: deterministic to about 1%, so it
is the figure CI can gate on (wall clock on a shared 2-core VM is not).

Method (../shared/perf-method.md, figure 5): start the arm under
`valgrind --tool=callgrind`, warm up, `callgrind_control -z`, N sequential
requests, `callgrind_control -d`, then Ir / N from the dump's totals.
"""

from __future__ import annotations

import glob
import os
import subprocess
import time
from pathlib import Path

from proc import SUT_CPU, Proc, run_json, wait_ready


def valgrind_argv(out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
            "--dump-line=no", "--dump-instr=no", "--compress-strings=no"]


def start_under_callgrind(name: str, argv: list[str], env: dict, port: int, health: str,
                          work: Path, health_headers: dict | None = None) -> tuple[Proc, Path]:
    out = work / f"callgrind.{name}.out"
    for old in glob.glob(f"{out}*"):
        os.remove(old)
    proc = Proc(f"{name} (callgrind)", [*valgrind_argv(out), *argv], SUT_CPU, env=env,
                log=work / f"callgrind.{name}.log")
    wait_ready(proc, port, health, 120, health_headers)
    return proc, out


def _control(flag: str, pid: int) -> None:
    done = subprocess.run(["callgrind_control", flag, str(pid)], capture_output=True,
                          timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"callgrind_control {flag} {pid} failed: "
                           f"{done.stderr.decode(errors='replace')[-300:]}")


def totals(dump: Path) -> int:
    for line in dump.read_text(errors="replace").splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise RuntimeError(f"{dump} has no totals line")


def instructions_per_request(proc: Proc, out: Path, seq_argv: list[str], requests: int,
                             warmup: int) -> dict:
    """Warm up, zero, run `requests` sequential requests, dump, divide."""
    warm = run_json([*seq_argv, "--requests", "0", "--warmup", str(warmup)], timeout=600)
    if warm.get("failed"):
        raise RuntimeError(f"warm-up failed: {warm.get('failures')}")
    pid = proc.pid  # taskset execs valgrind, which runs the target in-process
    _control("-z", pid)
    before = set(glob.glob(f"{out}*"))
    result = run_json([*seq_argv, "--requests", str(requests), "--warmup", "0"], timeout=900)
    if result.get("failed") or result.get("ok") != requests:
        raise RuntimeError(f"{result.get('failed')} of {requests} requests failed: "
                           f"{result.get('failures')}")
    _control("-d", pid)
    deadline = time.monotonic() + 30
    new: list[str] = []
    while time.monotonic() < deadline:
        new = sorted(set(glob.glob(f"{out}*")) - before, key=os.path.getmtime)
        if new:
            break
        time.sleep(0.1)
    if not new:
        raise RuntimeError(f"callgrind wrote no dump next to {out}")
    time.sleep(0.3)  # the dump is written by the target; let it finish
    ir = totals(Path(new[-1]))
    return {"requests": requests, "warmup": warmup, "instructions": ir,
            "per_request": round(ir / requests),
            "body_sha256": result.get("body_sha256")}


def measure(name: str, argv: list[str], env: dict, port: int, health: str, work: Path,
            seq_binary: Path, url: str, body: Path, key: str | None, requests: int = 2000,
            warmup: int = 300, health_headers: dict | None = None,
            also: list[tuple[str, Path]] | None = None) -> dict:
    """`also`: (label, body) pairs measured after `body` in the same process
    (warm-up, zero, requests, dump again), results under "also"[label]: a
    cheap second figure (bench/ci-guard's pair line); bench/run measures each
    arm in a fresh process instead."""
    proc, out = start_under_callgrind(name, argv, env, port, health, work, health_headers)
    try:
        def seq_argv(path: Path) -> list[str]:
            return [str(seq_binary), "--url", url, "--body", str(path),
                    *(["--key", key] if key else [])]
        result = instructions_per_request(proc, out, seq_argv(body), requests, warmup)
        for label, other in also or []:
            try:
                figure = instructions_per_request(proc, out, seq_argv(other), requests, warmup)
            except Exception as error:  # reported; the first figure stands
                figure = {"failed": f"{type(error).__name__}: {error}"}
            result.setdefault("also", {})[label] = figure
        return result
    finally:
        proc.stop(grace=20)

