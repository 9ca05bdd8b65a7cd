//! The `build.rs` front end: environment variables in, `$OUT_DIR/config.rs` out
//! (plus the binary's provenance as `cargo::rustc-env=`, see [`crate::provenance`]).
//!
//! Declares every input to cargo (`rerun-if-env-changed` / `rerun-if-changed`),
//! writes only inside `OUT_DIR` (temp file + rename, only on success). On
//! failure it prints the rendered report to stderr and one `cargo::error=`
//! (or `cargo::warning=`) line per diagnostic to stdout; on success each
//! warning's rendered lines go out as `cargo::warning=` lines, which `cargo
//! check` shows without failing. Never panics. Holds no compiler logic.

use std::path::{Path, PathBuf};

use crate::diag::codes;
use crate::diag::{FileKind, Report};
use crate::load::fs::{self, FileRef};

/// Environment variable selecting `config/<env>/`.
pub const ENV_VAR: &str = "GATEWAY_ENV";

/// Per-file override variables, in [`FileKind::ALL`] order.
pub const OVERRIDE_VARS: [&str; 4] = [
    "GATEWAY_UPSTREAM_CONFIG",
    "GATEWAY_AGENT_CONFIG",
    "GATEWAY_TOOL_CONFIG",
    "GATEWAY_SECURITY_CONFIG",
];

/// Entry point for `build.rs`; returns the process exit code.
pub fn build_script_main() -> i32 {
    println!("cargo::rerun-if-env-changed={ENV_VAR}");
    for var in OVERRIDE_VARS {
        println!("cargo::rerun-if-env-changed={var}");
    }
    match run() {
        Ok(warnings) => {
            for line in warning_lines(&warnings) {
                println!("{line}");
            }
            0
        }
        Err(report) => {
            eprint!("{}", report.render());
            for line in report.cargo_lines() {
                println!("{line}");
            }
            1
        }
    }
}

/// A warnings-only report as `cargo::warning=` lines: every line of every
/// rendered warning (cargo shows each on its own `warning:` line), then the count.
pub fn warning_lines(warnings: &Report) -> Vec<String> {
    let rendered = warnings.render();
    rendered
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("cargo::warning={l}"))
        .collect()
}

/// Compile the selected environment into `$OUT_DIR/config.rs`; the warnings on success.
fn run() -> Result<Report, Report> {
    let manifest = PathBuf::from(var("CARGO_MANIFEST_DIR").ok_or_else(|| {
        simple(
            "`CARGO_MANIFEST_DIR` is not set",
            "run this from a build script",
        )
    })?);
    let out_dir = PathBuf::from(
        var("OUT_DIR")
            .ok_or_else(|| simple("`OUT_DIR` is not set", "run this from a build script"))?,
    );
    crate::provenance::emit(&manifest).map_err(|value| {
        simple(
            &format!(
                "`{}` is `{value}`, not a revision",
                crate::provenance::REVISION_VAR
            ),
            "use 7 to 64 characters of `[0-9A-Za-z._-]`, e.g. `GATEWAY_GIT_REVISION=$(git rev-parse HEAD)`, or unset it",
        )
    })?;
    let env = var(ENV_VAR).unwrap_or_else(|| "dev".to_owned());
    if !is_env_name(&env) {
        return Err(simple(
            &format!("invalid `{ENV_VAR}` value `{env}`"),
            "use a directory name under `config/` matching `[a-z0-9][a-z0-9_-]*`, e.g. `GATEWAY_ENV=prod`",
        ));
    }
    let dir = manifest.join("config").join(&env);
    println!("cargo::rerun-if-changed={}", dir.display());
    if !dir.is_dir() {
        return Err(simple(
            &format!("environment `{env}` has no directory `config/{env}`"),
            &format!(
                "create `config/{env}/` or set `{ENV_VAR}` to one of {}",
                known_envs(&manifest)
            ),
        ));
    }
    let mut files = fs::dir_files(&dir, &format!("config/{env}"));
    for (kind, name) in FileKind::ALL.into_iter().zip(OVERRIDE_VARS) {
        if let Some(value) = var(name) {
            files[kind.index()] = override_ref(&manifest, &value);
        }
    }
    for f in &files {
        println!("cargo::rerun-if-changed={}", f.path.display());
    }
    let mut input = fs::read(&env, &files)?;
    // SDK agents are Rust files of the root crate: inputs too.
    let sdk_dir = manifest.join("src").join("agents");
    println!("cargo::rerun-if-changed={}", sdk_dir.display());
    let sdk = fs::sdk_sources(&sdk_dir, "src/agents");
    for module in sdk.modules.keys() {
        println!(
            "cargo::rerun-if-changed={}",
            sdk_dir.join(format!("{module}.rs")).display()
        );
    }
    input.sdk = Some(sdk);
    let compiled = crate::compile(&input)?;
    write_atomically(&out_dir, &compiled.code)?;
    Ok(compiled.warnings)
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `[a-z0-9][a-z0-9_-]*`
pub fn is_env_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
}

fn override_ref(manifest: &Path, value: &str) -> FileRef {
    let given = Path::new(value);
    let path = if given.is_absolute() {
        given.to_path_buf()
    } else {
        manifest.join(given)
    };
    let display = match path.strip_prefix(manifest) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => value.to_owned(),
    };
    FileRef {
        path,
        display,
        required: true,
    }
}

fn known_envs(manifest: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(manifest.join("config"))
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    crate::diag::suggest::list(names.iter().map(String::as_str))
}

fn write_atomically(out_dir: &Path, code: &str) -> Result<(), Report> {
    let tmp = out_dir.join("config.rs.tmp");
    let dst = out_dir.join("config.rs");
    std::fs::write(&tmp, code)
        .and_then(|()| std::fs::rename(&tmp, &dst))
        .map_err(|e| {
            simple(
                &format!("cannot write `{}`: {e}", dst.display()),
                "check that `OUT_DIR` is writable",
            )
        })
}

/// A report for a problem that belongs to no config file.
fn simple(message: &str, help: &str) -> Report {
    Report::standalone(codes::BAD_ENVIRONMENT, message, help)
}
