//! What the running binary was built from: crate version, git revision and
//! rustc version (set once by [`crate::run`] from the `gateway` binary's
//! build script), shown with the compiled config's environment and digest by
//! `--version`, `/version`, `/health` and the `gateway_build_info` metric.
//!
//! Not here: how the revision is found (`gateway_codegen::provenance`).

use std::sync::OnceLock;

/// Provenance of the binary; the `gateway` binary fills it from `env!`.
#[derive(Debug)]
pub struct BuildInfo {
    /// The `gateway` package version.
    pub version: &'static str,
    /// Git commit (optionally `-dirty`), or `unknown`.
    pub git_revision: &'static str,
    /// `rustc --version` without the `rustc ` prefix, or `unknown`.
    pub rustc: &'static str,
}

/// What unit tests and an unset process see.
const UNKNOWN: BuildInfo = BuildInfo {
    version: env!("CARGO_PKG_VERSION"),
    git_revision: "unknown",
    rustc: "unknown",
};

static BUILD: OnceLock<&'static BuildInfo> = OnceLock::new();

/// Records the binary's provenance; the first call wins.
pub fn set(build: &'static BuildInfo) {
    let _ = BUILD.set(build);
}

/// The binary's provenance (placeholder values before [`set`]).
pub fn get() -> &'static BuildInfo {
    BUILD.get().copied().unwrap_or(&UNKNOWN)
}
