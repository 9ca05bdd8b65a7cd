//! The architecture invariants of README.md, each checked here (or named
//! where another test checks it).

use std::process::Command;

fn cargo_tree(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "--offline",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn crate_names(tree: &str) -> Vec<String> {
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn assert_absent(tree: &str, forbidden: &[&str], what: &str) {
    let names = crate_names(tree);
    for name in forbidden {
        assert!(
            !names.iter().any(|n| n == name),
            "{what} must not depend on `{name}`:\n{tree}"
        );
    }
}

/// Invariant 1: the runtime knows nothing about YAML, schemas or code generation.
#[test]
fn runtime_has_no_config_compiler_dependencies() {
    let tree = cargo_tree(&["-e", "normal,no-proc-macro", "-p", "gateway-runtime"]);
    assert!(
        crate_names(&tree).iter().any(|n| n == "hyper"),
        "sanity: the tree lists hyper:\n{tree}"
    );
    assert_absent(
        &tree,
        &[
            "saphyr",
            "saphyr-parser",
            "schemars",
            "jsonschema",
            "prettyplease",
            "gateway-codegen",
            "syn",
            "quote",
            "annotate-snippets",
        ],
        "gateway-runtime",
    );
}

/// Invariants 2 and 7: codegen never pulls the async stack, and nothing fetches over the network at build time.
#[test]
fn codegen_has_no_runtime_or_network_dependencies() {
    let tree = cargo_tree(&["-e", "normal", "-p", "gateway-codegen"]);
    assert!(
        crate_names(&tree).iter().any(|n| n == "saphyr"),
        "sanity: the tree lists saphyr:\n{tree}"
    );
    assert_absent(
        &tree,
        &[
            "gateway-runtime",
            "tokio",
            "hyper",
            "reqwest",
            "hyper-util",
            "rustls",
        ],
        "gateway-codegen",
    );
}

/// Invariant 3: generated code is data and dispatch only.
#[test]
fn generated_code_is_data_and_dispatch_only() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/codegen/tests/golden");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("golden dir") {
        let path = entry.expect("entry").path();
        let text = code_only(&std::fs::read_to_string(&path).expect("golden file"));
        for forbidden in [
            "unsafe", "impl ", "Vec<", "String", "Box<", "vec!", "format!", "use ", "loop",
            "while ", "for ",
        ] {
            assert!(
                !text.contains(forbidden),
                "{}: generated code contains `{forbidden}`",
                path.display()
            );
        }
        let functions = text.matches("fn ").count();
        assert_eq!(
            functions,
            1,
            "{}: only `resolve_model` is a function",
            path.display()
        );
        checked += 1;
    }
    assert!(
        checked >= 4,
        "expected the shipped environments' golden files"
    );
}

