"""bench/translation: the translation figure (issue 10).

What a translated request costs: an OpenAI chat client, an Anthropic
Messages upstream (bench-mock's `POST /v1/messages`, carrying exactly the
text its OpenAI mode sends), the gateway translating both ways; beside the
hyper floor proxying the same chat body to the OpenAI mock, our own
passthrough, and the peers that can do the same translation.

Two measures, both from one run:

1. Instructions (callgrind, deterministic to ~1%; method of callgrind.py and
   ci_guard.py: warm up, zero, N sequential requests, dump, Ir / N) for the
   arms that are native code: the floor, ours, crabllm, and TensorZero (its
   PyPI wheel runs the Rust gateway inside a Python process that sleeps).
   Body S per request; per streamed chunk from two stream lengths:
   (Ir per stream at K2 deltas - Ir per stream at K1) / (K2 - K1), which
   cancels everything a stream costs once (request, headers, first and last
   events) and leaves what one more content delta costs.
2. CPU time per request and per chunk (utime + stime of the arm's
   processes, and the same time from /proc/PID/task/*/schedstat in ns; the
   arm alone on the SUT core, load generator and mocks on the other) for
   every arm, LiteLLM included: an interpreter under callgrind counts the
   interpreter, so for Python peers CPU time is the only comparable figure.

Every translated answer is checked against the OpenAI mock's own answer
(same content, finish reason; streams: same content digest over every
delta); an arm that answers wrongly is reported as failed, never as fast.

    bench/translation                    # install, build, measure, publish
    bench/translation --skip-install --skip-build --no-publish
    bench/translation --peers crabllm    # only that peer (default: all three)
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import traceback
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import arms as arms_mod  # noqa: E402
import callgrind  # noqa: E402
import install  # noqa: E402
from arms import Ctx, Running  # noqa: E402
from proc import RIG_CPU, SUT_CPU, Proc, free_port, http_post, run_json, wait_ready  # noqa: E402

ROOT = HERE.parent.parent
TOOLS = ROOT / "bench/.tools"

# Stream lengths (content deltas) of the two mocks, and their pacing. Every
# delta arrives as its own read at the proxy (2 ms apart), as a model's
# tokens do, so the per-chunk figure includes the wake-up per event.
K1, K2 = 20, 80
GAP_MS = 2
PASSTHROUGH = "bench-model"          # ours: config/bench, OpenAI upstream
TRANSLATED = "bench-translated"      # ours: config/bench, Anthropic upstream
TRANSLATED_K2 = "bench-translated-k2"  # peers: the same, on the K2 mock
UPSTREAM_MODEL = "mock-claude"
PEERS = ["crabllm", "tensorzero", "litellm"]
# What a peer cannot do here, found by trying it (and read in its source).
NO_STREAM = {
    "crabllm": "crabllm 0.0.25 translates plain chat requests to an Anthropic provider, but a "
               "streamed chat request is a raw passthrough that needs an OpenAI-compatible "
               "provider: it answers 404 `routing error: no compatible providers available` "
               "(crabllm-proxy 0.0.25 src/handlers.rs, chat_completions -> "
               "handle_raw_stream_passthrough)",
}

# callgrind: requests per figure (the guard's 1,000 / 200) and streams.
CG_REQUESTS, CG_WARMUP = 1000, 200
CG_STREAMS, CG_STREAM_WARMUP = 30, 5
# Native CPU: closed loop at concurrency 32 for non-streaming (saturating the
# arm's core), streams at concurrency 2 (the streaming figure's client).
SAT_SECONDS, SAT_CONCURRENCY = 3, 32
SSE_STREAMS, SSE_CONCURRENCY = 40, 2


def log(message: str) -> None:
    print(f"[translation {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------------------
# Arms: how each is configured for this figure. Every arm serves the chat
# completions API with up to four models: passthrough and translated on the
# K1 mock, and (peers only; ours and the floor are restarted instead) the
# same on the K2 mock.


@dataclasses.dataclass
class Arm:
    run: Running
    models: dict        # case -> model name: passthrough, translated, [translated-k2]
    procs: list = dataclasses.field(default_factory=list)

    def stop(self) -> None:
        self.run.stop()


def body_file(work: Path, base: str, model: str) -> Path:
    """bench/bodies/<base>.json with `model` replaced, bytes otherwise as generated."""
    source = ROOT / f"bench/bodies/{base}.json"
    if model == "bench-model":
        return source
    doc = json.loads(source.read_text())
    doc["model"] = model
    path = work / f"body-{base}-{model.replace(':', '_')}.json"
    path.write_text(json.dumps(doc, separators=(",", ":")))
    return path


def floor_argv(bins: Path, port: int, mock: int) -> list[str]:
    return [str(bins / "bench-floor"), "--listen", f"127.0.0.1:{port}",
            "--upstream", f"http://127.0.0.1:{mock}"]


def ours_env(work: Path, bins: Path, port: int, mock: int) -> dict:
    ctx = Ctx(root=ROOT, work=work, tools=TOOLS, bins=bins, mock_port=mock)
    return arms_mod.ours_env(ctx, port)


def crabllm_conf(port: int, mock_a: int, mock_b: int) -> str:
    return textwrap.dedent(f"""\
        # crabllm: the mock as an OpenAI provider (passthrough) and as an
        # Anthropic provider (translated), one virtual key.
        listen = "127.0.0.1:{port}"

        [providers.mock]
        kind = "openai"
        base_url = "http://127.0.0.1:{mock_a}/v1"
        api_key = "{arms_mod.MOCK_KEY}"
        models = ["{PASSTHROUGH}"]

        [providers.claude]
        kind = "anthropic"
        base_url = "http://127.0.0.1:{mock_a}/v1"
        api_key = "{arms_mod.MOCK_KEY}"
        models = ["{TRANSLATED}"]

        [providers.claude-k2]
        kind = "anthropic"
        base_url = "http://127.0.0.1:{mock_b}/v1"
        api_key = "{arms_mod.MOCK_KEY}"
        models = ["{TRANSLATED_K2}"]

        [[keys]]
        name = "bench"
        key = "{arms_mod.CRABLLM_KEY}"
        models = ["*"]
        """)


def tensorzero_conf(mock_a: int, mock_b: int) -> str:
    def anthropic(name: str, mock: int) -> str:
        return textwrap.dedent(f"""\
            [models.{name}]
            routing = ["anthropic"]

            [models.{name}.providers.anthropic]
            type = "anthropic"
            model_name = "{UPSTREAM_MODEL}"
            api_base = "http://127.0.0.1:{mock}/v1/messages"
            api_key_location = "env::BENCH_MOCK_KEY"
            """)
    return textwrap.dedent(f"""\
        # TensorZero: the mock as an OpenAI provider (passthrough) and as an
        # Anthropic provider with a custom api_base (translated); observability off.
        [gateway]
        observability.enabled = false

        [models.{PASSTHROUGH}]
        routing = ["mock"]

        [models.{PASSTHROUGH}.providers.mock]
        type = "openai"
        api_base = "http://127.0.0.1:{mock_a}/v1/"
        model_name = "mock-gpt"
        api_key_location = "env::BENCH_MOCK_KEY"

        """) + anthropic(TRANSLATED, mock_a) + "\n" + anthropic(TRANSLATED_K2, mock_b)


def litellm_conf(mock_a: int, mock_b: int) -> str:
    return textwrap.dedent(f"""\
        # LiteLLM proxy: the mock as an OpenAI provider (passthrough) and through
        # LiteLLM's `anthropic/` provider with api_base (translated); master key
        # auth, no database, no callbacks.
        model_list:
          - model_name: {PASSTHROUGH}
            litellm_params:
              model: openai/mock-gpt
              api_base: http://127.0.0.1:{mock_a}/v1
              api_key: {arms_mod.MOCK_KEY}
          - model_name: {TRANSLATED}
            litellm_params:
              model: anthropic/{UPSTREAM_MODEL}
              api_base: http://127.0.0.1:{mock_a}
              api_key: {arms_mod.MOCK_KEY}
          - model_name: {TRANSLATED_K2}
            litellm_params:
              model: anthropic/{UPSTREAM_MODEL}
              api_base: http://127.0.0.1:{mock_b}
              api_key: {arms_mod.MOCK_KEY}
        general_settings:
          master_key: {arms_mod.LITELLM_KEY}
        litellm_settings:
          drop_params: true
          telemetry: false
        """)


TZ_ENV = {"TOKIO_WORKER_THREADS": "1", "RUST_LOG": "error", "BENCH_MOCK_KEY": arms_mod.MOCK_KEY,
          "TENSORZERO_DISABLE_PSEUDONYMOUS_USAGE_ANALYTICS": "1"}
LITELLM_ENV = {"LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False",
               "DISABLE_SCHEMA_UPDATE": "true", "NO_DOCS": "True",
               "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def _tensorzero_proc(work: Path, prefix: list[str], mock_a: int, mock_b: int, name: str,
                     timeout: float) -> tuple[Proc, int, str]:
    """Starts TensorZero's embedded HTTP gateway (arms' launcher) with this
    figure's config; `prefix` runs it under valgrind. Returns (proc, port, config)."""
    import tensorzero_arm

    venv = ROOT / "bench/.venv-tensorzero"
    if not (venv / "bin/python").exists():
        raise RuntimeError(f"TensorZero is not installed in {venv}")
    conf = tensorzero_conf(mock_a, mock_b)
    config = work / f"{name}.toml"
    config.write_text(conf)
    launcher = work / "tensorzero_launcher.py"
    launcher.write_text(tensorzero_arm.LAUNCHER)
    out = work / f"{name}.stdout"
    out.write_bytes(b"")
    proc = Proc(name, [*prefix, str(venv / "bin/python"), str(launcher), str(config)], SUT_CPU,
                env=TZ_ENV, log=work / f"{name}.log", stdout=open(out, "wb"))
    deadline = time.monotonic() + timeout
    port = None
    while time.monotonic() < deadline and port is None:  # bounded by `deadline`
        text = out.read_text()
        if "listening on" in text:
            port = urllib.parse.urlsplit(text.split("listening on", 1)[1].split()[0]).port
        elif not proc.alive():
            raise RuntimeError(f"tensorzero exited: {proc.log_tail()}")
        time.sleep(0.05)
    if port is None:
        proc.stop()
        raise RuntimeError(f"tensorzero printed no base URL within {timeout:.0f} s: "
                           f"{proc.log_tail()}")
    wait_ready(proc, port, "/health", timeout, any_status=True)
    return proc, port, conf


