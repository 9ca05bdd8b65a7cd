//! Shared helpers: paths, fixture loading, and the bless switch.

use std::path::{Path, PathBuf};

use gateway_codegen::Input;
use gateway_codegen::diag::FileKind;

/// The workspace root (parent of `codegen/`).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Whether to rewrite checked-in files: `GATEWAY_BLESS` set and not under `CI`.
pub fn bless() -> bool {
    std::env::var_os("GATEWAY_BLESS").is_some() && std::env::var_os("CI").is_none()
}

/// Load a config directory; missing files are empty. Display paths are workspace-relative.
pub fn input(dir: &Path, environment: &str) -> Input {
    let root = workspace();
    let display_dir = dir.strip_prefix(&root).unwrap_or(dir).display().to_string();
    let files = FileKind::ALL.map(|k| {
        let text = std::fs::read_to_string(dir.join(k.file_name())).unwrap_or_default();
        (format!("{display_dir}/{}", k.file_name()), text)
    });
    let mut input = Input::new(environment, files);
    let sdk = dir.join("src").join("agents");
    if sdk.is_dir() {
        input.sdk = Some(gateway_codegen::load::fs::sdk_sources(&sdk, "src/agents"));
    }
    input
}

/// An input with only upstreams.yaml (and optionally security.yaml) given inline.
pub fn inline(upstreams: &str, security: &str) -> Input {
    Input::new(
        "inline",
        [
            (
                "config/inline/upstreams.yaml".to_owned(),
                upstreams.to_owned(),
            ),
            ("config/inline/agents.yaml".to_owned(), String::new()),
            ("config/inline/tools.yaml".to_owned(), String::new()),
            (
                "config/inline/security.yaml".to_owned(),
                security.to_owned(),
            ),
        ],
    )
}

/// Sorted subdirectories of `dir`.
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Compare `actual` with the file at `path`, rewriting it when blessing.
pub fn assert_file(path: &Path, actual: &str, command: &str) {
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected == actual {
        return;
    }
    if bless() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return;
    }
    panic!(
        "{} is stale; regenerate with `{command}` and review the diff",
        path.display()
    );
}