/// The text without comments and string literal contents, so only code is scanned.
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(inner) = chars.next() {
                    match inner {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push('"');
            }
            '/' if chars.peek() == Some(&'/') => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[test]
fn code_only_strips_strings_and_comments() {
    assert_eq!(code_only("a \"for \\\" x\" // for y\nb"), "a \"\" \nb");
}

/// Invariants 4 and 5: build.rs declares every input, and its output is the
/// checked-in golden copy byte for byte (same input, same output, across processes).
#[test]
fn build_script_declares_inputs_and_matches_golden() {
    let out_dir = env!("OUT_DIR");
    let generated =
        std::fs::read_to_string(format!("{out_dir}/config.rs")).expect("generated config.rs");
    let environment = generated
        .split("environment: \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("generated CONFIG names its environment");
    let golden_path = format!(
        "{}/codegen/tests/golden/{environment}.rs",
        env!("CARGO_MANIFEST_DIR")
    );
    let golden = std::fs::read_to_string(&golden_path).expect("golden for the built environment");
    assert!(
        generated == golden,
        "build.rs output differs from {golden_path}; regenerate with `GATEWAY_BLESS=1 cargo test -p gateway-codegen`"
    );
    assert!(
        generated.starts_with("// @generated by gateway-codegen from config/"),
        "header names workspace-relative sources"
    );
    assert!(
        !generated.contains(env!("CARGO_MANIFEST_DIR")),
        "no absolute paths in generated code"
    );

    let output =
        std::fs::read_to_string(format!("{out_dir}/../output")).expect("build script output");
    for variable in [
        "GATEWAY_ENV",
        "GATEWAY_UPSTREAM_CONFIG",
        "GATEWAY_AGENT_CONFIG",
        "GATEWAY_TOOL_CONFIG",
        "GATEWAY_SECURITY_CONFIG",
        "GATEWAY_GIT_REVISION",
    ] {
        assert!(
            output.contains(&format!("cargo::rerun-if-env-changed={variable}")),
            "build.rs must declare {variable}:\n{output}"
        );
    }
    let revision = env!("GATEWAY_GIT_REVISION");
    assert!(
        output.contains(&format!("cargo::rustc-env=GATEWAY_GIT_REVISION={revision}")),
        "build.rs hands the revision to rustc:\n{output}"
    );
    assert!(
        revision == "unknown" || !generated.contains(revision),
        "the revision stays out of config.rs, so goldens depend on the config only"
    );
    if std::env::var_os("GATEWAY_GIT_REVISION").is_none() && revision != "unknown" {
        assert!(
            output
                .lines()
                .any(|l| l.starts_with("cargo::rerun-if-changed=") && l.ends_with("HEAD")),
            "a revision read from git declares HEAD as an input:\n{output}"
        );
    }
    assert!(
        output
            .lines()
            .any(|l| l.starts_with("cargo::rerun-if-changed=") && l.ends_with("src/agents")),
        "build.rs must declare src/agents/ (SDK agents) as an input:\n{output}"
    );
    for file in [
        "upstreams.yaml",
        "agents.yaml",
        "tools.yaml",
        "security.yaml",
    ] {
        assert!(
            output
                .lines()
                .any(|l| l.starts_with("cargo::rerun-if-changed=")
                    && l.ends_with(&format!("config/{environment}/{file}"))),
            "build.rs must declare config/{environment}/{file}:\n{output}"
        );
    }
}

/// Invariant 6: inbound keys are compiled in only as digests; secrets are referenced by name.
#[test]
fn compiled_config_holds_digests_and_names_never_secrets() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/config.rs"))
        .expect("generated config.rs");
    for secret in [
        crate::support::CLIENT_KEY,
        crate::support::ADMIN_KEY,
        crate::support::UPSTREAM_KEY,
    ] {
        assert!(!generated.contains(secret));
    }
    assert!(
        generated.contains("SecretRef::Env("),
        "secrets appear as environment variable names"
    );
    assert!(
        !generated.contains("sk-"),
        "nothing that looks like a provider key"
    );
}

/// Invariant 8: no lock (so none held across an await) and no hashed label
/// lookups in the runtime: shared state is atomics and id-indexed slices.
#[test]
fn runtime_uses_no_locks_or_hash_maps() {
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/runtime/src"
    ))];
    let mut files = 0;
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .expect("dir")
                    .map(|e| e.expect("entry").path()),
            );
            continue;
        }
        let code = code_only(&std::fs::read_to_string(&path).expect("source"));
        for forbidden in [
            "Mutex",
            "RwLock",
            "HashMap",
            "BTreeMap",
            "with_label_values",
        ] {
            assert!(
                !code.contains(forbidden),
                "{} uses `{forbidden}`",
                path.display()
            );
        }
        files += 1;
    }
    assert!(files > 10, "scanned the runtime sources");
}

