//! Architecture invariant: the compiler's phases point one way. Each module
//! under `codegen/src/` may name (`crate::x`) only the modules its row in
//! [`ALLOWED`] lists (comments aside); `lib.rs`, `cargo.rs` and `main.rs`
//! join them and may name any.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common;

/// module -> modules it may use. Leaves first; the pipeline is
/// load -> check -> lower -> emit, each on spec/ir, diag and parse.
const ALLOWED: &[(&str, &[&str])] = &[
    ("parse", &[]),
    ("ir", &[]),
    ("provenance", &[]),
    ("diag", &["parse"]),
    ("spec", &["parse"]),
    ("load", &["diag", "spec", "parse"]),
    ("check", &["diag", "spec", "parse"]),
    ("lower", &["diag", "spec", "ir", "parse"]),
    ("emit", &["diag", "ir"]),
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn phases_point_one_way() {
    let src = common::workspace().join("codegen/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut checked = 0;
    for file in files {
        let rel = file.strip_prefix(&src).unwrap();
        let module = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = module.trim_end_matches(".rs");
        let Some((_, allowed)) = ALLOWED.iter().find(|(m, _)| *m == module) else {
            assert!(
                ["lib", "cargo", "main"].contains(&module),
                "{}: add module `{module}` to ALLOWED",
                rel.display()
            );
            continue;
        };
        let text: String = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let used: BTreeSet<&str> = text
            .match_indices("crate::")
            .filter_map(|(i, _)| {
                let rest = &text[i + "crate::".len()..];
                let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
                Some(&rest[..end])
            })
            .filter(|m| *m != module)
            .collect();
        for m in used {
            assert!(
                allowed.contains(&m),
                "{} (module `{module}`) uses `crate::{m}`; allowed: {allowed:?}",
                rel.display()
            );
        }
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} files checked");
}
