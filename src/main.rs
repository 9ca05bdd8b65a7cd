//! The `gateway` binary: the tables generated from `config/$GATEWAY_ENV`
//! joined to the runtime, with the build's provenance. No logic lives here.

mod agents;

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/config.rs"));
}

/// Provenance from `build.rs` (`gateway_codegen::provenance`); not part of the config.
static BUILD: gateway_runtime::BuildInfo = gateway_runtime::BuildInfo {
    version: env!("CARGO_PKG_VERSION"),
    git_revision: env!("GATEWAY_GIT_REVISION"),
    rustc: env!("GATEWAY_RUSTC_VERSION"),
};

fn main() -> std::process::ExitCode {
    gateway_runtime::run(&compiled::CONFIG, &BUILD)
}
