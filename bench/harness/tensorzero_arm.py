"""The TensorZero arm: its PyPI wheel embeds the Rust gateway; a tiny launcher
starts it as an HTTP server (`_start_http_gateway`, what `patch_openai_client`
uses) and prints its base URL. Clients use its OpenAI-compatible route with
model `tensorzero::model_name::bench-model`. No ClickHouse (observability off),
no auth (TensorZero's auth needs Postgres).
"""

from __future__ import annotations

import textwrap
import time
import urllib.parse

from arms import MOCK_KEY, Ctx, Running
from proc import SUT_CPU, Proc, wait_ready

LAUNCHER = textwrap.dedent("""\
    import os, sys, time
    from tensorzero import _start_http_gateway
    gateway = _start_http_gateway(config_file=sys.argv[1], clickhouse_url=None,
                                  postgres_url=None, valkey_url=None, async_setup=False)
    print("listening on", gateway.base_url, flush=True)
    while True:
        time.sleep(3600)
    """)


def start(ctx: Ctx) -> Running:
    venv = ctx.root / "bench/.venv-tensorzero"
    if not (venv / "bin/python").exists():
        raise RuntimeError(f"TensorZero is not installed in {venv} (see the install log)")
    conf = textwrap.dedent(f"""\
        # TensorZero: one model on the mock (OpenAI provider type), observability off.
        [gateway]
        observability.enabled = false

        [models.bench-model]
        routing = ["mock"]

        [models.bench-model.providers.mock]
        type = "openai"
        api_base = "{ctx.mock_base}/v1/"
        model_name = "mock-gpt"
        api_key_location = "env::BENCH_MOCK_KEY"
        """)
    config = ctx.work / "tensorzero.toml"
    config.write_text(conf)
    launcher = ctx.work / "tensorzero_launcher.py"
    launcher.write_text(LAUNCHER)
    out = ctx.work / "tensorzero.stdout"
    out.write_bytes(b"")
    proc = Proc("tensorzero", [str(venv / "bin/python"), str(launcher), str(config)], SUT_CPU,
                env={"TOKIO_WORKER_THREADS": "1", "RUST_LOG": "error",
                     "BENCH_MOCK_KEY": MOCK_KEY, "TENSORZERO_DISABLE_PSEUDONYMOUS_USAGE_ANALYTICS": "1"},
                log=ctx.work / "tensorzero.log", stdout=open(out, "wb"))
    deadline = time.monotonic() + 60
    port = None
    while time.monotonic() < deadline and port is None:  # bounded by `deadline`
        text = out.read_text()
        if "listening on" in text:
            base = urllib.parse.urlsplit(text.split("listening on", 1)[1].split()[0])
            port = base.port
        elif not proc.alive():
            raise RuntimeError(f"tensorzero exited: {proc.log_tail()}")
        time.sleep(0.01)
    if port is None:
        proc.stop()
        raise RuntimeError(f"tensorzero printed no base URL within 60 s: {proc.log_tail()}")
    # The embedded HTTP gateway has no health route: any HTTP answer means up.
    startup = wait_ready(proc, port, "/health", 30, any_status=True)
    run = Running("tensorzero", proc, port, None, startup, conf)
    run.chat_path = "/openai/v1/chat/completions"
    run.model = "tensorzero::model_name::bench-model"
    return run