def start_native(arm: str, work: Path, bins: Path, mock_a: int, mock_b: int) -> Arm:
    """Starts `arm` natively, pinned to the SUT core."""
    port = free_port()
    models = {"passthrough": PASSTHROUGH, "translated": TRANSLATED, "translated-k2": TRANSLATED_K2}
    if arm == "floor":
        argv = floor_argv(bins, port, mock_a)
        proc = Proc("floor", argv, SUT_CPU, log=work / "floor.log")
        wait_ready(proc, port, "/health", 20)
        return Arm(Running("floor", proc, port, None, None, " ".join(argv[1:])),
                   {"passthrough": PASSTHROUGH})
    if arm == "ours":
        env = ours_env(work, bins, port, mock_a)
        proc = Proc("ours", [str(bins / "gateway-bench")], SUT_CPU, env=env,
                    log=work / "ours.log")
        wait_ready(proc, port, "/health", 20)
        text = "environment: " + " ".join(f"{k}={v}" for k, v in env.items()) + "\n" + \
            (ROOT / "config/bench/upstreams.yaml").read_text()
        return Arm(Running("ours", proc, port, arms_mod.OURS_KEY, None, text),
                   {"passthrough": PASSTHROUGH, "translated": TRANSLATED})
    if arm == "crabllm":
        binary = TOOLS / "bin/crabllm"
        if not binary.exists():
            raise RuntimeError(f"crabllm is not installed at {binary}")
        conf = crabllm_conf(port, mock_a, mock_b)
        path = work / "crabllm-translation.toml"
        path.write_text(conf)
        proc = Proc("crabllm", [str(binary), "serve", "--config", str(path)], SUT_CPU,
                    env={"TOKIO_WORKER_THREADS": "1", "RUST_LOG": "warn"},
                    log=work / "crabllm.log")
        wait_ready(proc, port, "/health", 30)
        return Arm(Running("crabllm", proc, port, arms_mod.CRABLLM_KEY, None, conf), models)
    if arm == "tensorzero":
        proc, port, conf = _tensorzero_proc(work, [], mock_a, mock_b, "tensorzero", 60)
        run = Running("tensorzero", proc, port, None, None, conf)
        run.chat_path = "/openai/v1/chat/completions"
        prefixed = {k: f"tensorzero::model_name::{v}" for k, v in models.items()}
        return Arm(run, prefixed)
    if arm == "litellm":
        venv = ROOT / "bench/.venv-litellm"
        if not (venv / "bin/litellm").exists():
            raise RuntimeError(f"LiteLLM is not installed in {venv}")
        conf = litellm_conf(mock_a, mock_b)
        path = work / "litellm-translation.yaml"
        path.write_text(conf)
        argv = [str(venv / "bin/litellm"), "--config", str(path), "--host", "127.0.0.1",
                "--port", str(port), "--num_workers", "1"]
        proc = Proc("litellm", argv, SUT_CPU, env=LITELLM_ENV, log=work / "litellm.log")
        wait_ready(proc, port, "/health/liveliness", 180)
        return Arm(Running("litellm", proc, port, arms_mod.LITELLM_KEY, None,
                           conf + "\ncommand: litellm " + " ".join(argv[1:])), models)
    raise ValueError(arm)


