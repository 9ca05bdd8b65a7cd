# Release artifacts without Nix. Each target is a thin call into a script under
# scripts/artifacts/ (the logic lives there); artifacts go to dist/<env>/.
#   make build ENV=prod     dist/prod/gateway: static, reproducible, dependency list embedded
#   make image ENV=prod     dist/prod/image: OCI layout, deterministic, checked with skopeo, umoci and a smoke run
#   make sbom ENV=prod      dist/prod/sbom.cdx.json: CycloneDX 1.5, schema-validated, matches the binary
#   make docker-build ENV=prod   the same image with Docker (needs a Docker engine)
#   make smoke [BASE_URL=http://127.0.0.1:8080] [STREAM=1] [MODEL=demo]   smoke-test a running gateway
#   make audit              cargo-deny: licenses, bans, sources, advisories (offline advisory DB)
#   make verify-artifacts   the full reproducibility check (builds twice; slow)

ENV ?=
BASE_URL ?= http://127.0.0.1:8080
STREAM ?=
MODEL ?=

.PHONY: help build image sbom docker-build smoke audit verify-artifacts

help:
	@sed -n 's/^#   //p' Makefile

build:
	@scripts/artifacts/build "$(ENV)"

image:
	@scripts/artifacts/image "$(ENV)"

sbom:
	@scripts/artifacts/sbom "$(ENV)"

docker-build:
	@scripts/artifacts/docker-build "$(ENV)"

smoke:
	@scripts/smoke --base-url "$(BASE_URL)" $(if $(STREAM),--stream) $(if $(MODEL),--model "$(MODEL)")

audit:
	@scripts/artifacts/audit

verify-artifacts:
	@scripts/artifacts/verify
