//! The load phase, one file at a time: text -> YAML value with a span index
//! (`yaml.rs`) -> checked against the file's JSON Schema, credential-looking
//! values rejected (`schema.rs`, `secrets.rs`; `shape.rs` words the fix for
//! a list written as a mapping and vice versa) -> deserialized into the spec
//! types. Also reads the files from disk (`fs.rs`).
//!
//! Each file loads on its own: one file's YAML or schema errors leave that
//! file `None` in [`Loaded`] and the others go on to `check/`. Not here:
//! semantic checks (`check/`) and value parsing (`parse.rs`).

pub mod fs;
pub mod schema;
mod schema_errors;
pub mod secrets;
mod shape;
pub mod yaml;

use serde::de::DeserializeOwned;

use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind, SourceFile};
use crate::spec::Loaded;

/// One environment's inputs: its name and the four files in [`FileKind::ALL`] order.
#[derive(Clone, Debug)]
pub struct Input {
    /// Environment name written into the generated `CONFIG`.
    pub environment: String,
    /// upstreams, agents, tools, security (display path + text; the index is filled here).
    pub files: [SourceFile; 4],
    /// The root crate's `src/agents/*.rs`, where SDK agents live; `None`
    /// when not read (the `check` CLI), and SDK paths are then not resolved.
    pub sdk: Option<SdkSources>,
}

pub use crate::spec::agents::SdkSources;

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
            sdk: None,
        }
    }
}

/// Load all four files, filling each file's span index; every problem lands in `diags`.
pub fn load_all(files: &mut [SourceFile; 4], diags: &mut Diagnostics) -> Loaded {
    let [up, ag, to, se] = files;
    Loaded {
        upstreams: load(FileKind::Upstreams, up, diags),
        agents: load(FileKind::Agents, ag, diags),
        tools: load(FileKind::Tools, to, diags),
        security: load(FileKind::Security, se, diags),
    }
}

/// One file: `None` when it is not usable YAML, breaks its schema or does not deserialize.
fn load<T: DeserializeOwned>(
    kind: FileKind,
    src: &mut SourceFile,
    diags: &mut Diagnostics,
) -> Option<T> {
    let mut own = Diagnostics::default();
    let loaded = yaml::load(kind, &src.text, &mut own);
    let value = loaded.map(|loaded| {
        src.index = loaded.index;
        schema::validate(kind, &loaded.value, &mut own);
        loaded.value
    });
    let ok = !own.has_errors();
    diags.extend(own);
    match serde_json::from_value(value.filter(|_| ok)?) {
        Ok(spec) => Some(spec),
        Err(err) => {
            diags.push(
                Diagnostic::new(codes::DESERIALIZE, kind, format!("cannot read config: {err}"))
                    .help("fix the value named above; `gateway-check schema <file>` prints the expected shape"),
            );
            None
        }
    }
}
