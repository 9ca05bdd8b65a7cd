//! gateway-codegen: the build-time config compiler.
//!
//! `load` (YAML -> JSON value + span index -> checked-in JSON Schema ->
//! `spec` types, one file at a time) -> `check` (semantic, accumulated, per
//! concern) -> `lower` -> `ir` -> `emit` (quote + prettyplease) -> one Rust
//! file of `&'static` tables for `gateway_runtime::table`. `parse` holds the
//! value parsers every phase shares; `diag` the diagnostics, their codes and
//! rendering. Front ends: [`cargo`] (`build.rs`) and the `gateway-check` CLI.
//! This crate never depends on the runtime, tokio or hyper; it names runtime
//! paths only inside `quote!`.

pub mod cargo;
pub mod check;
pub mod diag;
pub mod emit;
pub mod ir;
pub mod load;
pub mod lower;
pub mod parse;
pub mod provenance;
pub mod spec;

pub use cargo::build_script_main;
pub use load::Input;

use sha2::{Digest as _, Sha256};

use crate::diag::{Diagnostics, Report, SourceFile};
use crate::ir::Ir;

/// A checked environment: its IR and the warnings found on the way.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The lowered environment.
    pub ir: Ir,
    /// Warnings only (rendered with [`Report::render`]; empty when there are none).
    pub warnings: Report,
}

/// A compiled environment: the generated Rust file and the warnings.
#[derive(Clone, Debug)]
pub struct Compiled {
    /// The generated `config.rs`.
    pub code: String,
    /// The lowered environment it was generated from.
    pub ir: Ir,
    /// Warnings only (rendered with [`Report::render`]; empty when there are none).
    pub warnings: Report,
}

/// Run every phase up to the IR. On error, the report holds every error and
/// warning found, sorted by file and position.
pub fn analyze(input: &Input) -> Result<Analysis, Report> {
    let (ir, files, diags) = front(input)?;
    Ok(Analysis {
        ir,
        warnings: diags.into_report(&files),
    })
}

/// Run the whole pipeline: the generated Rust file (with the warnings), or the report.
pub fn compile(input: &Input) -> Result<Compiled, Report> {
    let (ir, files, mut diags) = front(input)?;
    match emit::file(&ir) {
        Ok(code) => Ok(Compiled {
            code,
            ir,
            warnings: diags.into_report(&files),
        }),
        Err(refused) => {
            refused.into_iter().for_each(|d| diags.push(d));
            Err(diags.into_report(&files))
        }
    }
}

/// Load, check and lower: the IR, the indexed sources and the (warning-only) diagnostics.
fn front(input: &Input) -> Result<(Ir, [SourceFile; 4], Diagnostics), Report> {
    let mut files = input.files.clone();
    let mut diags = Diagnostics::default();
    let loaded = load::load_all(&mut files, &mut diags);
    check::check_all(&loaded, input.sdk.as_ref(), &mut diags);
    let spec = loaded.complete().filter(|_| !diags.has_errors());
    let Some(spec) = spec else {
        return Err(diags.into_report(&files));
    };
    let meta = lower::Meta {
        environment: input.environment.clone(),
        sources: files.iter().map(|f| f.display.clone()).collect(),
        config_sha256: config_sha256(&files),
    };
    match lower::lower(&spec, meta, &mut diags) {
        Some(ir) if !diags.has_errors() => Ok((ir, files, diags)),
        _ => Err(diags.into_report(&files)),
    }
}

/// Hex SHA-256 over, per file in fixed order: display path, NUL, byte length in decimal, NUL, bytes.
pub fn config_sha256(files: &[SourceFile; 4]) -> String {
    let mut h = Sha256::new();
    for f in files {
        h.update(f.display.as_bytes());
        h.update([0]);
        h.update(f.text.len().to_string().as_bytes());
        h.update([0]);
        h.update(f.text.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
