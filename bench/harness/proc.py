"""Processes of the benchmark: spawn pinned to a core, read their CPU and memory
from /proc, wait for a health URL, free loopback ports.

Every wait here is bounded in time; nothing retries forever.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")

# The system under test runs alone on this core; load generator and mock on the other.
SUT_CPU = "1"
RIG_CPU = "0"

# Real-time round-robin priority for the timing-sensitive figures (many
# concurrent streams, the soak's stream rounds): the machine is a shared 2-core
# VM where other people's builds run at normal priority, and a build preempting
# the SUT, the mock or the client for ~50 ms stalls hundreds of streams at once
# in whichever arm is running (bench/findings.md). SCHED_RR 1 runs ahead of
# every normal task; the kernel's RT throttling (95% of each second) still
# leaves the rest of the machine 5%. Only light, bounded workloads use it.
RT_PRIORITY = "1"


def realtime_argv(argv: list[str]) -> list[str]:
    """`argv` under SCHED_RR (inherited by its threads and children)."""
    return ["chrt", "--rr", RT_PRIORITY, *argv]


CANARY_CODE = """
import json, signal, sys, time
period, threshold = float(sys.argv[1]), float(sys.argv[2])
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
pauses, last = [], time.monotonic()
while not stop:
    time.sleep(period)
    now = time.monotonic()
    if now - last - period > threshold:
        pauses.append([round(last, 4), round((now - last - period) * 1000, 1)])
    last = now
print(json.dumps(pauses), flush=True)
"""


class Canary:
    """A tiny SCHED_RR process per core, one priority above the measured ones,
    waking every 5 ms: a wake-up more than 25 ms late means nothing of ours
    could run on that core either (the VM's vCPU was descheduled by the host,
    or the kernel held the core), so streams stalled in that window stalled
    for the machine, not for the system under test. Costs ~0.5% of a core."""

    PERIOD_S = 0.005
    THRESHOLD_S = 0.025

    def __init__(self, cpus: tuple[str, ...] = (RIG_CPU, SUT_CPU)):
        import sys
        prio = str(int(RT_PRIORITY) + 1)
        self.procs = {cpu: subprocess.Popen(
            ["taskset", "-c", cpu, "chrt", "--rr", prio, sys.executable, "-c", CANARY_CODE,
             str(self.PERIOD_S), str(self.THRESHOLD_S)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) for cpu in cpus}

    def stop(self, since: float) -> list[dict]:
        """Pauses seen since `since` (time.monotonic()): cpu, at_s after `since`, ms."""
        import json
        pauses = []
        for cpu, proc in self.procs.items():
            proc.terminate()
            try:
                out, _ = proc.communicate(timeout=5)
                found = json.loads(out or b"[]")
            except (subprocess.TimeoutExpired, ValueError):
                proc.kill()
                found = []
            pauses += [{"cpu": cpu, "at_s": round(at - since, 3), "ms": ms}
                       for at, ms in found if at >= since]
        return sorted(pauses, key=lambda p: p["at_s"])


def make_realtime(pids: list[int]) -> bool:
    """Moves running processes (every thread of each) to SCHED_RR; False if
    any refused (the figure then says it ran at normal priority)."""
    ok = True
    for pid in pids:
        done = subprocess.run(["chrt", "--all-tasks", "--rr", "--pid", RT_PRIORITY, str(pid)],
                              capture_output=True, timeout=10)
        ok = ok and done.returncode == 0
    return ok


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """A started process (and its descendants, for nginx workers and Python workers)."""

    def __init__(self, name: str, argv: list[str], cpu: str, env: dict | None = None,
                 cwd: str | None = None, log: Path | None = None, stdout=None,
                 realtime: bool = False):
        self.name = name
        self.argv = argv
        self.log = log
        out = open(log, "ab") if log else subprocess.DEVNULL
        self.started_at = time.monotonic()
        self.popen = subprocess.Popen(
            ["taskset", "-c", cpu, *(realtime_argv(argv) if realtime else argv)],
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdout=stdout if stdout is not None else out,
            stderr=out,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def pids(self) -> list[int]:
        return [self.pid, *descendants(self.pid)]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(p) for p in self.pids())

    def rss_kib(self) -> int:
        return sum(status_kib(p, "VmRSS") for p in self.pids())

    def hwm_kib(self) -> int:
        return sum(status_kib(p, "VmHWM") for p in self.pids())

    def reset_hwm(self) -> bool:
        """Resets VmHWM to the current RSS (`clear_refs` 5, Linux >= 4.0), so
        the next `hwm_kib` is the peak since now; False if the kernel refused."""
        ok = True
        for pid in self.pids():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            except OSError:
                ok = False
        return ok

    def stop(self, grace: float = 5.0) -> None:
        if not self.alive():
            return
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)

    def log_tail(self, lines: int = 15) -> str:
        if not self.log or not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (all its threads), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state(0) ppid(1) ... utime(11) stime(12).
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def http_get(port: int, path: str, headers: dict | None = None, timeout: float = 2.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def http_post(port: int, path: str, body: bytes, headers: dict, timeout: float = 30.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body,
                     headers={"content-type": "application/json", **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_ready(proc: Proc, port: int, path: str, timeout: float,
               headers: dict | None = None, any_status: bool = False) -> float:
    """Polls `path` every millisecond until 200 (or any HTTP answer when
    `any_status`, for servers without a health route); returns seconds since spawn.

    Raises RuntimeError naming the process and its log tail on exit or timeout.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode} before "
                               f"{path} answered 200; log tail:\n{proc.log_tail()}")
        try:
            status, _ = http_get(port, path, headers, timeout=1.0)
            if status == 200 or any_status:
                return time.monotonic() - proc.started_at
        except OSError:
            pass
        time.sleep(0.001)
    raise RuntimeError(f"{proc.name} did not answer 200 on {path} within {timeout:.0f} s; "
                       f"log tail:\n{proc.log_tail()}")


def run_json(argv: list[str], cpu: str = RIG_CPU, timeout: float = 300.0,
             env: dict | None = None, realtime: bool = False) -> dict:
    """Runs a measuring tool pinned to the rig core and parses its JSON stdout."""
    import json

    if realtime:
        argv = realtime_argv(argv)
    done = subprocess.run(["taskset", "-c", cpu, *argv], capture_output=True,
                          timeout=timeout, env={**os.environ, **(env or {})})
    text = done.stdout.decode(errors="replace")
    try:
        return json.loads(text[text.index("{"):])
    except ValueError:
        raise RuntimeError(f"{Path(argv[0]).name} exited {done.returncode} without JSON; "
                           f"stderr: {done.stderr.decode(errors='replace')[-600:]}") from None
