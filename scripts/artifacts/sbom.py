#!/usr/bin/env python3
"""Turns cargo-cyclonedx's output into the release SBOM (CycloneDX 1.5 JSON)
and checks it against the binary. Standard library only, except `validate`.

`finish`: reads the raw BOM, the binary and Cargo.lock, writes the final BOM:
  - the crates are exactly those cargo-auditable embedded in the binary
    (section .dep-v0, zlib JSON), compared as (name, version) sets, else it fails;
  - scope: `required` for crates compiled into the binary, `excluded` for
    build-only ones (build scripts, codegen, proc-macros and their deps); the
    binary's own list decides, since cargo-cyclonedx counts proc-macros as
    required although none of their code is in the binary;
  - hashes: registry crates carry their Cargo.lock checksum (SHA-256 of the
    .crate file, checked here); the workspace's own crates carry the SHA-256 of
    their source listing (`sha256sum` lines of their git-tracked files);
    the binary (metadata.component) carries its own SHA-256;
  - every component has a license (else it fails);
  - metadata.properties record the environment, config SHA-256, git revision
    and binary SHA-256; timestamp = SOURCE_DATE_EPOCH; the absolute source path
    becomes /build/gateway; serialNumber is a UUID derived from the content;
    components and dependencies are sorted; keys sorted, 2-space indent.
`validate`: the CycloneDX 1.5 JSON schema (cyclonedx-python-lib's strict validator).
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
import zlib

NAMESPACE = uuid.UUID("6f1ec4a8-6a7d-4b4e-9d0e-5b1a9f0c2d3e")  # this SBOM writer's own namespace
NEUTRAL_ROOT = "/build/gateway"


class Failure(Exception):
    pass


def embedded_packages(binary):
    """cargo-auditable's dependency list: [{name, version, source, kind?, ...}]."""
    with tempfile.TemporaryDirectory() as tmp:
        section, copy = f"{tmp}/dep-v0", f"{tmp}/copy"
        dump = subprocess.run(["objcopy", "--dump-section", f".dep-v0={section}", binary, copy], capture_output=True)
        if dump.returncode != 0 or not os.path.exists(section):
            raise Failure(f"{binary} has no .dep-v0 section (built without cargo-auditable?): "
                          f"{dump.stderr.decode(errors='replace').strip()[:200]}")
        with open(section, "rb") as f:
            return json.loads(zlib.decompress(f.read()))["packages"]


def lock_checksums(lock_path):
    with open(lock_path, "rb") as f:
        lock = tomllib.load(f)
    return {(p["name"], p["version"]): p["checksum"] for p in lock.get("package", []) if "checksum" in p}


