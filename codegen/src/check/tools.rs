//! Checks for tools.yaml (a placeholder until tools ship): tool names are well-formed.
//!
//! Reports only; the file is not emitted beyond a count.

use crate::diag::codes;
use crate::diag::ptr;
use crate::diag::{Diagnostic, Diagnostics, FileKind};
use crate::parse;
use crate::spec::ToolsFile;

/// Every tools.yaml check.
pub fn check(file: &ToolsFile, diags: &mut Diagnostics) {
    check_names(file, diags);
}

/// Tool names are non-empty and free of whitespace.
fn check_names(file: &ToolsFile, diags: &mut Diagnostics) {
    for name in file.tools.keys() {
        if let Err(why) = parse::name(name) {
            diags.push(
                Diagnostic::new(
                    codes::BAD_TOOL_NAME,
                    FileKind::Tools,
                    format!("tool name {why}"),
                )
                .at_key(ptr(&["tools", name]))
                .label("invalid tool name")
                .help("use a non-empty name without spaces, e.g. `web-search`"),
            );
        }
    }
}