# ---------------------------------------------------------------------------
# Correctness: what a client reads from a translated answer must be what the
# OpenAI mock says directly.


def completion_content(payload: bytes) -> dict:
    doc = json.loads(payload)
    choice = doc["choices"][0]
    return {"content": choice["message"]["content"], "finish_reason": choice.get("finish_reason"),
            "usage": {k: doc.get("usage", {}).get(k)
                      for k in ("prompt_tokens", "completion_tokens", "total_tokens")}}


def check_completion(arm: Arm, model: str, work: Path, reference: dict) -> list[str]:
    run = arm.run
    try:
        status, payload = http_post(run.port, run.chat_path,
                                    body_file(work, "s", model).read_bytes(), run.headers)
    except OSError as error:
        return [f"{model}: {error}"]
    if status != 200:
        return [f"{model}: status {status}: {payload[:300]!r}"]
    try:
        seen = completion_content(payload)
    except (ValueError, KeyError, IndexError, TypeError) as error:
        return [f"{model}: not a chat completion ({error}): {payload[:300]!r}"]
    problems = []
    if seen["content"] != reference["content"]:
        problems.append(f"{model}: content differs from the OpenAI mock's: "
                        f"{str(seen['content'])[:80]!r}")
    if seen["finish_reason"] != "stop":
        problems.append(f"{model}: finish_reason {seen['finish_reason']!r}, expected 'stop'")
    return problems


# ---------------------------------------------------------------------------
# CPU time of an arm's processes.


def cpu_ns(proc: Proc) -> int:
    """Time on CPU of every thread of the arm's processes (schedstat, ns).
    Threads that exit inside a window are not counted; utime + stime (ticks,
    exited threads included) is recorded beside it as a cross-check."""
    total = 0
    for pid in proc.pids():
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total


def with_cpu(proc: Proc, action) -> tuple[dict, float, float]:
    """Runs `action()`; returns (its result, CPU seconds by schedstat, by utime+stime)."""
    ns0, ticks0 = cpu_ns(proc), proc.cpu_seconds()
    result = action()
    return result, (cpu_ns(proc) - ns0) / 1e9, proc.cpu_seconds() - ticks0


def sse_run(bins: Path, run: Running, body: Path, chunks: int, streams: int,
            concurrency: int) -> dict:
    argv = [str(bins / "bench-sse"), "--url", run.url, "--body", str(body),
            "--streams", str(streams), "--concurrency", str(concurrency),
            "--expect-chunks", str(chunks), "--chunk-gap-ms", str(GAP_MS), "--timeout-s", "120"]
    if run.key:
        argv += ["--key", run.key]
    return run_json(argv, timeout=150)


def oha_run(run: Running, body: Path, seconds: int) -> dict:
    argv = [str(TOOLS / "bin/oha"), "--no-tui", "--output-format", "json", "-m", "POST",
            "-T", "application/json", "-D", str(body), "-c", str(SAT_CONCURRENCY),
            "-z", f"{seconds}s"]
    for k, v in run.headers.items():
        argv += ["-H", f"{k}: {v}"]
    argv.append(run.url)
    report = run_json(argv, cpu=RIG_CPU, timeout=seconds + 60)
    statuses = report.get("statusCodeDistribution", {})
    ok = int(statuses.get("200", 0))
    return {"rps": report.get("summary", {}).get("requestsPerSec"), "ok": ok,
            "non_200": sum(int(v) for v in statuses.values()) - ok,
            "errors": report.get("errorDistribution", {})}


# ---------------------------------------------------------------------------
# The native CPU figure.


def native_arm(arm: str, work: Path, bins: Path, mocks: dict, reference: dict) -> dict:
    """One arm, natively: correctness, CPU per request (passthrough and
    translated), CPU per streamed chunk and TTFT (translated; ours also
    passthrough). Ours and the floor are restarted on the K2 mock."""
    out: dict = {"arm": arm}
    started = time.monotonic()
    a = start_native(arm, work, bins, mocks[K1], mocks[K2])
    stream_cases = {c: a.models[c] for c in ("passthrough", "translated") if c in a.models}
    if arm not in ("floor", "ours"):
        stream_cases = {"translated": a.models["translated"]}
    if arm in NO_STREAM:
        stream_cases = {}
        out["stream_skipped"] = NO_STREAM[arm]
    try:
        out["config"] = a.run.config_text
        problems = []
        for case in ("passthrough", "translated"):
            if case in a.models:
                problems += check_completion(a, a.models[case], work, reference)
        if problems:
            out["failed"] = "correctness: " + "; ".join(problems[:3])
            return out
        for case in ("passthrough", "translated"):
            if case not in a.models:
                continue
            body = body_file(work, "s", a.models[case])
            oha_run(a.run, body, 1)  # warm-up (connections, caches, lazy init)
            result, cpu, cpu_ticks = with_cpu(a.run.proc, lambda: oha_run(a.run, body,
                                                                           SAT_SECONDS))
            result["cpu_s"], result["cpu_ticks_s"] = round(cpu, 4), round(cpu_ticks, 3)
            if result["ok"]:
                result["cpu_us_per_req"] = round(cpu / result["ok"] * 1e6, 2)
                result["cpu_ticks_us_per_req"] = round(cpu_ticks / result["ok"] * 1e6, 2)
            out[f"{case}_s"] = result
        for case, model in stream_cases.items():
            out[f"{case}_stream_k1"] = stream_cpu(bins, a.run, work, model, K1)
        if arm in ("floor", "ours"):
            a.stop()
            a = start_native(arm, work, bins, mocks[K2], mocks[K2])
            k2_models = stream_cases
        else:
            k2_models = {"translated": a.models["translated-k2"]} if stream_cases else {}
        for case, model in k2_models.items():
            out[f"{case}_stream_k2"] = stream_cpu(bins, a.run, work, model, K2)
        for case in stream_cases:
            s1, s2 = out[f"{case}_stream_k1"], out[f"{case}_stream_k2"]
            if s1.get("cpu_us_per_stream") is not None and s2.get("cpu_us_per_stream") is not None:
                out[f"{case}_cpu_us_per_chunk"] = round(
                    (s2["cpu_us_per_stream"] - s1["cpu_us_per_stream"]) / (K2 - K1), 3)
    except Exception as error:  # recorded; the figure goes on
        out["failed"] = f"{type(error).__name__}: {error}"
        log(f"{arm}: failed: {error}\n{traceback.format_exc(limit=3)}")
    finally:
        a.stop()
    out["wall_s"] = round(time.monotonic() - started, 1)
    return out


