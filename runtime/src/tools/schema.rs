//! Checks a tool call's arguments against the tool's compiled schema
//! ([`Schema`]): the subset of JSON Schema the build accepts, nothing more.
//!
//! The first violation found is returned with the path to the failing value
//! (`arguments.items[2]`), so a 400 says where. Recursion follows the schema,
//! whose depth the build bounds, never the arguments'. Not here: running the
//! tool (`builtin.rs`), or compiling the schema (codegen `check/tools.rs`).

use serde_json::Value;

use crate::table::{Property, Schema};

/// Why arguments do not fit the schema: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `arguments`, `arguments.a`, `arguments.list[3]`, ...
    pub path: String,
    pub problem: String,
}

/// `Ok` when `value` fits `schema`; else the first violation, at `path`.
pub fn validate(schema: &Schema, value: &Value, path: &str) -> Result<(), Violation> {
    let fail = |problem: String| {
        Err(Violation {
            path: path.to_owned(),
            problem,
        })
    };
    match (schema, value) {
        (
            Schema::Object {
                properties,
                required,
                additional,
            },
            Value::Object(map),
        ) => object(properties, required, *additional, map, path),
        (
            Schema::Text {
                max_length,
                allowed,
            },
            Value::String(s),
        ) => text(*max_length, allowed, s).map_or(Ok(()), fail),
        (
            Schema::Number {
                integer,
                minimum,
                maximum,
            },
            Value::Number(n),
        ) => number(*integer, *minimum, *maximum, n).map_or(Ok(()), fail),
        (Schema::Boolean, Value::Bool(_)) => Ok(()),
        (Schema::Array { items }, Value::Array(list)) => match items {
            Some(items) => list
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| validate(items, v, &format!("{path}[{i}]"))),
            None => Ok(()),
        },
        (schema, value) => fail(format!("must be {}, not {}", expected(schema), kind(value))),
    }
}

/// What is wrong with a string, if anything.
fn text(max_length: Option<u32>, allowed: &[&str], s: &str) -> Option<String> {
    let chars = s.chars().count();
    if let Some(max) = max_length.filter(|max| chars > *max as usize) {
        return Some(format!("is {chars} characters long, more than {max}"));
    }
    if !allowed.is_empty() && !allowed.contains(&s) {
        return Some(format!("must be one of {}", allowed.join(", ")));
    }
    None
}

/// What is wrong with a number, if anything.
fn number(
    integer: bool,
    minimum: Option<f64>,
    maximum: Option<f64>,
    n: &serde_json::Number,
) -> Option<String> {
    let x = n.as_f64()?;
    if integer && !(n.is_i64() || n.is_u64()) {
        return Some("must be an integer".to_owned());
    }
    if let Some(min) = minimum.filter(|min| x < *min) {
        return Some(format!("must be at least {min}"));
    }
    if let Some(max) = maximum.filter(|max| x > *max) {
        return Some(format!("must be at most {max}"));
    }
    None
}

/// An object's required, known and unknown members.
fn object(
    properties: &[Property],
    required: &[&str],
    additional: bool,
    map: &serde_json::Map<String, Value>,
    path: &str,
) -> Result<(), Violation> {
    if let Some(missing) = required.iter().find(|name| !map.contains_key(**name)) {
        return Err(Violation {
            path: format!("{path}.{missing}"),
            problem: "is required".to_owned(),
        });
    }
    for (name, value) in map {
        match properties.binary_search_by(|p| p.name.cmp(name)) {
            Ok(at) => {
                if let Some(property) = properties.get(at) {
                    validate(&property.schema, value, &format!("{path}.{name}"))?;
                }
            }
            Err(_) if additional => {}
            Err(_) => {
                let known: Vec<&str> = properties.iter().map(|p| p.name).collect();
                return Err(Violation {
                    path: format!("{path}.{}", shown(name)),
                    problem: format!("is not allowed (known: {})", known.join(", ")),
                });
            }
        }
    }
    Ok(())
}

/// A client-chosen name, cut to 64 characters for messages.
fn shown(name: &str) -> &str {
    name.char_indices()
        .nth(64)
        .map_or(name, |(at, _)| &name[..at])
}

fn expected(schema: &Schema) -> &'static str {
    match schema {
        Schema::Object { .. } => "an object",
        Schema::Text { .. } => "a string",
        Schema::Number { integer: true, .. } => "an integer",
        Schema::Number { .. } => "a number",
        Schema::Boolean => "a boolean",
        Schema::Array { .. } => "an array",
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Violation, validate};
    use crate::table::{Property, Schema};

    static SCHEMA: Schema = Schema::Object {
        properties: &[
            Property {
                name: "count",
                schema: Schema::Number {
                    integer: true,
                    minimum: Some(1.0),
                    maximum: Some(10.0),
                },
            },
            Property {
                name: "flag",
                schema: Schema::Boolean,
            },
            Property {
                name: "op",
                schema: Schema::Text {
                    max_length: Some(8),
                    allowed: &["add", "sub"],
                },
            },
            Property {
                name: "tags",
                schema: Schema::Array {
                    items: Some(&Schema::Text {
                        max_length: Some(3),
                        allowed: &[],
                    }),
                },
            },
        ],
        required: &["op"],
        additional: false,
    };

    /// `check(arguments, expect)`: `None` for valid, else `(path, problem)`.
    fn check(arguments: serde_json::Value, expect: Option<(&str, &str)>) {
        let got = validate(&SCHEMA, &arguments, "arguments").err();
        let want = expect.map(|(path, problem)| Violation {
            path: path.to_owned(),
            problem: problem.to_owned(),
        });
        assert_eq!(got, want, "{arguments}");
    }

    #[test]
    fn arguments_against_the_compiled_schema() {
        check(json!({"op": "add"}), None);
        check(
            json!({"op": "sub", "count": 10, "flag": true, "tags": ["a", "bc"]}),
            None,
        );
        check(json!({}), Some(("arguments.op", "is required")));
        check(
            json!([]),
            Some(("arguments", "must be an object, not an array")),
        );
        check(
            json!({"op": "mul"}),
            Some(("arguments.op", "must be one of add, sub")),
        );
        check(
            json!({"op": "add", "count": 2.5}),
            Some(("arguments.count", "must be an integer")),
        );
        check(
            json!({"op": "add", "count": 0}),
            Some(("arguments.count", "must be at least 1")),
        );
        check(
            json!({"op": "add", "count": 11}),
            Some(("arguments.count", "must be at most 10")),
        );
        check(
            json!({"op": "add", "tags": ["a", "long"]}),
            Some(("arguments.tags[1]", "is 4 characters long, more than 3")),
        );
        check(
            json!({"op": "add", "tags": [1]}),
            Some(("arguments.tags[0]", "must be a string, not a number")),
        );
        check(
            json!({"op": "add", "extra": 1}),
            Some((
                "arguments.extra",
                "is not allowed (known: count, flag, op, tags)",
            )),
        );
        check(
            json!({"op": "add", "flag": null}),
            Some(("arguments.flag", "must be a boolean, not null")),
        );
    }
}
