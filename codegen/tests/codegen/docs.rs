//! `docs/config-errors.md` lists exactly the codes of `diag/codes.rs`, each
//! with its name and explanation, and nothing else.

use crate::common;

#[test]
fn docs_list_exactly_the_codes() {
    let doc = std::fs::read_to_string(common::workspace().join("docs/config-errors.md")).unwrap();
    let rows: Vec<&str> = doc.lines().filter(|l| l.starts_with("| GW")).collect();
    for code in gateway_codegen::diag::codes::ALL {
        let row = format!("| {} | `{}` | {} |", code.id, code.name, code.explanation);
        assert!(
            rows.contains(&row.as_str()),
            "docs/config-errors.md lacks the row\n{row}"
        );
    }
    assert_eq!(
        rows.len(),
        gateway_codegen::diag::codes::ALL.len(),
        "docs/config-errors.md lists a code that `diag/codes.rs` does not define"
    );
}
