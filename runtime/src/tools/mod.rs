//! The tool registry at run time: one call of a compiled tool, with its
//! arguments validated against the compiled schema before the call and the
//! result's size capped after it.
//!
//! Names only leaves (`table`, `calendar`). Not here: who may call a tool
//! (`auth::Caller::may_use_tool`), the endpoints, the `tool.invoke` log line
//! and the outcome counted (`api/tools.rs`, `observe/metrics/tools.rs`).

mod builtin;
pub mod schema;

use serde_json::Value;

use crate::table::{Tool, ToolKind};

/// The largest result a tool may return, as JSON text.
pub const MAX_RESULT_BYTES: usize = 64 * 1024;

/// Why a call produced no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// The arguments do not fit the tool's schema (nothing was called).
    Arguments(schema::Violation),
    /// The tool ran and failed (e.g. a division by zero).
    Failed(String),
    /// The result's JSON is longer than [`MAX_RESULT_BYTES`].
    TooLarge,
}

/// Validates `arguments` against `tool`'s schema, runs it, and caps the result.
pub fn invoke(tool: &Tool, arguments: &Value) -> Result<Value, ToolError> {
    schema::validate(tool.parameters, arguments, "arguments").map_err(ToolError::Arguments)?;
    let result = match tool.kind {
        ToolKind::Builtin(function) => builtin::run(function, arguments),
    }
    .map_err(ToolError::Failed)?;
    within(result, MAX_RESULT_BYTES)
}

/// The result, if its JSON text is at most `limit` bytes.
fn within(result: Value, limit: usize) -> Result<Value, ToolError> {
    if result.to_string().len() > limit {
        return Err(ToolError::TooLarge);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{ToolError, invoke, within};
    use crate::table::{Builtin, Property, Schema, Tool, ToolId, ToolKind};

    static CALCULATOR: Tool = Tool {
        id: ToolId(0),
        name: "calculator",
        description: "arithmetic",
        kind: ToolKind::Builtin(Builtin::Calculator),
        parameters: &Schema::Object {
            properties: &[
                Property {
                    name: "a",
                    schema: Schema::Number {
                        integer: false,
                        minimum: None,
                        maximum: None,
                    },
                },
                Property {
                    name: "b",
                    schema: Schema::Number {
                        integer: false,
                        minimum: None,
                        maximum: None,
                    },
                },
                Property {
                    name: "operation",
                    schema: Schema::Text {
                        max_length: None,
                        allowed: &["add", "divide", "multiply", "subtract"],
                    },
                },
            ],
            required: &["a", "b", "operation"],
            additional: false,
        },
        parameters_json: "{}",
    };

    #[test]
    fn invoke_validates_then_runs() {
        let ok = invoke(&CALCULATOR, &json!({"operation": "add", "a": 1, "b": 2}));
        assert_eq!(ok, Ok(json!({"value": 3.0})));
        let bad = invoke(&CALCULATOR, &json!({"operation": "add", "a": "1", "b": 2})).unwrap_err();
        assert!(
            matches!(&bad, ToolError::Arguments(v) if v.path == "arguments.a"),
            "{bad:?}"
        );
        let failed = invoke(&CALCULATOR, &json!({"operation": "divide", "a": 1, "b": 0}));
        assert_eq!(
            failed,
            Err(ToolError::Failed("division by zero".to_owned()))
        );
    }

    #[test]
    fn results_over_the_cap_are_refused() {
        let result = json!({"value": 12345});
        assert_eq!(within(result.clone(), 15), Ok(result.clone()));
        assert_eq!(within(result, 14), Err(ToolError::TooLarge));
    }
}
