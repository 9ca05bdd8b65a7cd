#!/usr/bin/env python3
"""Deterministic OCI image layouts without a container engine (stdlib only).

`write`: an OCI image layout (image-spec 1.1, one gzip layer) holding the
static gateway binary at /gateway and /etc/passwd + /etc/group with the
non-root user 65532, and nothing else. The same inputs give the same bytes:
tar entries in a fixed order with fixed mtime (SOURCE_DATE_EPOCH), owner 0:0
and modes; gzip with mtime 0 and no file name; JSON with sorted keys and no
whitespace. The manifest's digest is the image digest.

`run`: starts an image unpacked by `umoci unpack` as its config says (user,
env, entrypoint) inside its rootfs (chroot when root), on a loopback port,
waits for the `listening on` line, runs scripts/smoke against it, stops it.

Not here: building the binary (scripts/artifacts/build), validation with
skopeo/umoci (scripts/artifacts/image).
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

USER_ID = 65532
BINARY_PATH = "gateway"  # /gateway in the image
PORT = 8080
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
PASSWD = f"nonroot:x:{USER_ID}:{USER_ID}:nonroot:/nonexistent:/sbin/nologin\n"
GROUP = f"nonroot:x:{USER_ID}:\n"


class Failure(Exception):
    """A one-line reason; the caller prints it and exits non-zero."""


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def rfc3339(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def layer_tar(binary, epoch):
    """The uncompressed layer: etc/, etc/group, etc/passwd, gateway (sorted)."""
    entries = [
        ("etc", tarfile.DIRTYPE, 0o755, b""),
        ("etc/group", tarfile.REGTYPE, 0o644, GROUP.encode()),
        ("etc/passwd", tarfile.REGTYPE, 0o644, PASSWD.encode()),
        (BINARY_PATH, tarfile.REGTYPE, 0o755, binary),
    ]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, kind, mode, data in sorted(entries):
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = mode
            info.mtime = epoch
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data else None)
    return out.getvalue()


def gzip_bytes(data):
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as gz:
        gz.write(data)
    return out.getvalue()


def descriptor(media_type, blob, **extra):
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(blob).hexdigest(), "size": len(blob), **extra}


def labels(args):
    return {
        "org.opencontainers.image.created": rfc3339(args.epoch),
        "org.opencontainers.image.licenses": args.license,
        "org.opencontainers.image.revision": args.revision,
        "org.opencontainers.image.source": args.source,
        "org.opencontainers.image.title": "gateway",
        "org.opencontainers.image.description": f"LLM gateway, config of environment {args.environment} compiled in",
        "org.opencontainers.image.version": args.version,
        "io.gateway.environment": args.environment,
        "io.gateway.config.sha256": args.config_sha256,
    }


def write(args):
    with open(args.binary, "rb") as f:
        binary = f.read()
    tar = layer_tar(binary, args.epoch)
    layer = gzip_bytes(tar)
    created = rfc3339(args.epoch)
    config = canonical({
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "author": "scripts/artifacts/image",
        "config": {
            "User": f"{USER_ID}:{USER_ID}",
            "Entrypoint": [f"/{BINARY_PATH}"],
            "Cmd": ["serve"],
            # The compiled configs may listen on loopback; a container must not.
            "Env": [f"GATEWAY_LISTEN=0.0.0.0:{PORT}"],
            "ExposedPorts": {f"{PORT}/tcp": {}},
            "WorkingDir": "/",
            "StopSignal": "SIGTERM",
            "Labels": labels(args),
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
        "history": [{"created": created, "created_by": "scripts/artifacts/image (static gateway binary, passwd, group)"}],
    })
    manifest = canonical({
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": descriptor(MEDIA_CONFIG, config),
        "layers": [descriptor(MEDIA_LAYER, layer)],
        "annotations": {k: v for k, v in labels(args).items() if k.startswith("org.opencontainers.")},
    })
    index = canonical({
        "schemaVersion": 2,
        "mediaType": MEDIA_INDEX,
        "manifests": [descriptor(
            MEDIA_MANIFEST, manifest,
            platform={"architecture": "amd64", "os": "linux"},
            annotations={"org.opencontainers.image.ref.name": args.tag},
        )],
    })
    os.makedirs(os.path.join(args.out, "blobs", "sha256"))
    for blob in (layer, config, manifest):
        with open(os.path.join(args.out, "blobs", "sha256", hashlib.sha256(blob).hexdigest()), "wb") as f:
            f.write(blob)
    with open(os.path.join(args.out, "oci-layout"), "wb") as f:
        f.write(canonical({"imageLayoutVersion": "1.0.0"}))
    with open(os.path.join(args.out, "index.json"), "wb") as f:
        f.write(index)
    print("sha256:" + hashlib.sha256(manifest).hexdigest())


def missing_env_names(stderr):
    """Names from the gateway's missing-secrets list (`environment variable `X``)."""
    return sorted(set(re.findall(r"environment variable `([A-Za-z_][A-Za-z0-9_]*)`", stderr)))