def stream_cpu(bins: Path, run: Running, work: Path, model: str, chunks: int) -> dict:
    body = body_file(work, "s-stream", model)
    sse_run(bins, run, body, chunks, 4, 2)  # warm-up
    result, cpu, cpu_ticks = with_cpu(run.proc, lambda: sse_run(
        bins, run, body, chunks, SSE_STREAMS, SSE_CONCURRENCY))
    keep = {k: result.get(k) for k in ("streams", "ok", "failed", "failures", "ttft_ms",
                                        "gap_ms", "stalls", "content_sha256", "wall_s")}
    keep["cpu_s"], keep["cpu_ticks_s"] = round(cpu, 4), round(cpu_ticks, 3)
    if result.get("ok"):
        keep["cpu_us_per_stream"] = round(cpu / result["ok"] * 1e6, 2)
    return keep


# ---------------------------------------------------------------------------
# The callgrind figure.


def seq_argv(bins: Path, run: Running, body: Path, same_body: bool) -> list[str]:
    argv = [str(bins / "bench-seq"), "--url", run.url, "--body", str(body)]
    if run.key:
        argv += ["--key", run.key]
    if not same_body:
        argv += ["--same-body", "no"]
    return argv


def callgrind_cases(proc: Proc, out_file: Path, run: Running, bins: Path, work: Path,
                    cases: list[tuple[str, str, str, int]], results: dict, arm: str) -> None:
    """Measures each (label, body base, model, chunks) on one running arm."""
    for label, base, model, chunks in cases:
        stream = base == "s-stream"
        n, w = (CG_STREAMS, CG_STREAM_WARMUP) if stream else (CG_REQUESTS, CG_WARMUP)
        # Byte-identical bodies only where nothing per-request is minted:
        # our passthrough and the floor relay the mock's fixed bytes.
        same = arm in ("floor",) or (arm == "ours" and model == PASSTHROUGH)
        started = time.monotonic()
        try:
            got = callgrind.instructions_per_request(
                proc, out_file, seq_argv(bins, run, body_file(work, base, model), same), n, w)
            got["chunks"] = chunks if stream else None
            results[label] = got
            log(f"callgrind: {arm:<10} {label:<28} {got['per_request']:>10} instructions/"
                f"{'stream' if stream else 'request'} ({time.monotonic() - started:.0f}s)")
        except Exception as error:  # recorded; the figure goes on
            results[label] = {"failed": f"{type(error).__name__}: {error}"}
            log(f"callgrind: {arm} {label} failed: {error}")


def callgrind_arm(arm: str, work: Path, bins: Path, mocks: dict) -> dict:
    """One arm under callgrind. The floor and ours run once per mock (their
    upstream address is one per process); a peer runs once, its config
    naming both mocks."""
    results: dict = {}
    if arm in ("floor", "ours"):
        models = {"passthrough": PASSTHROUGH}
        if arm == "ours":
            models["translated"] = TRANSLATED
        instances = [(K1, [(f"{c}_s", "s", m, 0) for c, m in models.items()]
                      + [(f"{c}_stream_k{K1}", "s-stream", m, K1) for c, m in models.items()]),
                     (K2, [(f"{c}_stream_k{K2}", "s-stream", m, K2) for c, m in models.items()])]
    else:
        pre = "tensorzero::model_name::" if arm == "tensorzero" else ""
        cases = [("passthrough_s", "s", pre + PASSTHROUGH, 0),
                 ("translated_s", "s", pre + TRANSLATED, 0)]
        if arm in NO_STREAM:
            results["stream_skipped"] = NO_STREAM[arm]
        else:
            cases += [(f"translated_stream_k{K1}", "s-stream", pre + TRANSLATED, K1),
                      (f"translated_stream_k{K2}", "s-stream", pre + TRANSLATED_K2, K2)]
        instances = [(K1, cases)]
    for k, cases in instances:
        port = free_port()
        name = f"{arm}-k{k}"
        try:
            if arm == "tensorzero":
                out_file = work / f"callgrind.{name}.out"
                for old in work.glob(f"callgrind.{name}.out*"):
                    old.unlink()
                proc, port, conf = _tensorzero_proc(work, callgrind.valgrind_argv(out_file),
                                                    mocks[K1], mocks[K2], "tensorzero-cg", 300)
                run = Running(arm, proc, port, None, None, conf)
                run.chat_path = "/openai/v1/chat/completions"
            else:
                if arm == "floor":
                    argv, env, key = floor_argv(bins, port, mocks[k]), {}, None
                elif arm == "ours":
                    argv, env, key = ([str(bins / "gateway-bench")],
                                      ours_env(work, bins, port, mocks[k]), arms_mod.OURS_KEY)
                elif arm == "crabllm":
                    conf = work / "crabllm-cg.toml"
                    conf.write_text(crabllm_conf(port, mocks[K1], mocks[K2]))
                    argv = [str(TOOLS / "bin/crabllm"), "serve", "--config", str(conf)]
                    env = {"TOKIO_WORKER_THREADS": "1", "RUST_LOG": "warn"}
                    key = arms_mod.CRABLLM_KEY
                else:
                    raise ValueError(arm)
                proc, out_file = callgrind.start_under_callgrind(name, argv, env, port,
                                                                 "/health", work)
                run = Running(arm, proc, port, key, None, "")
        except Exception as error:  # recorded; the figure goes on
            results[f"start-k{k}"] = {"failed": f"{type(error).__name__}: {error}"}
            log(f"callgrind: {arm} did not start: {error}")
            continue
        try:
            callgrind_cases(proc, out_file, run, bins, work, cases, results, arm)
        finally:
            proc.stop(grace=30)
    for case in ("passthrough", "translated"):
        s1 = results.get(f"{case}_stream_k{K1}", {})
        s2 = results.get(f"{case}_stream_k{K2}", {})
        if "per_request" in s1 and "per_request" in s2:
            results[f"{case}_per_chunk"] = round((s2["per_request"] - s1["per_request"])
                                                 / (K2 - K1))
            plain = results.get(f"{case}_s", {}).get("per_request")
            if plain:
                # The simpler estimate (stream minus plain request, over K1),
                # which also carries the stream's one-off costs.
                results[f"{case}_per_chunk_naive"] = round((s1["per_request"] - plain) / K1)
    return results


