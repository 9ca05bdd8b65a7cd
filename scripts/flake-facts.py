#!/usr/bin/env python3
"""Checks the facts nix/stub/eval.nix reports about flake.nix (JSON on stdin).

The stub inputs fix self.rev, self.shortRev and self.lastModifiedDate; this
checks that every environment gets its outputs, that images are tagged
`<env>-<short rev>` with the commit time as `created` (never "now", never
`latest`), and that the revision and environment reach the binaries but not
the shared dependency build. Prints one line and exits 1 on the first broken
promise. Run by scripts/check-deploy.
"""

import json
import sys

REV = "0123456789abcdef0123456789abcdef01234567"
SHORT = "0123456"
CREATED = "2026-11-23T19:03:00Z"


def need(condition, message):
    if not condition:
        print(message)
        sys.exit(1)


def main():
    facts = json.load(sys.stdin)
    need("x86_64-linux" in facts["systems"], "flake has no x86_64-linux outputs")
    for check in ("fmt", "clippy", "tests", "smoke-dev", "deploy"):
        need(check in facts["checks"], f"checks.{check} is missing (.ci/run runs it)")
    for e in facts["perEnvironment"]:
        env = e["env"]
        for out in ("gateway", "image", "sbom"):
            need(f"{out}-{env}" in facts["packages"], f"packages.{out}-{env} is missing")
        need(f"config-{env}" in facts["checks"], f"checks.config-{env} is missing")
        need(e["gatewayEnv"] == env, f"gateway-{env} is built with GATEWAY_ENV={e['gatewayEnv']}")
        need(e["revision"] == REV, f"gateway-{env} does not get GATEWAY_GIT_REVISION from self.rev")
        need(
            not e["depsSeeRevision"] and not e["depsSeeEnv"],
            "cargoArtifacts depend on the revision or environment: dependencies would not be shared",
        )
        need("crt-static" in (e["crtStatic"] or ""), f"gateway-{env} is not linked with crt-static")
        need(e["tag"] == f"{env}-{SHORT}", f"image-{env} tag is `{e['tag']}`, expected `{env}-<short rev>`")
        need(e["created"] == CREATED, f"image-{env} created is `{e['created']}`, expected the commit time")
        need(e["user"] == "65532:65532", f"image-{env} runs as `{e['user']}`, expected 65532:65532")
        need(e["labelRevision"] == REV, f"image-{env} lacks the org.opencontainers.image.revision label")
        need(e["sbom"] == f"sbom-{env}", f"sbom-{env} is named `{e['sbom']}`")


if __name__ == "__main__":
    main()
