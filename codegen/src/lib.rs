//! gateway-codegen: the build-time config compiler.
//!
//! `load` (YAML -> JSON value + span index) -> `schema` (checked-in JSON
//! Schema) -> `spec` (typed, deserialized) -> `check` (semantic, accumulated)
//! -> `lower` -> `ir` -> `emit` (quote + prettyplease) -> one Rust file of
//! `&'static` tables for `gateway_runtime::table`. Front ends: [`cargo`]
//! (`build.rs`) and the `gateway-check` CLI. This crate never depends on the
//! runtime, tokio or hyper; it names runtime paths only inside `quote!`.

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

use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind, Report, SourceFile};
use crate::ir::Ir;
use crate::spec::Spec;

/// One environment's inputs: its name and the four files in [`FileKind::ALL`] order.
#[derive(Clone, Debug)]
pub struct Input {
    /// Environment name written into the generated `CONFIG`.
    pub environment: String,
    /// upstreams, agents, tools, security (display path + text; the index is filled here).
    pub files: [SourceFile; 4],
}

impl Input {
    /// Build an input from (display path, text) pairs in [`FileKind::ALL`] order.
    pub fn new(environment: impl Into<String>, files: [(String, String); 4]) -> Self {
        let files = files.map(|(display, text)| SourceFile {
            display,
            text,
            index: Default::default(),
        });
        Self {
            environment: environment.into(),
            files,
        }
    }
}

/// Run every phase up to the IR. On error, the report holds every diagnostic found.
pub fn analyze(input: &Input) -> Result<Ir, Report> {
    let mut files = input.files.clone();
    let mut diags = Diagnostics::default();
    let mut values: [Value; 4] = Default::default();
    for kind in FileKind::ALL {
        let src = &mut files[kind.index()];
        if let Some(loaded) = load::yaml::load(kind, &src.text, &mut diags) {
            src.index = loaded.index;
            load::schema::validate(kind, &loaded.value, &mut diags);
            values[kind.index()] = loaded.value;
        }
    }
    if diags.has_errors() {
        return Err(diags.into_report(&files));
    }
    let [up, ag, to, se] = values;
    let spec = (|| {
        Some(Spec {
            upstreams: deserialize(FileKind::Upstreams, up, &mut diags)?,
            agents: deserialize(FileKind::Agents, ag, &mut diags)?,
            tools: deserialize(FileKind::Tools, to, &mut diags)?,
            security: deserialize(FileKind::Security, se, &mut diags)?,
        })
    })();
    let Some(spec) = spec.filter(|_| !diags.has_errors()) else {
        return Err(diags.into_report(&files));
    };
    check::check_all(&spec, &mut diags);
    if diags.has_errors() {
        return Err(diags.into_report(&files));
    }
    let meta = lower::Meta {
        environment: input.environment.clone(),
        sources: files.iter().map(|f| f.display.clone()).collect(),
        config_sha256: config_sha256(&files),
    };
    match lower::lower(&spec, meta, &mut diags) {
        Some(ir) if !diags.has_errors() => Ok(ir),
        _ => Err(diags.into_report(&files)),
    }
}

/// Run the whole pipeline: the generated Rust file, or the report.
pub fn compile(input: &Input) -> Result<String, Report> {
    let ir = analyze(input)?;
    emit::file(&ir).map_err(|msg| {
        let mut diags = Diagnostics::default();
        diags.push(Diagnostic::error(
            codes::SCHEMA,
            FileKind::Upstreams,
            format!("internal error: {msg}"),
        ));
        diags.into_report(&input.files)
    })
}

fn deserialize<T: DeserializeOwned>(
    kind: FileKind,
    value: Value,
    diags: &mut Diagnostics,
) -> Option<T> {
    match serde_json::from_value(value) {
        Ok(v) => Some(v),
        Err(err) => {
            diags.push(
                Diagnostic::error(codes::DESERIALIZE, kind, format!("cannot read config: {err}"))
                    .help("fix the value named above; `gateway-check schema <file>` prints the expected shape"),
            );
            None
        }
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
