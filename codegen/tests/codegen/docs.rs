//! `docs/config-errors.md` lists every code of `codes.rs` with its name.

use crate::common;

#[test]
fn docs_list_every_code() {
    let doc = std::fs::read_to_string(common::workspace().join("docs/config-errors.md")).unwrap();
    for code in gateway_codegen::diag::codes::ALL {
        let row = format!("| {} | `{}` |", code.id, code.name);
        assert!(
            doc.contains(&row),
            "docs/config-errors.md lacks the row `{row} ...`"
        );
    }
}
