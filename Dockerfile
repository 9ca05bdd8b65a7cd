# syntax=docker/dockerfile:1
# The image of `make image ENV=<env>`, for users with Docker (BuildKit). Run it
# through `make docker-build ENV=<env>`, which passes the build arguments and
# writes an OCI layout to dist/<env>/docker-image. Same content and config:
# the static binary built by scripts/artifacts/build at /gateway,
# /etc/passwd + /etc/group with user 65532, nothing else; same User,
# Entrypoint, Cmd, Env, ExposedPorts and labels. The binary's SHA-256 can match
# `make build` (same toolchain and Debian libc.a); the layer bytes, and so the
# image digest, come from BuildKit and differ from `make image`.
ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-bookworm AS build
ARG ENVIRONMENT
ARG GIT_REVISION=unknown
ARG SOURCE_DATE_EPOCH=0
WORKDIR /build/gateway
COPY . .
RUN GATEWAY_GIT_REVISION="$GIT_REVISION" SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" \
    ARTIFACTS_TARGET_DIR=/build/target scripts/artifacts/build "$ENVIRONMENT" \
 && mkdir -p /rootfs/etc \
 && cp "dist/$ENVIRONMENT/gateway" /rootfs/gateway \
 && printf 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\n' >/rootfs/etc/passwd \
 && printf 'nonroot:x:65532:\n' >/rootfs/etc/group \
 && chmod 0644 /rootfs/etc/passwd /rootfs/etc/group

FROM scratch
ARG ENVIRONMENT
ARG GIT_REVISION=unknown
ARG CREATED
ARG SOURCE_URL=unknown
ARG VERSION
ARG CONFIG_SHA256
COPY --from=build /rootfs/ /
USER 65532:65532
ENV GATEWAY_LISTEN=0.0.0.0:8080
EXPOSE 8080/tcp
STOPSIGNAL SIGTERM
ENTRYPOINT ["/gateway"]
CMD ["serve"]
LABEL org.opencontainers.image.created="$CREATED" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.revision="$GIT_REVISION" \
      org.opencontainers.image.source="$SOURCE_URL" \
      org.opencontainers.image.title="gateway" \
      org.opencontainers.image.description="LLM gateway, config of environment $ENVIRONMENT compiled in" \
      org.opencontainers.image.version="$VERSION" \
      io.gateway.environment="$ENVIRONMENT" \
      io.gateway.config.sha256="$CONFIG_SHA256"