# ---------------------------------------------------------------------------
# Phases.


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/translation", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", default=",".join(PEERS),
                        help="peers to measure beside the floor and ours (default: all)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the native CPU figure")
    parser.add_argument("--skip-install", action="store_true")
    parser.add_argument("--skip-build", action="store_true",
                        help="use target/release as built (bench tools + GATEWAY_ENV=bench gateway)")
    parser.add_argument("--no-callgrind", action="store_true")
    parser.add_argument("--no-publish", action="store_true",
                        help="write the report into the work dir only")
    parser.add_argument("--quick", action="store_true",
                        help="few requests and one round, to check the rig (implies --no-publish)")
    parser.add_argument("--phase", default="all", choices=["all", "measure"])
    parser.add_argument("--work", default="")
    return parser.parse_args(argv)


def build(work: Path, bins: Path, skip: bool) -> dict:
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "release"
    if not skip:
        for args, env in ((["-p", "gateway-bench"], {}), (["-p", "gateway"], {"GATEWAY_ENV": "bench"})):
            log(f"cargo build --release --locked {' '.join(args)}")
            with open(work / "build.log", "ab") as out:
                done = subprocess.run(["cargo", "build", "--release", "--locked", *args], cwd=ROOT,
                                      env={**os.environ, **env}, stdout=out, stderr=out)
            if done.returncode != 0:
                raise SystemExit(f"build failed; see {work / 'build.log'}")
    bins.mkdir(parents=True, exist_ok=True)
    for tool in ("bench-mock", "bench-floor", "bench-seq", "bench-sse"):
        shutil.copy2(target / tool, bins / tool)
    shutil.copy2(target / "gateway", bins / "gateway-bench")
    routes = subprocess.run([str(bins / "gateway-bench"), "routes"], capture_output=True,
                            text=True, timeout=20).stdout
    if TRANSLATED not in routes:
        raise SystemExit(f"the gateway in {target} was not built from config/bench with "
                         f"`{TRANSLATED}` (build with GATEWAY_ENV=bench); `gateway routes`:\n{routes}")
    version = subprocess.run([str(bins / "gateway-bench"), "--version"], capture_output=True,
                             text=True, timeout=20).stdout.strip()
    return {"gateway_version": version, "gateway_routes": routes}


def quick() -> None:
    global CG_REQUESTS, CG_WARMUP, CG_STREAMS, CG_STREAM_WARMUP, SAT_SECONDS, SSE_STREAMS
    CG_REQUESTS, CG_WARMUP, CG_STREAMS, CG_STREAM_WARMUP = 100, 20, 4, 1
    SAT_SECONDS, SSE_STREAMS = 1, 6


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.quick:
        quick()
        args.rounds, args.no_publish = 1, True
    if args.phase == "measure":
        return measure_phase(args)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    work = ROOT / "bench/.work" / f"translation-{stamp}"
    work.mkdir(parents=True, exist_ok=True)
    state: dict = {"started": stamp, "argv": ["bench/translation", *argv]}
    if not args.skip_install:
        state["install"] = install.install_all(ROOT, TOOLS, work, log, peers=True)
    else:
        state["install"] = {"versions": install.versions(ROOT, TOOLS)}
    for tool in ("valgrind", "callgrind_control"):
        if not args.no_callgrind and not shutil.which(tool):
            raise SystemExit(f"error: {tool} is not installed; run without --skip-install or "
                             "apt-get install valgrind")
    bins = work / "bin"
    state["build"] = build(work, bins, args.skip_build)
    state["bins"] = str(bins)
    (work / "state.json").write_text(json.dumps(state, indent=1))
    log("measuring inside a network namespace (unshare -n, loopback only)")
    cmd = ["unshare", "-n", "--", "sh", "-c",
           'ip link set lo up && ulimit -n $(ulimit -Hn) && exec "$@"', "sh",
           sys.executable, __file__, "--phase", "measure", "--work", str(work),
           "--peers", args.peers, "--rounds", str(args.rounds)]
    cmd += ["--no-callgrind"] if args.no_callgrind else []
    cmd += ["--quick"] if args.quick else []
    started = time.monotonic()
    done = subprocess.run(cmd)
    if done.returncode != 0:
        log(f"measure phase failed (exit {done.returncode})")
        return done.returncode
    measured = json.loads((work / "measured.json").read_text())
    measured.update(state)
    measured["measure_wall_s"] = round(time.monotonic() - started, 1)
    measured["work"] = str(work)
    paths = write_report(measured, work if args.no_publish else ROOT / "bench/results", stamp)
    log("wrote " + ", ".join(str(p) for p in paths))
    return 0


