//! Build provenance for the `gateway` binary: the git revision and the rustc
//! version, handed to the compiler as `cargo::rustc-env=` variables
//! (`GATEWAY_GIT_REVISION`, `GATEWAY_RUSTC_VERSION`).
//!
//! Kept out of the generated `config.rs` on purpose: that file depends on the
//! config alone (goldens stay stable across commits). Not here: how the
//! runtime shows these (`/version`, `/health`, `--version`, the
//! `gateway_build_info` metric).
//!
//! The revision is `$GATEWAY_GIT_REVISION` when set (Nix and the artifact
//! scripts set it; they also decide on a `-dirty` suffix), else
//! `git rev-parse HEAD` in the manifest directory, else `unknown`. A plain
//! `cargo build` never appends `-dirty`: that would make every edited file an
//! input of the build script, which cargo cannot be told.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Variable that overrides the revision (and the name it reaches rustc under).
pub const REVISION_VAR: &str = "GATEWAY_GIT_REVISION";
/// Variable carrying the compiler's version to the binary.
pub const RUSTC_VAR: &str = "GATEWAY_RUSTC_VERSION";

/// Prints the `cargo::` lines for the revision and the rustc version.
/// An unusable override is returned (escaped) as the error; never panics.
pub fn emit(manifest: &Path) -> Result<(), String> {
    println!("cargo::rerun-if-env-changed={REVISION_VAR}");
    let revision = match std::env::var(REVISION_VAR).ok().filter(|v| !v.is_empty()) {
        Some(value) if is_revision(&value) => value,
        Some(value) => return Err(value.escape_default().to_string()),
        None => git_revision(manifest).unwrap_or_else(|| "unknown".to_owned()),
    };
    println!("cargo::rustc-env={REVISION_VAR}={revision}");
    println!("cargo::rustc-env={RUSTC_VAR}={}", rustc_version());
    Ok(())
}

/// `[0-9A-Za-z._-]{7,64}`: a hash, optionally with a suffix such as `-dirty`.
pub fn is_revision(value: &str) -> bool {
    (7..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// `git rev-parse HEAD`, declaring the files that move when HEAD moves.
fn git_revision(manifest: &Path) -> Option<String> {
    let git_dir = absolute(manifest, &git(manifest, &["rev-parse", "--git-dir"])?);
    let common_dir = absolute(
        manifest,
        &git(manifest, &["rev-parse", "--git-common-dir"])?,
    );
    // HEAD (branch switches), the worktree's reflog (every commit, checkout,
    // reset), and the branch ref wherever it is stored.
    let mut inputs = vec![git_dir.join("HEAD"), git_dir.join("logs/HEAD")];
    if let Some(reference) = git(manifest, &["symbolic-ref", "-q", "HEAD"]) {
        inputs.push(common_dir.join(reference));
    }
    inputs.push(common_dir.join("packed-refs"));
    for input in inputs.iter().filter(|p| p.is_file()) {
        println!("cargo::rerun-if-changed={}", input.display());
    }
    git(manifest, &["rev-parse", "HEAD"]).filter(|r| is_revision(r))
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_owned())
}

fn absolute(base: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

/// `rustc --version` without the `rustc ` prefix (cargo reruns build scripts when rustc changes).
fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|v| v.trim().trim_start_matches("rustc ").to_owned())
        .filter(|v| !v.is_empty() && !v.contains('\n'))
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::is_revision;

    #[test]
    fn revisions_are_short_safe_tokens() {
        for good in [
            "213be58a4b47388f7e8b32581206930bc397db2f",
            "213be58",
            "213be58a4b47388f7e8b32581206930bc397db2f-dirty",
            "v1.2.3-rc.1",
        ] {
            assert!(is_revision(good), "{good}");
        }
        for bad in [
            "",
            "abc",
            "has space",
            "quote\"d",
            "new\nline",
            &"a".repeat(65),
        ] {
            assert!(!is_revision(bad), "{bad:?}");
        }
    }
}
