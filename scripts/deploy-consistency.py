#!/usr/bin/env python3
"""Cross-checks of the deploy assets against each other and against config/.

The schema validators (kubernetes-validate, check-jsonschema, docker-compose,
systemd-analyze) check each file on its own; this checks what they cannot:
that the files agree with the compiled config's timings and secrets and with
this product's deployment model. One line per problem on stdout, exit 1 if
any. Needs PyYAML only. Run by scripts/check-deploy.
"""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "deploy" / "docker-compose.yml"
UNIT = ROOT / "deploy" / "systemd" / "gateway.service"
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
ENV_LABEL = "gateway.example.com/environment"

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def duration_ms(text):
    """codegen's duration syntax (`500ms`, `5s`, `2m`, `1h`) and systemd's plain seconds."""
    match = re.fullmatch(r"(\d+)(ms|s|m|min|h)?", str(text).strip())
    if not match:
        raise ValueError(f"cannot read duration `{text}`")
    factor = {"ms": 1, "s": 1000, None: 1000, "m": 60_000, "min": 60_000, "h": 3_600_000}
    return int(match.group(1)) * factor[match.group(2)]


def load_security(env):
    path = ROOT / "config" / env / "security.yaml"
    if not path.is_file():
        return None
    return yaml.safe_load(path.read_text()) or {}


def stop_budget_ms(env):
    """shutdown_delay + drain_timeout of an environment, with codegen's defaults (0, 30s)."""
    security = load_security(env)
    if security is None:
        return None
    server = security.get("server") or {}
    return duration_ms(server.get("shutdown_delay", "0s")) + duration_ms(
        server.get("drain_timeout", "30s")
    )


def required_secret_envs(env):
    """Environment variables that non-optional upstreams of config/<env> read their key from."""
    path = ROOT / "config" / env / "upstreams.yaml"
    doc = yaml.safe_load(path.read_text()) if path.is_file() else {}
    names = set()
    for upstream in ((doc or {}).get("upstreams") or {}).values():
        key = (upstream or {}).get("api_key")
        if isinstance(key, dict) and "env" in key and not upstream.get("optional", False):
            names.add(key["env"])
    return names


