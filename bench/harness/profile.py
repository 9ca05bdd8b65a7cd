"""Profile one gateway binary under callgrind the way the guard measures it,
then print the top functions (exclusive and inclusive). For finding out why
instructions per request moved; build with symbols first:

    GATEWAY_ENV=bench CARGO_PROFILE_RELEASE_STRIP=false \\
      cargo build --release --locked -p gateway -p gateway-bench
    python3 bench/harness/profile.py target/release/gateway [body]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import arms as arms_mod  # noqa: E402
import callgrind  # noqa: E402
from proc import RIG_CPU, Proc, free_port, wait_ready  # noqa: E402

ROOT = HERE.parent.parent


def main(argv: list[str]) -> int:
    binary = Path(argv[0]).resolve()
    body = argv[1] if len(argv) > 1 else "s"
    bins = binary.parent
    work = ROOT / "bench/.work/profile"
    work.mkdir(parents=True, exist_ok=True)
    mock_port = free_port()
    mock = Proc("mock", [str(bins / "bench-mock"), "--listen", f"127.0.0.1:{mock_port}"],
                RIG_CPU, log=work / "mock.log")
    try:
        wait_ready(mock, mock_port, "/health", 20)
        ctx = arms_mod.Ctx(root=ROOT, work=work, tools=ROOT / "bench/.tools", bins=bins,
                           mock_port=mock_port)
        port = free_port()
        result = callgrind.measure("profile", [str(binary)], arms_mod.ours_env(ctx, port), port,
                                   "/health", work, bins / "bench-seq",
                                   f"http://127.0.0.1:{port}/v1/chat/completions",
                                   ROOT / f"bench/bodies/{body}.json", arms_mod.OURS_KEY,
                                   requests=1000, warmup=200)
    finally:
        mock.stop()
    print(f"{result['per_request']} instructions/request")
    dump = sorted(work.glob("callgrind.profile.out.*"))[-1]
    for inclusive in ("no", "yes"):
        out = subprocess.run(["callgrind_annotate", f"--inclusive={inclusive}", str(dump)],
                             capture_output=True, text=True).stdout
        print("\n".join(out.splitlines()[:70]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