def start(bundle, env, log):
    """Starts the bundle's process (chroot + its user when root); returns the Popen."""
    with open(os.path.join(bundle, "config.json")) as f:
        spec = json.load(f)
    process = spec["process"]
    rootfs = os.path.join(bundle, spec.get("root", {}).get("path", "rootfs"))
    argv = list(process["args"]) + ["--listen", "127.0.0.1:0"]
    user = process.get("user", {})
    if os.geteuid() == 0:
        chroot = shutil.which("chroot") or "/usr/sbin/chroot"  # resolved here: the child's env is the image's
        command = [chroot, f"--userspec={user.get('uid', 0)}:{user.get('gid', 0)}", "--groups=", rootfs] + argv
    else:
        command = [os.path.join(rootfs, argv[0].lstrip("/"))] + argv[1:]
    base = dict(item.split("=", 1) for item in process.get("env", []) if "=" in item)
    base.update(env)
    return subprocess.Popen(command, env=base, cwd=rootfs if os.geteuid() != 0 else "/",
                            stdout=log, stderr=subprocess.PIPE, text=True)


def wait_listening(child, log_path, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if child.poll() is not None:
            return None
        with open(log_path, errors="replace") as f:
            found = re.search(r"listening on ([0-9.]+:[0-9]+)", f.read())
        if found:
            return found.group(1)
        time.sleep(0.05)
    return None


def run(args):
    env = {"GATEWAY_LOG_LEVEL": "info"}
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "gateway.log")
        for attempt in range(2):
            with open(log_path, "w") as log:
                child = start(args.bundle, env, log)
            address = wait_listening(child, log_path, 20)
            if address:
                break
            stderr = child.communicate(timeout=10)[1] if child.poll() is not None else ""
            if child.poll() is None:
                child.kill()
                child.wait()
            names = missing_env_names(stderr)
            if attempt == 0 and child.returncode == 2 and names:
                print(f"oci: the image needs secrets {', '.join(names)}; starting again with dummy values", file=sys.stderr)
                env.update({name: "dummy-not-a-secret" for name in names})
                continue
            last = (stderr.strip().splitlines() or ["no output"])[0]
            raise Failure(f"the binary from the image did not start (exit {child.returncode}): {last}")
        try:
            smoke = [sys.executable, args.smoke, "--base-url", f"http://{address}"] + args.smoke_args
            result = subprocess.run(smoke, timeout=120)
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if result.returncode != 0:
            raise Failure("the smoke test failed against the binary from the image (reason above)")
        print(f"oci: the image's binary served the smoke test on {address} from its rootfs")


def check_inspect(args):
    """Compares `skopeo inspect` output (stdin) with what was written."""
    info = json.load(sys.stdin)
    labels = info.get("Labels") or {}
    problems = [what for what, ok in [
        (f"digest {info.get('Digest')} is not {args.digest}", info.get("Digest") == args.digest),
        ("revision label differs", labels.get("org.opencontainers.image.revision") == args.revision),
        ("source label missing", bool(labels.get("org.opencontainers.image.source"))),
        ("config digest label differs", labels.get("io.gateway.config.sha256") == args.config_sha256),
        ("not linux/amd64", (info.get("Os"), info.get("Architecture")) == ("linux", "amd64")),
    ] if not ok]
    if problems:
        raise Failure("skopeo inspect: " + "; ".join(problems))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write", help="write an OCI image layout; prints the manifest digest")
    for name in ("binary", "out", "tag", "environment", "config-sha256", "revision", "source", "version", "license"):
        w.add_argument("--" + name, required=True)
    w.add_argument("--epoch", type=int, required=True)
    r = sub.add_parser("run", help="start an unpacked bundle and smoke-test it; other arguments go to scripts/smoke")
    r.add_argument("--bundle", required=True)
    r.add_argument("--smoke", required=True)
    c = sub.add_parser("check-inspect", help="check `skopeo inspect` JSON on stdin")
    for name in ("digest", "revision", "config-sha256"):
        c.add_argument("--" + name, required=True)
    args, extra = parser.parse_known_args()
    if extra and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.smoke_args = extra  # `run` passes the rest to scripts/smoke
    try:
        {"write": write, "run": run, "check-inspect": check_inspect}[args.command](args)
    except Failure as e:
        print(f"oci: error: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, subprocess.SubprocessError) as e:
        print(f"oci: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
