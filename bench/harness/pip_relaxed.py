"""Install a wheel whose metadata pins a dependency newer than the registry has.

LiteLLM >= 1.104 requires `certifi>=2026.10.19`, which this machine's PyPI
mirror does not carry (newest: 2026.10.18). pip cannot override a requirement,
so this installs the wheel with `--no-deps` and its requirements (base + the
given extras, markers evaluated for this interpreter) with the named
constraints relaxed to what exists. Every relaxation is printed.

Usage: python pip_relaxed.py VENV_PYTHON WHEEL EXTRA[,EXTRA] NAME=SPEC...
"""

import subprocess
import sys
import zipfile

from pip._vendor.packaging.requirements import Requirement


def requirements(wheel: str, extras: list[str]) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(meta).decode()
    wanted = []
    for line in text.splitlines():
        if not line.startswith("Requires-Dist: "):
            continue
        req = Requirement(line.removeprefix("Requires-Dist: "))
        envs = [{"extra": e} for e in [""] + extras]
        if req.marker is None or any(req.marker.evaluate(env) for env in envs):
            wanted.append(req)
    return wanted


def main() -> int:
    python, wheel, extras, *overrides = sys.argv[1:]
    relaxed = dict(o.split("=", 1) for o in overrides)
    lines = []
    for req in requirements(wheel, [e for e in extras.split(",") if e]):
        name = req.name.lower()
        if name in relaxed:
            print(f"relaxed: {req} -> {name}{relaxed[name]}", file=sys.stderr)
            lines.append(f"{name}{relaxed[name]}")
        else:
            extra = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
            lines.append(f"{req.name}{extra}{req.specifier}")
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    subprocess.run(pip + sorted(set(lines)), check=True)
    subprocess.run(pip + ["--no-deps", wheel], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