def check_k8s():
    docs = {}
    files = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    for path in files:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.setdefault(doc.get("kind"), []).append((path.name, doc))

    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text()) or {}
    listed = set(kustomization.get("resources") or [])
    present = {p.name for p in files}
    for name in sorted(present - listed):
        problem("deploy/k8s/kustomization.yaml", f"does not list {name}")
    for name in sorted(listed - present):
        problem("deploy/k8s/kustomization.yaml", f"lists {name}, which does not exist")

    if "ConfigMap" in docs:
        problem("deploy/k8s", "has a ConfigMap: config is compiled into the image, ship a new image instead")

    deployments = docs.get("Deployment", [])
    if len(deployments) != 1:
        problem("deploy/k8s", f"expected one Deployment, found {len(deployments)}")
        return
    file, deployment = deployments[0]
    where = f"deploy/k8s/{file}"
    name = deployment["metadata"]["name"]
    pod = deployment["spec"]["template"]
    pod_labels = pod["metadata"].get("labels") or {}
    spec = pod["spec"]
    env = pod_labels.get(ENV_LABEL)
    if not env or not (ROOT / "config" / env).is_dir():
        problem(where, f"pod label {ENV_LABEL} must name an environment in config/ (got `{env}`)")

    for volume in spec.get("volumes") or []:
        if "configMap" in volume:
            problem(where, f"volume `{volume.get('name')}` mounts a ConfigMap: config is compiled in")

    containers = spec.get("containers") or []
    secret_keys = set()
    for _, secret in docs.get("Secret", []):
        secret_keys |= set((secret.get("stringData") or {}).keys())
        secret_keys |= set((secret.get("data") or {}).keys())
    secret_names = {s["metadata"]["name"] for _, s in docs.get("Secret", [])}
    for container in containers:
        cwhere = f"{where} container `{container['name']}`"
        image = container.get("image", "")
        if not DIGEST.search(image):
            problem(cwhere, f"image `{image}` is not pinned by @sha256 digest")
        probes = {
            "readinessProbe": "/ready",
            "livenessProbe": "/health",
        }
        for probe, path in probes.items():
            got = ((container.get(probe) or {}).get("httpGet") or {}).get("path")
            if got != path:
                problem(cwhere, f"{probe} must GET {path} (got `{got}`)")
        if not container.get("startupProbe"):
            problem(cwhere, "has no startupProbe")
        sc = container.get("securityContext") or {}
        if sc.get("readOnlyRootFilesystem") is not True:
            problem(cwhere, "securityContext.readOnlyRootFilesystem must be true")
        if sc.get("allowPrivilegeEscalation") is not False:
            problem(cwhere, "securityContext.allowPrivilegeEscalation must be false")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            problem(cwhere, "securityContext.capabilities.drop must include ALL")
        if not (container.get("resources") or {}).get("requests"):
            problem(cwhere, "has no resource requests (the HPA needs CPU requests)")
        provided = {e["name"] for e in container.get("env") or []}
        for source in container.get("envFrom") or []:
            ref = (source.get("secretRef") or {}).get("name")
            if ref:
                if ref not in secret_names:
                    problem(cwhere, f"envFrom names Secret `{ref}`, which deploy/k8s does not define")
                provided |= secret_keys
        for var in container.get("env") or []:
            ref = ((var.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name")
            if ref and ref not in secret_names:
                problem(cwhere, f"env `{var['name']}` reads Secret `{ref}`, which deploy/k8s does not define")
        if env:
            for missing in sorted(required_secret_envs(env) - provided):
                problem(cwhere, f"config/{env} needs `{missing}` but neither env nor the Secret provides it")

    pod_sc = spec.get("securityContext") or {}
    if pod_sc.get("runAsNonRoot") is not True:
        problem(where, "pod securityContext.runAsNonRoot must be true")
    if env and (ROOT / "config" / env).is_dir():
        budget = stop_budget_ms(env)
        grace = spec.get("terminationGracePeriodSeconds", 30) * 1000
        if budget is not None and grace <= budget:
            problem(
                where,
                f"terminationGracePeriodSeconds {grace // 1000} must exceed config/{env} "
                f"shutdown_delay + drain_timeout = {budget / 1000:g}s",
            )

    for kind in ("Service", "PodDisruptionBudget"):
        for f, obj in docs.get(kind, []):
            selector = obj["spec"].get("selector") or {}
            selector = selector.get("matchLabels", selector) if kind != "Service" else selector
            if not selector or any(pod_labels.get(k) != v for k, v in selector.items()):
                problem(f"deploy/k8s/{f}", f"{kind} selector {selector} does not match the pod labels")
    hpas = docs.get("HorizontalPodAutoscaler", [])
    if not hpas:
        problem("deploy/k8s", "has no HorizontalPodAutoscaler")
    for f, hpa in hpas:
        target = hpa["spec"]["scaleTargetRef"]
        if (target.get("kind"), target.get("name")) != ("Deployment", name):
            problem(f"deploy/k8s/{f}", f"scaleTargetRef must be Deployment `{name}`")
    for kind in ("Service", "PodDisruptionBudget", "Secret"):
        if kind not in docs:
            problem("deploy/k8s", f"has no {kind}")


def check_compose():
    doc = yaml.safe_load(COMPOSE.read_text()) or {}
    services = doc.get("services") or {}
    gateway = services.get("gateway")
    where = "deploy/docker-compose.yml service `gateway`"
    if not gateway:
        problem("deploy/docker-compose.yml", "has no `gateway` service")
        return
    env = ((gateway.get("build") or {}).get("args") or {}).get("GATEWAY_ENV")
    if not env or not (ROOT / "config" / env).is_dir():
        problem(where, f"build arg GATEWAY_ENV must name an environment in config/ (got `{env}`)")
        return
    if gateway.get("volumes"):
        problem(where, "mounts volumes: config is compiled into the image")
    grace = duration_ms(gateway.get("stop_grace_period", "10s"))
    budget = stop_budget_ms(env)
    if budget is not None and grace <= budget:
        problem(where, f"stop_grace_period must exceed config/{env} shutdown_delay + drain_timeout = {budget / 1000:g}s")
    environment = gateway.get("environment") or {}
    for missing in sorted(required_secret_envs(env) - set(environment)):
        problem(where, f"config/{env} needs `{missing}` in environment")


def check_unit():
    where = "deploy/systemd/gateway.service"
    settings = {}
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    stop = settings.get("TimeoutStopSec", ["90s"])[-1]
    envs = sorted(p.name for p in (ROOT / "config").iterdir() if p.is_dir())
    budgets = {e: stop_budget_ms(e) or 0 for e in envs}
    worst = max(budgets, key=budgets.get)
    if duration_ms(stop) <= budgets[worst]:
        problem(where, f"TimeoutStopSec={stop} must exceed config/{worst} shutdown_delay + drain_timeout = {budgets[worst] / 1000:g}s")
    if settings.get("KillSignal", ["SIGTERM"])[-1] != "SIGTERM":
        problem(where, "KillSignal must be SIGTERM (the gateway drains on it)")
    for key, want in (("DynamicUser", "yes"), ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict")):
        if settings.get(key, [""])[-1] != want:
            problem(where, f"{key} must be {want}")


def main():
    for check in (check_k8s, check_compose, check_unit):
        try:
            check()
        except (KeyError, TypeError, ValueError, yaml.YAMLError) as error:
            problem(check.__name__, f"cannot read the file: {type(error).__name__}: {error}")
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
