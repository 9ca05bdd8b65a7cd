//! Reading a config directory (or per-file overrides) from disk into an [`Input`].
//!
//! The only module that touches the filesystem for reading; it does not
//! parse. A file missing from a config directory is an empty mapping; a
//! missing override file, or any unreadable file, is a GW0005 diagnostic.

use std::path::{Path, PathBuf};

use crate::diag::codes;
use crate::diag::{Diagnostic, Diagnostics, FileKind, Report, SourceFile};
use crate::load::Input;

/// One file to read: where it is on disk and how to name it in diagnostics.
#[derive(Clone, Debug)]
pub struct FileRef {
    /// Path to open.
    pub path: PathBuf,
    /// Workspace-relative display path.
    pub display: String,
    /// Whether a missing file is an error (explicit overrides) or an empty mapping.
    pub required: bool,
}

/// The four files of `dir`, displayed as `<display_dir>/<file>.yaml`.
pub fn dir_files(dir: &Path, display_dir: &str) -> [FileRef; 4] {
    FileKind::ALL.map(|k| FileRef {
        path: dir.join(k.file_name()),
        display: format!("{}/{}", display_dir.trim_end_matches('/'), k.file_name()),
        required: false,
    })
}

/// Read all four files; every unreadable (or missing required) one is reported.
pub fn read(environment: &str, files: &[FileRef; 4]) -> Result<Input, Report> {
    let mut diags = Diagnostics::default();
    let mut sources: [SourceFile; 4] = Default::default();
    for kind in FileKind::ALL {
        let f = &files[kind.index()];
        sources[kind.index()].display = f.display.clone();
        match std::fs::read_to_string(&f.path) {
            Ok(text) => sources[kind.index()].text = text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound && !f.required => {}
            Err(err) => diags.push(
                Diagnostic::new(
                    codes::UNREADABLE_FILE,
                    kind,
                    format!("cannot read `{}`: {err}", f.display),
                )
                .help("check the path (relative override paths start at the workspace root) and permissions"),
            ),
        }
    }
    if diags.has_errors() {
        return Err(diags.into_report(&sources));
    }
    Ok(Input {
        environment: environment.to_owned(),
        files: sources,
        sdk: None,
    })
}

/// The `*.rs` files of `dir` (SDK agents), read as text; a missing or
/// unreadable directory or file reads as absent (resolution then reports it).
pub fn sdk_sources(dir: &Path, display_dir: &str) -> crate::load::SdkSources {
    let mut modules = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let stem = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned);
        let (Some(stem), Some("rs")) = (stem, path.extension().and_then(|e| e.to_str())) else {
            continue;
        };
        if let Ok(text) = std::fs::read_to_string(&path) {
            modules.insert(stem, text);
        }
    }
    crate::load::SdkSources {
        display_dir: display_dir.to_owned(),
        modules,
    }
}
