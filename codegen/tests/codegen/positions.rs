//! Source positions: character columns in `file:line:col`, byte offsets for the
//! renderer, both right after non-ASCII text.

use crate::common;

fn first(upstreams: &str) -> (usize, usize, String) {
    let report = gateway_codegen::analyze(&common::inline(upstreams, ""))
        .err()
        .unwrap();
    let item = &report.items[0];
    (item.line, item.col, item.rendered.clone())
}

#[test]
fn columns_count_characters_after_non_ascii() {
    let cases = [
        // (yaml, line, col of the offending value)
        ("upstreams: {}\nmodels:\n  m: { upstream: nope }\n", 3, 18),
        (
            "# héllo wörld ✓\nupstreams: {}\nmodels:\n  \"日本\": { upstream: nope }\n",
            4,
            21,
        ),
        (
            "upstreams: {}\nmodels: { \"ü\": { upstream: \"ñope\" } }\n",
            2,
            28,
        ),
    ];
    for (yaml, line, col) in cases {
        let (l, c, rendered) = first(yaml);
        assert_eq!((l, c), (line, col), "{yaml}\n{rendered}");
        assert!(
            rendered.contains(&format!("inline/upstreams.yaml:{line}:{col}")),
            "{rendered}"
        );
    }
}

#[test]
fn underline_sits_under_the_value_after_non_ascii() {
    let (_, _, rendered) = first("upstreams: {}\nmodels:\n  \"日本\": { upstream: nope }\n");
    let lines: Vec<&str> = rendered.lines().collect();
    let src = lines
        .iter()
        .position(|l| l.contains("upstream: nope"))
        .unwrap();
    let marks = lines[src + 1];
    assert!(marks.contains("^^^^"), "{rendered}");
    assert!(
        !marks.contains("^^^^^"),
        "underline is exactly `nope`:\n{rendered}"
    );
}

#[test]
fn yaml_errors_after_non_ascii_are_located() {
    let report = gateway_codegen::analyze(&common::inline("# ✓✓✓\nupstreams:\n  a: [1,\n", ""))
        .err()
        .unwrap();
    let item = &report.items[0];
    assert_eq!(item.code.id, "GW0001");
    assert!(item.line >= 3, "{}", item.rendered);
}