def measure_phase(args: argparse.Namespace) -> int:
    work = Path(args.work)
    bins = Path(json.loads((work / "state.json").read_text())["bins"])
    peers = [p for p in args.peers.split(",") if p]
    mocks, mock_procs = {}, []
    for k in (K1, K2):
        port = free_port()
        mock_procs.append(Proc(f"mock-k{k}", [str(bins / "bench-mock"), "--listen",
                                             f"127.0.0.1:{port}", "--chunks", str(k),
                                             "--chunk-gap-ms", str(GAP_MS)],
                               RIG_CPU, log=work / f"mock-k{k}.log"))
        mocks[k] = port
    out: dict = {"k1": K1, "k2": K2, "gap_ms": GAP_MS, "peers": peers,
                 "mocks": {str(k): f"bench-mock --chunks {k} --chunk-gap-ms {GAP_MS}"
                           for k in (K1, K2)}}
    try:
        for proc, port in zip(mock_procs, mocks.values()):
            wait_ready(proc, port, "/health", 20)
        # The reference: what the OpenAI mock sends directly.
        status, payload = http_post(mocks[K1], "/v1/chat/completions",
                                    (ROOT / "bench/bodies/s.json").read_bytes(), {})
        reference = completion_content(payload)
        out["reference"] = {"status": status, **reference,
                            "sha256": hashlib.sha256(payload).hexdigest()}
        direct = Running("direct", None, mocks[K1], None, None, "")
        out["direct_stream"] = {}
        for k in (K1, K2):
            direct.port = mocks[k]
            out["direct_stream"][str(k)] = sse_run(bins, direct, ROOT / "bench/bodies/s-stream.json",
                                                   k, SSE_STREAMS, SSE_CONCURRENCY)
        log(f"direct: content sha k{K1} {out['direct_stream'][str(K1)]['content_sha256'][:12]}, "
            f"ttft p50 {out['direct_stream'][str(K1)]['ttft_ms']['p50']} ms")

        out["callgrind"] = {}
        if not args.no_callgrind:
            for arm in ["floor", "ours", *[p for p in peers if p != "litellm"]]:
                started = time.monotonic()
                out["callgrind"][arm] = callgrind_arm(arm, work, bins, mocks)
                log(f"callgrind: {arm} done ({time.monotonic() - started:.0f}s)")
                (work / "measured.json").write_text(json.dumps(out, indent=1))
            if "litellm" in peers:
                out["callgrind"]["litellm"] = {"skipped": "Python: callgrind would count the "
                                               "interpreter; compared on CPU time instead"}

        out["native_rounds"] = []
        for index in range(1, args.rounds + 1):
            direct.port = mocks[K1]
            round_out = {"direct": sse_run(bins, direct, ROOT / "bench/bodies/s-stream.json", K1,
                                           SSE_STREAMS, SSE_CONCURRENCY)}
            for arm in ["floor", "ours", *peers]:
                # LiteLLM takes ~20 s to start and ~10 ms per request: one round.
                if arm == "litellm" and index > 1:
                    continue
                round_out[arm] = native_arm(arm, work, bins, mocks, reference)
                log(f"round {index}: {arm:<10} {summary_line(round_out[arm])}")
            out["native_rounds"].append(round_out)
            (work / "measured.json").write_text(json.dumps(out, indent=1))
    finally:
        for proc in mock_procs:
            proc.stop()
    (work / "measured.json").write_text(json.dumps(out, indent=1))
    return 0


def summary_line(fig: dict) -> str:
    if fig.get("failed"):
        return f"FAILED {fig['failed'][:200]}"
    parts = []
    for case in ("passthrough", "translated"):
        s = fig.get(f"{case}_s")
        if s:
            parts.append(f"{case} {s.get('cpu_us_per_req')} us/req ({s['rps']:.0f} req/s)")
        if fig.get(f"{case}_cpu_us_per_chunk") is not None:
            parts.append(f"{case} {fig[f'{case}_cpu_us_per_chunk']} us/chunk")
    return ", ".join(parts) + f" ({fig.get('wall_s')}s)"


# ---------------------------------------------------------------------------
# Report.


def median(values: list) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def summarize(m: dict) -> dict:
    """Medians over rounds, ratios, stream checks and the verdicts."""
    direct = m["direct_stream"]
    arms = ["floor", "ours", *m["peers"]]
    native: dict = {}
    for arm in arms:
        figs = [r[arm] for r in m["native_rounds"] if arm in r]
        if not figs:
            continue
        ok = [f for f in figs if not f.get("failed")]
        entry: dict = {"rounds": len(ok), "failed": [f["failed"] for f in figs if f.get("failed")]}
        for case in ("passthrough", "translated"):
            entry[f"{case}_cpu_us_per_req"] = median(
                [f.get(f"{case}_s", {}).get("cpu_us_per_req") for f in ok])
            entry[f"{case}_rps"] = median([f.get(f"{case}_s", {}).get("rps") for f in ok])
            entry[f"{case}_cpu_us_per_chunk"] = median(
                [f.get(f"{case}_cpu_us_per_chunk") for f in ok])
            entry[f"{case}_ttft_p50_ms"] = median(
                [f.get(f"{case}_stream_k1", {}).get("ttft_ms", {}).get("p50") for f in ok])
            added = []
            for r in m["native_rounds"]:
                f, d = r.get(arm, {}), r.get("direct", {}).get("ttft_ms", {}).get("p50")
                t = f.get(f"{case}_stream_k1", {}).get("ttft_ms", {}).get("p50")
                if not f.get("failed") and t is not None and d is not None:
                    added.append(round(t - d, 3))
            if added:
                entry[f"{case}_added_ttft_p50_ms"] = median(added)
                entry[f"{case}_added_ttft_p50_ms_rounds"] = added
            for key in ("cpu_us_per_req", "cpu_us_per_chunk"):
                values = [f.get(f"{case}_s", {}).get("cpu_us_per_req") if key == "cpu_us_per_req"
                          else f.get(f"{case}_cpu_us_per_chunk") for f in ok]
                values = [v for v in values if v is not None]
                if values:
                    entry[f"{case}_{key}_rounds"] = values
            problems = []
            for f in ok:
                for k in (K1, K2):
                    s = f.get(f"{case}_stream_k{k}")
                    if not s:
                        continue
                    if s.get("failed"):
                        problems.append(f"k{k}: {s['failed']} of {s['streams']} streams failed: "
                                        f"{(s.get('failures') or [''])[0]}")
                    elif s.get("content_sha256") != direct[str(k)]["content_sha256"]:
                        problems.append(f"k{k}: streamed content differs from the OpenAI mock's")
            if any(f.get(f"{case}_stream_k1") for f in ok):
                entry[f"{case}_stream_problems"] = sorted(set(problems))
        native[arm] = entry

    cg = m.get("callgrind", {})

    def instr(arm: str, key: str):
        return cg.get(arm, {}).get(key, {}).get("per_request") if key.endswith("_s") else \
            cg.get(arm, {}).get(key)

    floor_i = instr("floor", "passthrough_s")
    ours_tr = instr("ours", "translated_s")
    ratio = round(ours_tr / floor_i, 3) if ours_tr and floor_i else None
    peers_i = {p: instr(p, "translated_s") for p in m["peers"] if instr(p, "translated_s")}
    peers_cpu = {p: native.get(p, {}).get("translated_cpu_us_per_req") for p in m["peers"]
                 if native.get(p, {}).get("translated_cpu_us_per_req")}
    peers_chunk = {p: instr(p, "translated_per_chunk") for p in m["peers"]
                   if instr(p, "translated_per_chunk")}
    ours_cpu = native.get("ours", {}).get("translated_cpu_us_per_req")
    ours_chunk = instr("ours", "translated_per_chunk")
    added = native.get("ours", {}).get("translated_added_ttft_p50_ms")

    def ahead(ours, peers: dict):
        if ours is None or not peers:
            return None
        return all(ours < v for v in peers.values())

    def vs(peers: dict, unit: str, ours) -> str:
        return ", ".join(f"{p} {fmt(v, 1 if unit == 'us' else 0)}"
                         + (f" ({v / ours:.1f}x ours)" if ours else "") for p, v in peers.items())

    verdicts = [
        {"figure": "translated request (body S): instructions vs the hyper floor",
         "target": "<= 2.0x floor", "value": ratio, "met": None if ratio is None else ratio <= 2.0,
         "detail": f"ours translated {fmt(ours_tr)} / floor {fmt(floor_i)} = {fmt(ratio, 2)}x "
                   f"(ours passthrough {fmt(instr('ours', 'passthrough_s'))})"},
        {"figure": "translated request (body S): instructions vs every peer that translates",
         "target": "fewer than each", "value": peers_i, "met": ahead(ours_tr, peers_i),
         "detail": f"ours {fmt(ours_tr)}; {vs(peers_i, 'i', ours_tr) or 'no peer measured'}"},
        {"figure": "translated request (body S): CPU time vs every peer that translates",
         "target": "less than each", "value": peers_cpu, "met": ahead(ours_cpu, peers_cpu),
         "detail": f"ours {fmt(ours_cpu, 1)} us; {vs(peers_cpu, 'us', ours_cpu) or 'no peer'}"},
        {"figure": "translated stream: instructions per chunk",
         "target": "reported; fewer than each peer that streams translated",
         "value": ours_chunk, "met": ahead(ours_chunk, peers_chunk),
         "detail": f"ours {fmt(ours_chunk)} (ours passthrough "
                   f"{fmt(instr('ours', 'passthrough_per_chunk'))}, floor "
                   f"{fmt(instr('floor', 'passthrough_per_chunk'))}); "
                   f"{vs(peers_chunk, 'i', ours_chunk) or 'no peer'}"
                   + "".join(f"; {p}: cannot stream translated" for p in m["peers"]
                             if p in NO_STREAM)},
        {"figure": "translated stream: added TTFT p50 (vs the OpenAI mock direct)",
         "target": "<= 0.25 ms", "value": added, "met": None if added is None else added <= 0.25,
         "detail": f"ours {fmt(added, 3)} ms (rounds: "
                   f"{native.get('ours', {}).get('translated_added_ttft_p50_ms_rounds')})"},
    ]
    return {"native": native, "verdicts": verdicts, "floor_instructions": floor_i,
            "ours_translated_instructions": ours_tr, "ratio": ratio}


