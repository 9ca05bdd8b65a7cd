//! One fixture per warning under `fixtures/warnings/<name>/`: a config that
//! compiles but is almost surely wrong, with a snapshot of its rendered
//! warnings. Shipped environments and valid fixtures carry no warning.

use gateway_codegen::diag::Severity;

use crate::common;

#[test]
fn warning_fixtures_compile_and_render_their_warnings() {
    insta::glob!("..", "fixtures/warnings/*", |dir| {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let compiled = match gateway_codegen::compile(&common::input(dir, &name)) {
            Ok(compiled) => compiled,
            Err(report) => panic!(
                "warning fixture {name} does not compile:\n{}",
                report.render()
            ),
        };
        let warnings = &compiled.warnings;
        assert!(warnings.warning_count() > 0, "{name} has no warning");
        assert_eq!(warnings.error_count(), 0, "{name}");
        assert!(
            warnings
                .items
                .iter()
                .all(|i| i.code.name == name || warnings.items.iter().any(|j| j.code.name == name)),
            "{name}: the fixture is named after the warning it shows"
        );
        insta::assert_snapshot!(warnings.render());
    });
}

#[test]
fn shipped_and_valid_configs_have_no_warnings() {
    let root = common::workspace();
    let mut dirs = common::subdirs(&root.join("config"));
    dirs.extend(common::subdirs(&root.join("codegen/tests/fixtures/valid")));
    for dir in dirs {
        if let Ok(compiled) = gateway_codegen::compile(&common::input(&dir, "x")) {
            assert!(
                compiled.warnings.is_empty(),
                "{}:\n{}",
                dir.display(),
                compiled.warnings.render()
            );
        }
    }
}

#[test]
fn warnings_become_cargo_warning_lines_and_do_not_fail() {
    let dir = common::workspace().join("codegen/tests/fixtures/warnings/base-url-endpoint-path");
    let compiled = gateway_codegen::compile(&common::input(&dir, "w")).unwrap();
    let lines = gateway_codegen::cargo::warning_lines(&compiled.warnings);
    assert!(
        lines.iter().all(|l| l.starts_with("cargo::warning=")),
        "{lines:?}"
    );
    assert!(lines[0].contains("warning[GW0601]"), "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("help: use `base_url: https://api.openai.com/v1`"))
    );
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with("warning: config has 3 warnings")
    );
    for item in &compiled.warnings.items {
        assert_eq!(item.severity, Severity::Warning);
    }
    let one_line = compiled.warnings.cargo_lines();
    assert!(one_line[0].starts_with("cargo::warning=codegen/tests/fixtures/warnings/base-url-endpoint-path/upstreams.yaml:5:15: [GW0601] "), "{one_line:?}");
    assert!(one_line[0].contains("; help: use `base_url: https://api.openai.com/v1`"));
}
