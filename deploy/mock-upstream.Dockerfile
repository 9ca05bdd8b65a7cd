# The mock OpenAI upstream for deploy/docker-compose.yml: the benchmark's
# `bench-mock` binary (crate gateway-bench, bench/), which answers
# /v1/chat/completions with a fixed streamed reply. Built from the repository
# root as context: docker build -f deploy/mock-upstream.Dockerfile .
FROM rust:1.95-bookworm AS build
WORKDIR /src
# The whole workspace's manifests and sources (cargo resolves every member),
# but not target/ or other local state.
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY codegen ./codegen
COPY runtime ./runtime
COPY bench ./bench
COPY tests ./tests
COPY config ./config
COPY schema ./schema
RUN cargo build --release --locked -p gateway-bench --bin bench-mock \
 && install -m 0555 target/release/bench-mock /bench-mock

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /bench-mock /bench-mock
USER 65532:65532
EXPOSE 9000
ENTRYPOINT ["/bench-mock"]
CMD ["--listen", "0.0.0.0:9000", "--chunks", "16", "--chunk-gap-ms", "20"]
