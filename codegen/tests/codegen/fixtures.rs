//! One fixture per mistake class under `fixtures/invalid/<name>/`, each with a
//! snapshot of the exact rendered report.

use std::collections::BTreeSet;

use crate::common;

#[test]
fn invalid_fixtures_render_their_report() {
    insta::glob!("..", "fixtures/invalid/*", |dir| {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let report = match gateway_codegen::compile(&common::input(dir, &name)) {
            Ok(_) => panic!("fixture {name} unexpectedly compiled"),
            Err(report) => report,
        };
        insta::assert_snapshot!(report.render());
    });
}

#[test]
fn invalid_fixtures_cover_enough_distinct_codes() {
    let root = common::workspace().join("codegen/tests/fixtures/invalid");
    let mut codes = BTreeSet::new();
    for dir in common::subdirs(&root) {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let report = gateway_codegen::compile(&common::input(&dir, &name))
            .err()
            .unwrap();
        assert!(!report.is_empty(), "{name}");
        for item in &report.items {
            codes.insert(item.code.id);
            assert!(item.line > 0, "{name}: {} has no location", item.code.id);
        }
    }
    assert!(
        codes.len() >= 22,
        "only {} distinct codes: {codes:?}",
        codes.len()
    );
}

#[test]
fn many_mistakes_are_all_reported_in_order() {
    let dir = common::workspace().join("codegen/tests/fixtures/invalid/many-mistakes");
    let report = gateway_codegen::compile(&common::input(&dir, "many"))
        .err()
        .unwrap();
    assert!(report.items.len() >= 4, "{}", report.render());
    let files: BTreeSet<_> = report.items.iter().map(|i| i.file).collect();
    assert!(files.len() >= 2, "mistakes span two files");
    let keys: Vec<_> = report
        .items
        .iter()
        .map(|i| (i.file, i.line, i.col))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn secrets_are_never_echoed() {
    for (upstreams, secret) in [
        (
            "upstreams:\n  o:\n    kind: openai\n    base_url: https://h/v1\n    api_key: sk-proj-SUPERSECRET\nmodels:\n  m: { upstream: o }\n",
            "SUPERSECRET",
        ),
        (
            "upstreams:\n  o:\n    kind: openai\n    base_url: https://u:hunter2@h/v1\nmodels:\n  m: { upstream: o }\n",
            "hunter2",
        ),
        (
            "upstreams:\n  o:\n    kind: openai\n    base_url: https://h/v1\n    api_key: { env: \"Bearer TOPSECRET\" }\nmodels:\n  m: { upstream: o }\n",
            "TOPSECRET",
        ),
    ] {
        let report = gateway_codegen::compile(&common::inline(upstreams, ""))
            .err()
            .unwrap();
        let text = format!("{}{}", report.render(), report.cargo_lines().join("\n"));
        assert!(!text.contains(secret), "secret echoed:\n{text}");
        assert!(text.contains("GW020"), "{text}");
    }
}

#[test]
fn no_panic_on_odd_inputs() {
    for text in [
        "",
        "---",
        "[]",
        "42",
        "~",
        "a: [",
        "? [a]\n: b",
        "x: *nope",
        "\u{feff}upstreams: {}",
        "- a\n- b",
        "&a [*a]",
        "!!int abc",
        "{upstreams: {}, models: {}}",
    ] {
        let _ = gateway_codegen::compile(&common::inline(text, text));
    }
}

#[test]
fn cargo_error_lines_name_file_line_col_and_code() {
    let dir = common::workspace().join("codegen/tests/fixtures/invalid/many-mistakes");
    let report = gateway_codegen::compile(&common::input(&dir, "many"))
        .err()
        .unwrap();
    let lines = report.cargo_lines();
    assert_eq!(lines.len(), report.items.len());
    assert_eq!(
        lines[0],
        "cargo::error=codegen/tests/fixtures/invalid/many-mistakes/upstreams.yaml:5:15: \
         [GW0305] invalid `base_url`: scheme `ftp` is not `http` or `https`"
    );
    assert!(lines.iter().all(|l| !l.contains('\n')));
}

#[test]
fn more_models_than_u16_ids_is_an_error() {
    let mut yaml = String::from("upstreams:\n  m: { kind: mock }\nmodels:\n");
    for i in 0..=usize::from(u16::MAX) {
        yaml.push_str(&format!("  m{i}: {{ upstream: m }}\n"));
    }
    let report = gateway_codegen::compile(&common::inline(&yaml, ""))
        .err()
        .unwrap();
    assert_eq!(report.items.len(), 1, "{}", report.render());
    assert_eq!(report.items[0].code.id, "GW0108");
}

#[test]
fn alias_bombs_are_rejected_not_expanded() {
    let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        yaml.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let report = gateway_codegen::compile(&common::inline(&yaml, ""))
        .err()
        .unwrap();
    assert_eq!(report.items[0].code.id, "GW0001", "{}", report.render());
}