def fmt(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def spread(values: list | None, digits: int) -> str:
    if not values or len(values) < 2:
        return ""
    return f" ({fmt(min(values), digits)}-{fmt(max(values), digits)})"


def render_md(m: dict, s: dict) -> str:
    cg = m.get("callgrind", {})
    floor_i = s["floor_instructions"]
    lines = [f"# Translation figure (issue 10): {m['started']}", "",
             "An OpenAI chat client; the gateway translating to an Anthropic Messages upstream "
             "(bench-mock `POST /v1/messages`, which carries exactly the text of its OpenAI mode) "
             "and back; beside the hyper floor proxying the same chat body to the OpenAI mock, "
             "our passthrough (`bench-model`), and the peers doing the same translation. Every "
             "translated answer was checked: same content and finish reason as the OpenAI mock's "
             "own answer, streams with the same content digest over all deltas. "
             f"Streams: {K1} and {K2} content deltas, {GAP_MS} ms apart. Built from "
             f"`{m['install']['versions'].get('gateway_git_revision', '?')[:12]}` "
             f"(tracked build files changed: {m['install']['versions'].get('gateway_tree_dirty')}).",
             "", "## Targets", "", "| figure | target | result | verdict |",
             "| --- | --- | --- | --- |"]
    for v in s["verdicts"]:
        met = {True: "met", False: "**missed**", None: "reported"}[v["met"]]
        lines.append(f"| {v['figure']} | {v['target']} | {v['detail']} | {met} |")
    lines += ["", "## Instructions (callgrind)", "",
              f"User-space instructions of the arm's process (valgrind 3.19 callgrind): body S, "
              f"{CG_REQUESTS:,} sequential requests after {CG_WARMUP} warm-up; streams "
              f"(`s-stream.json`, usage asked), {CG_STREAMS} sequential streams after "
              f"{CG_STREAM_WARMUP}. Per chunk = (per stream at {K2} deltas - per stream at {K1}) "
              f"/ {K2 - K1}, which cancels what a stream costs once; the naive estimate "
              f"(stream at {K1} - plain request) / {K1} is shown beside it.", "",
              "| arm | passthrough S | translated S | translated / floor | translated / own "
              "passthrough | per chunk passthrough | per chunk translated | naive per chunk "
              "(pass. / transl.) |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for arm in ["floor", "ours", *m["peers"]]:
        r = cg.get(arm, {})
        if r.get("skipped"):
            lines.append(f"| {arm} | {r['skipped']} | | | | | | |")
            continue
        fails = [f"{k}: {v['failed']}" for k, v in r.items()
                 if isinstance(v, dict) and v.get("failed")]
        tr = r.get("translated_s", {}).get("per_request")
        pt = r.get("passthrough_s", {}).get("per_request")
        lines.append(
            f"| {arm} | {fmt(pt)} | {fmt(tr)} | "
            f"{fmt(tr / floor_i, 2) + 'x' if tr and floor_i else '-'} | "
            f"{fmt(tr / pt, 2) + 'x' if tr and pt else '-'} | "
            f"{fmt(r.get('passthrough_per_chunk'))} | "
            f"{fmt(r.get('translated_per_chunk')) if arm not in NO_STREAM else 'cannot'} | "
            f"{fmt(r.get('passthrough_per_chunk_naive'))} / "
            f"{fmt(r.get('translated_per_chunk_naive'))} |"
            + (f" failed: {'; '.join(fails)[:300]}" if fails else ""))
    lines += ["", "## CPU time (native)", "",
              f"The arm alone on the SUT core, mocks and clients on the other; CPU = time on CPU "
              f"of every thread of the arm's processes (`/proc/PID/task/*/schedstat`; utime + "
              f"stime in the JSON agree to the 10 ms tick). Median of {m.get('rounds_run')} "
              f"rounds (LiteLLM: 1), range in brackets. Per request: `oha -c {SAT_CONCURRENCY} "
              f"-z {SAT_SECONDS}s`, CPU / 200 answers. Per chunk: {SSE_STREAMS} streams at "
              f"concurrency {SSE_CONCURRENCY} (bench-sse) at {K1} and {K2} deltas, difference / "
              f"{K2 - K1}: at a delta every {GAP_MS} ms each one is a wake-up, a read and a write "
              f"through the loopback TCP stack, so this figure is mostly kernel time and moves "
              f"with the VM's load (compare the instruction counts for the native arms); it is "
              f"the only per-chunk figure for LiteLLM. Added TTFT p50 = arm - the OpenAI mock "
              f"direct, same client, same round ({K1} deltas, concurrency {SSE_CONCURRENCY}).", "",
              "| arm | passthrough us/req | translated us/req | translated / floor | "
              "translated us/chunk | passthrough us/chunk | added TTFT p50 ms (translated) | "
              "problems |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    floor_cpu = s["native"].get("floor", {}).get("passthrough_cpu_us_per_req")
    for arm, e in s["native"].items():
        tr = e.get("translated_cpu_us_per_req")
        problems = e["failed"] + e.get("translated_stream_problems", []) + \
            e.get("passthrough_stream_problems", [])
        if arm in NO_STREAM:
            problems.append("cannot stream translated (below)")
        ttft_case = "translated" if arm != "floor" else "passthrough"
        lines.append(
            f"| {arm} | {fmt(e.get('passthrough_cpu_us_per_req'), 1)}"
            f"{spread(e.get('passthrough_cpu_us_per_req_rounds'), 1)} | "
            f"{fmt(tr, 1)}{spread(e.get('translated_cpu_us_per_req_rounds'), 1)} | "
            f"{fmt(tr / floor_cpu, 2) + 'x' if tr and floor_cpu else '-'} | "
            f"{fmt(e.get('translated_cpu_us_per_chunk'), 1)}"
            f"{spread(e.get('translated_cpu_us_per_chunk_rounds'), 1)} | "
            f"{fmt(e.get('passthrough_cpu_us_per_chunk'), 1)}"
            f"{spread(e.get('passthrough_cpu_us_per_chunk_rounds'), 1)} | "
            f"{fmt(e.get(f'{ttft_case}_added_ttft_p50_ms'), 3)}"
            f"{' (passthrough)' if arm == 'floor' else ''} | "
            f"{'; '.join(problems)[:300] or 'none'} |")
    lines += ["", "## Peers", ""]
    for peer in m["peers"]:
        notes = []
        if peer == "crabllm":
            notes.append(f"crabllm {install.CRATES.get('crabllm')} (crates.io, `cargo install "
                         "--locked`), `kind = \"anthropic\"` provider with `base_url` = the "
                         "mock's `/v1`, `TOKIO_WORKER_THREADS=1`")
        if peer == "tensorzero":
            notes.append(f"TensorZero {install.TENSORZERO} (PyPI wheel; its Rust gateway "
                         "embedded, started as arms.py does, the Python thread asleep), "
                         "`/openai/v1/chat/completions` with model "
                         "`tensorzero::model_name::<name>`, `type = \"anthropic\"` provider "
                         "with `api_base` = the mock's `/v1/messages`, no auth (it needs "
                         "Postgres), `TOKIO_WORKER_THREADS=1`")
        if peer == "litellm":
            notes.append(f"LiteLLM {install.LITELLM} (PyPI, proxy, 1 worker), "
                         "`model: anthropic/mock-claude` with `api_base` = the mock; no "
                         "instruction count: under callgrind a Python interpreter counts the "
                         "interpreter, so it is compared on CPU time (one round: ~7 s to start, "
                         "~10 ms a request)")
        if NO_STREAM.get(peer):
            notes.append(f"streams not measured: {NO_STREAM[peer]}")
        ttft = s["native"].get(peer, {}).get("translated_added_ttft_p50_ms")
        if peer == "tensorzero" and ttft and ttft > 20:
            notes.append(f"its first streamed delta arrives ~{ttft:.0f} ms after the mock sends "
                         f"it at both stream lengths (TTFT, not CPU; the delayed-ACK signature, "
                         f"not investigated further)")
        failed = s["native"].get(peer, {}).get("failed")
        if failed:
            notes.append("failed: " + "; ".join(failed)[:300])
        lines.append(f"- **{peer}**: " + "; ".join(notes) + ".")
    lines += ["", "Each arm's config as run is in the JSON (`native_rounds[*].<arm>.config`)."]
    versions = dict(m.get("install", {}).get("versions", {}))
    versions["crabllm"] = f"{install.CRATES.get('crabllm')} (installed by `cargo install`; " \
                          "the binary has no --version)"
    lines += ["", "## Versions", "", "```", json.dumps(versions, indent=1), "```", "",
              "## Commands", "", "```", " ".join(m["argv"]) + "   # as run, root, "
              f"measure phase inside `unshare -n` ({m.get('measure_wall_s')} s)",
              *[f"mock: {v}" for v in m["mocks"].values()],
              "callgrind: valgrind --tool=callgrind --dump-line=no --dump-instr=no "
              "--compress-strings=no <arm>; bench-seq --url U --body B [--key K] --requests 0 "
              "--warmup W; callgrind_control -z PID; bench-seq ... --requests N --warmup 0 "
              "[--same-body no]; callgrind_control -d PID; totals / N",
              f"cpu per request: oha --no-tui --output-format json -m POST -T application/json "
              f"-D <body> -c {SAT_CONCURRENCY} -z {SAT_SECONDS}s [-H authorization] <url>",
              f"cpu per chunk, TTFT: bench-sse --url U --body <s-stream body> --streams "
              f"{SSE_STREAMS} --concurrency {SSE_CONCURRENCY} --expect-chunks K --chunk-gap-ms "
              f"{GAP_MS}", "```", "",
              f"Work dir (configs, logs, callgrind dumps; not committed): `{m.get('work')}`.", ""]
    return "\n".join(lines)


def write_report(m: dict, where: Path, stamp: str) -> list[Path]:
    s = summarize(m)
    m["rounds_run"] = len(m.get("native_rounds", []))
    m["summary"] = s
    where.mkdir(parents=True, exist_ok=True)
    # `<date>-<figure>` as bench/run's partial figures: a name ending in `Z`
    # would be taken for a full run by report.py when it renders BENCHMARKS.md.
    j = where / f"{stamp}-translation.json"
    j.write_text(json.dumps(m, indent=1) + "\n")
    md = where / f"{stamp}-translation.md"
    md.write_text(render_md(m, s))
    return [j, md]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
