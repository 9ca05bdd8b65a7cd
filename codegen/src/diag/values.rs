//! The shared wording for a malformed duration or size, so `check/` (a string
//! that does not parse) and `load/schema.rs` (a bare YAML number) say the same
//! thing and name the same fix.
//!
//! Builds diagnostics only; parsing is `parse.rs`, deciding is the callers'.

use crate::diag::codes;
use crate::diag::{Diagnostic, FileKind};
use crate::parse::{Quantity, QuantityError, Units};

/// The generic help line for a quantity.
pub fn grammar(units: &Units) -> &'static str {
    match units.quantity {
        Quantity::Duration => {
            "write an integer followed by `ms`, `s`, `m` or `h`, e.g. `500ms`, `2s`, `1m`"
        }
        Quantity::Size => {
            "write an integer followed by `B`, `KB`, `MB`, `GB`, `KiB`, `MiB` or `GiB`, e.g. `4MiB`, `64KiB`"
        }
    }
}

fn noun(units: &Units) -> &'static str {
    match units.quantity {
        Quantity::Duration => "duration",
        Quantity::Size => "size",
    }
}

fn code(units: &Units) -> codes::Code {
    match units.quantity {
        Quantity::Duration => codes::BAD_DURATION,
        Quantity::Size => codes::BAD_SIZE,
    }
}

/// A string at `pointer` that is not a valid `units` value.
pub fn malformed(
    file: FileKind,
    pointer: String,
    units: &Units,
    raw: &str,
    err: &QuantityError,
) -> Diagnostic {
    let noun = noun(units);
    Diagnostic::new(code(units), file, format!("invalid {noun} `{raw}`: {err}"))
        .at(pointer)
        .label(format!("not a {noun}"))
        .help(grammar(units))
}
