//! The shared wording for a malformed duration or size, so `check/` (a string
//! that does not parse) and `load/schema.rs` (a bare YAML number) say the same
//! thing and name the same fix: the value with the unit it lacks, or the unit
//! it misspelt.
//!
//! Builds diagnostics only; parsing is `parse.rs`, deciding is the callers'.

use crate::diag::codes;
use crate::diag::{Diagnostic, FileKind};
use crate::parse::{self, Quantity, QuantityError, Units};

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

/// The value a bare number most likely meant: a duration in the unit of the
/// key's default (seconds when there is none), a size in bytes written in
/// the largest whole unit. `None` when no unit makes it a valid value.
pub fn with_unit(units: &Units, number: &str, default: Option<&str>) -> Option<String> {
    let unit = match units.quantity {
        Quantity::Duration => default
            .map(parse::unit_of)
            .filter(|u| !u.is_empty())
            .unwrap_or("s"),
        Quantity::Size => "B",
    };
    match parse::quantity(units, &format!("{number}{unit}")) {
        Ok(base) if units.quantity == Quantity::Size => Some(parse::render(units, base, "B")),
        Ok(_) => Some(format!("{number}{unit}")),
        Err(err) => err.fix().map(str::to_owned),
    }
}

/// `` `ms`, `s`, `m`, `h` ``: the accepted units.
fn units_list(units: &Units) -> String {
    let mut names: Vec<&str> = units.units.iter().map(|(u, _)| *u).collect();
    names.reverse();
    names
        .iter()
        .map(|u| format!("`{u}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The help line for a value missing its unit.
fn add_unit_help(units: &Units, number: &str, default: Option<&str>) -> String {
    let list = units_list(units);
    match (with_unit(units, number, default), units.quantity, default) {
        (None, ..) => grammar(units).to_owned(),
        (Some(fixed), Quantity::Size, _) => {
            format!("add a unit: `{number}` bytes is `{fixed}` (units: {list})")
        }
        (Some(fixed), Quantity::Duration, Some(d)) => {
            format!("add a unit, e.g. `{fixed}` (the default is `{d}`; units: {list})")
        }
        (Some(fixed), Quantity::Duration, None) => {
            format!("add a unit, e.g. `{fixed}` (units: {list})")
        }
    }
}

/// A string at `pointer` that is not a valid `units` value; `default` is the
/// key's default, which picks the unit a bare number most likely meant.
pub fn malformed(
    file: FileKind,
    pointer: String,
    units: &Units,
    raw: &str,
    err: &QuantityError,
    default: Option<&str>,
) -> Diagnostic {
    let noun = noun(units);
    let help = match (err, err.fix()) {
        (QuantityError::MissingUnit, _) => add_unit_help(units, raw, default),
        (QuantityError::Fraction { .. }, Some(fix)) => {
            format!("write `{fix}`: a {noun} is a whole number followed by a unit")
        }
        (_, Some(fix)) => format!("write `{fix}` (units: {})", units_list(units)),
        (_, None) => grammar(units).to_owned(),
    };
    let label = match err {
        QuantityError::MissingUnit => "missing unit".to_owned(),
        _ => format!("not a {noun}"),
    };
    Diagnostic::new(code(units), file, format!("invalid {noun} `{raw}`: {err}"))
        .at(pointer)
        .label(label)
        .help(help)
}

/// A bare YAML number (`5`, `1.5`) at `pointer` where a `units` string is expected.
pub fn bare_number(
    file: FileKind,
    pointer: String,
    units: &Units,
    number: &str,
    default: Option<&str>,
) -> Diagnostic {
    let noun = noun(units);
    Diagnostic::new(
        code(units),
        file,
        format!("invalid {noun} `{number}`: missing unit"),
    )
    .at(pointer)
    .label("a bare number")
    .help(add_unit_help(units, number, default))
}
