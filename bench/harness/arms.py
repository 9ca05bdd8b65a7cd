"""The arms of the benchmark: how each system under test is configured,
started pinned to the SUT core, and reached.

Every arm serves `POST /v1/chat/completions` for model `bench-model` in front
of the same mock upstream (`bench-mock`), with keep-alive to it. The exact
config of each arm is written to the work dir and copied into the report.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from proc import SUT_CPU, Proc, free_port, wait_ready

CHAT = "/v1/chat/completions"
MOCK_KEY = "sk-bench-upstream"
OURS_KEY = "gw-bench-key"
OURS_ADMIN_KEY = "gw-bench-admin-key"
LITELLM_KEY = "sk-bench-litellm-master"
BODY_MODEL = "bench-model"   # what every bench/bodies/*.json asks for
# config/bench's model with two deployments (`mock`, `mock-b`: the same mock,
# weights 1:1, default balancing, breaker and retry): the `ours-pair` arm.
PAIR_MODEL = "bench-pair"
# config/bench's model whose request limit lives in Redis (GATEWAY_BENCH_REDIS_URL).
REDIS_MODEL = "bench-redis"


def body_for_model(work: Path, base: str, model: str) -> Path:
    """bench/bodies/<base>.json asking for `model` instead of `bench-model`:
    the one `"model":"bench-model"` replaced in the bytes, every other byte
    (key order, spacing, padding, trailing newline) as generated."""
    source = Path(__file__).resolve().parent.parent / "bodies" / f"{base}.json"
    if model == BODY_MODEL:
        return source
    data = source.read_bytes()
    needle = f'"model":"{BODY_MODEL}"'.encode()
    if data.count(needle) != 1:
        raise RuntimeError(f"{source} does not name {needle.decode()} exactly once; "
                           "regenerate it with bench/bodies/generate.py")
    path = work / f"body-{base}-{model}.json"
    path.write_bytes(data.replace(needle, f'"model":"{model}"'.encode()))
    return path


@dataclass
class Running:
    arm: str
    proc: Proc | None
    port: int
    key: str | None
    startup_s: float | None
    config_text: str = ""
    extra_procs: list[Proc] = field(default_factory=list)
    chat_path: str = CHAT
    model: str = "bench-model"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.chat_path}"

    @property
    def headers(self) -> dict:
        return {"authorization": f"Bearer {self.key}"} if self.key else {}

    def stop(self) -> None:
        for p in [self.proc, *self.extra_procs]:
            if p:
                p.stop()


@dataclass
class Ctx:
    root: Path          # repository root
    work: Path          # bench/.work/<run>
    tools: Path         # bench/.tools (oha, crabllm)
    bins: Path          # release binaries of this run
    mock_port: int

    @property
    def mock_base(self) -> str:
        return f"http://127.0.0.1:{self.mock_port}"


def start(arm: str, ctx: Ctx, variant: str = "") -> Running:
    return STARTERS[arm](ctx, variant)


def _direct(ctx: Ctx, _variant: str) -> Running:
    return Running("direct", None, ctx.mock_port, None, None, "no proxy: the client talks to bench-mock")


def _floor(ctx: Ctx, _variant: str) -> Running:
    port = free_port()
    argv = [str(ctx.bins / "bench-floor"), "--listen", f"127.0.0.1:{port}",
            "--upstream", ctx.mock_base]
    proc = Proc("floor", argv, SUT_CPU, log=ctx.work / "floor.log")
    startup = wait_ready(proc, port, "/health", 20)
    return Running("floor", proc, port, None, startup, " ".join(argv[1:]))


def nginx_conf(ctx: Ctx, port: int, prefix: Path, single_process: bool = False) -> str:
    """nginx as a plain reverse proxy; `single_process` (no master) for callgrind."""
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    master = "master_process off;\n        " if single_process else ""
    return textwrap.dedent(f"""\
        # nginx 1.22 as a plain reverse proxy: one worker, keep-alive upstream,
        # no buffering of responses (SSE passes through), no access log.
        {master}worker_processes 1;
        daemon off;
        pid {prefix}/nginx.pid;
        error_log stderr warn;
        events {{ worker_connections 4096; }}
        http {{
            access_log off;
            client_body_temp_path {prefix}/body;
            proxy_temp_path {prefix}/proxy;
            client_max_body_size 4m;
            client_body_buffer_size 1m;
            keepalive_requests 1000000;
            tcp_nodelay on;
            upstream mock {{ server 127.0.0.1:{ctx.mock_port}; keepalive 256; }}
            server {{
                listen 127.0.0.1:{port} reuseport backlog=4096;
                location = /health {{ return 200 "ok"; }}
                location / {{
                    proxy_pass http://mock;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_buffering off;
                }}
            }}
        }}
        """)


def _nginx(ctx: Ctx, _variant: str) -> Running:
    port = free_port()
    prefix = ctx.work / "nginx"
    conf = nginx_conf(ctx, port, prefix)
    path = prefix / "nginx.conf"
    path.write_text(conf)
    proc = Proc("nginx", ["nginx", "-p", str(prefix), "-c", str(path)], SUT_CPU,
                log=ctx.work / "nginx.log")
    startup = wait_ready(proc, port, "/health", 20)
    return Running("nginx", proc, port, None, startup, conf)


def ours_env(ctx: Ctx, port: int) -> dict:
    return {
        "BENCH_UPSTREAM_URL": f"{ctx.mock_base}/v1",
        "BENCH_UPSTREAM_KEY": MOCK_KEY,
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "GATEWAY_LOG_LEVEL": "warn",
        # Nothing listens here unless an arm starts Redis: only `bench-redis` would notice.
        "GATEWAY_BENCH_REDIS_URL": "redis://127.0.0.1:1",
    }


def _ours(ctx: Ctx, variant: str) -> Running:
    """Our gateway as shipped: release build of `config/bench`, auth on, metrics on, logs at warn.

    `variant` selects a binary built from a generated config (e.g. `models-10000`).
    """
    port = free_port()
    binary = ctx.bins / (f"gateway-bench-{variant}" if variant else "gateway-bench")
    env = ours_env(ctx, port)
    proc = Proc("ours", [str(binary)], SUT_CPU, env=env, log=ctx.work / "ours.log")
    startup = wait_ready(proc, port, "/health", 20)
    config = "".join(f"# {f.name}\n{f.read_text()}\n"
                     for f in sorted((ctx.root / "config/bench").glob("*.yaml")))
    text = "environment: " + " ".join(f"{k}={v}" for k, v in env.items()) + "\n" + config
    return Running("ours", proc, port, OURS_KEY, startup, text)


def crabllm_conf(ctx: Ctx, port: int) -> str:
    return textwrap.dedent(f"""\
        # crabllm: one OpenAI-compatible provider (the mock), one virtual key.
        listen = "127.0.0.1:{port}"

        [providers.mock]
        kind = "openai"
        base_url = "{ctx.mock_base}/v1"
        api_key = "{MOCK_KEY}"
        models = ["bench-model"]

        [[keys]]
        name = "bench"
        key = "sk-bench-crabllm"
        models = ["*"]
        """)


CRABLLM_KEY = "sk-bench-crabllm"


def _crabllm(ctx: Ctx, _variant: str) -> Running:
    port = free_port()
    binary = ctx.tools / "bin" / "crabllm"
    if not binary.exists():
        raise RuntimeError(f"crabllm is not installed at {binary} (see the install log)")
    conf = crabllm_conf(ctx, port)
    path = ctx.work / "crabllm.toml"
    path.write_text(conf)
    proc = Proc("crabllm", [str(binary), "serve", "--config", str(path)], SUT_CPU,
                env={"TOKIO_WORKER_THREADS": "1", "RUST_LOG": "warn"},
                log=ctx.work / "crabllm.log")
    startup = wait_ready(proc, port, "/health", 30)
    return Running("crabllm", proc, port, "sk-bench-crabllm", startup, conf)


def _litellm(ctx: Ctx, _variant: str) -> Running:
    port = free_port()
    venv = ctx.root / "bench/.venv-litellm"
    if not (venv / "bin/litellm").exists():
        raise RuntimeError(f"LiteLLM is not installed in {venv} (see the install log)")
    conf = textwrap.dedent(f"""\
        # LiteLLM proxy: one model on the mock (OpenAI-compatible), master key auth,
        # no database, no callbacks.
        model_list:
          - model_name: bench-model
            litellm_params:
              model: openai/mock-gpt
              api_base: {ctx.mock_base}/v1
              api_key: {MOCK_KEY}
        general_settings:
          master_key: {LITELLM_KEY}
        litellm_settings:
          drop_params: true
          telemetry: false
        """)
    path = ctx.work / "litellm.yaml"
    path.write_text(conf)
    argv = [str(venv / "bin/litellm"), "--config", str(path), "--host", "127.0.0.1",
            "--port", str(port), "--num_workers", "1"]
    proc = Proc("litellm", argv, SUT_CPU,
                env={"LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False",
                     "DISABLE_SCHEMA_UPDATE": "true", "NO_DOCS": "True"},
                log=ctx.work / "litellm.log")
    startup = wait_ready(proc, port, "/health/liveliness", 180)
    return Running("litellm", proc, port, LITELLM_KEY, startup,
                   conf + "\ncommand: litellm " + " ".join(argv[1:]))


def _tensorzero(ctx: Ctx, _variant: str) -> Running:
    import tensorzero_arm

    return tensorzero_arm.start(ctx)


STARTERS = {
    "direct": _direct,
    "floor": _floor,
    "nginx": _nginx,
    "ours": _ours,
    "crabllm": _crabllm,
    "tensorzero": _tensorzero,
    "litellm": _litellm,
}

ALL_ARMS = list(STARTERS)
PROXIES = [a for a in ALL_ARMS if a != "direct"]
