"""Installs what the benchmark needs, idempotently, from the registries this
machine reaches: Debian (nginx, wrk, valgrind, util-linux, iproute2), crates.io
(oha, crabllm, into bench/.tools) and PyPI (LiteLLM and TensorZero, each in its
own venv under bench/). A peer that fails to install is recorded with its
error; the run goes on without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

APT = ["nginx-light", "wrk", "valgrind", "iproute2", "util-linux", "procps"]
CRATES = {"oha": "1.16.0", "crabllm": "0.0.25"}
LITELLM = "1.109.1"
TENSORZERO = "2026.6.0"


def _run(argv: list[str], log: Path, env: dict | None = None) -> None:
    with open(log, "ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        done = subprocess.run(argv, stdout=out, stderr=out, env={**os.environ, **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(argv[:4])} ...` failed (exit {done.returncode}); see {log}")


def install_all(root: Path, tools: Path, work: Path, log, peers: bool = True) -> dict:
    """Installs the rig; `peers=False` (a `--only` run) skips the peer gateways."""
    status: dict = {}
    install_log = work / "install.log"
    missing = [p for p in APT if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode]
    if missing:
        log(f"apt-get install {' '.join(missing)}")
        try:
            _run(["apt-get", "update", "-qq"], install_log)
            _run(["apt-get", "install", "-y", "-qq", *missing], install_log,
                 env={"DEBIAN_FRONTEND": "noninteractive"})
        except RuntimeError as error:
            status["apt"] = f"failed: {error}"
    for crate, version in CRATES.items():
        if not peers and crate != "oha":
            continue
        binary = tools / "bin" / crate
        if binary.exists() and _crate_version(binary) == version:
            continue
        log(f"cargo install {crate}@{version} (release build; takes minutes once)")
        try:
            _run(["cargo", "install", "--locked", "--root", str(tools), f"{crate}@{version}"],
                 install_log)
        except RuntimeError as error:
            status[crate] = f"failed: {error}"
    if not peers:
        status["versions"] = versions(root, tools)
        return status
    status.update(_venv(root / "bench/.venv-litellm", install_log, log, "litellm", _litellm))
    status.update(_venv(root / "bench/.venv-tensorzero", install_log, log, "tensorzero",
                        lambda py, lg: _run([py, "-m", "pip", "install", "-q",
                                             f"tensorzero=={TENSORZERO}"], lg)))
    status["versions"] = versions(root, tools)
    return status


def _crate_version(binary: Path) -> str:
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, timeout=10)
        return out.stdout.decode().split()[-1] if out.stdout else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def _venv(venv: Path, install_log: Path, log, package: str, installer) -> dict:
    marker = venv / f".installed-{package}"
    if marker.exists():
        return {}
    log(f"pip: installing {package} into {venv.name}")
    try:
        if not (venv / "bin/python").exists():
            _run([sys.executable, "-m", "venv", str(venv)], install_log)
        installer(str(venv / "bin/python"), install_log)
        marker.write_text("ok\n")
        return {}
    except RuntimeError as error:
        return {package: f"failed: {error}"}


def _litellm(python: str, install_log: Path) -> None:
    """LiteLLM's wheel pins certifi and two of its own packages newer than this
    registry carries; install it with those three relaxed (pip_relaxed.py)."""
    wheels = Path(python).parent.parent / "wheels"
    _run([python, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels),
          f"litellm=={LITELLM}"], install_log)
    wheel = next(wheels.glob(f"litellm-{LITELLM}-*.whl"))
    _run([python, str(Path(__file__).parent / "pip_relaxed.py"), python, str(wheel), "proxy",
          "certifi=>=2026.10.18", "litellm-proxy-extras===0.4.110", "litellm-enterprise=>=0.1"],
         install_log)


def _first_line(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20)
        text = (done.stdout or done.stderr).decode(errors="replace").strip()
        return text.splitlines()[0] if text else "unknown"
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "not installed"


def versions(root: Path, tools: Path) -> dict:
    def pip_version(venv: str, package: str) -> str:
        python = root / f"bench/{venv}/bin/python"
        if not python.exists():
            return "not installed"
        return _first_line([str(python), "-c",
                            f"import importlib.metadata as m; print(m.version('{package}'))"])

    return {
        "rustc": _first_line(["rustc", "--version"]),
        "nginx": _first_line(["nginx", "-v"]),
        "wrk": _first_line(["wrk", "-v"]),
        "valgrind": _first_line(["valgrind", "--version"]),
        "oha": _first_line([str(tools / "bin/oha"), "--version"]),
        "crabllm": _first_line([str(tools / "bin/crabllm"), "--version"]),
        "litellm": pip_version(".venv-litellm", "litellm"),
        "tensorzero": pip_version(".venv-tensorzero", "tensorzero"),
        "python": sys.version.split()[0],
        "gateway_git_revision": _first_line(["git", "-C", str(root), "rev-parse", "HEAD"]),
        # Files of the gateway's build that differ from that revision (0 = clean).
        "gateway_tree_dirty": len(_first_lines(["git", "-C", str(root), "status", "--porcelain",
                                                "--", *BUILD_PATHS])),
    }


BUILD_PATHS = ["runtime", "codegen", "src", "config", "build.rs", "Cargo.toml", "Cargo.lock"]


def tree_fingerprint(root: Path) -> str:
    """A digest of what the gateway is built from: HEAD, the uncommitted diff
    of its build paths and their untracked files. Taken before and after the
    build: other people edit the same working tree, and a binary built while
    they did matches neither revision."""
    import hashlib

    digest = hashlib.sha256()
    for argv in (["rev-parse", "HEAD"], ["diff", "HEAD", "--", *BUILD_PATHS],
                 ["ls-files", "--others", "--exclude-standard", "--", *BUILD_PATHS]):
        try:
            digest.update(subprocess.run(["git", "-C", str(root), *argv], capture_output=True,
                                         timeout=20).stdout)
        except (OSError, subprocess.TimeoutExpired):
            digest.update(b"?")
    return digest.hexdigest()[:16]


def _first_lines(argv: list[str]) -> list[str]:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20)
        return done.stdout.decode(errors="replace").splitlines()
    except (OSError, subprocess.TimeoutExpired):
        return []