def source_listing_sha256(root, crate_dir):
    """SHA-256 of `sha256sum`-style lines for the crate's git-tracked files (sorted)."""
    files = subprocess.run(["git", "-C", root, "ls-files", "-z", "--", crate_dir],
                           capture_output=True, check=True).stdout.split(b"\0")
    lines = []
    for name in sorted(f for f in files if f):
        with open(f"{root}/{name.decode()}", "rb") as fh:
            lines.append(f"{hashlib.sha256(fh.read()).hexdigest()}  {name.decode()}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def neutral(value, root):
    """Replaces the checkout's absolute path, wherever it appears in a string."""
    if isinstance(value, str):
        return value.replace(f"file://{root}", f"file://{NEUTRAL_ROOT}")
    if isinstance(value, list):
        return [neutral(v, root) for v in value]
    if isinstance(value, dict):
        return {k: neutral(v, root) for k, v in value.items()}
    return value


def check_crate_sets(components, packages, root_name):
    listed = {(c["name"], c["version"]) for c in components}
    embedded = {(p["name"], p["version"]) for p in packages if p["name"] != root_name}
    if listed != embedded:
        only_sbom = ", ".join(f"{n}@{v}" for n, v in sorted(listed - embedded)[:5])
        only_bin = ", ".join(f"{n}@{v}" for n, v in sorted(embedded - listed)[:5])
        raise Failure(f"SBOM and binary disagree: only in the SBOM [{only_sbom}], only in the binary [{only_bin}]")


def finish(args):
    with open(args.raw) as f:
        bom = neutral(json.load(f), args.root)
    packages = embedded_packages(args.binary)
    checksums = lock_checksums(args.lock)
    component = bom["metadata"]["component"]
    check_crate_sets(bom["components"], packages, component["name"])
    kinds = {(p["name"], p["version"]): p.get("kind", "runtime") for p in packages}
    workspace = dict(pair.split("=", 1) for pair in args.workspace_crate)
    for c in bom["components"]:
        key = (c["name"], c["version"])
        c["scope"] = "required" if kinds[key] == "runtime" else "excluded"
        if not c.get("licenses"):
            raise Failure(f"{c['name']}@{c['version']} has no license in its Cargo.toml; add it to the SBOM by hand or replace the crate")
        if c["name"] in workspace:
            c["hashes"] = [{"alg": "SHA-256", "content": source_listing_sha256(args.source, workspace[c["name"]])}]
            c.setdefault("properties", []).append(
                {"name": "gateway:hash", "value": "sha256 of the sha256sum listing of its git-tracked files"})
        elif key in checksums:
            got = [h["content"] for h in c.get("hashes", []) if h.get("alg") == "SHA-256"]
            if got and got != [checksums[key]]:
                raise Failure(f"{c['name']}@{c['version']}: hash {got[0]} is not Cargo.lock's {checksums[key]}")
            c["hashes"] = [{"alg": "SHA-256", "content": checksums[key]}]
        else:
            raise Failure(f"{c['name']}@{c['version']} has no Cargo.lock checksum and is not a workspace crate")
        c["properties"] = sorted(c.get("properties", []) + [{"name": "cdx:cargo:dependency_kind", "value": kinds[key]}],
                                 key=lambda p: p["name"])
    component["hashes"] = [{"alg": "SHA-256", "content": args.binary_sha256}]
    bom["metadata"]["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(args.epoch))
    properties = [p for p in bom["metadata"].get("properties", []) if not p["name"].startswith("gateway:")]
    properties += [
        {"name": "gateway:environment", "value": args.environment},
        {"name": "gateway:config_sha256", "value": args.config_sha256},
        {"name": "gateway:git_revision", "value": args.revision},
        {"name": "gateway:binary_sha256", "value": args.binary_sha256},
        {"name": "gateway:build_only_crates", "value": "listed with scope excluded and cdx:cargo:dependency_kind build"},
    ]
    bom["metadata"]["properties"] = sorted(properties, key=lambda p: p["name"])
    bom["components"] = sorted(bom["components"], key=lambda c: c["bom-ref"])
    bom["dependencies"] = sorted(({**d, "dependsOn": sorted(d.get("dependsOn", []))}
                                  for d in bom.get("dependencies", [])), key=lambda d: d["ref"])
    bom.pop("serialNumber", None)
    digest = hashlib.sha256(json.dumps(bom, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    bom = {"serialNumber": f"urn:uuid:{uuid.uuid5(NAMESPACE, digest)}", **bom}
    with open(args.out, "w") as f:
        json.dump(bom, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    runtime = sum(1 for c in bom["components"] if c["scope"] == "required")
    print(f"{len(bom['components'])} crates ({runtime} in the binary, {len(bom['components']) - runtime} build-only), "
          f"same set as the binary's embedded list")


def validate(args):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    with open(args.file) as f:
        text = f.read()
    error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text)
    if error is not None:
        raise Failure(f"not valid CycloneDX 1.5: {str(error)[:300]}")
    bom = json.loads(text)
    properties = {p["name"]: p["value"] for p in bom["metadata"].get("properties", [])}
    if properties.get("gateway:config_sha256") != args.config_sha256:
        raise Failure(f"metadata.properties gateway:config_sha256 is {properties.get('gateway:config_sha256')}, not {args.config_sha256}")
    print(f"valid CycloneDX {bom['specVersion']} (schema from cyclonedx-python-lib), config sha256 {args.config_sha256[:12]} recorded")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("finish")
    for name in ("raw", "binary", "binary-sha256", "lock", "out", "root", "source", "environment", "config-sha256", "revision"):
        f.add_argument("--" + name, required=True)
    f.add_argument("--epoch", type=int, required=True)
    f.add_argument("--workspace-crate", action="append", default=[], help="NAME=DIR (relative to root)")
    v = sub.add_parser("validate")
    v.add_argument("--file", required=True)
    v.add_argument("--config-sha256", required=True)
    args = parser.parse_args()
    try:
        (finish if args.command == "finish" else validate)(args)
    except Failure as e:
        print(f"sbom: error: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, subprocess.SubprocessError, zlib.error) as e:
        print(f"sbom: error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