/// The runtime's layers and what each may name (`crate::<module>`). The
/// request flows one way: `http` -> `api` -> `upstream` / `provider` ->
/// leaves; `observe` is a sink that names only leaves; only `http` and `api`
/// (and startup) hold the whole gateway state (`gateway`). `testing` (unit
/// test tables) may be named anywhere.
const RUNTIME_LAYERS: &[(&str, &[&str])] = &[
    (
        "http",
        &[
            "api",
            "auth",
            "body",
            "drain",
            "error",
            "gateway",
            "observe",
            "request_id",
            "table",
        ],
    ),
    (
        "api",
        &[
            "agents",
            "auth",
            "body",
            "build_info",
            "calendar",
            "drain",
            "error",
            "gateway",
            "observe",
            "policy",
            "provider",
            "request_id",
            "secrets",
            "table",
            "tools",
            "translate",
            "upstream",
        ],
    ),
    (
        "upstream",
        &["body", "error", "observe", "request_id", "secrets", "table"],
    ),
    (
        "provider",
        &[
            "body",
            "drain",
            "error",
            "observe",
            "policy",
            "request_id",
            "table",
            "translate",
            "upstream",
        ],
    ),
    // The agent loop reaches the model and the tools only through its
    // `Steps` trait (implemented in api/agents.rs), so it names the tables,
    // the error type it ends runs with, and the metrics it counts.
    ("agents", &["error", "observe", "table"]),
    ("observe", &["build_info", "table"]),
    (
        "policy",
        &[
            "auth",
            "calendar",
            "error",
            "observe",
            "request_id",
            "secrets",
            "table",
        ],
    ),
    ("translate", &[]),
    // The tool registry at run time: validation, the builtins and http
    // tools; the endpoints, logs and metrics are `api`'s. `secrets` reads an
    // http tool's header secrets at startup like an upstream's key, and
    // `upstream` only lends its client constructor (one TLS and pool setup);
    // `translate` (a leaf) lends its SSE parser to the MCP client.
    (
        "tools",
        &["calendar", "secrets", "table", "translate", "upstream"],
    ),
    ("auth", &["error", "table"]),
    (
        "gateway",
        &[
            "auth",
            "drain",
            "observe",
            "policy",
            "request_id",
            "secrets",
            "table",
            "tools",
            "upstream",
        ],
    ),
    ("error", &["body", "calendar"]),
    ("calendar", &[]),
    ("body", &[]),
    ("table", &[]),
    ("request_id", &[]),
    ("drain", &[]),
    ("build_info", &[]),
    ("secrets", &["table"]),
];

/// Startup and test-only modules: they assemble everything.
const RUNTIME_ROOTS: &[&str] = &["lib", "cli", "testing", "fuzzing"];

/// Every `crate::<module>` a source file names, from its code (comments and strings stripped).
fn crate_modules_named(code: &str) -> std::collections::BTreeSet<String> {
    let mut named = std::collections::BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let preceded_by_ident = code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if preceded_by_ident {
            continue; // e.g. `gateway_crate::`
        }
        let rest = &code[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            named.insert(name);
        }
        // `crate::{a, b::c}`
        if rest.starts_with('{') {
            let group = &rest[1..rest.find('}').unwrap_or(rest.len())];
            for item in group.split(',') {
                let item: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !item.is_empty() {
                    named.insert(item);
                }
            }
        }
    }
    named
}

#[test]
fn runtime_layers_point_one_way() {
    let root = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/runtime/src"));
    let mut stack = vec![root.clone()];
    let mut violations = Vec::new();
    let mut files = 0;
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(
                std::fs::read_dir(&path)
                    .expect("dir")
                    .map(|e| e.expect("entry").path()),
            );
            continue;
        }
        let relative = path.strip_prefix(&root).expect("under src");
        let layer = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|first| first.trim_end_matches(".rs").to_string())
            .expect("layer");
        files += 1;
        if RUNTIME_ROOTS.contains(&layer.as_str()) {
            continue;
        }
        let Some((_, allowed)) = RUNTIME_LAYERS.iter().find(|(name, _)| *name == layer) else {
            violations.push(format!(
                "{}: layer `{layer}` is not in RUNTIME_LAYERS; add it with what it may name",
                relative.display()
            ));
            continue;
        };
        let code = code_only(&std::fs::read_to_string(&path).expect("source"));
        for named in crate_modules_named(&code) {
            if named != layer && named != "testing" && !allowed.contains(&named.as_str()) {
                violations.push(format!(
                    "{} (layer `{layer}`) names `crate::{named}`",
                    relative.display()
                ));
            }
        }
    }
    assert!(files > 20, "walked only {files} files");
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn crate_module_scan_reads_paths_and_groups() {
    let named = crate_modules_named(
        "use crate::a::b;\nuse crate::{c, d::e};\nlet x = crate::f::g(); let y = my_crate::h;",
    );
    let named: Vec<_> = named.into_iter().collect();
    assert_eq!(named, ["a", "c", "d", "f"]);
}
